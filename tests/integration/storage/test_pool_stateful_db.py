"""Stateful property test of :class:`PoolRepository` against an in-memory SPEC §3.5 model.

Hypothesis drives entries, re-tests and departures (promotion to LIVE / retirement by the
monitor) through the real repository on SQLite and PostgreSQL (one database per backend; the
tables are emptied before every example). After every step the ACTIVE rows must equal the
model, which applies the §3.5 table to a plain ``{id: score}`` dict, and every status change
of the step must have left exactly the expected StrategyEvent with its reason.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, delete
from storage_support import GENERATED, VALIDATED, candidate, claim_specific

from sixbtc.adapters.storage.pool_repo import PoolRepository
from sixbtc.adapters.storage.strategy_repo import StrategyRepository
from sixbtc.adapters.storage.tables import StrategyEventRow, StrategyRow
from sixbtc.core.clock import SimClock
from sixbtc.core.errors import StaleClaim
from sixbtc.domain.strategy import StrategyStatus

ACTIVE, LIVE, RETIRED = StrategyStatus.ACTIVE, StrategyStatus.LIVE, StrategyStatus.RETIRED
MIN_SCORE = 40.0
SCORES = st.sampled_from([30.0, 40.0, 45.0, 50.0, 60.0]) | st.floats(0.0, 100.0, allow_nan=False)
Event = tuple[int, str | None, str | None, str]  # (strategy_id, from, to, reason)


def _model_entry(pool: dict[int, float], score: float, max_size: int) -> tuple[str, int, int | None]:
    """SPEC §3.5 table: ``(to_status, rule, evicted_id)`` for a candidate entering ``pool``."""
    if score < MIN_SCORE:
        return "RETIRED", 1, None
    if len(pool) < max_size:
        return "ACTIVE", 2, None
    worst = min(pool, key=lambda k: (pool[k], -k))  # lowest score, ties: the newest
    if score > pool[worst]:
        return "ACTIVE", 3, worst
    return "RETIRED", 4, None


def _machine(engine: Engine, clock: SimClock) -> type[RuleBasedStateMachine]:
    names = itertools.count(1)

    class PoolRepoMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            with engine.begin() as conn:
                conn.execute(delete(StrategyEventRow.__table__))
                conn.execute(delete(StrategyRow.__table__))
            self.repo = StrategyRepository(engine, clock)
            self.pool = PoolRepository(self.repo)
            self.model: dict[int, float] = {}
            self.max_size = 1
            self.last_event = 0

        @initialize(max_size=st.integers(1, 4))
        def setup(self, max_size: int) -> None:
            self.max_size = max_size

        def _kw(self) -> dict[str, Any]:
            return {"max_size": self.max_size, "min_score": MIN_SCORE}

        def _expect_events(self, expected: list[Event], phases: tuple[str, ...]) -> None:
            clock.advance_to(clock.now() + timedelta(minutes=1))
            new = [e for e in reversed(self.repo.events(limit=50)) if e["id"] > self.last_event]
            self.last_event = max([e["id"] for e in new], default=self.last_event)
            got = [(e["strategy_id"], e["from_status"], e["to_status"], e["reason"]) for e in new
                   if e["phase"] in phases]
            assert got == expected

        @rule(score=SCORES)
        def enter(self, score: float) -> None:
            sid = self.repo.add(candidate(next(names)))
            self.repo.transition(sid, claim_specific(self.repo, GENERATED, sid), VALIDATED, phase="validator",
                                 reason="test:validated")
            to, rule_no, evicted = _model_entry(self.model, score, self.max_size)
            d = self.pool.try_enter(sid, claim_specific(self.repo, VALIDATED, sid), score, **self._kw())
            assert (d.rule, d.evicted_id) == (rule_no, evicted)
            rec = self.repo.get(sid)
            assert (str(rec.status), rec.score) == (to, score)  # a rejected candidate is RETIRED
            expected: list[Event] = []
            if evicted is not None:
                del self.model[evicted]
                expected.append((evicted, "ACTIVE", "RETIRED", "pool:evicted"))
            expected.append((sid, "VALIDATED", to, f"pool:rule{rule_no}"))
            if to == "ACTIVE":
                self.model[sid] = score
            self._expect_events(expected, ("pool",))

        @precondition(lambda self: bool(self.model))
        @rule(data=st.data(), new_score=SCORES)
        def retest(self, data: st.DataObject, new_score: float) -> None:
            sid = data.draw(st.sampled_from(sorted(self.model)), label="member")
            others = [s for k, s in self.model.items() if k != sid]
            full = len(self.model) >= self.max_size
            retire = new_score < MIN_SCORE or (full and bool(others) and new_score < min(others))
            d = self.pool.revalidate_after_retest(sid, claim_specific(self.repo, ACTIVE, sid), new_score,
                                                  **self._kw(), last_backtested_at=clock.now())
            rec = self.repo.get(sid)
            assert (rec.status, rec.score, rec.last_backtested_at) == (RETIRED if retire else ACTIVE, new_score,
                                                                       clock.now())
            if retire:
                del self.model[sid]
            else:
                self.model[sid] = new_score
            self._expect_events([(sid, "ACTIVE", str(rec.status), f"retest:{d.action}")], ("retest",))

        @precondition(lambda self: bool(self.model))
        @rule(data=st.data(), to=st.sampled_from([LIVE, RETIRED]))
        def leave(self, data: st.DataObject, to: StrategyStatus) -> None:
            """Promotion by the rotator or retirement by the monitor: the member leaves the pool."""
            sid = data.draw(st.sampled_from(sorted(self.model)), label="member")
            self.repo.transition(sid, claim_specific(self.repo, ACTIVE, sid), to, phase="leave", reason=f"test:{to}")
            del self.model[sid]
            self._expect_events([(sid, "ACTIVE", str(to), f"test:{to}")], ("leave",))

        @invariant()
        def pool_equals_model(self) -> None:
            assert {r.id: r.score for r in self.repo.list_by_status(ACTIVE)} == self.model
            assert len(self.model) <= self.max_size
            assert all(s >= MIN_SCORE for s in self.model.values())

        @invariant()
        def stats_and_worst_agree_with_model(self) -> None:
            stats, worst = self.pool.stats(), self.pool.worst()
            assert stats.count == len(self.model)
            if not self.model:
                assert worst is None and stats.min_score is None
                return
            expected_worst = min(self.model, key=lambda k: (self.model[k], -k))
            assert worst.id == expected_worst and worst.status is ACTIVE
            assert (stats.min_score, stats.max_score) == (min(self.model.values()), max(self.model.values()))
            assert stats.avg_score == pytest.approx(sum(self.model.values()) / len(self.model))
            assert [r.id for r in self.pool.top(2)] == sorted(self.model, key=lambda k: (-self.model[k], k))[:2]

    return PoolRepoMachine


def test_pool_repository_follows_the_rules_model(engine: Engine, clock: SimClock) -> None:
    run_state_machine_as_test(
        _machine(engine, clock),
        settings=settings(max_examples=25, stateful_step_count=15, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]),
    )


def test_retest_of_a_member_evicted_meanwhile_is_stale_and_cannot_revive_it(strategies: StrategyRepository,
                                                                            pool: PoolRepository) -> None:
    ids = [strategies.add(candidate(i)) for i in range(3)]
    for sid, score in zip(ids, (50.0, 60.0, 70.0), strict=True):
        strategies.transition(sid, claim_specific(strategies, GENERATED, sid), VALIDATED, phase="validator",
                              reason="test:validated")
        pool.try_enter(sid, claim_specific(strategies, VALIDATED, sid), score, max_size=3, min_score=MIN_SCORE)
    retest_token = claim_specific(strategies, ACTIVE, ids[0])  # a re-tester holds the worst member
    newcomer = strategies.add(candidate(99))
    strategies.transition(newcomer, claim_specific(strategies, GENERATED, newcomer), VALIDATED, phase="validator",
                          reason="test:validated")
    d = pool.try_enter(newcomer, claim_specific(strategies, VALIDATED, newcomer), 65.0, max_size=3,
                       min_score=MIN_SCORE)
    assert d.evicted_id == ids[0]
    with pytest.raises(StaleClaim):
        pool.revalidate_after_retest(ids[0], retest_token, 99.0, max_size=3, min_score=MIN_SCORE)
    assert strategies.get(ids[0]).status is RETIRED
    assert {r.id for r in strategies.list_by_status(ACTIVE)} == {ids[1], ids[2], newcomer}
