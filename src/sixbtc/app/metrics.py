"""Metrics collector use cases: take a snapshot (SPEC §3.10), read the newest, export it.

:class:`ContainerReads` implements :class:`sixbtc.metrics.ports.MetricsReads` over the
container's repositories. :func:`collect_now` takes and stores one snapshot
(``pipeline_metrics_snapshots``); the monitor role runs it every ``metrics.interval_s``.
:func:`prometheus_text` is what ``/metrics`` serves (the newest stored snapshot), and
:func:`serve_prometheus` the standalone port (``metrics.prometheus_port``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sixbtc.adapters.metrics import prometheus
from sixbtc.app.container import Container
from sixbtc.domain.risk import GLOBAL_SCOPE
from sixbtc.domain.strategy import StrategyStatus
from sixbtc.metrics.collector import Snapshot, collect
from sixbtc.metrics.pipeline import QueueLimits
from sixbtc.metrics.ports import PoolMember

CONTENT_TYPE = prometheus.CONTENT_TYPE


class ContainerReads:
    """The collector's reads over a container (see :class:`~sixbtc.metrics.ports.MetricsReads`)."""

    def __init__(self, c: Container) -> None:
        self.c = c

    def counts_by_status(self) -> dict[str, int]:
        return self.c.strategies.counts_by_status()

    def events_since(self, since: datetime) -> list[dict[str, Any]]:
        return self.c.ops.events_since(since)

    def pool_members(self) -> list[PoolMember]:
        return [PoolMember(str(r.source), r.score, (r.metrics or {}).get("sharpe"), (r.metrics or {}).get("win_rate"))
                for r in self.c.strategies.list_by_status(StrategyStatus.ACTIVE)]

    def trading_state(self) -> str:
        return str(self.c.trading_states.get(GLOBAL_SCOPE).state)


def limits(c: Container) -> QueueLimits:
    """The queue limits of the settings."""
    s = c.settings
    return QueueLimits(s.generator.max_generated_queue, s.validator.max_validated_queue, s.active_pool.max_size,
                       s.rotator.max_live_strategies)


def collect_now(c: Container) -> Snapshot:
    """Take one snapshot now and store it; returns it."""
    snap = collect(ContainerReads(c), limits(c), c.clock.now())
    c.ops.add_snapshot(snap.ts, snap.status, snap.data)
    return snap


def latest(c: Container) -> dict[str, Any] | None:
    """The newest stored snapshot (``id``, ``ts``, ``status``, ``data``) or None."""
    return c.ops.latest_snapshot()


def prometheus_text(c: Container) -> bytes:
    """The Prometheus text format of the newest stored snapshot (empty before the first)."""
    return prometheus.render(lambda: latest(c))


def serve_prometheus(c: Container) -> object | None:
    """Serve ``/metrics`` on ``metrics.prometheus_host:prometheus_port`` (None when the port is 0).

    Raises
    ------
    OSError
        When the port cannot be bound.
    """
    m = c.settings.metrics
    return prometheus.serve(lambda: latest(c), m.prometheus_host, m.prometheus_port) if m.prometheus_port else None
