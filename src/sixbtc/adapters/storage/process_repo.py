"""The ``processes`` table: the pid registry of this project's worker processes.

A worker registers itself when it starts (host, pid, start time, parent pid, role) and
removes its row when it ends; ``cleanup_zombie_processes`` reads the rows of its host to find
orphaned workers (:func:`sixbtc.scheduler.retention.zombie_action`) and drops the rows of
processes that are gone. Only registered processes are ever signalled.
"""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert, select

from sixbtc.adapters.storage.tables import ProcessRow
from sixbtc.core.clock import Clock, LiveClock
from sixbtc.scheduler.retention import ProcessRecord

P = ProcessRow.__table__


class ProcessRegistry:
    """Register, list and forget worker processes.

    Parameters
    ----------
    engine : Engine
        Migrated engine.
    clock : Clock or None
        Time of ``registered_at``.
    """

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine, self.clock = engine, clock or LiveClock()

    def register(self, rec: ProcessRecord) -> None:
        """Record ``rec`` (replacing an older row of the same host and pid: the pid was reused)."""
        with self.engine.begin() as conn:
            conn.execute(delete(P).where(P.c.host == rec.host, P.c.pid == rec.pid))
            conn.execute(insert(P).values(host=rec.host[:255], pid=rec.pid, started=rec.started,
                                          parent_pid=rec.parent_pid, role=rec.role[:32],
                                          registered_at=self.clock.now()))

    def forget(self, host: str, pid: int, started: int | None = None) -> int:
        """Drop the row of (``host``, ``pid``) (only with that start time when given); return how many."""
        q = delete(P).where(P.c.host == host, P.c.pid == pid)
        if started is not None:
            q = q.where(P.c.started == started)
        with self.engine.begin() as conn:
            return conn.execute(q).rowcount or 0

    def on_host(self, host: str) -> list[ProcessRecord]:
        """The registered processes of ``host``, oldest registration first."""
        q = select(P).where(P.c.host == host).order_by(P.c.id)
        with self.engine.connect() as conn:
            return [ProcessRecord(r.host, r.pid, r.started, r.parent_pid, r.role) for r in conn.execute(q)]
