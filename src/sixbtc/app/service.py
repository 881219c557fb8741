"""``sixbtc run`` as a continuous service: the factory and the executor in one process.

The main loop runs factory batches (generate within the daily limit and back-pressure,
then validator and backtester worker processes until their queues are empty; the elastic
backtest workers take due re-tests first, and when no VALIDATED work waits, due re-tests of
ACTIVE strategies run on all backtest workers) and one
executor step per ``executor.poll_interval_s`` (:class:`~sixbtc.app.live_trader.LiveTrader`; online, its
candles come from ``data.live_feed``: the websocket feed by default, :mod:`sixbtc.app.live_candles`,
with funding every 5 min and open interest every 60 s polled alongside), with a trade sync whenever
``executor.sync_interval_s`` has passed. The venue is the one of the mode
(:func:`sixbtc.app.venues.open_venue`): the paper venue, or Hyperliquid in live mode, which needs
live candles (the market-data venue unreachable at start: ``NetworkUnavailable``, nothing is
started or sent). APScheduler
runs the rotator (at the start, then every ``rotator.check_interval_minutes``: never on each
pass of the loop) and the monitor on their intervals, and the scheduled tasks of SPEC §3.9 on
their UTC crons (:mod:`sixbtc.app.scheduler`; ``scheduler.enabled``), and the operations jobs
(:func:`~sixbtc.app.roles.ops_jobs.ops_jobs`: metrics collector, watchdog). SIGINT/SIGTERM stop it cleanly: the loop ends
after the current step, worker processes release their claims, sandboxes are closed.

At start it releases the claims of dead workers of this host and takes the executor lease
(:mod:`sixbtc.app.lease`): a second service or ``run --once`` on the same database is
refused, naming the holder. A job of the loop that fails (a factory batch, a rotation, an
executor step) is logged and retried at the next step; only a lost lease or a configuration
error stops the service.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from sixbtc.adapters.exchanges.ccxt_market import CcxtMarketData
from sixbtc.app.container import Container
from sixbtc.app.generator_pool import generate_parallel
from sixbtc.app.lease import ExecutorLease
from sixbtc.app.live_candles import derivatives_poller, live_candles
from sixbtc.app.live_trader import LiveTrader
from sixbtc.app.market import market_client
from sixbtc.app.monitoring import monitor_now
from sixbtc.app.processes import release_dead_claims
from sixbtc.app.regimes import refresh_if_due, refresh_market_regimes
from sixbtc.app.retesting import count_due_retests
from sixbtc.app.roles.ops_jobs import ops_jobs
from sixbtc.app.rotation import rotate_now
from sixbtc.app.scheduler import add_scheduled_tasks
from sixbtc.app.window import CycleWindow, plan_window
from sixbtc.app.workers import backtest_roles, run_role_pool, validator_room
from sixbtc.core.errors import ConfigError, LeaseLost, NetworkUnavailable
from sixbtc.rotator.rotation import Promotion

__all__ = ["LiveTrader", "Service"]
GENERATE_BATCH = 10
DERIVATIVES_STEP_S = 30.0
"""Seconds between two steps of the funding / open-interest poller (it reads what is due)."""
UNIVERSE_STEP_S = 60.0
"""Seconds between two refreshes of the live feed outside the executor step: the universe's
streams are subscribed (new coins of the registry too) even when no strategy is LIVE."""


class Service:
    """The all-in-one continuous runner."""

    def __init__(self, c: Container, log: Callable[[str], None], client: CcxtMarketData | None = None) -> None:
        self.c, self.log, self.client = c, log, client  # client None: the venue of ``data.exchange_id``
        self.stop = threading.Event()
        self.signum: int | None = None  # the signal that stopped the service (exit 128 + it)
        self._rotating = threading.Lock()  # the loop and the scheduled job never rotate at once
        self._synced = time.monotonic()  # when the last trade sync ran

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.log(f"signal {signum}: stopping after the current step")
        self.signum = signum
        self.stop.set()

    def _scheduler(self) -> BackgroundScheduler:
        """The rotator and the monitor on their intervals (the first rotation at once), and the
        scheduled tasks of SPEC §3.9 on their UTC crons when ``scheduler.enabled``."""
        s = self.c.settings
        sched = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
        sched.add_job(lambda: self._job("rotator", self._rotate), "interval", minutes=s.rotator.check_interval_minutes,
                      id="rotator", next_run_time=datetime.now(UTC))
        sched.add_job(lambda: self._job("monitor", self._monitor), "interval",
                      minutes=s.retirement.check_interval_minutes, id="monitor")
        if s.scheduler.enabled:
            add_scheduled_tasks(sched, self.c, self.log)
        for job in ops_jobs(self.c):  # metrics collector, watchdog
            sched.add_job(lambda j=job: self._job(j.name, j.run), "interval", seconds=job.interval_s, id=job.name)
        return sched

    def _refresh_regimes(self, only_if_due: bool = False) -> None:
        """Regime refresh of the active coins at the start when the newest reading is a day old
        or missing (the daily one is the scheduled task ``refresh_market_regimes``)."""
        readings = refresh_if_due(self.c) if only_if_due else refresh_market_regimes(self.c)
        if readings is not None:
            self.log(f"market regimes: {len(readings)} coins classified")

    def _rotate(self) -> list[Promotion]:
        with self._rotating:  # two rotations at once would both fill the same free LIVE slots
            promoted = rotate_now(self.c)
        self.log(f"rotator: {len(promoted)} promoted")
        return promoted

    def _release_claims(self) -> None:
        """Release claims of dead workers of this host, and claims older than ``stale_claim_minutes``."""
        n = release_dead_claims(self.c)
        n += self.c.strategies.release_stale(timedelta(minutes=self.c.settings.scheduler.stale_claim_minutes))
        if n:
            self.log(f"released {n} claims of dead or stale workers")

    def _monitor(self) -> None:
        """Scheduled monitor run; logs each retirement with its reason (the event holds the detail)."""
        for rec, verdict, _ in monitor_now(self.c):
            if verdict.retire:
                self.log(f"monitor: retired {rec.name} ({verdict.reason}: {verdict.detail})")

    def run_forever(self) -> None:
        """Run until SIGINT/SIGTERM.

        Raises
        ------
        LeaseHeld
            When another executor trades this database (nothing is started).
        NetworkUnavailable
            Live mode while the market-data venue is unreachable (nothing is started).
        """
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        self._release_claims()
        with ExecutorLease(self.c, "sixbtc run (service)") as lease:
            online = self._online()
            if not online and not self.c.settings.executor.dry_run:
                raise NetworkUnavailable(f"live trading needs live candles, and the market-data venue "
                                         f"{self.c.settings.data.exchange_id} is unreachable: not started, nothing "
                                         "was sent (stored candles are replayed on the paper venue only)")
            feed = live_candles(self.c, self.client, self.log) if online else None
            trader = LiveTrader(self.c, plan_window(self.c.store, self.c.settings, self.c.clock), online, self.log, lease,
                                self.client, feed)
            self._job("refresh_market_regimes", lambda: self._refresh_regimes(only_if_due=True))
            sched = self._scheduler()
            if feed is not None:
                poller = derivatives_poller(self.c, feed, self.client)
                sched.add_job(lambda: self._job("funding and open interest", poller.poll), "interval",
                              seconds=DERIVATIVES_STEP_S, id="derivatives")
                sched.add_job(lambda: self._job("live feed", lambda: feed.refresh([])), "interval",
                              seconds=UNIVERSE_STEP_S, id="live_feed", next_run_time=datetime.now(UTC))
            sched.start()
            how = f"live candles via {self.c.settings.data.live_feed}" if online else "offline: replaying the store"
            self.log(f"service started ({how}); Ctrl-C stops")
            try:
                self._loop(trader, lease)
            finally:
                sched.shutdown(wait=False)
                trader.close()
                if feed is not None:
                    feed.close()
                self.log("service stopped")

    def _loop(self, trader: LiveTrader, lease: ExecutorLease) -> None:
        batch = 0
        while not self.stop.is_set():
            seed = self.c.settings.generator.seed
            seed = None if seed is None else seed + batch * self.c.settings.generator.workers
            batch += 1
            self._job("factory", lambda s=seed: self._factory_step(s, plan_window(self.c.store, self.c.settings, self.c.clock)))
            processed = self._job("executor", trader.step)
            if processed:
                self.log(f"executor: {processed} candles processed")
            lease.check()
            self._wait_syncing(trader)

    def _wait_syncing(self, trader: LiveTrader) -> None:
        """Wait ``executor.poll_interval_s``, running the trade sync whenever
        ``executor.sync_interval_s`` has passed since the last one (whichever period is shorter)."""
        cfg = self.c.settings.executor
        deadline = time.monotonic() + cfg.poll_interval_s
        while not self.stop.is_set():
            now = time.monotonic()
            if now >= self._synced + cfg.sync_interval_s:
                self._job("trade sync", trader.sync)
                self._synced = time.monotonic()
                continue
            if now >= deadline:
                return
            self.stop.wait(min(deadline, self._synced + cfg.sync_interval_s) - now)

    def _job(self, name: str, run: Callable[[], object]) -> object:
        """Run one job of the loop; a failure is logged and the loop goes on (lost lease and
        configuration errors stop the service)."""
        try:
            return run()
        except (LeaseLost, ConfigError):
            raise
        except Exception as exc:  # noqa: BLE001 — one failing job never stops the service
            self.log(f"{name} failed, retrying at the next step: {type(exc).__name__}: {exc}")
            return None

    def _online(self) -> bool:
        try:
            (self.client or market_client(self.c)).probe(self.c.settings.data.network_probe_timeout_s)
            return True
        except NetworkUnavailable:
            return False

    def _factory_step(self, seed: int | None, window: CycleWindow) -> None:
        try:
            self._factory_batch(seed, window)
        except BrokenProcessPool:
            # SIGINT/SIGTERM sent to the process group: the workers released their claims and
            # exited; anything else that kills a worker is a real failure and is re-raised
            if not self.stop.is_set():
                raise

    def _factory_batch(self, seed: int | None, window: CycleWindow) -> None:
        created, _ = generate_parallel(self.c, GENERATE_BATCH * self.c.settings.generator.workers, seed,
                                       on_error=lambda m: self.log(f"llm source: {m}"))
        counts = self.c.strategies.counts_by_status()
        if counts["GENERATED"] and validator_room(self.c) and not self.stop.is_set():
            run_role_pool(self.c, "validator", self.c.settings.validator.workers, window)
        bt = self.c.settings.backtest
        roles = backtest_roles(bt.workers, bt.elastic_workers)
        if self.c.strategies.counts_by_status()["VALIDATED"] and not self.stop.is_set():
            run_role_pool(self.c, roles, len(roles), window)  # elastic workers take due re-tests first
        elif (due := count_due_retests(self.c)) and not self.stop.is_set():
            run_role_pool(self.c, "retester", min(len(roles), due), window)  # no VALIDATED work waits
        if created:
            self.log(f"factory: {created} generated; status {self.c.strategies.counts_by_status()}")
