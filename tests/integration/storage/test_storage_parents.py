"""Evolution parents: pool genomes and near-misses survive the rejection that deletes the
strategy row, best first, bounded; children of them are stored like any strategy."""

from __future__ import annotations

import numpy as np
from sqlalchemy import Engine
from storage_support import claim_specific

from sixbtc.adapters.storage.parents_repo import ParentRepository
from sixbtc.adapters.storage.strategy_repo import StrategyRepository
from sixbtc.domain.strategy import StrategyStatus
from sixbtc.generator.evolution import evolve
from sixbtc.generator.factory import candidate_of, make_genome

GENERATED, VALIDATED, ACTIVE = StrategyStatus.GENERATED, StrategyStatus.VALIDATED, StrategyStatus.ACTIVE


def _add(repo: StrategyRepository, seed: int, blocks=("breakout", "adx", "time")) -> int:
    rng = np.random.default_rng(seed)
    sid = repo.add(candidate_of(make_genome("unger", blocks, "long", rng), rng))
    assert sid is not None
    return sid


def _validated(repo: StrategyRepository, sid: int) -> int:
    repo.transition(sid, claim_specific(repo, GENERATED, sid), VALIDATED, phase="validator", reason="test")
    return claim_specific(repo, VALIDATED, sid)


def test_near_misses_outlive_their_rejection_and_come_after_the_pool(engine: Engine, strategies, clock) -> None:
    parents = ParentRepository(engine, clock, max_near_misses=2)
    member = _add(strategies, 1)
    strategies.transition(member, _validated(strategies, member), ACTIVE, phase="pool", reason="test", score=60.0)
    dsrs = {}
    for seed, dsr in ((2, 0.80), (3, 0.90), (4, 0.70), (5, float("nan"))):
        sid = _add(strategies, seed, ("pullback", "trend_sma", "sma_cross"))
        token = _validated(strategies, sid)
        kept = parents.keep_near_miss(sid, "score:dsr", dsr)
        assert kept == (dsr in (0.80, 0.90))  # NaN refused, 0.70 below the 2 best
        assert not parents.keep_near_miss(sid, "score:dsr", dsr)  # kept once
        dsrs[strategies.get(sid).name] = dsr
        strategies.reject(sid, token, phase="score", reason="score:dsr")
    assert not parents.keep_near_miss(999, "score:dsr", 0.9)  # gone: nothing to keep
    got = parents.evolution_parents()
    assert [(p.name, p.origin) for p in got] == [
        (strategies.get(member).name, "pool"),
        *[(name, "near_miss") for name in sorted(dsrs, key=lambda n: -dsrs[n])[:2]]]
    assert all(p.genome["source"] == "unger" and p.genome["blocks"] for p in got)
    assert [dsrs[p.name] for p in got[1:]] == [0.90, 0.80]  # the 0.70 one fell out of the 2 best


def test_children_of_stored_parents_are_new_strategies(engine: Engine, strategies, clock) -> None:
    parents = ParentRepository(engine, clock)
    for seed in (1, 2):
        sid = _add(strategies, seed)
        strategies.transition(sid, _validated(strategies, sid), ACTIVE, phase="pool", reason="test", score=50.0)
    result = evolve(5, np.random.default_rng(3), parents.evolution_parents(),
                    existing_hashes=strategies.existing_hashes())
    assert len(result.candidates) == 5
    ids = [strategies.add(c) for c in result.candidates]
    assert None not in ids
    stored = strategies.get(ids[0])
    assert stored.status is GENERATED and stored.code == result.candidates[0].code


def test_an_event_recorded_once_is_not_repeated_until_its_detail_changes(engine: Engine, strategies) -> None:
    sid = _add(strategies, 7)

    def rotator_details() -> list[str]:
        return [e["detail"] for e in strategies.events(50) if e["reason"] == "rotator:error"]
    for detail in ("rotator: GRD not supported by the executor yet",) * 3 + ("promotion failed: X",) * 2:
        with engine.begin() as conn:
            strategies.event_in(conn, sid, phase="rotator", reason="rotator:error", detail=detail, once=True)
    assert rotator_details() == ["promotion failed: X", "rotator: GRD not supported by the executor yet"]
    with engine.begin() as conn:  # without once, every call is recorded
        strategies.event_in(conn, sid, phase="rotator", reason="rotator:error", detail="promotion failed: X")
    assert rotator_details()[:2] == ["promotion failed: X", "promotion failed: X"]
