"""The four pool entry rules of SPEC §3.5 and ``revalidate_after_retest``, single process."""

from __future__ import annotations

from datetime import timedelta

import pytest
from storage_support import VALIDATED, add_validated, claim_specific

from sixbtc.adapters.storage.pool_repo import PoolRepository, PoolStats
from sixbtc.adapters.storage.strategy_repo import StrategyRepository
from sixbtc.core.clock import SimClock
from sixbtc.core.errors import StaleClaim
from sixbtc.domain.strategy import StrategyStatus
from sixbtc.pool.rules import PoolAction

ACTIVE = StrategyStatus.ACTIVE
RETIRED = StrategyStatus.RETIRED
MIN_SCORE = 40.0
_next = iter(range(10_000, 20_000))


def _fill(strategies: StrategyRepository, pool: PoolRepository, scores: list[float],
          max_size: int) -> list[int]:
    """Enter one new strategy per score (all must enter); return their ids in order."""
    ids = add_validated(strategies, len(scores), first=next(_next) * 10)
    for sid, score in zip(ids, scores, strict=True):
        d = pool.try_enter(sid, claim_specific(strategies, VALIDATED, sid), score,
                           max_size=max_size, min_score=MIN_SCORE)
        assert d.action in (PoolAction.ENTER, PoolAction.ENTER_EVICT_WORST)
    return ids


def _newcomer(strategies: StrategyRepository) -> tuple[int, int]:
    sid = add_validated(strategies, 1, first=next(_next) * 10)[0]
    return sid, claim_specific(strategies, VALIDATED, sid)


def _active_scores(strategies: StrategyRepository) -> dict[int, float]:
    return {r.id: r.score for r in strategies.list_by_status(ACTIVE)}


def test_empty_pool_has_no_worst_and_none_stats(pool: PoolRepository) -> None:
    assert pool.worst() is None
    assert pool.stats() == PoolStats(count=0, min_score=None, max_score=None, avg_score=None)
    assert pool.top(5) == []


def test_rule1_score_below_min_score_is_retired(strategies: StrategyRepository,
                                                pool: PoolRepository) -> None:
    members = _fill(strategies, pool, [60.0], max_size=3)
    sid, token = _newcomer(strategies)
    d = pool.try_enter(sid, token, 39.9, max_size=3, min_score=MIN_SCORE)
    assert (d.action, d.rule, d.evicted_id) == (PoolAction.REJECT, 1, None)
    rec = strategies.get(sid)
    assert rec.status is RETIRED and rec.score == 39.9
    assert _active_scores(strategies) == {members[0]: 60.0}


def test_rule2_pool_not_full_enters_with_fields(strategies: StrategyRepository, pool: PoolRepository,
                                                clock: SimClock) -> None:
    members = _fill(strategies, pool, [60.0], max_size=3)
    sid, token = _newcomer(strategies)
    d = pool.try_enter(sid, token, MIN_SCORE, max_size=3, min_score=MIN_SCORE,  # boundary: enters
                       timeframe="1h", params={"sl_pct": 0.02}, last_backtested_at=clock.now())
    assert (d.action, d.rule) == (PoolAction.ENTER, 2)
    rec = strategies.get(sid)
    assert (rec.status, rec.score, rec.timeframe, rec.params) == (ACTIVE, 40.0, "1h", {"sl_pct": 0.02})
    assert rec.last_backtested_at == clock.now()
    assert _active_scores(strategies) == {members[0]: 60.0, sid: 40.0}
    assert pool.stats() == PoolStats(2, 40.0, 60.0, 50.0)


def test_rule3_full_pool_better_score_evicts_the_worst(strategies: StrategyRepository,
                                                        pool: PoolRepository) -> None:
    low, mid, high = _fill(strategies, pool, [50.0, 60.0, 70.0], max_size=3)
    evicted_token = strategies.get(low).claim_token
    sid, token = _newcomer(strategies)
    d = pool.try_enter(sid, token, 55.0, max_size=3, min_score=MIN_SCORE)
    assert (d.action, d.rule, d.evicted_id) == (PoolAction.ENTER_EVICT_WORST, 3, low)
    assert _active_scores(strategies) == {mid: 60.0, high: 70.0, sid: 55.0}
    gone = strategies.get(low)
    assert gone.status is RETIRED
    assert gone.claim_token == evicted_token + 1  # an in-flight claim on it is now stale
    assert pool.worst().id == sid


def test_rule3_with_tied_worst_evicts_the_newest(strategies: StrategyRepository,
                                                 pool: PoolRepository) -> None:
    older, newer, top = _fill(strategies, pool, [50.0, 50.0, 70.0], max_size=3)
    assert pool.worst().id == newer
    sid, token = _newcomer(strategies)
    d = pool.try_enter(sid, token, 50.5, max_size=3, min_score=MIN_SCORE)
    assert d.evicted_id == newer
    assert set(_active_scores(strategies)) == {older, top, sid}


