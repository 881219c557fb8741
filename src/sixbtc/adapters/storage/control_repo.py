"""Operator controls recorded as strategy events: the trading halt and paused strategies.

The controls of the dashboard (:mod:`sixbtc.app.controls`) are event-sourced: each action is a
``strategy_events`` row of phase ``control`` whose detail names who acted, so the audit trail
and the state are one and the same table (no schema change, no flag that a concurrent writer of
``metrics`` could overwrite). The state is read back from the newest event of each kind:

* the trading halt: the newest global event (``strategy_id`` NULL, ``strategy_name`` ``*``) of
  reason ``control:halt`` or ``control:unhalt``;
* a paused strategy: its newest event of reason ``control:pause`` or ``control:resume`` is a
  pause.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select

from sixbtc.adapters.storage.mapping import utc
from sixbtc.adapters.storage.tables import StrategyEventRow
from sixbtc.core.clock import Clock, LiveClock

E = StrategyEventRow.__table__

PHASE = "control"
HALT, UNHALT = "control:halt", "control:unhalt"
PAUSE, RESUME = "control:pause", "control:resume"
#: ``strategy_name`` of a global (not per-strategy) control event.
GLOBAL_NAME = "*"


class ControlRepository:
    """Reads and writes the control events (see the module docstring).

    Parameters
    ----------
    engine : Engine
        Migrated database engine.
    clock : Clock
        Time source of the events' ``ts``.
    """

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or LiveClock()

    def global_event_in(self, conn: Connection, reason: str, detail: str) -> None:
        """Insert a global control event (``strategy_id`` NULL) inside the caller's transaction."""
        conn.execute(insert(E).values(strategy_id=None, strategy_name=GLOBAL_NAME, from_status=None,
                                      to_status=None, phase=PHASE, reason=reason[:64], detail=detail[:2000],
                                      ts=self.clock.now()))

    def halt_state(self) -> dict[str, Any]:
        """The trading halt: ``{"halted": bool, "since": ISO-8601 UTC or None, "detail": str}``
        from the newest global halt/unhalt event (never halted: ``halted`` False, ``since`` None)."""
        q = (select(E.c.reason, E.c.detail, E.c.ts)
             .where(E.c.strategy_id.is_(None), E.c.phase == PHASE, E.c.reason.in_((HALT, UNHALT)))
             .order_by(E.c.id.desc()).limit(1))
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        if row is None:
            return {"halted": False, "since": None, "detail": ""}
        return {"halted": row.reason == HALT, "since": _iso(row.ts), "detail": row.detail}

    def paused_ids(self) -> set[int]:
        """Ids of the strategies whose newest pause/resume event is a pause."""
        newest = (select(E.c.strategy_id, func.max(E.c.id).label("last"))
                  .where(E.c.strategy_id.is_not(None), E.c.reason.in_((PAUSE, RESUME)))
                  .group_by(E.c.strategy_id).subquery())
        q = select(E.c.strategy_id).join(newest, E.c.id == newest.c.last).where(E.c.reason == PAUSE)
        with self.engine.connect() as conn:
            return set(conn.execute(q).scalars())


def _iso(ts: Any) -> str | None:
    return None if ts is None else utc(ts).isoformat()
