"""Pool atomicity: concurrent ``try_enter`` from several processes into a nearly full pool."""

from __future__ import annotations

import random

from storage_support import (
    VALIDATED,
    add_validated,
    claim_specific,
    pool_worker,
    replay_pool_events,
    run_processes,
)

from sixbtc.adapters.storage.pool_repo import PoolRepository
from sixbtc.adapters.storage.strategy_repo import StrategyRepository
from sixbtc.domain.strategy import StrategyStatus

MAX_SIZE = 20
MIN_SCORE = 40.0
N_PREFILL = 18
N_CANDIDATES = 48
N_WORKERS = 6


def _scores(prefill: list[int], candidates: list[int]) -> dict[int, float]:
    """Distinct scores: pre-fill 45, 47, ..., 79; candidates x.5 drawn from 20.5..99.5."""
    drawn = random.Random(20261121).sample(range(20, 100), len(candidates))
    scores = {sid: 45.0 + 2 * k for k, sid in enumerate(prefill)}
    scores.update({sid: x + 0.5 for sid, x in zip(candidates, drawn, strict=True)})
    return scores


def test_concurrent_entries_keep_the_top_scores_and_never_overflow(
    db_url: str, strategies: StrategyRepository, pool: PoolRepository
) -> None:
    prefill = add_validated(strategies, N_PREFILL)
    candidates = add_validated(strategies, N_CANDIDATES, first=1000)
    scores = _scores(prefill, candidates)
    for sid in prefill:
        token = claim_specific(strategies, VALIDATED, sid)
        pool.try_enter(sid, token, scores[sid], max_size=MAX_SIZE, min_score=MIN_SCORE)
    assert pool.stats().count == N_PREFILL

    args = [(db_url, f"p{k}", scores, MAX_SIZE, MIN_SCORE) for k in range(N_WORKERS)]
    reports = run_processes(pool_worker, args)

    log = [entry for _, entries in reports for entry in entries]
    assert sorted(sid for sid, *_ in log) == sorted(candidates), "each candidate decided once"
    assert max(count for *_, count in log) <= MAX_SIZE
    eligible = [sid for sid, s in scores.items() if s >= MIN_SCORE]
    expected_members = set(sorted(eligible, key=scores.__getitem__, reverse=True)[:MAX_SIZE])
    active = {r.id for r in strategies.list_by_status(StrategyStatus.ACTIVE)}
    assert active == expected_members
    stats = pool.stats()
    assert stats.count == MAX_SIZE
    assert stats.min_score == min(scores[s] for s in expected_members)
    retired = {r.id for r in strategies.list_by_status(StrategyStatus.RETIRED)}
    assert retired == set(scores) - expected_members

    # replaying the committed pool events in order reproduces every decision, and each
    # eviction removed the member that was the worst at that moment
    members, decisions = replay_pool_events(strategies.events(limit=100_000), scores,
                                            max_size=MAX_SIZE, min_score=MIN_SCORE)
    assert set(members) == expected_members
    for sid, action, _rule, evicted, _count in log:
        assert decisions[sid] == (action, evicted), sid
    # the seeded scores put 5 candidates in [40, 45): at most 2 can enter (rule 2), so
    # rule 4 must fire; 14 are below 40 (rule 1) and many beat the pool min (rule 3)
    assert {rule for _, _, rule, *_ in log} == {1, 2, 3, 4}
