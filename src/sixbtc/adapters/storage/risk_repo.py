"""Trading states and equity samples (migration 0008): what the kill switches and the emergency
stop write, so that a HALTED or REDUCING state survives a restart and reaches a running
service from another process (``sixbtc emergency-stop``).

State changes are compare-and-set on the stored state: an automatic change
(:meth:`TradingStateRepository.escalate`) only ever makes a state stricter, whatever another
process wrote meanwhile; :meth:`TradingStateRepository.resume` (a person's decision) sets
ACTIVE. Times come from the clock (UTC).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from sixbtc.adapters.storage.mapping import utc
from sixbtc.adapters.storage.tables import EquitySampleRow, TradingStateRow
from sixbtc.core.clock import Clock, LiveClock
from sixbtc.domain.risk import Halt, TradingState, TradingStateRecord, escalates, scope_strategy_id
from sixbtc.executor.kill_switch import EquitySample

TS = TradingStateRow.__table__
EQ = EquitySampleRow.__table__


def _record(m: object) -> TradingStateRecord:
    row = m._mapping  # type: ignore[attr-defined]
    return TradingStateRecord(row["scope"], TradingState(row["state"]), row["reason"], row["detail"], utc(row["since"]))


class TradingStateRepository:
    """Read and change trading states; store and read equity samples.

    Parameters
    ----------
    engine : Engine
        Migrated engine (SQLite or PostgreSQL).
    clock : Clock or None
        Time source of ``since`` (default: the wall clock, UTC).
    """

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or LiveClock()

    # -- states ------------------------------------------------------------------------
    def get(self, scope: str) -> TradingStateRecord:
        """The state of ``scope`` (ACTIVE with ``since`` None when never set)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(TS).where(TS.c.scope == scope)).first()
        return _record(row) if row else TradingStateRecord(scope, TradingState.ACTIVE, "", "", None)

    def all(self) -> dict[str, TradingStateRecord]:
        """Every stored state by scope."""
        with self.engine.connect() as conn:
            return {r.scope: _record(r) for r in conn.execute(select(TS).order_by(TS.c.scope))}

    def strategy_states(self) -> dict[int, TradingStateRecord]:
        """Strategy id → its own stored state, for every strategy scope that is not ACTIVE
        (paused by a person, or stopped by a kill switch)."""
        return {sid: rec for scope, rec in self.all().items()
                if (sid := scope_strategy_id(scope)) is not None and rec.state is not TradingState.ACTIVE}

    def escalate(self, halt: Halt) -> bool:
        """Apply ``halt`` if it makes its scope's state stricter; return True when it changed.

        Idempotent: the same halt applied twice (or by two processes) changes the state once.
        """
        with self.engine.begin() as conn:
            return self.escalate_in(conn, halt)

    def escalate_in(self, conn: Connection, halt: Halt) -> bool:
        """:meth:`escalate` inside the caller's transaction (e.g. with the halt's event)."""
        return self._set(conn, halt.scope, halt.state, halt.reason, halt.detail, only_stricter=True)

    def resume(self, scope: str, detail: str = "") -> bool:
        """Set ``scope`` ACTIVE (a person's decision: ``sixbtc resume``); True when it changed.

        ``since`` becomes now: the kill switches' windows start again from here.
        """
        with self.engine.begin() as conn:
            return self.resume_in(conn, scope, detail)

    def resume_in(self, conn: Connection, scope: str, detail: str = "") -> bool:
        """:meth:`resume` inside the caller's transaction (e.g. with the decision's event)."""
        return self._set(conn, scope, TradingState.ACTIVE, "resume", detail, only_stricter=False)

    def _set(self, conn: Connection, scope: str, state: TradingState, reason: str, detail: str, *,
             only_stricter: bool) -> bool:
        values = {"state": str(state), "reason": reason[:64], "detail": detail[:2000], "since": self.clock.now()}
        for _ in range(3):  # an insert that lost a race becomes an update
            current = conn.execute(select(TS.c.state).where(TS.c.scope == scope)).scalar()
            if current is None:
                if state is TradingState.ACTIVE:
                    return False  # never set = ACTIVE already
                try:
                    with conn.begin_nested():
                        conn.execute(insert(TS).values(scope=scope, **values))
                    return True
                except IntegrityError:
                    continue
            old = TradingState(current)
            if old is state or (only_stricter and not escalates(old, state)):
                return False
            done = conn.execute(update(TS).where(TS.c.scope == scope, TS.c.state == current).values(**values))
            if done.rowcount == 1:
                return True
        return False

    # -- equity samples ----------------------------------------------------------------
    def record_equity(self, samples: dict[str, float], ts: datetime | None = None) -> None:
        """Store one equity sample (USD) per scope at ``ts`` (default now)."""
        at = ts or self.clock.now()
        if samples:
            with self.engine.begin() as conn:
                conn.execute(insert(EQ), [{"scope": s, "ts": at, "equity_usd": float(v)} for s, v in samples.items()])

    def equity_since(self, scope: str, since: datetime) -> list[EquitySample]:
        """The samples of ``scope`` at or after ``since``, oldest first."""
        q = select(EQ.c.ts, EQ.c.equity_usd).where(EQ.c.scope == scope, EQ.c.ts >= since).order_by(EQ.c.ts, EQ.c.id)
        with self.engine.connect() as conn:
            return [EquitySample(int(utc(r.ts).timestamp() * 1000), r.equity_usd) for r in conn.execute(q)]

    def prune_equity(self, before: datetime) -> int:
        """Delete samples older than ``before``; return how many."""
        with self.engine.begin() as conn:
            return conn.execute(delete(EQ).where(EQ.c.ts < before)).rowcount
