"""Prometheus exposition of the newest metrics snapshot (prometheus-client).

A :class:`SnapshotCollector` turns a snapshot (``status``, ``ts``, ``data`` as
:class:`sixbtc.metrics.collector.Snapshot` stores it) into gauge families on every scrape; it
lives in its own ``CollectorRegistry`` (never the library's global one). :func:`render` gives
the text format for the API's ``/metrics`` route; :func:`serve` starts a standalone HTTP
server (``metrics.prometheus_port``) in a daemon thread. Levels are numbers: health 0 HEALTHY,
1 WARNING, 2 CRITICAL; back-pressure 0 OK, 1 WARNING, 2 OVERFLOW; trading 0 ACTIVE,
1 REDUCING, 2 HALTED.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

HEALTH = {"HEALTHY": 0, "WARNING": 1, "CRITICAL": 2}
PRESSURE = {"OK": 0, "WARNING": 1, "OVERFLOW": 2}
TRADING = {"ACTIVE": 0, "REDUCING": 1, "HALTED": 2}
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Provider = Callable[[], dict[str, Any] | None]


def _gauge(name: str, doc: str, labels: tuple[str, ...] = (), rows: list[tuple[tuple[str, ...], float | None]] = ()
           ) -> GaugeMetricFamily:
    g = GaugeMetricFamily(f"sixbtc_{name}", doc, labels=list(labels))
    for values, v in rows:
        if v is not None:
            g.add_metric(list(values), float(v))
    return g


def _families(snap: dict[str, Any]) -> Iterator[GaugeMetricFamily]:
    d = snap["data"]
    q = d["queues"]
    yield _gauge("health_status", "Overall status: 0 HEALTHY, 1 WARNING, 2 CRITICAL", rows=[((), HEALTH[snap["status"]])])
    yield _gauge("snapshot_timestamp_seconds", "When the snapshot was taken (Unix time)", rows=[((), snap["ts"].timestamp())])
    yield _gauge("trading_state", "Global trading state: 0 ACTIVE, 1 REDUCING, 2 HALTED",
                 rows=[((), TRADING.get(d["trading_state"], 2))])
    yield _gauge("strategies", "Strategies per status", ("status",), [((k,), v) for k, v in d["counts"].items()])
    yield _gauge("queue_limit", "Queue limit", ("queue",), [((r["queue"],), r["limit"]) for r in q])
    yield _gauge("queue_utilisation", "Queue size / limit (fraction)", ("queue",), [((r["queue"],), r["utilisation"]) for r in q])
    yield _gauge("back_pressure_level", "Back-pressure: 0 OK, 1 WARNING, 2 OVERFLOW", ("queue",),
                 [((r["queue"],), PRESSURE[r["back_pressure"]]) for r in q])
    yield _gauge("funnel_entered_24h", "Strategies that entered a stage in 24 h", ("stage",),
                 [((r["stage"],), r["entered"]) for r in d["funnel_24h"]])
    yield _gauge("funnel_rate_24h", "Conversion from the previous stage in 24 h (fraction)", ("stage",),
                 [((r["stage"],), r["rate"]) for r in d["funnel_24h"]])
    yield _gauge("stage_time_median_seconds", "Median time spent in a status (24 h)", ("status",),
                 [((r["status"],), r["median_s"]) for r in d["stage_times_24h"]])
    yield _gauge("failures_24h", "Rejections and failures in 24 h", ("reason",),
                 [((r["reason"],), r["count"]) for r in d["failures_24h"]])
    yield from _pool(d["pool"])
    rt = d["retests_24h"]
    yield _gauge("retests_24h", "Re-tests in 24 h", rows=[((), rt["count"])])
    yield _gauge("retest_pass_rate_24h", "Re-test pass rate in 24 h (fraction)", rows=[((), rt["pass_rate"])])
    live = d["live"]
    yield _gauge("live_strategies", "LIVE strategies", rows=[((), live["count"])])
    yield _gauge("rotations_24h", "LIVE promotions and retirements in 24 h", ("kind",),
                 [(("promoted",), live["promoted_24h"]), (("retired",), live["retired_24h"])])


def _pool(pool: dict[str, Any]) -> Iterator[GaugeMetricFamily]:
    rows = [("all", pool["all"]), *pool["by_source"].items()]
    for key, doc in (("count", "ACTIVE pool members"), ("avg_score", "Average pool score (0-100)"),
                     ("min_score", "Lowest pool score"), ("max_score", "Highest pool score"),
                     ("avg_sharpe", "Average OOS Sharpe of the pool"), ("avg_win_rate", "Average OOS win rate (fraction)")):
        yield _gauge(f"pool_{key}", doc, ("source",), [((src,), r[key]) for src, r in rows])


class SnapshotCollector(Collector):
    """Gauges of the snapshot ``provider()`` returns at scrape time (nothing when None)."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snap = self.provider()
        if snap is not None:
            yield from _families(snap)


def registry(provider: Provider) -> CollectorRegistry:
    """A registry holding only a :class:`SnapshotCollector` of ``provider``."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(SnapshotCollector(provider))
    return reg


def render(provider: Provider) -> bytes:
    """The Prometheus text format of the snapshot ``provider()`` returns (empty when None)."""
    return generate_latest(registry(provider))


def serve(provider: Provider, host: str, port: int) -> object:
    """Serve ``/metrics`` on ``host:port`` in a daemon thread; returns the server.

    Raises
    ------
    OSError
        When the port cannot be bound.
    """
    server, _thread = start_http_server(port, addr=host, registry=registry(provider))
    return server
