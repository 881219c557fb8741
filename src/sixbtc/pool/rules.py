"""The pool's entry and re-test rules as pure functions (SPEC §3.5).

Storage adapters evaluate these inside one database transaction, so a decision and its
effect (enter, evict the worst, retire) are atomic.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PoolAction(StrEnum):
    """What happens to a candidate."""

    ENTER = "enter"
    ENTER_EVICT_WORST = "enter_evict_worst"
    REJECT = "reject"
    KEEP = "keep"


@dataclass(frozen=True)
class PoolDecision:
    """Outcome of a pool rule: ``action``, the SPEC rule number, and a readable reason."""

    action: PoolAction
    rule: int
    reason: str
    evicted_id: int | None = None


def decide_entry(score: float, count: int, worst_score: float | None, *, max_size: int, min_score: float) -> PoolDecision:
    """Apply the four entry rules of SPEC §3.5 to a new candidate.

    Parameters
    ----------
    score : float
        Candidate backtest score, 0–100.
    count : int
        Strategies currently ACTIVE (the pool size).
    worst_score : float or None
        Lowest score in the pool (None when empty).
    max_size, min_score
        ``active_pool`` settings.

    Returns
    -------
    PoolDecision
        Rule 1: score < min_score → REJECT. Rule 2: pool not full → ENTER. Rule 3: full and
        score > worst → ENTER_EVICT_WORST. Rule 4: full and score <= worst → REJECT.
    """
    if score < min_score:
        return PoolDecision(PoolAction.REJECT, 1, f"score {score:.1f} < min_score {min_score:.1f}")
    if count < max_size:
        return PoolDecision(PoolAction.ENTER, 2, f"pool {count}/{max_size} not full")
    if worst_score is not None and score > worst_score:
        return PoolDecision(PoolAction.ENTER_EVICT_WORST, 3, f"score {score:.1f} > pool min {worst_score:.1f}")
    return PoolDecision(PoolAction.REJECT, 4, f"pool full and score {score:.1f} <= pool min {worst_score}")


def decide_retest(new_score: float, count: int, worst_other: float | None, *, max_size: int, min_score: float) -> PoolDecision:
    """Decide the fate of an ACTIVE strategy after its re-test (SPEC §3.5 ``revalidate_after_retest``).

    ``worst_other`` is the lowest score among the *other* pool members. Below ``min_score`` →
    REJECT (retire); pool full and below every other member → REJECT; otherwise KEEP with
    the new score.
    """
    if new_score < min_score:
        return PoolDecision(PoolAction.REJECT, 1, f"re-test score {new_score:.1f} < min_score {min_score:.1f}")
    if count >= max_size and worst_other is not None and new_score < worst_other:
        return PoolDecision(PoolAction.REJECT, 4, f"re-test score {new_score:.1f} < pool min {worst_other:.1f}")
    return PoolDecision(PoolAction.KEEP, 0, f"re-test score {new_score:.1f}")
