"""The parts of a metrics snapshot (SPEC §3.10), as pure functions of counts and events.

Events are strategy events (every status change and every rejection is one), oldest first,
as :meth:`sixbtc.metrics.ports.MetricsReads.events_since` returns them. Fractions are 0-1,
times in seconds.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from statistics import mean, median
from typing import Any

from sixbtc.metrics.ports import PoolMember

#: The funnel's stages in order (SPEC §2 statuses a strategy passes on its way to LIVE).
FUNNEL = ("GENERATED", "VALIDATED", "ACTIVE", "LIVE")
#: Back-pressure levels by queue utilisation (fraction of the limit): OK below 0.80,
#: WARNING from 0.80 to 0.95, OVERFLOW above 0.95 (SPEC §3.10).
WARNING_AT, OVERFLOW_ABOVE = 0.80, 0.95


@dataclass(frozen=True)
class QueueLimits:
    """The limits the queues are measured against: GENERATED (``generator.max_generated_queue``),
    VALIDATED (``validator.max_validated_queue``), ACTIVE (``active_pool.max_size``) and LIVE
    (``rotator.max_live_strategies``)."""

    generated: int
    validated: int
    active: int
    live: int


def back_pressure(utilisation: float) -> str:
    """``OK`` (< 0.80), ``WARNING`` (0.80-0.95) or ``OVERFLOW`` (> 0.95) for a utilisation
    (size / limit, fraction)."""
    if utilisation > OVERFLOW_ABOVE:
        return "OVERFLOW"
    return "WARNING" if utilisation >= WARNING_AT else "OK"


def queues(counts: dict[str, int], limits: QueueLimits) -> list[dict[str, Any]]:
    """Per status of :data:`FUNNEL`: ``queue``, ``size``, ``limit``, ``utilisation`` (fraction;
    a limit of 0 counts as full when anything waits) and ``back_pressure`` (:func:`back_pressure`)."""
    rows = []
    for status, limit in zip(FUNNEL, (limits.generated, limits.validated, limits.active, limits.live), strict=True):
        size = counts.get(status, 0)
        util = size / limit if limit > 0 else (1.0 if size else 0.0)
        rows.append({"queue": status, "size": size, "limit": limit, "utilisation": round(util, 4),
                     "back_pressure": back_pressure(util)})
    return rows


def _moves(events: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    """Events that change a status (rejections included, annotations left out)."""
    return (e for e in events if e["from_status"] != e["to_status"])


def funnel(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The funnel over ``events``: per stage ``stage``, ``entered`` (distinct strategies that
    entered it) and ``rate`` (entered / entered of the previous stage, fraction; None for the
    first stage or when the previous one is 0). ACTIVE counts pool entries only (not re-tests)."""
    seen: dict[str, set[int]] = {s: set() for s in FUNNEL}
    for e in _moves(events):
        if e["to_status"] in seen and e["strategy_id"] is not None:
            seen[e["to_status"]].add(e["strategy_id"])
    out, prev = [], None
    for stage in FUNNEL:
        n = len(seen[stage])
        out.append({"stage": stage, "entered": n, "rate": round(n / prev, 4) if prev else None})
        prev = n
    return out


def stage_times(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Seconds spent in each status of :data:`FUNNEL`, from entering it (an event's
    ``to_status``) to the next event of that strategy that leaves it.

    Returns
    -------
    list of dict
        Per status with at least one completed stay: ``status``, ``n``, ``median_s``, ``mean_s``.
    """
    entered: dict[int, tuple[str, datetime]] = {}
    stays: dict[str, list[float]] = defaultdict(list)
    for e in events:
        sid, to, ts = e["strategy_id"], e["to_status"], e["ts"]
        here = entered.get(sid)
        if here is not None and to != here[0]:
            stays[here[0]].append((ts - here[1]).total_seconds())
        if to is None:
            entered.pop(sid, None)
        elif here is None or to != here[0]:
            entered[sid] = (to, ts)
    return [{"status": st, "n": len(v), "median_s": round(median(v), 3), "mean_s": round(mean(v), 3)}
            for st, v in stays.items() if st in FUNNEL]


def failures(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rejections (strategy deleted) and FAILED transitions by ``reason``, most first."""
    counts = Counter(e["reason"] for e in _moves(events) if e["to_status"] in (None, "FAILED"))
    return [{"reason": r, "count": n} for r, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def retests(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Re-tests among ``events`` (phase ``retest``; ``retest:no_data`` left out): ``count``,
    ``passed`` (back to ACTIVE), ``failed`` (RETIRED) and ``pass_rate`` (fraction; None when none)."""
    done = [e for e in events if e["phase"] == "retest" and e["reason"] != "retest:no_data"]
    passed = sum(1 for e in done if e["to_status"] == "ACTIVE")
    return {"count": len(done), "passed": passed, "failed": len(done) - passed,
            "pass_rate": round(passed / len(done), 4) if done else None}


def rotations(events: list[dict[str, Any]]) -> dict[str, int]:
    """``promoted`` (entered LIVE) and ``retired`` (LIVE → RETIRED) among ``events``."""
    moves = list(_moves(events))
    return {"promoted": sum(1 for e in moves if e["to_status"] == "LIVE"),
            "retired": sum(1 for e in moves if e["from_status"] == "LIVE" and e["to_status"] == "RETIRED")}


def _avg(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(mean(known), 4) if known else None


def _pool_row(members: list[PoolMember]) -> dict[str, Any]:
    scores = [m.score for m in members if m.score is not None]
    return {"count": len(members), "min_score": min(scores, default=None), "max_score": max(scores, default=None),
            "avg_score": _avg(scores), "avg_sharpe": _avg([m.sharpe for m in members]),
            "avg_win_rate": _avg([m.win_rate for m in members])}


def pool_stats(members: list[PoolMember]) -> dict[str, Any]:
    """Pool statistics: ``all`` and ``by_source`` (source → the same row): ``count``,
    ``min_score``/``max_score``/``avg_score`` (0-100), ``avg_sharpe``, ``avg_win_rate``
    (fraction); None where no member has the figure."""
    by: dict[str, list[PoolMember]] = defaultdict(list)
    for m in members:
        by[m.source].append(m)
    return {"all": _pool_row(members), "by_source": {s: _pool_row(ms) for s, ms in sorted(by.items())}}
