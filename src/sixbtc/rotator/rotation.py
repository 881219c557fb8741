"""Selection of strategies for free LIVE slots, with diversification caps (SPEC §3.6)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sixbtc.config.sections import RotatorSection
from sixbtc.core.errors import StaleClaim
from sixbtc.domain.strategy import StrategyRecord
from sixbtc.rotator.ports import RotationStore


@dataclass(frozen=True)
class Promotion:
    """One strategy promoted to LIVE, on ``subaccount``."""

    strategy_id: int
    name: str
    score: float
    subaccount: str


def select_for_live(pool: list[StrategyRecord], live: list[StrategyRecord], cfg: RotatorSection) -> list[StrategyRecord]:
    """Pick strategies for the free LIVE slots.

    Walks ``pool`` best score first and takes a strategy when its score is at least
    ``min_score_live`` and adding it keeps at most ``max_per_type`` LIVE strategies per type and
    ``max_per_timeframe`` per assigned timeframe, until ``max_live_strategies`` are LIVE.

    Parameters
    ----------
    pool : list of StrategyRecord
        ACTIVE strategies (any order; sorted here by score, then id).
    live : list of StrategyRecord
        Strategies already LIVE (they count against every cap).
    cfg : RotatorSection

    Returns
    -------
    list of StrategyRecord
        The chosen strategies, best first.
    """
    free = cfg.max_live_strategies - len(live)
    by_type = Counter(s.type for s in live)
    by_tf = Counter(s.timeframe for s in live)
    chosen: list[StrategyRecord] = []
    for cand in sorted(pool, key=lambda s: (-(s.score or 0.0), s.id)):
        if len(chosen) >= free:
            break
        if cand.score is None or cand.score < cfg.min_score_live:
            break
        if by_type[cand.type] >= cfg.max_per_type or by_tf[cand.timeframe] >= cfg.max_per_timeframe:
            continue
        chosen.append(cand)
        by_type[cand.type] += 1
        by_tf[cand.timeframe] += 1
    return chosen


def rotate(store: RotationStore, cfg: RotatorSection) -> list[Promotion]:
    """Fill free LIVE slots now; a candidate that changed meanwhile is skipped, not an error."""
    promotions = []
    for cand in select_for_live(store.pool_by_score(), store.live(), cfg):
        try:
            label = store.promote(cand, reason=f"rotator: score {cand.score:.1f} >= {cfg.min_score_live:.1f}")
        except StaleClaim:
            continue
        promotions.append(Promotion(cand.id, cand.name, float(cand.score or 0.0), label))
    return promotions
