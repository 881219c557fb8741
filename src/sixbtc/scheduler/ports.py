"""What the scheduler stage needs from the outside: a run log and a cross-process task lock.

A :class:`TaskRun` is one row of ``scheduler_runs``. The run log is the
``scheduler_runs`` table (:mod:`sixbtc.adapters.storage.scheduler_repo`); the task lock is a
database lease per task (:mod:`sixbtc.app.lease`), so that a task never runs twice at once,
also when several processes or hosts run the scheduler.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class Outcome(StrEnum):
    """How a run ended (``running``: not yet, or its process died before recording it)."""

    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class TaskRun:
    """One recorded run: task name, start and end (aware UTC; end None while running),
    outcome, message (what it did, why it was skipped, or the error), and the process."""

    id: int
    task: str
    started_at: datetime
    finished_at: datetime | None
    outcome: Outcome
    message: str
    host: str
    pid: int


class RunLog(Protocol):
    """The ``scheduler_runs`` table."""

    def start(self, task: str, host: str, pid: int) -> int:
        """Record a run as ``running`` now; return its id."""
        ...

    def finish(self, run_id: int, outcome: Outcome, message: str) -> None:
        """Record the end of run ``run_id``."""
        ...

    def last_runs(self) -> dict[str, TaskRun]:
        """The newest run of every task that ever ran."""
        ...


class TaskLock(Protocol):
    """Exclusive right to run one task, across processes and hosts."""

    def hold(self, task: str) -> AbstractContextManager[object]:
        """Hold the lock of ``task`` for a ``with`` block.

        Raises
        ------
        LeaseHeld
            On entry, when another live process holds it (the message names the holder).
        """
        ...
