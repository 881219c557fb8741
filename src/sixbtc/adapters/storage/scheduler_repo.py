"""The ``scheduler_runs`` table: one row per run of a scheduled task (the scheduler's run log)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, delete, func, insert, select, update

from sixbtc.adapters.storage.mapping import utc
from sixbtc.adapters.storage.tables import SchedulerRunRow
from sixbtc.core.clock import Clock, LiveClock
from sixbtc.scheduler.ports import Outcome, TaskRun

R = SchedulerRunRow.__table__


def _run(row: object) -> TaskRun:
    m = row._mapping  # type: ignore[attr-defined]
    return TaskRun(m["id"], m["task"], utc(m["started_at"]), utc(m["finished_at"]), Outcome(m["outcome"]),
                   m["message"], m["host"], m["pid"])


class SchedulerRunRepository:
    """Record runs (:class:`~sixbtc.scheduler.ports.RunLog`) and read them back.

    Parameters
    ----------
    engine : Engine
        Migrated engine (SQLite or PostgreSQL).
    clock : Clock or None
        Time of starts and ends (UTC); default the live clock.
    """

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine, self.clock = engine, clock or LiveClock()

    def start(self, task: str, host: str, pid: int) -> int:
        """Insert a ``running`` row for ``task`` started now; return its id."""
        with self.engine.begin() as conn:
            return conn.execute(insert(R).values(task=task, started_at=self.clock.now(), outcome=str(Outcome.RUNNING),
                                                 message="", host=host[:255], pid=pid).returning(R.c.id)).scalar_one()

    def finish(self, run_id: int, outcome: Outcome, message: str) -> None:
        """Set the end (now), the outcome and the message of run ``run_id``."""
        with self.engine.begin() as conn:
            conn.execute(update(R).where(R.c.id == run_id)
                         .values(finished_at=self.clock.now(), outcome=str(outcome), message=message))

    def last_runs(self) -> dict[str, TaskRun]:
        """The newest run (highest id) of every task that ever ran."""
        newest = select(func.max(R.c.id)).group_by(R.c.task).scalar_subquery()
        with self.engine.connect() as conn:
            return {r.task: _run(r) for r in conn.execute(select(R).where(R.c.id.in_(newest)))}

    def runs(self, task: str | None = None, limit: int = 50) -> list[TaskRun]:
        """The newest ``limit`` runs, newest first (of ``task`` only when given)."""
        q = select(R).order_by(R.c.id.desc()).limit(limit)
        if task is not None:
            q = q.where(R.c.task == task)
        with self.engine.connect() as conn:
            return [_run(r) for r in conn.execute(q)]

    def prune(self, before: datetime) -> int:
        """Delete runs started before ``before``; return how many."""
        with self.engine.begin() as conn:
            return conn.execute(delete(R).where(R.c.started_at < before)).rowcount or 0
