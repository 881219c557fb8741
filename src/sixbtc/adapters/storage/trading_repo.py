"""Sub-accounts, orders, positions and trades.

Reads of the trading state, sub-account assignment, and single-event writers (order +
position, or exit order + trade + position close, each one transaction). Every order row is
keyed by its deterministic client order id, so writing an event twice is refused instead of
duplicating an order or a trade. The executor itself commits one transaction per bar through
:class:`~sixbtc.adapters.storage.execution_repo.ExecutionRepository`, which reuses
:func:`fill_order` and :func:`trade_values`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from sixbtc.adapters.storage.mapping import utc
from sixbtc.adapters.storage.tables import OrderRow, PositionRow, SubaccountRow, TradeRow
from sixbtc.core.clock import Clock, LiveClock
from sixbtc.domain.orders import OrderStatus
from sixbtc.domain.trading import Trade

S = SubaccountRow.__table__
O = OrderRow.__table__  # noqa: E741
P = PositionRow.__table__
TR = TradeRow.__table__
_LIVE = tuple(str(s) for s in OrderStatus if not s.is_final)  # orders that may still fill


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
        with self.engine.begin() as conn:
            return self.assign_subaccount_in(conn, strategy_id, mode, capital_usd)

    def assign_subaccount_in(self, conn: Connection, strategy_id: int, mode: str, capital_usd: float) -> str:
        """:meth:`assign_subaccount` inside the caller's transaction (a promotion and its
        sub-account are written together or not at all)."""
        now = self.clock.now()
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

    def free_subaccount(self, strategy_id: int) -> bool:
        """Detach the sub-account of a retired strategy so the next LIVE strategy can use it.

        Only once the strategy holds nothing (no open position, no order that may still fill): until then the
        executor winds it down and detaches the sub-account when the last position closes
        (:class:`~sixbtc.adapters.storage.execution_repo.ExecutionRepository`). Returns True
        when detached now.
        """
        with self.engine.begin() as conn:
            return self.free_subaccount_in(conn, strategy_id)

    def free_subaccount_in(self, conn: Connection, strategy_id: int) -> bool:
        """:meth:`free_subaccount` inside the caller's transaction (a retirement and the freed
        sub-account are written together)."""
        if self._holds(conn, strategy_id):
            return False
        conn.execute(update(S).where(S.c.strategy_id == strategy_id).values(strategy_id=None))
        return True

    def _holds(self, conn: Connection, strategy_id: int) -> int:
        n = conn.execute(select(func.count()).where(P.c.strategy_id == strategy_id, P.c.is_open.is_(True))).scalar_one()
        return n + conn.execute(select(func.count()).where(O.c.strategy_id == strategy_id,
                                                           O.c.status.in_(_LIVE))).scalar_one()

    def attached(self) -> dict[int, dict[str, Any]]:
        """strategy_id → its sub-account row, for every sub-account in use."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(S).where(S.c.strategy_id.is_not(None)).order_by(S.c.strategy_id))
            return {r.strategy_id: dict(r._mapping) for r in rows}

    def holdings(self, strategy_id: int) -> int:
        """Open positions plus orders that may still fill (not filled, canceled or rejected) of ``strategy_id``."""
        with self.engine.connect() as conn:
            return self._holds(conn, strategy_id)

    def subaccount_of(self, strategy_id: int) -> dict[str, Any] | None:
        """The sub-account row of a strategy, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(S).where(S.c.strategy_id == strategy_id)).first()
        return dict(row._mapping) if row else None

    def subaccounts(self) -> list[dict[str, Any]]:
        """Every sub-account row (in use or free), by label (``sixbtc status``)."""
        with self.engine.connect() as conn:
            return [_aware(dict(r._mapping)) for r in conn.execute(select(S).order_by(S.c.label))]

    # -- positions ---------------------------------------------------------------------
    def record_order(self, order: dict[str, Any]) -> bool:
        """Store an order as INTENT; False if its client order id exists already (the executor
        writes its orders through :class:`~sixbtc.adapters.storage.execution_repo.ExecutionRepository`)."""
        now = self.clock.now()
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(O).values(**order, status=str(OrderStatus.INTENT), created_at=now, updated_at=now))
        except IntegrityError:
            return False
        return True

    def open_position(self, order: dict[str, Any], position: dict[str, Any]) -> int | None:
        """Record a filled entry order and the position it opened, in one transaction.

        Returns the position id, or None (and writes nothing) when that entry was already filled.
        """
        now = self.clock.now()
        try:
            with self.engine.begin() as conn:
                if not fill_order(conn, order, now):
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
                if not fill_order(conn, order, now):
                    return False
                conn.execute(insert(TR).values(**trade_values(trade), exit_client_order_id=order["client_order_id"]))
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

    def trade_summary(self) -> dict[int, tuple[int, float]]:
        """strategy_id -> (number of trades, total net PnL in USD)."""
        q = select(TR.c.strategy_id, func.count(), func.sum(TR.c.pnl_usd)).group_by(TR.c.strategy_id)
        with self.engine.connect() as conn:
            return {sid: (n, float(p or 0.0)) for sid, n, p in conn.execute(q)}

    def count_by_mode(self) -> dict[str, int]:
        """Number of trades per mode (paper, live)."""
        with self.engine.connect() as conn:
            return dict(conn.execute(select(TR.c.mode, func.count()).group_by(TR.c.mode)).all())


def fill_order(conn: Connection, order: dict[str, Any], now: datetime, *, strict: bool = False) -> bool:
    """Mark ``order`` FILLED inside ``conn`` (inserting it if it was never recorded).

    Returns False when it was filled already, or raises ``RuntimeError`` then if ``strict``
    (a bar processed twice: the caller's transaction must roll back).
    """
    cid = order["client_order_id"]
    status = conn.execute(select(O.c.status).where(O.c.client_order_id == cid)).scalar()
    if status == str(OrderStatus.FILLED):
        if strict:
            raise RuntimeError(f"order {cid} is filled already: a bar was processed twice")
        return False
    values = dict(order, status=str(OrderStatus.FILLED), updated_at=now)
    if status is None:
        conn.execute(insert(O).values(**values, created_at=now))
    else:
        conn.execute(update(O).where(O.c.client_order_id == cid).values(**values))
    return True


def trade_values(t: Trade) -> dict[str, Any]:
    """Column values of the ``trades`` row of ``t``."""
    return {
        "strategy_id": t.strategy_id, "symbol": t.symbol, "timeframe": t.timeframe, "direction": str(t.direction),
        "mode": str(t.mode), "entry_ts": t.entry_ts, "entry_price": t.entry_price, "exit_ts": t.exit_ts,
        "exit_price": t.exit_price, "qty": t.qty, "notional_usd": t.notional_usd, "fees_usd": t.fees_usd,
        "pnl_usd": t.pnl_usd, "return_frac": t.return_frac, "exit_reason": t.exit_reason.name,
    }


def _aware(d: dict[str, Any]) -> dict[str, Any]:
    return {k: utc(v) if isinstance(v, datetime) else v for k, v in d.items()}
