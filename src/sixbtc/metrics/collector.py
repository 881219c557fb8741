"""One metrics snapshot (SPEC §3.10) from the collector's reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sixbtc.metrics import pipeline as p
from sixbtc.metrics.health import overall_status
from sixbtc.metrics.ports import MetricsReads

#: The window of the funnel, failures, re-tests and rotations.
WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Snapshot:
    """A snapshot: ``ts`` (UTC), ``status`` (HEALTHY / WARNING / CRITICAL) and ``data`` (JSON:
    ``counts``, ``queues``, ``funnel_24h``, ``stage_times_24h``, ``failures_24h``, ``pool``,
    ``retests_24h``, ``live`` {count, promoted_24h, retired_24h}, ``trading_state``,
    ``reasons`` (of the status), ``window_s``)."""

    ts: datetime
    status: str
    data: dict[str, Any]


def collect(reads: MetricsReads, limits: p.QueueLimits, now: datetime) -> Snapshot:
    """Read and compute one snapshot at ``now`` (events of the last :data:`WINDOW`)."""
    counts = reads.counts_by_status()
    events = reads.events_since(now - WINDOW)
    queue_rows = p.queues(counts, limits)
    funnel_rows = p.funnel(events)
    state = reads.trading_state()
    status, reasons = overall_status(queue_rows, funnel_rows, state)
    moves = p.rotations(events)
    data = {
        "counts": counts, "queues": queue_rows, "funnel_24h": funnel_rows,
        "stage_times_24h": p.stage_times(events), "failures_24h": p.failures(events),
        "pool": p.pool_stats(reads.pool_members()), "retests_24h": p.retests(events),
        "live": {"count": counts.get("LIVE", 0), "promoted_24h": moves["promoted"], "retired_24h": moves["retired"]},
        "trading_state": state, "reasons": reasons, "window_s": int(WINDOW.total_seconds()),
    }
    return Snapshot(now, status, data)