@pytest.mark.parametrize("score", [50.0, 45.0])
def test_rule4_full_pool_not_better_than_worst_is_retired(
    strategies: StrategyRepository, pool: PoolRepository, score: float
) -> None:
    members = _fill(strategies, pool, [50.0, 60.0, 70.0], max_size=3)
    sid, token = _newcomer(strategies)
    d = pool.try_enter(sid, token, score, max_size=3, min_score=MIN_SCORE)
    assert (d.action, d.rule, d.evicted_id) == (PoolAction.REJECT, 4, None)
    assert strategies.get(sid).status is RETIRED
    assert set(_active_scores(strategies)) == set(members)


@pytest.mark.parametrize(
    ("max_size", "new_score", "expected"),
    [
        (3, 30.0, PoolAction.REJECT),  # below min_score
        (3, 45.0, PoolAction.REJECT),  # full and below every other member (50)
        (3, 55.0, PoolAction.KEEP),  # full but above the other worst
        (3, 50.0, PoolAction.KEEP),  # equal to the other worst is not below it
        (5, 41.0, PoolAction.KEEP),  # not full: kept although below the others
    ],
)
def test_revalidate_after_retest(strategies: StrategyRepository, pool: PoolRepository,
                                 clock: SimClock, max_size: int, new_score: float,
                                 expected: PoolAction) -> None:
    low, mid, high = _fill(strategies, pool, [50.0, 60.0, 70.0], max_size=max_size)
    clock.advance_to(clock.now() + timedelta(days=3))
    token = claim_specific(strategies, ACTIVE, mid)
    d = pool.revalidate_after_retest(mid, token, new_score, max_size=max_size, min_score=MIN_SCORE,
                                     last_backtested_at=clock.now())
    assert d.action is expected
    rec = strategies.get(mid)
    assert rec.status is (RETIRED if expected is PoolAction.REJECT else ACTIVE)
    assert rec.score == new_score and rec.last_backtested_at == clock.now()
    others = {low: 50.0, high: 70.0}
    assert _active_scores(strategies) == (others if expected is PoolAction.REJECT
                                          else {**others, mid: new_score})
    assert strategies.claim(ACTIVE, "next") is not None  # the re-test claim was released


def test_revalidate_with_stale_token_changes_nothing(strategies: StrategyRepository,
                                                     pool: PoolRepository) -> None:
    _low, mid, _high = _fill(strategies, pool, [50.0, 60.0, 70.0], max_size=3)
    stale = claim_specific(strategies, ACTIVE, mid)
    strategies.release(mid, stale)
    claim_specific(strategies, ACTIVE, mid, worker="other")  # token moves on
    with pytest.raises(StaleClaim):
        pool.revalidate_after_retest(mid, stale, 10.0, max_size=3, min_score=MIN_SCORE)
    rec = strategies.get(mid)
    assert (rec.status, rec.score) == (ACTIVE, 60.0)


def test_correlation_cap_refuses_a_worse_near_duplicate_and_a_better_one_replaces_it(
        strategies: StrategyRepository, pool: PoolRepository) -> None:
    import numpy as np
    daily = list(np.random.default_rng(0).normal(0, 0.01, 40))
    series = (20_100, np.asarray(daily))
    [member] = _fill(strategies, pool, [60.0], max_size=3)
    strategies_metrics = {"daily_returns": daily, "daily_last_day": 20_100}
    sid, token = _newcomer(strategies)
    # give the member its series (as the backtester stores it), then offer a worse duplicate
    other, other_token = _newcomer(strategies)
    pool.try_enter(other, other_token, 70.0, max_size=3, min_score=MIN_SCORE, metrics=strategies_metrics,
                   correlation=(series, 0.9, 20))
    d = pool.try_enter(sid, token, 65.0, max_size=3, min_score=MIN_SCORE, correlation=(series, 0.9, 20))
    assert d.action is PoolAction.REJECT and "correlate 1.00" in d.reason
    rec = strategies.get(sid)
    assert rec.status is RETIRED
    better, better_token = _newcomer(strategies)
    d = pool.try_enter(better, better_token, 75.0, max_size=3, min_score=MIN_SCORE, metrics=strategies_metrics,
                       correlation=(series, 0.9, 20))
    assert d.action is PoolAction.ENTER
    assert _active_scores(strategies) == {member: 60.0, better: 75.0}  # the 70.0 duplicate was replaced
    assert strategies.get(other).status is RETIRED
