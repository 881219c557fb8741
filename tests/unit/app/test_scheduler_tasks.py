"""The scheduled tasks through the scheduler use case on a real home (SQLite): each run is
recorded; temp and zombie cleanup touch only the project's own files and processes; tasks
without a stage here are skipped with their reason; a failing task does not stop the next."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from sixbtc.app.container import Container
from sixbtc.app.home import Home
from sixbtc.app.processes import pid_alive, process_started, this_host
from sixbtc.app.scheduler import add_scheduled_tasks, run_scheduled, task_overview
from sixbtc.config import Settings
from sixbtc.core.clock import SimClock
from sixbtc.scheduler.ports import Outcome
from sixbtc.scheduler.retention import ProcessRecord
from sixbtc.scheduler.tasks import TASKS

DAY = 86_400


@pytest.fixture
def c(tmp_path: Path) -> Container:
    home = Home(tmp_path / "home").ensure()
    settings = Settings(data={"hyperliquid_info_url": "http://127.0.0.1:9", "exchange_api_url": "http://127.0.0.1:9",
                              "network_probe_timeout_s": 1.0})
    return Container(home, settings)


def _age(path: Path, seconds: float) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t), follow_symlinks=False)


def test_tmp_cleanup_deletes_old_files_of_the_tmp_dir_only(c: Container, tmp_path: Path) -> None:
    tmp = c.home.tmp_dir
    outside = tmp_path / "precious.txt"
    outside.write_text("keep")
    _age(outside, 10 * DAY)
    (tmp / "sub").mkdir()
    old, new, nested = tmp / "old.tmp", tmp / "new.tmp", tmp / "sub" / "old.bin"
    for p in (old, new, nested):
        p.write_text("x")
    link = tmp / "link"
    link.symlink_to(outside)
    for p in (old, nested, link):
        _age(p, 2 * DAY)
    _age(tmp / "sub", 2 * DAY)
    outcome, message = run_scheduled(c, "cleanup_tmp_dir")
    assert outcome is Outcome.OK, message
    assert message.startswith("3 files and 1 empty directories older than 1 days deleted")
    assert sorted(p.name for p in tmp.iterdir()) == ["new.tmp"]
    assert outside.read_text() == "keep", "the link was removed, not followed"


def _orphan() -> tuple[int, int]:
    """A sleeping grandchild whose parent has exited: (its pid, the dead parent's pid)."""
    code = ("import subprocess, sys; p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], "
            "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL);"
            " print(p.pid, flush=True)")
    parent = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True)
    return int(parent.stdout.split()[0]), 0


