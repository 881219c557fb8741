"""One guarded, recorded run of a scheduled task (SPEC §3.9).

:func:`run_task` holds the task's lock (a database lease: never twice at once, also across
processes), records the run in the run log as ``running``, runs it and records the end:
``ok`` with the task's summary, ``skipped`` with the reason when the task raised
:class:`~sixbtc.core.errors.TaskSkipped` (no such stage in this build, not configured),
``failed`` with the error for any other exception. A task whose lock another live process
holds is recorded as ``skipped`` ("already running") and not run. Errors of the task never
leave :func:`run_task`, so one failing task does not stop the others; an interrupt
(``KeyboardInterrupt``, ``SystemExit``) is recorded as ``failed`` and re-raised.
"""

from __future__ import annotations

from collections.abc import Callable

from sixbtc.core.errors import LeaseHeld, TaskSkipped
from sixbtc.scheduler.ports import Outcome, RunLog, TaskLock

#: Longest message kept per run (characters).
MAX_MESSAGE = 2000


def run_task(task: str, action: Callable[[], str], log: RunLog, lock: TaskLock, host: str,
             pid: int) -> tuple[Outcome, str]:
    """Run ``action`` as task ``task`` under its lock and record the run.

    Parameters
    ----------
    task : str
        Task name (a key of :data:`sixbtc.scheduler.tasks.TASKS`).
    action : callable
        Does the work; returns a one-line summary of what it did.
    log, lock
        The run log and the task lock (see :mod:`sixbtc.scheduler.ports`).
    host, pid
        This process, recorded with the run.

    Returns
    -------
    (Outcome, str)
        How the run ended and its message (as recorded).

    Raises
    ------
    Exception
        Only errors of the lock or the run log themselves (database down); not the task's.
    """
    try:
        with lock.hold(task):
            run_id = log.start(task, host, pid)
            outcome, message = _guarded(action, log, run_id)
    except LeaseHeld as exc:
        outcome, message = Outcome.SKIPPED, f"already running: {exc}"[:MAX_MESSAGE]
        log.finish(log.start(task, host, pid), outcome, message)
        return outcome, message
    log.finish(run_id, outcome, message)
    return outcome, message


def _guarded(action: Callable[[], str], log: RunLog, run_id: int) -> tuple[Outcome, str]:
    try:
        return Outcome.OK, action()[:MAX_MESSAGE]
    except TaskSkipped as exc:
        return Outcome.SKIPPED, str(exc)[:MAX_MESSAGE]
    except Exception as exc:  # noqa: BLE001 — recorded; the other tasks go on
        return Outcome.FAILED, f"{type(exc).__name__}: {exc}"[:MAX_MESSAGE]
    except BaseException as exc:
        log.finish(run_id, Outcome.FAILED, f"interrupted: {type(exc).__name__}")
        raise
