"""The operations jobs the monitor role (and ``sixbtc run``) runs beside its own work: the
metrics collector every ``metrics.interval_s`` (and the standalone Prometheus port when
``metrics.prometheus_port`` is set)."""

from __future__ import annotations

import threading

import structlog

from sixbtc.app.container import Container
from sixbtc.app.metrics import collect_now
from sixbtc.app.roles.runtime import Job

log = structlog.get_logger("sixbtc.ops")


def _collect(c: Container) -> None:
    snap = collect_now(c)
    log.info("metrics snapshot", status=snap.status, reasons=snap.data["reasons"])


def ops_jobs(c: Container, stop: threading.Event) -> list[Job]:
    """The periodic operations jobs of ``c``'s settings."""
    del stop
    return [Job("metrics", float(c.settings.metrics.interval_s), lambda: _collect(c))]
