"""The trading roles as long-running processes: rotator, executor, monitor.

These finish their current step on SIGTERM (an executor pass is never cut in the middle).
The rotator rotates every ``rotator.check_interval_minutes``; the executor holds the executor
lease (a second executor on the database is refused, naming the holder) and steps every
``executor.poll_interval_s`` on live candles (offline: replaying the store); the monitor
reviews LIVE strategies every ``retirement.check_interval_minutes`` and runs the operations
jobs given to it (metrics collector, watchdog: :mod:`sixbtc.app.roles.ops_jobs`).
"""

from __future__ import annotations

import structlog

from sixbtc.app.lease import ExecutorLease
from sixbtc.app.live_candles import derivatives_poller, live_candles
from sixbtc.app.live_trader import LiveTrader
from sixbtc.app.market import market_client
from sixbtc.app.metrics import serve_prometheus
from sixbtc.app.monitoring import monitor_now
from sixbtc.app.roles.ops_jobs import ops_jobs
from sixbtc.app.roles.runtime import Job, RoleRuntime
from sixbtc.app.rotation import rotate_now
from sixbtc.app.window import plan_window
from sixbtc.core.errors import NetworkUnavailable

log = structlog.get_logger("sixbtc.role")


def run_rotator(rt: RoleRuntime) -> None:
    """Fill free LIVE slots from the pool every ``rotator.check_interval_minutes``."""
    c = rt.c

    def rotate() -> None:
        promoted = rotate_now(c)
        log.info("rotation", promoted=len(promoted))

    rt.run_every([Job("rotator", c.settings.rotator.check_interval_minutes * 60.0, rotate)])


def _monitor(rt: RoleRuntime) -> None:
    for rec, verdict, _ in monitor_now(rt.c):
        if verdict.retire:
            log.info("retired", strategy=rec.name, strategy_id=rec.id, reason=verdict.reason, detail=verdict.detail)


def run_monitor(rt: RoleRuntime) -> None:
    """Review LIVE strategies; run the metrics collector and the watchdog on their periods."""
    c = rt.c
    jobs = [Job("monitor", c.settings.retirement.check_interval_minutes * 60.0, lambda: _monitor(rt)),
            *ops_jobs(c)]
    server = serve_prometheus(c)
    if server is not None:
        log.info("prometheus serving", host=c.settings.metrics.prometheus_host, port=c.settings.metrics.prometheus_port)
    try:
        rt.run_every(jobs)
    finally:
        if server is not None:
            server.shutdown()


def _online(rt: RoleRuntime) -> bool:
    try:
        market_client(rt.c).probe(rt.c.settings.data.network_probe_timeout_s)
        return True
    except NetworkUnavailable:
        return False


def run_executor(rt: RoleRuntime) -> None:
    """Trade the LIVE set (paper unless live mode is enabled elsewhere) under the executor lease."""
    c = rt.c
    with ExecutorLease(c, f"sixbtc worker executor ({rt.worker})") as lease:
        online = _online(rt)
        candles = live_candles(c, None, lambda m: log.info(m)) if online else None
        trader = LiveTrader(c, plan_window(c.store, c.settings, c.clock), online, lambda m: log.info(m), lease,
                            feed=candles)
        jobs = [] if candles is None else [
            Job("live feed", 60.0, lambda: candles.refresh([])),  # the universe's streams, LIVE or not
            Job("funding and open interest", 30.0, derivatives_poller(c, candles).poll)]
        log.info("executor started", feed=f"live candles via {c.settings.data.live_feed}" if online
                 else "offline: replaying the store")

        feed = "connected" if online else "offline"
        rt.detail["feed"] = feed

        def step() -> None:
            try:
                processed = trader.step()
            except Exception:
                rt.detail["feed"] = "disconnected" if online else feed  # the watchdog reports it
                raise
            rt.detail["feed"] = feed
            if processed:
                log.info("candles processed", count=processed)

        try:
            rt.run_every([Job("executor", c.settings.executor.poll_interval_s, step), *jobs], after_each=lease.check)
        finally:
            trader.close()
            if candles is not None:
                candles.close()
