"""Atomic claims under real multi-process concurrency, and fencing tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select, update
from storage_support import (
    GENERATED,
    T0,
    VALIDATED,
    add_generated,
    add_validated,
    claim_specific,
    claim_worker,
    run_processes,
)

from sixbtc.adapters.storage.pool_repo import PoolRepository
from sixbtc.adapters.storage.strategy_repo import StrategyRepository
from sixbtc.adapters.storage.tables import StrategyEventRow, StrategyRow
from sixbtc.core.clock import SimClock
from sixbtc.core.errors import StaleClaim
from sixbtc.domain.strategy import StrategyStatus

N_STRATEGIES = 500
N_WORKERS = 8


def _row(engine: Engine, sid: int) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(select(StrategyRow).where(StrategyRow.id == sid)).one()._mapping)


def _n_events(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(StrategyEventRow)).scalar_one()


def test_concurrent_workers_claim_each_strategy_exactly_once(
    db_url: str, engine: Engine, strategies: StrategyRepository
) -> None:
    all_ids = set(add_generated(strategies, N_STRATEGIES))
    reports = run_processes(claim_worker, [(db_url, f"w{k}") for k in range(N_WORKERS)])

    claimed = [sid for _, ids in reports for sid in ids]
    assert len(claimed) == len(set(claimed)), "a strategy was claimed twice"
    assert set(claimed) == all_ids
    assert sum(1 for _, ids in reports if ids) >= 2, "claims were not spread over workers"
    counts = strategies.counts_by_status()
    assert counts[str(VALIDATED)] == N_STRATEGIES and counts[str(GENERATED)] == 0
    with engine.connect() as conn:
        still_claimed = conn.execute(
            select(func.count()).where(StrategyRow.processing_by.is_not(None))).scalar_one()
        tokens = set(conn.execute(select(StrategyRow.claim_token)).scalars())
    assert still_claimed == 0
    assert tokens == {1}, "every strategy must have been claimed exactly once (token 1)"


def test_stale_token_after_release_stale_is_refused_and_changes_nothing(
    engine: Engine, strategies: StrategyRepository, clock: SimClock
) -> None:
    sid = add_generated(strategies, 1)[0]
    first = strategies.claim(GENERATED, "crashed")
    assert first is not None and first.id == sid
    assert strategies.release_stale(timedelta(minutes=30)) == 0  # not old yet
    clock.advance_to(clock.now() + timedelta(hours=1))
    assert strategies.release_stale(timedelta(minutes=30)) == 1
    second = strategies.claim(GENERATED, "fresh")
    assert second is not None and second.id == sid
    assert second.claim_token == first.claim_token + 1
    before, n_events = _row(engine, sid), _n_events(engine)

    with pytest.raises(StaleClaim):
        strategies.transition(sid, first.claim_token, VALIDATED, phase="validator", reason="ok")
    with pytest.raises(StaleClaim):
        strategies.reject(sid, first.claim_token, phase="validator", reason="ast:bad")
    strategies.release(sid, first.claim_token)  # stale release is a no-op
    assert _row(engine, sid) == before
    assert before["processing_by"] == "fresh" and before["status"] == str(GENERATED)
    assert _n_events(engine) == n_events

    strategies.transition(sid, second.claim_token, VALIDATED, phase="validator", reason="ok")
    after = _row(engine, sid)
    assert after["status"] == str(VALIDATED) and after["processing_by"] is None


def test_stale_token_reject_after_takeover_keeps_the_strategy(
    engine: Engine, strategies: StrategyRepository, clock: SimClock
) -> None:
    sid = add_generated(strategies, 1)[0]
    first = strategies.claim(GENERATED, "slow")
    clock.advance_to(clock.now() + timedelta(hours=2))
    strategies.release_stale(timedelta(hours=1))
    second = strategies.claim(GENERATED, "fast")
    with pytest.raises(StaleClaim):
        strategies.reject(sid, first.claim_token, phase="validator", reason="ast:bad")
    assert strategies.get(sid) is not None
    strategies.reject(sid, second.claim_token, phase="validator", reason="ast:bad")
    assert strategies.get(sid) is None
    assert strategies.rejections_by_reason() == {"ast:bad": 1}


def test_stale_token_try_enter_rolls_back_the_eviction(
    engine: Engine, strategies: StrategyRepository, pool: PoolRepository, clock: SimClock
) -> None:
    members = add_validated(strategies, 2)
    for sid, score in zip(members, (50.0, 60.0), strict=True):
        pool.try_enter(sid, claim_specific(strategies, VALIDATED, sid), score, max_size=2, min_score=40)
    newcomer = add_validated(strategies, 1, first=100)[0]
    stale = claim_specific(strategies, VALIDATED, newcomer, worker="slow")
    clock.advance_to(clock.now() + timedelta(hours=2))
    strategies.release_stale(timedelta(hours=1))
    fresh = claim_specific(strategies, VALIDATED, newcomer, worker="fast")
    n_events = _n_events(engine)

    with pytest.raises(StaleClaim):  # would evict members[0] (score 50) if the token were valid
        pool.try_enter(newcomer, stale, 90.0, max_size=2, min_score=40)
    assert {r.id for r in pool.top(10)} == set(members)
    assert strategies.get(newcomer).status is StrategyStatus.VALIDATED
    assert _n_events(engine) == n_events

    decision = pool.try_enter(newcomer, fresh, 90.0, max_size=2, min_score=40)
    assert decision.evicted_id == members[0]
    assert {r.id for r in pool.top(10)} == {members[1], newcomer}


def test_oldest_backtest_first_claims_by_last_backtest_never_tested_first(
    strategies: StrategyRepository, clock: SimClock
) -> None:
    ids = add_validated(strategies, 4)
    stamps = [T0 + timedelta(days=3), T0 + timedelta(days=1), None, T0 + timedelta(days=2)]
    for sid, ts in zip(ids, stamps, strict=True):
        token = claim_specific(strategies, VALIDATED, sid)
        strategies.transition(sid, token, StrategyStatus.ACTIVE, phase="pool", reason="test",
                              last_backtested_at=ts)
    order = []
    while (rec := strategies.claim(StrategyStatus.ACTIVE, "retest", oldest_backtest_first=True)):
        order.append(rec.id)
    assert order == [ids[2], ids[1], ids[3], ids[0]]  # NULL (never) first, on every backend


def test_backtested_before_only_claims_older_backtests(
    strategies: StrategyRepository, clock: SimClock
) -> None:
    ids = add_validated(strategies, 3)
    for sid, days in zip(ids, (1, 5, 3), strict=True):
        token = claim_specific(strategies, VALIDATED, sid)
        strategies.transition(sid, token, StrategyStatus.ACTIVE, phase="pool", reason="test",
                              last_backtested_at=T0 + timedelta(days=days))
    cutoff = T0 + timedelta(days=4)
    claimed = []
    while (rec := strategies.claim(StrategyStatus.ACTIVE, "retest", oldest_backtest_first=True,
                                   backtested_before=cutoff)):
        claimed.append(rec.id)
    assert claimed == [ids[0], ids[2]]


def test_a_damaged_row_is_failed_and_the_next_one_claimed(strategies) -> None:
    ids = add_generated(strategies, 3)
    with strategies.engine.begin() as conn:  # an unknown type value: the row cannot be mapped
        conn.execute(update(StrategyRow).where(StrategyRow.id == ids[0]).values(type="XYZ"))
    assert [r.id for r in strategies.list_by_status(GENERATED)] == ids[1:]

    rec = strategies.claim(GENERATED, "w1")  # before the fix: ValueError, the worker died

    assert rec is not None and rec.id == ids[1]
    with strategies.engine.connect() as conn:
        row = conn.execute(select(StrategyRow.status, StrategyRow.processing_by).where(StrategyRow.id == ids[0])).one()
    assert tuple(row) == ("FAILED", None)
    event = next(e for e in strategies.events(5) if e["strategy_id"] == ids[0])
    assert event["reason"] == "error:unreadable_record" and "XYZ" in event["detail"]
