"""Retention rules: cut-offs, temp-file age, and which registered processes may be signalled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sixbtc.config import Settings
from sixbtc.domain.strategy import StrategyStatus
from sixbtc.scheduler.retention import (
    STRATEGY_CLEANUPS,
    ProcessProbe,
    ProcessRecord,
    ZombieAction,
    cutoff,
    expired,
    zombie_action,
)
from sixbtc.scheduler.tasks import TASKS, task_config

NOW = datetime(2026, 3, 1, 1, 25, tzinfo=UTC)


def test_cutoff_is_now_minus_the_retention_and_refuses_zero() -> None:
    assert cutoff(NOW, 7) == NOW - timedelta(days=7)
    assert cutoff(NOW, 0.5) == NOW - timedelta(hours=12)
    for bad in (0, -1, float("nan")):
        with pytest.raises(ValueError, match="retention_days must be > 0"):
            cutoff(NOW, bad)


def test_a_temp_file_expires_after_the_retention() -> None:
    now = 1_000_000.0
    assert expired(now - 86_401, now, 1.0) and not expired(now - 86_399, now, 1.0)


def test_the_strategy_cleanups_follow_the_spec() -> None:
    assert STRATEGY_CLEANUPS["cleanup_stale_strategies"][0] == (StrategyStatus.GENERATED, StrategyStatus.VALIDATED)
    assert STRATEGY_CLEANUPS["cleanup_old_failed"][0] == (StrategyStatus.FAILED,)
    assert STRATEGY_CLEANUPS["cleanup_old_retired"][0] == (StrategyStatus.RETIRED,)
    s = Settings().scheduler
    assert [s.cleanup_stale_strategies.retention_days, s.cleanup_old_failed.retention_days,
            s.cleanup_old_retired.retention_days, s.cleanup_old_events.retention_days] == [1, 7, 7, 7]


def test_the_task_table_is_the_spec_s_with_its_times() -> None:
    assert len(TASKS) == 14
    crons = {name: task_config(Settings().scheduler, name).cron for name in TASKS}
    assert crons["daily_restart_services"] == "0 1 * * *"
    assert crons["update_pairs"] == "45 1,13 * * *"
    assert crons["download_data"] == "0 2,14 * * *"
    assert crons["cleanup_zombie_processes"] == "0 */3 * * *"
    assert crons["cleanup_stale_processing"] == "*/30 * * * *"
    assert crons["refresh_data_cache"] == "0 */4 * * *"
    with pytest.raises(ValueError, match="unknown task 'nope'; tasks: daily_restart_services"):
        task_config(Settings().scheduler, "nope")


WORKER = ProcessRecord("box", 500, 1234, 400, "validator")


@pytest.mark.parametrize(("rec", "probe", "action"), [
    (WORKER, ProcessProbe(False, None, None), ZombieAction.FORGET),  # gone
    (WORKER, ProcessProbe(True, 9999, 1), ZombieAction.FORGET),  # pid reused by a stranger: never signalled
    (WORKER, ProcessProbe(True, 1234, 400), ZombieAction.KEEP),  # still attached to its parent
    (WORKER, ProcessProbe(True, 1234, 1), ZombieAction.TERMINATE),  # ours, re-parented: orphan
    (WORKER, ProcessProbe(True, None, 1), ZombieAction.KEEP),  # identity not provable
    (ProcessRecord("box", 500, None, 400, "validator"), ProcessProbe(True, 1234, 1), ZombieAction.KEEP),
    (ProcessRecord("box", 500, 1234, None, "service"), ProcessProbe(True, 1234, 1), ZombieAction.KEEP),  # top level
])
def test_only_an_identified_orphan_of_ours_is_terminated(rec: ProcessRecord, probe: ProcessProbe,
                                                         action: ZombieAction) -> None:
    assert zombie_action(rec, probe) is action
