"""The executor's store: one transaction per pass, fenced by the executor lease.

:meth:`ExecutionRepository.commit` writes everything one executor pass changed — venue fills
(unique by venue trade id), new journal orders (status ``intent``), order states seen on the
venue (compare-and-set, :mod:`~sixbtc.adapters.storage.order_journal`), positions opened,
updated and closed, trades, sub-account balances, refusal and alert events, stopped
strategies (LIVE → RETIRED with an event) and the strategies' resume points — in one
transaction that first checks the lease token (:meth:`LeaseRepository.check_in`) and last
checks that new entries belong to LIVE strategies and respect the open-position cap in the
database. Either all of it is stored or none. :meth:`ExecutionRepository.transition` is the
journal's single-order compare-and-set (the order submitter's INTENT → SENT → OPEN …).

:meth:`ExecutionRepository.recover` reads back what a restarted executor starts from. Rows
written before migration 0003 carry no resume point: it is then taken from the newest trade
exit or open position entry of the strategy, and unsent orders that cannot be re-sent (no
``leg``) are marked canceled.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from sixbtc.adapters.storage.db import is_sqlite
from sixbtc.adapters.storage.lease_repo import LeaseRepository
from sixbtc.adapters.storage.mapping import utc
from sixbtc.adapters.storage.order_journal import (
    LIVE_STATUSES,
    get_order,
    insert_fill,
    insert_intent,
    journal_order,
    transition_in,
)
from sixbtc.adapters.storage.strategy_repo import StrategyRepository
from sixbtc.adapters.storage.tables import (
    ExecutorCursorRow,
    FillRow,
    OrderRow,
    PositionRow,
    StrategyRow,
    SubaccountRow,
    TradeRow,
)
from sixbtc.adapters.storage.trading_repo import trade_values
from sixbtc.core.clock import Clock, LiveClock
from sixbtc.core.errors import OrderStateConflict, RiskLimitBreached, StaleClaim
from sixbtc.domain.orders import OrderStatus
from sixbtc.domain.strategy import StrategyStatus
from sixbtc.domain.trading import Trade
from sixbtc.executor.ports import (
    BarChanges,
    BarCursor,
    JournalOrder,
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
F = FillRow.__table__


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
        plus unfilled entry orders raises ``RiskLimitBreached`` (nothing is written).
    """

    def __init__(self, engine: Engine, strategies: StrategyRepository, clock: Clock | None = None, *,
                 lease: LeaseRepository | None = None, fence: int | None = None,
                 max_open_positions: int | None = None) -> None:
        self.engine, self.strategies, self.clock = engine, strategies, clock or LiveClock()
        self.lease, self.fence, self.max_open_positions = lease, fence, max_open_positions

    # -- recovery ----------------------------------------------------------------------
    def recover(self, strategy_ids: list[int]) -> RecoveredState:
        """Balances, open positions, journal orders not final, resume points and recorded
        fills of ``strategy_ids``."""
        ids = list(strategy_ids)
        self._cancel_unsendable(ids)
        with self.engine.connect() as conn:
            balances = dict(conn.execute(select(S.c.strategy_id, S.c.balance_usd).where(S.c.strategy_id.in_(ids))).all())
            positions = [_aware(r._mapping) for r in conn.execute(
                select(P).where(P.c.is_open.is_(True), P.c.strategy_id.in_(ids)).order_by(P.c.id))]
            orders = [journal_order(r._mapping) for r in conn.execute(
                select(O).where(O.c.status.in_(LIVE_STATUSES), O.c.strategy_id.in_(ids)).order_by(O.c.id))]
            cursors = {r.strategy_id: BarCursor(utc(r.bar_ts), r.symbol, r.timeframe)
                       for r in conn.execute(select(C).where(C.c.strategy_id.in_(ids)))}
            for sid in set(ids) - set(cursors):
                if (legacy := _legacy_cursor(conn, sid)) is not None:
                    cursors[sid] = legacy
            accounts = select(S.c.label).where(S.c.strategy_id.in_(ids))
            trade_ids = frozenset(conn.execute(select(F.c.trade_id).where(F.c.account.in_(accounts))).scalars())
            last = dict(conn.execute(select(F.c.account, func.max(F.c.ts_ms)).where(F.c.account.in_(accounts))
                                     .group_by(F.c.account)).all())
        return RecoveredState(balances, positions, orders, cursors, trade_ids, last)

    def _cancel_unsendable(self, ids: list[int]) -> None:
        with self.engine.begin() as conn:
            self._check_fence(conn)
            conn.execute(update(O).where(O.c.status == str(OrderStatus.INTENT), O.c.leg.is_(None),
                                         O.c.strategy_id.in_(ids))
                         .values(status=str(OrderStatus.CANCELED), updated_at=self.clock.now()))

    # -- the journal ---------------------------------------------------------------------
    def transition(self, client_order_id: str, src: OrderStatus, dst: OrderStatus, **values: Any) -> bool:
        """Compare-and-set one journal order's status in its own transaction (fenced).

        Returns False when the order is not in ``src``. Raises ``ValueError`` for a transition
        not in ``ORDER_TRANSITIONS`` and ``LeaseLost`` when the lease is gone (nothing written).
        """
        with self.engine.begin() as conn:
            self._check_fence(conn)
            return transition_in(conn, client_order_id, src, dst, self.clock.now(), **values)

    def order(self, client_order_id: str) -> JournalOrder | None:
        """The journal order with this client order id (any status), or None."""
        with self.engine.connect() as conn:
            return get_order(conn, client_order_id)

    def update_position(self, entry_client_order_id: str, **values: Any) -> None:
        """Set columns of the open position opened by ``entry_client_order_id`` (fenced)."""
        with self.engine.begin() as conn:
            self._check_fence(conn)
            conn.execute(update(P).where(P.c.entry_client_order_id == entry_client_order_id, P.c.is_open.is_(True))
                         .values(**values, updated_at=self.clock.now()))

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
            self._lock_strategies(conn, _touched(changes))
            for account, fill, sid in changes.fills:
                insert_fill(conn, changes.mode, account, fill, sid, now)
            for o in changes.intents:
                insert_intent(conn, o, changes.mode, now)
            for t in changes.transitions:
                if not transition_in(conn, t.client_order_id, t.src, t.dst, now, **t.values):
                    raise OrderStateConflict(f"order {t.client_order_id} is no longer {t.src}: not moved to {t.dst}")
            for position in changes.opened:
                conn.execute(insert(P).values(**position, is_open=True, updated_at=now))
            for entry_cid, values in changes.updated:
                conn.execute(update(P).where(P.c.entry_client_order_id == entry_cid, P.c.is_open.is_(True))
                             .values(**values, updated_at=now))
            for trade, entry_cid, exit_key, funding, whole in changes.closed:
                self._close(conn, trade, entry_cid, exit_key, funding, whole, now)
            for event in changes.events:
                self.strategies.event_in(conn, **event)
            for fault in changes.faults:
                self._stop(conn, fault)
            for sid, cursor in changes.cursors.items():
                _put_cursor(conn, sid, cursor, now)
            entering = {o.strategy_id for o in changes.intents if not o.reduce_only}
            self._check_live(conn, entering)
            self._check_cap(conn, entering)
            self._free_finished(conn, _touched(changes), now)

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

    def _close(self, conn: Connection, trade: Trade, entry_cid: str, exit_key: str, funding: float, whole: bool,
               now: Any) -> None:
        conn.execute(insert(TR).values(**trade_values(trade), exit_client_order_id=exit_key, funding_usd=funding))
        left = {"is_open": False} if whole else {"qty": P.c.qty - trade.qty}
        res = conn.execute(update(P).where(P.c.entry_client_order_id == entry_cid, P.c.is_open.is_(True))
                           .values(**left, updated_at=now))
        if res.rowcount != 1:
            raise RiskLimitBreached(f"exit {exit_key}: no open position {entry_cid} to close")
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
            n_new = conn.execute(select(func.count()).where(O.c.strategy_id == sid, O.c.status.in_(LIVE_STATUSES),
                                                            O.c.leg == "entry")).scalar_one()
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
            holds += conn.execute(select(func.count()).where(O.c.strategy_id == sid,
                                                             O.c.status.in_(LIVE_STATUSES))).scalar_one()
            if holds == 0:
                conn.execute(update(S).where(S.c.strategy_id == sid).values(strategy_id=None, updated_at=now))


def _touched(changes: BarChanges) -> set[int]:
    """Strategies whose rows a pass writes (locked first, checked for a freed sub-account last)."""
    ids = set(changes.cursors) | changes.release | {o.strategy_id for o in changes.intents} | {t.strategy_id for t, *_ in changes.closed}
    return ids | {p["strategy_id"] for p in changes.opened} | {f.strategy_id for f in changes.faults}


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


def _aware(m: Any) -> dict[str, Any]:
    return {k: utc(v) if hasattr(v, "tzinfo") else v for k, v in dict(m).items()}