def _gone(pid: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_zombie_cleanup_stops_only_registered_orphans_of_ours(c: Container) -> None:
    orphan, _ = _orphan()
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # not registered
    reused = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # pid registered with another start
    attached = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # our live child
    host = this_host()
    try:
        c.processes.register(ProcessRecord(host, orphan, process_started(orphan), 999_999, "validator"))
        c.processes.register(ProcessRecord(host, reused.pid, (process_started(reused.pid) or 0) - 1, 1, "backtester"))
        c.processes.register(ProcessRecord(host, attached.pid, process_started(attached.pid), os.getpid(), "elastic"))
        c.processes.register(ProcessRecord(host, 4_000_000, 1, 1, "retester"))  # long gone
        outcome, message = run_scheduled(c, "cleanup_zombie_processes")
        assert outcome is Outcome.OK, message
        assert message == f"1 orphaned workers stopped: validator pid {orphan}; 3 records dropped"
        assert _gone(orphan)
        assert stranger.poll() is None and reused.poll() is None and attached.poll() is None
        assert [r.pid for r in c.processes.on_host(host)] == [attached.pid]
    finally:
        for p in (stranger, reused, attached):
            p.kill()
            p.wait()


def test_tasks_without_a_stage_here_are_skipped_with_the_reason(c: Container) -> None:
    assert run_scheduled(c, "daily_restart_services")[0] is Outcome.SKIPPED
    for task in ("check_subaccount_funds", "renew_agent_wallets"):  # they run on the paper venue
        outcome, message = run_scheduled(c, task)
        assert outcome is Outcome.OK, message
    c.settings.executor.dry_run = False  # live mode without a master key: nothing to sign them with
    for task in ("check_subaccount_funds", "renew_agent_wallets"):
        outcome, message = run_scheduled(c, task)
        assert outcome is Outcome.SKIPPED and "no master key configured" in message, message
    c.settings.executor.dry_run = True
    outcome, message = run_scheduled(c, "refresh_data_cache")
    assert (outcome, message) == (Outcome.SKIPPED, "no BTC candles in the store")
    c.settings.regime.enabled = False
    assert run_scheduled(c, "refresh_market_regimes") == (Outcome.SKIPPED, "regime.enabled is false")


def test_a_failing_task_is_recorded_and_the_others_still_run(c: Container) -> None:
    outcome, message = run_scheduled(c, "update_pairs")  # the venues are closed ports on 127.0.0.1
    assert outcome is Outcome.FAILED and message.startswith("NetworkUnavailable"), message
    assert run_scheduled(c, "cleanup_stale_processing") == (Outcome.OK, "0 claims of dead workers and 0 stale claims released")
    assert run_scheduled(c, "cleanup_old_events")[0] is Outcome.OK
    last = c.scheduler_runs.last_runs()
    assert (last["update_pairs"].outcome, last["cleanup_stale_processing"].outcome) == (Outcome.FAILED, Outcome.OK)
    with pytest.raises(ValueError, match="unknown task 'nope'"):
        run_scheduled(c, "nope")


def test_the_overview_lists_every_task_with_its_last_and_next_run(tmp_path: Path) -> None:
    now = datetime(2026, 3, 1, 1, 22, tzinfo=UTC)
    settings = Settings(scheduler={"cleanup_old_failed": {"enabled": False, "cron": "35 1 * * *"}})
    c = Container(Home(tmp_path / "h").ensure(), settings, SimClock(now))
    run_scheduled(c, "cleanup_tmp_dir")
    rows = {r.name: r for r in task_overview(c)}
    assert list(rows) == list(TASKS)
    assert rows["cleanup_tmp_dir"].last.outcome is Outcome.OK and rows["update_pairs"].last is None
    assert rows["cleanup_old_events"].next_run == datetime(2026, 3, 1, 1, 25, tzinfo=UTC)
    assert rows["update_pairs"].next_run == datetime(2026, 3, 1, 1, 45, tzinfo=UTC)
    assert rows["daily_restart_services"].next_run == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    assert rows["cleanup_stale_processing"].next_run == datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
    assert rows["cleanup_old_failed"].next_run is None and not rows["cleanup_old_failed"].enabled
    sched = BackgroundScheduler(timezone="UTC")
    added = add_scheduled_tasks(sched, c, print)
    assert added == [t for t in TASKS if t != "cleanup_old_failed"]
    job = sched.get_job("task:update_pairs")
    assert str(job.trigger) == "cron[month='*', day='*', day_of_week='*', hour='1,13', minute='45']"
    assert job.max_instances == 1


@pytest.mark.parametrize(("cron", "after", "fires"), [
    ("0 0 * * 0", datetime(2026, 12, 2, tzinfo=UTC), datetime(2026, 12, 6, tzinfo=UTC)),  # Sunday, as crontab(5)
    ("0 0 * * 1-5", datetime(2026, 12, 5, 1, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC)),  # Sat -> Monday
    ("30 6 * * */3", datetime(2026, 12, 2, 7, tzinfo=UTC), datetime(2026, 12, 5, 6, 30, tzinfo=UTC)),  # Sun,Wed,Sat
    ("45 1,13 * * *", datetime(2026, 12, 2, 2, tzinfo=UTC), datetime(2026, 12, 2, 13, 45, tzinfo=UTC)),
])
def test_cron_weekdays_count_from_sunday_as_in_crontab(cron: str, after: datetime, fires: datetime) -> None:
    from sixbtc.app.scheduler import trigger

    assert trigger(cron).get_next_fire_time(None, after) == fires
