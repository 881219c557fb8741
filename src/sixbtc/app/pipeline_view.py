"""Pipeline health of the dashboard: funnel, queues, failures, time per stage, trend.

Read from the strategy events (metrics snapshots do not exist yet): every status change and
every rejection is an event, so the funnel counts the strategies that ever reached a status
(rejected ones included) and the stage times are the time between entering a status and
leaving it.
"""

from __future__ import annotations

import math
from typing import Any

from sixbtc.app.container import Container
from sixbtc.metrics.pipeline import FUNNEL, stage_times

#: Buckets of the trend series.
TREND_BUCKETS = 24


def funnel(c: Container) -> list[dict[str, Any]]:
    """The funnel: per stage ``stage``, ``reached`` (strategies that ever entered it) and
    ``conversion`` (reached / reached of the previous stage, fraction 0-1; None for the first
    stage or when the previous one is 0)."""
    reached = c.dashboard.reached()
    out, prev = [], None
    for stage in FUNNEL:
        n = reached.get(stage, 0)
        out.append({"stage": stage, "reached": n, "conversion": (n / prev) if prev else None})
        prev = n
    return out


def queues(c: Container, counts: dict[str, int]) -> list[dict[str, Any]]:
    """Work queues and their back-pressure limits: ``queue``, ``size``, ``limit``,
    ``back_pressure`` (True when the producer is paused: size >= limit)."""
    s = c.settings
    rows = [("GENERATED", counts.get("GENERATED", 0), s.generator.max_generated_queue),
            ("VALIDATED", counts.get("VALIDATED", 0), s.validator.max_validated_queue)]
    return [{"queue": q, "size": n, "limit": lim, "back_pressure": n >= lim} for q, n, lim in rows]


def trend(events: list[dict[str, Any]], buckets: int = TREND_BUCKETS) -> dict[str, Any]:
    """Events per time bucket: ``bucket_s`` (width, s, at least 60), ``start`` (ISO-8601 UTC of
    bucket 0) and ``series``: status (``REJECTED`` for deletions) → counts per bucket."""
    if not events:
        return {"bucket_s": 60, "start": None, "series": {}}
    t0, t1 = events[0]["ts"], events[-1]["ts"]
    width = max(60, math.ceil((t1 - t0).total_seconds() / buckets) or 60)
    n = int((t1 - t0).total_seconds() // width) + 1
    series: dict[str, list[int]] = {}
    for e in events:
        if e["from_status"] == e["to_status"]:
            continue  # an event without a status change
        key = e["to_status"] or "REJECTED"
        row = series.setdefault(key, [0] * n)
        row[int((e["ts"] - t0).total_seconds() // width)] += 1
    return {"bucket_s": width, "start": t0.isoformat(), "series": series}


def pipeline_view(c: Container) -> dict[str, Any]:
    """Everything the Pipeline-health page shows.

    Returns
    -------
    dict
        ``counts`` (status → strategies now), ``funnel`` (:func:`funnel`), ``queues``
        (:func:`queues`), ``failures`` (rejection reason → count, most first), ``stage_times``
        (:func:`sixbtc.metrics.pipeline.stage_times`), ``trend`` (:func:`trend`), ``pool`` (count, min/max score) and
        ``trials`` (simulations in the trial ledger).
    """
    counts = c.strategies.counts_by_status()
    events = c.dashboard.transitions()
    failures = sorted(c.strategies.rejections_by_reason().items(), key=lambda kv: (-kv[1], kv[0]))
    stats = c.pool.stats()
    return {
        "counts": counts, "funnel": funnel(c), "queues": queues(c, counts),
        "failures": [{"reason": r, "count": n} for r, n in failures],
        "stage_times": stage_times(events), "trend": trend(events),
        "pool": {"count": stats.count, "min_score": stats.min_score, "max_score": stats.max_score},
        "trials": c.trials.count(),
    }
