"""Sub-accounts, orders, positions and trades, written as they happen.

Each state change of the executor is one transaction (order + position, or exit order +
trade + position close), and every order row is keyed by its deterministic client order id,
so replaying an event after a crash is refused by the unique constraint instead of
duplicating an order or a trade.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from sixbtc.adapters.storage.mapping import utc
from sixbtc.adapters.storage.tables import OrderRow, PositionRow, SubaccountRow, TradeRow
from sixbtc.core.clock import Clock, LiveClock
from sixbtc.domain.trading import Trade

S = SubaccountRow.__table__
O = OrderRow.__table__  # noqa: E741
P = PositionRow.__table__
TR = TradeRow.__table__


class _AlreadyClosed(Exception):
    """Internal: the position was closed by an earlier write (rolls the transaction back)."""


class TradingRepository:
    """Persistence of the executor's state (paper and live)."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or LiveClock()

    # -- sub-accounts ------------------------------------------------------------------
    def assign_subaccount(self, strategy_id: int, mode: str, capital_usd: float) -> str:
        """Give ``strategy_id`` a free sub-account of ``mode`` (creating one if none is free);
        return its label. Idempotent: a strategy that has one keeps it."""
        now = self.clock.now()
        with self.engine.begin() as conn:
            own = conn.execute(select(S.c.label).where(S.c.strategy_id == strategy_id)).scalar()
            if own:
                return own
            free = conn.execute(select(S.c.id, S.c.label).where(S.c.strategy_id.is_(None), S.c.mode == mode)
                                .order_by(S.c.id).limit(1)).first()
            if free:
                conn.execute(update(S).where(S.c.id == free.id).values(
                    strategy_id=strategy_id, capital_usd=capital_usd, balance_usd=capital_usd, updated_at=now))
                return free.label
            n = conn.execute(select(func.count()).select_from(S)).scalar_one()
            label = f"{mode}-{n + 1:03d}"
            conn.execute(insert(S).values(label=label, mode=mode, strategy_id=strategy_id, capital_usd=capital_usd,
                                          balance_usd=capital_usd, updated_at=now))
            return label

    def free_subaccount(self, strategy_id: int) -> None:
        """Detach the sub-account of a retired strategy so the next LIVE strategy can use it."""
        with self.engine.begin() as conn:
            conn.execute(update(S).where(S.c.strategy_id == strategy_id).values(strategy_id=None))

    def subaccount_of(self, strategy_id: int) -> dict[str, Any] | None:
        """The sub-account row of a strategy, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(S).where(S.c.strategy_id == strategy_id)).first()
        return dict(row._mapping) if row else None

    # -- positions ---------------------------------------------------------------------
    def record_order(self, order: dict[str, Any]) -> bool:
        """Store an order as NEW before it is sent; False if its client order id exists already."""
        now = self.clock.now()
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(O).values(**order, status="NEW", created_at=now, updated_at=now))
        except IntegrityError:
            return False
        return True

    def _fill_order(self, conn: Any, order: dict[str, Any]) -> bool:
        """Mark ``order`` FILLED (inserting it if it was never recorded); False if already filled."""
        now = self.clock.now()
        cid = order["client_order_id"]
        status = conn.execute(select(O.c.status).where(O.c.client_order_id == cid)).scalar()
        if status == "FILLED":
            return False
        values = dict(order, status="FILLED", updated_at=now)
        if status is None:
            conn.execute(insert(O).values(**values, created_at=now))
        else:
            conn.execute(update(O).where(O.c.client_order_id == cid).values(**values))
        return True

    def open_position(self, order: dict[str, Any], position: dict[str, Any]) -> int | None:
        """Record a filled entry order and the position it opened, in one transaction.

        Returns the position id, or None (and writes nothing) when that entry was already filled.
        """
        now = self.clock.now()
        try:
            with self.engine.begin() as conn:
                if not self._fill_order(conn, order):
                    return None
                return conn.execute(insert(P).values(**position, is_open=True, updated_at=now)
                                    .returning(P.c.id)).scalar_one()
        except IntegrityError:
            return None

    def close_position(self, position_id: int, order: dict[str, Any], trade: Trade, balance_delta_usd: float) -> bool:
        """Record the exit order, the trade, close the position and book the PnL, atomically.

        Returns False (nothing written) if this exit was already recorded.
        """
        now = self.clock.now()
        try:
            with self.engine.begin() as conn:
                if not self._fill_order(conn, order):
                    return False
                conn.execute(insert(TR).values(**_trade_values(trade), exit_client_order_id=order["client_order_id"]))
                res = conn.execute(update(P).where(P.c.id == position_id, P.c.is_open.is_(True))
                                   .values(is_open=False, updated_at=now))
                if res.rowcount != 1:
                    raise _AlreadyClosed
                conn.execute(update(S).where(S.c.strategy_id == trade.strategy_id)
                             .values(balance_usd=S.c.balance_usd + balance_delta_usd, updated_at=now))
        except (IntegrityError, _AlreadyClosed):
            return False
        return True

    def open_positions(self, strategy_id: int | None = None) -> list[dict[str, Any]]:
        """Open positions (of one strategy, or all)."""
        q = select(P).where(P.c.is_open.is_(True))
        if strategy_id is not None:
            q = q.where(P.c.strategy_id == strategy_id)
        with self.engine.connect() as conn:
            return [_aware(dict(r._mapping)) for r in conn.execute(q.order_by(P.c.id))]

    # -- trades ------------------------------------------------------------------------
    def trades(self, strategy_id: int | None = None, mode: str | None = None) -> list[dict[str, Any]]:
        """Closed trades, oldest exit first."""
        q = select(TR)
        if strategy_id is not None:
            q = q.where(TR.c.strategy_id == strategy_id)
        if mode is not None:
            q = q.where(TR.c.mode == mode)
        with self.engine.connect() as conn:
            return [_aware(dict(r._mapping)) for r in conn.execute(q.order_by(TR.c.exit_ts, TR.c.id))]

    def last_exits(self) -> dict[tuple[int, str, str], datetime]:
        """(strategy_id, symbol, timeframe) -> exit time of its newest closed trade (UTC)."""
        q = select(TR.c.strategy_id, TR.c.symbol, TR.c.timeframe, func.max(TR.c.exit_ts)).group_by(
            TR.c.strategy_id, TR.c.symbol, TR.c.timeframe)
        with self.engine.connect() as conn:
            return {(sid, sym, tf): utc(ts) for sid, sym, tf, ts in conn.execute(q)}

    def trade_summary(self) -> dict[int, tuple[int, float]]:
        """strategy_id -> (number of trades, total net PnL in USD)."""
        q = select(TR.c.strategy_id, func.count(), func.sum(TR.c.pnl_usd)).group_by(TR.c.strategy_id)
        with self.engine.connect() as conn:
            return {sid: (n, float(p or 0.0)) for sid, n, p in conn.execute(q)}

    def count_by_mode(self) -> dict[str, int]:
        """Number of trades per mode (paper, live)."""
        with self.engine.connect() as conn:
            return dict(conn.execute(select(TR.c.mode, func.count()).group_by(TR.c.mode)).all())


def _trade_values(t: Trade) -> dict[str, Any]:
    return {
        "strategy_id": t.strategy_id, "symbol": t.symbol, "timeframe": t.timeframe, "direction": str(t.direction),
        "mode": str(t.mode), "entry_ts": t.entry_ts, "entry_price": t.entry_price, "exit_ts": t.exit_ts,
        "exit_price": t.exit_price, "qty": t.qty, "notional_usd": t.notional_usd, "fees_usd": t.fees_usd,
        "pnl_usd": t.pnl_usd, "return_frac": t.return_frac, "exit_reason": t.exit_reason.name,
    }


def _aware(d: dict[str, Any]) -> dict[str, Any]:
    return {k: utc(v) if isinstance(v, datetime) else v for k, v in d.items()}
