"""Generation limits: parallel generators never exceed the daily limit or the queue bound together."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from storage_support import T0, candidate, claim_specific, generation_worker, run_processes

from sixbtc.adapters.storage.strategy_repo import StrategyRepository
from sixbtc.domain.strategy import StrategyStatus

N_WORKERS = 3
PER_WORKER = 15


def test_parallel_generators_stop_exactly_at_the_daily_limit(db_url: str, strategies: StrategyRepository) -> None:
    limit = 23
    args = [(db_url, f"g{k}", 1000 * k, PER_WORKER, limit, 10_000) for k in range(N_WORKERS)]
    reports = run_processes(generation_worker, args)
    assert sum(n for _, n in reports) == limit
    assert strategies.count_created_since(T0) == limit
    assert strategies.counts_by_status()["GENERATED"] == limit


def test_parallel_generators_respect_the_queue_bound(strategies: StrategyRepository) -> None:
    """Threads, each add on its own pooled connection (cheaper than processes, same locking)."""
    barrier = threading.Barrier(N_WORKERS)

    def work(first: int) -> int:
        barrier.wait(timeout=30)
        return sum(strategies.add_within_limits([candidate(first + k)], T0, 10_000, 9)[0] for k in range(PER_WORKER))

    with ThreadPoolExecutor(N_WORKERS) as pool:
        made = list(pool.map(work, [1000 * k for k in range(N_WORKERS)]))
    assert sum(made) == 9 == strategies.counts_by_status()["GENERATED"]


def test_duplicates_are_skipped_and_the_room_is_kept_for_the_others(strategies: StrategyRepository) -> None:
    assert strategies.add_within_limits([candidate(1), candidate(2)], T0, 5, 100) == (2, 0)
    # 1 is a duplicate (skipped, no room used), 3 and 4 fit, 5 and 6 are beyond the daily limit of 5
    created, skipped = strategies.add_within_limits([candidate(k) for k in (1, 3, 4, 5, 6)], T0, 4, 100)
    assert (created, skipped) == (2, 3)
    assert strategies.count_created_since(T0) == 4


def test_the_count_survives_leaving_the_queue_and_a_new_day_resets_it(strategies: StrategyRepository,
                                                                     clock) -> None:
    assert strategies.add_within_limits([candidate(k) for k in range(3)], T0, 3, 100)[0] == 3
    for rec in strategies.list_by_status(StrategyStatus.GENERATED):  # validated: the queue empties
        token = claim_specific(strategies, StrategyStatus.GENERATED, rec.id)
        strategies.transition(rec.id, token, StrategyStatus.VALIDATED, phase="validator", reason="test")
    assert strategies.add_within_limits([candidate(10)], T0, 3, 100) == (0, 1)  # today's limit is used up
    clock.advance_to(T0 + timedelta(days=1))
    assert strategies.add_within_limits([candidate(10)], T0 + timedelta(days=1), 3, 100) == (1, 0)
