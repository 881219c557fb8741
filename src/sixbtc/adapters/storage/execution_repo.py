"""The executor's store: one transaction per bar, fenced by the executor lease.

:meth:`ExecutionRepository.commit` writes everything one bar changed — new orders (NEW),
cancellations, filled orders, positions opened and closed, trades, sub-account balances,
stopped strategies (LIVE → RETIRED with an event) and the strategies' resume points — in
one transaction that first checks the lease token (:meth:`LeaseRepository.check_in`) and
last checks that new entries belong to LIVE strategies and respect the open-position cap in
the database. Either all of it is stored or none.

:meth:`ExecutionRepository.recover` reads back what a restarted executor starts from. Rows
written before migration 0003 carry no resume point: it is then taken from the newest trade
exit or open position entry of the strategy, and NEW orders that cannot be re-sent (no
``leg``) are marked CANCELLED.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from sixbtc.adapters.storage.db import is_sqlite
from sixbtc.adapters.storage.lease_repo import LeaseRepository
from sixbtc.adapters.storage.mapping import utc
from sixbtc.adapters.storage.strategy_repo import StrategyRepository
from sixbtc.adapters.storage.tables import (
    ExecutorCursorRow,
    OrderRow,
    PositionRow,
    StrategyRow,
    SubaccountRow,
    TradeRow,
)
from sixbtc.adapters.storage.trading_repo import fill_order, trade_values
from sixbtc.core.clock import Clock, LiveClock
from sixbtc.core.errors import RiskLimitBreached, StaleClaim
from sixbtc.domain.strategy import StrategyStatus
from sixbtc.executor.ports import (
    BarChanges,
    BarCursor,
    OrderIntent,
    RecoveredState,
    StrategyFault,
    bar_key,
)

O = OrderRow.__table__  # noqa: E741
P = PositionRow.__table__
S = SubaccountRow.__table__
TR = TradeRow.__table__
C = ExecutorCursorRow.__table__
T = StrategyRow.__table__


class ExecutionRepository:
    """:class:`~sixbtc.executor.ports.ExecutionStore` on the database.

    Parameters
    ----------
    engine : Engine
    strategies : StrategyRepository
        Writes the retirement (and its event) of a strategy that failed.
    lease : LeaseRepository or None
        With ``fence``: every commit checks that ``fence`` still holds this lease.
    fence : int or None
        The executor lease token of this process; None = unfenced (tests, tools).
    max_open_positions : int or None
        ``risk.max_open_positions``: a commit that leaves a strategy with more open positions
        plus NEW entry orders raises ``RiskLimitBreached`` (nothing is written).
    """

    def __init__(self, engine: Engine, strategies: StrategyRepository, clock: Clock | None = None, *,
                 lease: LeaseRepository | None = None, fence: int | None = None,
                 max_open_positions: int | None = None) -> None:
        self.engine, self.strategies, self.clock = engine, strategies, clock or LiveClock()
        self.lease, self.fence, self.max_open_positions = lease, fence, max_open_positions

    # -- recovery ----------------------------------------------------------------------
    def recover(self, strategy_ids: list[int]) -> RecoveredState:
        """Balances, open positions, re-sendable NEW orders and resume points of ``strategy_ids``."""
        ids = list(strategy_ids)
        self._cancel_unsendable(ids)
        with self.engine.connect() as conn:
            balances = dict(conn.execute(select(S.c.strategy_id, S.c.balance_usd).where(S.c.strategy_id.in_(ids))).all())
            positions = [_aware(r._mapping) for r in conn.execute(
                select(P).where(P.c.is_open.is_(True), P.c.strategy_id.in_(ids)).order_by(P.c.id))]
            pending = [_intent(r._mapping) for r in conn.execute(
                select(O).where(O.c.status == "NEW", O.c.strategy_id.in_(ids)).order_by(O.c.id))]
            cursors = {r.strategy_id: BarCursor(utc(r.bar_ts), r.symbol, r.timeframe)
                       for r in conn.execute(select(C).where(C.c.strategy_id.in_(ids)))}
            for sid in set(ids) - set(cursors):
                if (legacy := _legacy_cursor(conn, sid)) is not None:
                    cursors[sid] = legacy
        return RecoveredState(balances, positions, pending, cursors)

    def _cancel_unsendable(self, ids: list[int]) -> None:
        with self.engine.begin() as conn:
            self._check_fence(conn)
            conn.execute(update(O).where(O.c.status == "NEW", O.c.leg.is_(None), O.c.strategy_id.in_(ids))
                         .values(status="CANCELLED", updated_at=self.clock.now()))

    # -- one bar -----------------------------------------------------------------------
    def commit(self, changes: BarChanges) -> None:
        """Write one bar's changes in one transaction (see module docstring).

        Raises
        ------
        LeaseLost
            If the executor lease is no longer held with ``fence`` (nothing written).
        RiskLimitBreached
            If the open-position cap would be exceeded (nothing written).
        StaleClaim
            If a new entry belongs to a strategy that is no longer LIVE (nothing written).
        sqlalchemy.exc.IntegrityError
            If an order, position or trade would be written twice (nothing written).
        """
        now = self.clock.now()
        with self.engine.begin() as conn:
            self._check_fence(conn)
            self._lock_strategies(conn, set(changes.cursors))
            for order in changes.orders:
                _put_new_order(conn, order, now)
            for cid in changes.cancels:
                conn.execute(update(O).where(O.c.client_order_id == cid, O.c.status == "NEW")
                             .values(status="CANCELLED", updated_at=now))
            for order, position in changes.entries:
                fill_order(conn, order, now, strict=True)
                conn.execute(insert(P).values(**position, is_open=True, updated_at=now))
            for order, trade, entry_cid in changes.exits:
                self._close(conn, order, trade, entry_cid, now)
            for fault in changes.faults:
                self._stop(conn, fault)
            for sid, cursor in changes.cursors.items():
                _put_cursor(conn, sid, cursor, now)
            entering = {o["strategy_id"] for o in changes.orders if not o["reduce_only"]}
            self._check_live(conn, entering)
            self._check_cap(conn, entering)
            self._free_finished(conn, set(changes.cursors), now)

    def _lock_strategies(self, conn: Connection, strategy_ids: set[int]) -> None:
        """PostgreSQL: lock the rows of the strategies this bar touches, in id order, so that a
        retirement or promotion of one of them (the monitor, the rotator) runs wholly before
        or after this bar's transaction. Without it, under READ COMMITTED, a retirement that
        freed the sub-account of a strategy holding nothing could commit around an entry of
        that strategy (an order, then a position, nobody would close). SQLite serialises
        writers already (``BEGIN IMMEDIATE``)."""
        if strategy_ids and not is_sqlite(self.engine):
            conn.execute(select(T.c.id).where(T.c.id.in_(sorted(strategy_ids))).order_by(T.c.id).with_for_update())

    def _check_fence(self, conn: Connection) -> None:
        if self.fence is not None and self.lease is not None:
            self.lease.check_in(conn, self.fence)

    def _close(self, conn: Connection, order: dict[str, Any], trade: Any, entry_cid: str, now: Any) -> None:
        fill_order(conn, order, now, strict=True)
        conn.execute(insert(TR).values(**trade_values(trade), exit_client_order_id=order["client_order_id"]))
        res = conn.execute(update(P).where(P.c.entry_client_order_id == entry_cid, P.c.is_open.is_(True))
                           .values(is_open=False, updated_at=now))
        if res.rowcount != 1:
            raise RiskLimitBreached(f"exit {order['client_order_id']}: no open position {entry_cid} to close")
        conn.execute(update(S).where(S.c.strategy_id == trade.strategy_id)
                     .values(balance_usd=S.c.balance_usd + trade.pnl_usd, updated_at=now))

    def _stop(self, conn: Connection, fault: StrategyFault) -> None:
        status = conn.execute(select(T.c.status).where(T.c.id == fault.strategy_id)).scalar()
        if status == str(StrategyStatus.LIVE):
            self.strategies.transition_in(conn, fault.strategy_id, None, StrategyStatus.RETIRED, phase="executor",
                                          reason=fault.reason, detail=fault.detail, claim_token=T.c.claim_token + 1)
        elif status is not None:  # moved meanwhile (e.g. retired by the monitor): keep the error on record
            self.strategies.event_in(conn, fault.strategy_id, phase="executor", reason=fault.reason,
                                     detail=fault.detail)

    def _check_live(self, conn: Connection, strategy_ids: set[int]) -> None:
        """New entries only for LIVE strategies: one retired meanwhile (the monitor, in another
        thread) makes the executor's view stale — the bar is refused and re-done from the store."""
        for sid in strategy_ids:
            status = conn.execute(select(T.c.status).where(T.c.id == sid)).scalar()
            if status != str(StrategyStatus.LIVE):
                raise StaleClaim(f"strategy {sid} is {status}, no longer LIVE: its entry is not written")

    def _check_cap(self, conn: Connection, strategy_ids: set[int]) -> None:
        if self.max_open_positions is None:
            return
        for sid in strategy_ids:
            n_open = conn.execute(select(func.count()).where(P.c.strategy_id == sid, P.c.is_open.is_(True))).scalar_one()
            n_new = conn.execute(select(func.count()).where(O.c.strategy_id == sid, O.c.status == "NEW",
                                                            O.c.reduce_only.is_(False))).scalar_one()
            if n_open + n_new > self.max_open_positions:
                raise RiskLimitBreached(f"strategy {sid}: {n_open} open positions + {n_new} entry orders would exceed "
                                        f"risk.max_open_positions {self.max_open_positions}")

    def _free_finished(self, conn: Connection, strategy_ids: set[int], now: Any) -> None:
        """Detach the sub-account of a strategy that stopped trading once it holds nothing."""
        for sid in strategy_ids:
            status = conn.execute(select(T.c.status).where(T.c.id == sid)).scalar()
            if status == str(StrategyStatus.LIVE):
                continue
            holds = conn.execute(select(func.count()).where(P.c.strategy_id == sid, P.c.is_open.is_(True))).scalar_one()
            holds += conn.execute(select(func.count()).where(O.c.strategy_id == sid, O.c.status == "NEW")).scalar_one()
            if holds == 0:
                conn.execute(update(S).where(S.c.strategy_id == sid).values(strategy_id=None, updated_at=now))


