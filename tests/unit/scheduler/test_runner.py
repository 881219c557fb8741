"""One scheduled run: recorded with its outcome, never twice at once, and a failing task
never raises out of the runner (the other tasks go on)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from sixbtc.core.errors import LeaseHeld, TaskSkipped
from sixbtc.scheduler.ports import Outcome, TaskRun
from sixbtc.scheduler.runner import MAX_MESSAGE, run_task


class MemoryLog:
    """An in-memory run log (the port's contract, as the table implements it)."""

    def __init__(self) -> None:
        self.rows: dict[int, TaskRun] = {}

    def start(self, task: str, host: str, pid: int) -> int:
        rid = len(self.rows) + 1
        self.rows[rid] = TaskRun(rid, task, datetime.now(UTC), None, Outcome.RUNNING, "", host, pid)
        return rid

    def finish(self, run_id: int, outcome: Outcome, message: str) -> None:
        r = self.rows[run_id]
        self.rows[run_id] = TaskRun(r.id, r.task, r.started_at, datetime.now(UTC), outcome, message, r.host, r.pid)

    def last_runs(self) -> dict[str, TaskRun]:
        return {r.task: r for r in self.rows.values()}


class OneHolderLock:
    """A lock that refuses a second holder of the same task, like the database lease."""

    def __init__(self) -> None:
        self.held: set[str] = set()

    @contextmanager
    def hold(self, task: str) -> Iterator[None]:
        if task in self.held:
            raise LeaseHeld(f"the sched:{task} lease is held: pid 7 on host box")
        self.held.add(task)
        try:
            yield
        finally:
            self.held.discard(task)


def test_a_successful_run_is_recorded_with_its_summary() -> None:
    log, lock = MemoryLog(), OneHolderLock()
    assert run_task("cleanup_tmp_dir", lambda: "3 files deleted", log, lock, "box", 11) == (Outcome.OK, "3 files deleted")
    (run,) = log.rows.values()
    assert (run.task, run.outcome, run.message, run.host, run.pid) == ("cleanup_tmp_dir", Outcome.OK, "3 files deleted", "box", 11)
    assert run.finished_at is not None and run.finished_at >= run.started_at
    assert lock.held == set()


def test_a_failing_task_is_recorded_and_the_next_task_still_runs() -> None:
    log, lock = MemoryLog(), OneHolderLock()

    def boom() -> str:
        raise RuntimeError("disk full " + "x" * 5000)

    outcome, message = run_task("download_data", boom, log, lock, "box", 1)
    assert outcome is Outcome.FAILED and message.startswith("RuntimeError: disk full") and len(message) == MAX_MESSAGE
    assert run_task("update_pairs", lambda: "ok", log, lock, "box", 1)[0] is Outcome.OK
    assert [r.outcome for r in log.rows.values()] == [Outcome.FAILED, Outcome.OK]


def test_a_task_that_cannot_run_here_is_skipped_with_its_reason() -> None:
    log = MemoryLog()

    def no_venue() -> str:
        raise TaskSkipped("no paper execution venue is available in this build")

    assert run_task("check_subaccount_funds", no_venue, log, OneHolderLock(), "box", 1) == \
        (Outcome.SKIPPED, "no paper execution venue is available in this build")


def test_a_task_never_runs_twice_at_once() -> None:
    log, lock = MemoryLog(), OneHolderLock()
    ran: list[str] = []

    def outer() -> str:
        ran.append("outer")
        inner = run_task("cleanup_old_events", lambda: ran.append("inner") or "x", log, lock, "box", 2)
        assert inner[0] is Outcome.SKIPPED and inner[1].startswith("already running: the sched:cleanup_old_events")
        return "done"

    assert run_task("cleanup_old_events", outer, log, lock, "box", 1) == (Outcome.OK, "done")
    assert ran == ["outer"]
    assert sorted(r.outcome for r in log.rows.values()) == [Outcome.OK, Outcome.SKIPPED]


def test_an_interrupt_is_recorded_as_failed_and_re_raised() -> None:
    log, lock = MemoryLog(), OneHolderLock()

    def interrupted() -> str:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_task("download_data", interrupted, log, lock, "box", 1)
    (run,) = log.rows.values()
    assert run.outcome is Outcome.FAILED and run.message == "interrupted: KeyboardInterrupt"
    assert lock.held == set()
