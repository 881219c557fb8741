"""The overall status of a snapshot: HEALTHY, WARNING or CRITICAL (SPEC §3.10).

Rules, first match wins:

CRITICAL
    trading is HALTED (a kill switch or an emergency stop); or a queue is OVERFLOW
    (utilisation > 0.95 of its limit, GENERATED and VALIDATED only: a full pool or a full
    LIVE set is the goal, not a fault); or at least :data:`STUCK_MIN_GENERATED` strategies
    were generated in the window and none passed validation (the pipeline is stuck).
WARNING
    trading is REDUCING; or a GENERATED / VALIDATED queue is at WARNING (0.80-0.95); or the
    ACTIVE pool is empty; or no strategy is LIVE while LIVE slots exist.
HEALTHY
    otherwise.

Each rule that matched is listed in ``reasons``.
"""

from __future__ import annotations

from typing import Any

#: Fewest strategies generated in the window with none validated for "pipeline stuck".
STUCK_MIN_GENERATED = 20
WORK_QUEUES = ("GENERATED", "VALIDATED")


def overall_status(queue_rows: list[dict[str, Any]], funnel_rows: list[dict[str, Any]],
                   trading_state: str) -> tuple[str, list[str]]:
    """The status and the reasons that made it (see the module docstring).

    Parameters
    ----------
    queue_rows : list of dict
        :func:`sixbtc.metrics.pipeline.queues`.
    funnel_rows : list of dict
        :func:`sixbtc.metrics.pipeline.funnel` over the window.
    trading_state : str
        ``ACTIVE``, ``REDUCING`` or ``HALTED``.
    """
    q = {r["queue"]: r for r in queue_rows}
    entered = {r["stage"]: r["entered"] for r in funnel_rows}
    critical = [f"trading {trading_state}"] if trading_state == "HALTED" else []
    critical += [f"{n} queue OVERFLOW ({q[n]['size']}/{q[n]['limit']})" for n in WORK_QUEUES
                 if q[n]["back_pressure"] == "OVERFLOW"]
    if entered.get("GENERATED", 0) >= STUCK_MIN_GENERATED and entered.get("VALIDATED", 0) == 0:
        critical.append(f"pipeline stuck: {entered['GENERATED']} generated, none validated")
    if critical:
        return "CRITICAL", critical
    warning = [f"trading {trading_state}"] if trading_state == "REDUCING" else []
    warning += [f"{n} queue WARNING ({q[n]['size']}/{q[n]['limit']})" for n in WORK_QUEUES
                if q[n]["back_pressure"] == "WARNING"]
    if q["ACTIVE"]["size"] == 0:
        warning.append("ACTIVE pool empty")
    if q["LIVE"]["size"] == 0 and q["LIVE"]["limit"] > 0:
        warning.append("no LIVE strategy")
    return ("WARNING", warning) if warning else ("HEALTHY", [])
