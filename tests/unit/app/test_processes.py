"""Worker ids and the liveness of the processes they name: a claim whose pid was reused by a
process started later is a dead worker's claim."""

from __future__ import annotations

import os
import subprocess
import sys

from sixbtc.app.processes import process_started, this_host, worker_dead, worker_id
from sixbtc.domain.claims import MAX_LEN, WorkerId


def test_a_worker_id_names_role_host_pid_and_start_time_and_reads_back() -> None:
    me = WorkerId.parse(worker_id("validator"))
    assert me == WorkerId("validator", this_host(), os.getpid(), process_started(os.getpid()))
    assert me.started is not None and me.started > 0
    assert WorkerId.parse("validator@box:42") == WorkerId("validator", "box", 42)  # written by older versions
    for junk in ("validator-123-0", "validator@box:42/", "validator@box:42/x", "@box:1", None):
        assert WorkerId.parse(junk) is None


def test_a_long_host_name_is_cut_to_the_column_and_still_recognised() -> None:
    long = WorkerId("backtester", "h" * 100, 4_194_303, 12_345_678_901)
    text = str(long)
    assert len(text) == MAX_LEN and text.endswith(":4194303/12345678901")
    assert WorkerId.parse(text).same_host("h" * 100) and not WorkerId.parse(text).same_host("other")


def test_a_pid_reused_by_a_process_started_later_is_a_dead_worker() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        started = process_started(proc.pid)
        assert started is not None
        assert not worker_dead(WorkerId("validator", this_host(), proc.pid, started))
        assert worker_dead(WorkerId("validator", this_host(), proc.pid, started - 1)), \
            "the claim's process started before the one that holds its pid now"
        assert not worker_dead(WorkerId("validator", this_host(), proc.pid))  # no start time: the pid decides
    finally:
        proc.kill()
        proc.wait()
    assert worker_dead(WorkerId("validator", this_host(), proc.pid, started))
