"""The task table of SPEC §3.9: every scheduled task, in the order of the SPEC, with what it
does. When each runs and whether it is enabled is configuration
(:class:`~sixbtc.config.sections.SchedulerSection`, one block per task, crontab in UTC)."""

from __future__ import annotations

from sixbtc.config.sections import ScheduledTask, SchedulerSection

#: Task name -> what it does (SPEC §3.9).
TASKS: dict[str, str] = {
    "daily_restart_services": "restart the supervised services (not the scheduler)",
    "refresh_market_regimes": "regime per active coin",
    "renew_agent_wallets": "renew agent wallets expiring within accounts.agent_renew_days",
    "check_subaccount_funds": "top up sub-accounts below accounts.top_up_below_usd",
    "cleanup_tmp_dir": "delete the home's temp files older than retention_days",
    "cleanup_old_events": "fold strategy events older than retention_days into funnel counts, delete them",
    "cleanup_stale_strategies": "delete GENERATED/VALIDATED strategies older than retention_days",
    "cleanup_old_failed": "delete FAILED strategies older than retention_days",
    "cleanup_old_retired": "delete RETIRED strategies older than retention_days",
    "update_pairs": "pairs updater",
    "download_data": "download/update the active coins",
    "cleanup_zombie_processes": "stop the project's orphaned workers (recorded pids)",
    "cleanup_stale_processing": "release claims older than stale_claim_minutes",
    "refresh_data_cache": "pre-load BTC candles of every timeframe",
}


def task_config(section: SchedulerSection, task: str) -> ScheduledTask:
    """The configuration block of ``task``.

    Raises
    ------
    ValueError
        For a name that is not in :data:`TASKS` (the message lists them).
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; tasks: {', '.join(TASKS)}")
    return getattr(section, task)