def _put_new_order(conn: Connection, order: dict[str, Any], now: Any) -> None:
    """Insert a NEW order; an order of that id cancelled before (older rows) is re-opened."""
    cid = order["client_order_id"]
    status = conn.execute(select(O.c.status).where(O.c.client_order_id == cid)).scalar()
    if status == "CANCELLED":
        conn.execute(update(O).where(O.c.client_order_id == cid).values(**order, status="NEW", updated_at=now))
        return
    conn.execute(insert(O).values(**order, status="NEW", created_at=now, updated_at=now))  # a twin raises


def _put_cursor(conn: Connection, sid: int, cursor: BarCursor, now: Any) -> None:
    values = {"bar_ts": cursor.ts, "symbol": cursor.symbol, "timeframe": cursor.timeframe, "updated_at": now}
    if conn.execute(update(C).where(C.c.strategy_id == sid).values(**values)).rowcount == 0:
        conn.execute(insert(C).values(strategy_id=sid, **values))


def _legacy_cursor(conn: Connection, sid: int) -> BarCursor | None:
    """Resume point of a strategy traded before migration 0003: its newest exit or open entry."""
    rows = conn.execute(select(TR.c.exit_ts, TR.c.symbol, TR.c.timeframe).where(TR.c.strategy_id == sid)).all()
    rows += conn.execute(select(P.c.entry_ts, P.c.symbol, P.c.timeframe)
                         .where(P.c.strategy_id == sid, P.c.is_open.is_(True))).all()
    cursors = [BarCursor(utc(ts), sym, tf) for ts, sym, tf in rows]
    return max(cursors, key=lambda c: bar_key(c.ts, c.symbol, c.timeframe)) if cursors else None


def _intent(m: Any) -> OrderIntent:
    side = 1 if m["side"] == "buy" else -1
    return OrderIntent(m["client_order_id"], m["strategy_id"], m["symbol"], m["timeframe"], side, m["leg"],
                       notional_usd=m["notional_usd"] or 0.0, qty=m["qty"] or 0.0, reduce_only=bool(m["reduce_only"]),
                       sl_pct=m["sl_pct"] or 0.0, tp_pct=m["tp_pct"] or 0.0, not_before=utc(m["not_before"]))


def _aware(m: Any) -> dict[str, Any]:
    return {k: utc(v) if hasattr(v, "tzinfo") else v for k, v in dict(m).items()}
