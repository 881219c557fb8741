"""What each scheduled task of SPEC §3.9 runs: the stage functions that exist, and a
recorded skip (:class:`~sixbtc.core.errors.TaskSkipped`) with the reason where the stage is
not available here. Each action takes the container and returns a one-line summary."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from sixbtc.app import maintenance
from sixbtc.app.container import Container
from sixbtc.core.errors import ConfigError, DataError, SixbtcError, TaskSkipped
from sixbtc.executor.venue import ExchangeClient

#: Coin whose candles ``refresh_data_cache`` pre-loads (SPEC §3.9: BTC, every timeframe).
CACHE_COIN = "BTC"


def restart_services(_c: Container) -> str:
    """``daily_restart_services``: nothing to restart unless a process supervisor runs the roles."""
    raise TaskSkipped("no supervised services to restart: `sixbtc run` holds every role in this process "
                      "(restarts apply to the roles run under supervisord)")


def refresh_regimes(c: Container) -> str:
    """``refresh_market_regimes`` (needs ``regime.enabled``)."""
    from sixbtc.app.regimes import refresh_market_regimes

    if not c.settings.regime.enabled:
        raise TaskSkipped("regime.enabled is false")
    return f"{len(refresh_market_regimes(c))} coins classified"


def _venue(c: Container) -> tuple[ExchangeClient, str]:
    """The venue and master account of the master operations; skipped in live mode without
    the master key (it is used only when configured)."""
    from sixbtc.app.venues import master_account, open_venue

    ex = c.settings.exchange
    if not c.settings.executor.dry_run and ex.master_private_key is None and not ex.master_key_file:
        raise TaskSkipped("no master key configured (exchange.master_key_file): transfers and agent approvals "
                          "need it")
    try:
        return open_venue(c), master_account(c)
    except ConfigError as exc:
        raise TaskSkipped(str(exc)) from None


def renew_agent_wallets(c: Container) -> str:
    """``renew_agent_wallets``: renew agents expiring within ``accounts.agent_renew_days``."""
    from sixbtc.app.accounts import renew_agents

    venue, _ = _venue(c)
    report = renew_agents(venue, c.settings.accounts, int(c.clock.now().timestamp() * 1000))
    if report.failures:
        raise SixbtcError(f"{len(report.failures)} renewals failed: {report.failures}")
    return f"{len(report.renewed)} agent wallets renewed"


def check_subaccount_funds(c: Container) -> str:
    """``check_subaccount_funds``: the top-up policy of the ``accounts`` section."""
    from sixbtc.app.accounts import top_up

    venue, master = _venue(c)
    report = top_up(venue, master, c.settings.accounts)
    if report.failures:
        raise SixbtcError(f"{len(report.failures)} top-ups failed: {report.failures}")
    return f"{len(report.done)} sub-accounts topped up ({sum(usd for _, usd in report.done):.2f} USD)"


def update_pairs(c: Container) -> str:
    """``update_pairs``: the pairs updater (SPEC §3.1)."""
    from sixbtc.app.pairs import update_pairs as run

    change = run(c)
    return f"{len(change.pairs)} active, {len(change.added)} added, {len(change.removed)} removed"


def download_data(c: Container) -> str:
    """``download_data``: update the active coins (``data.coins`` while the registry has none).

    Raises
    ------
    DataError
        When a series failed (the others are stored).
    """
    from sixbtc.app.market import download_missing

    results = download_missing(c, coins=c.registry.get_active_pairs() or None)
    failed = [f"{r.symbol} {r.timeframe}: {r.error}" for r in results if r.error]
    if failed:
        raise DataError(f"{len(failed)} of {len(results)} series failed: {'; '.join(failed)[:1500]}")
    return f"{len(results)} series updated, {sum(r.stored for r in results)} candles stored"


def refresh_data_cache(c: Container) -> str:
    """``refresh_data_cache``: read BTC candles of every ``data.timeframes`` (warms the store's
    read cache of this process)."""
    held = [tf for tf in c.settings.data.timeframes if c.store.has(CACHE_COIN, tf)]
    if not held:
        raise TaskSkipped(f"no {CACHE_COIN} candles in the store")
    rows = sum(len(c.store.read_candles(CACHE_COIN, tf)) for tf in held)
    return f"{CACHE_COIN} {', '.join(held)}: {rows} candles loaded"


#: Task name -> action (every task of :data:`sixbtc.scheduler.tasks.TASKS`).
ACTIONS: dict[str, Callable[[Container], str]] = {
    "daily_restart_services": restart_services,
    "refresh_market_regimes": refresh_regimes,
    "renew_agent_wallets": renew_agent_wallets,
    "check_subaccount_funds": check_subaccount_funds,
    "cleanup_tmp_dir": maintenance.cleanup_tmp_dir,
    "cleanup_old_events": maintenance.cleanup_old_events,
    "cleanup_stale_strategies": partial(maintenance.cleanup_strategies, task="cleanup_stale_strategies"),
    "cleanup_old_failed": partial(maintenance.cleanup_strategies, task="cleanup_old_failed"),
    "cleanup_old_retired": partial(maintenance.cleanup_strategies, task="cleanup_old_retired"),
    "update_pairs": update_pairs,
    "download_data": download_data,
    "cleanup_zombie_processes": maintenance.cleanup_zombie_processes,
    "cleanup_stale_processing": maintenance.cleanup_stale_processing,
    "refresh_data_cache": refresh_data_cache,
}
