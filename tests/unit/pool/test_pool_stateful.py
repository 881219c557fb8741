"""Stateful property test of the pool rules (SPEC §3.5): entries, re-tests and departures.

The machine keeps a pool ``{id: score}`` that it changes *only* through the decisions of
:func:`decide_entry` / :func:`decide_retest` (what a storage adapter does with them). Each
decision is checked against the SPEC §3.5 table written out on the model's own terms, and the
invariants are checked after every step.
"""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from sixbtc.pool.rules import PoolAction, decide_entry, decide_retest

MIN_SCORE = 40.0
#: few distinct values (ties and boundaries) mixed with arbitrary scores
SCORES = st.sampled_from([0.0, 39.9, 40.0, 45.0, 50.0, 60.0, 100.0]) | st.floats(0.0, 100.0, allow_nan=False)


class PoolRulesMachine(RuleBasedStateMachine):
    """The pool as the rules shape it; ``retired`` collects every id that left it or never entered."""

    def __init__(self) -> None:
        super().__init__()
        self.pool: dict[int, float] = {}
        self.retired: set[int] = set()
        self.ids = itertools.count(1)
        self.max_size = 1

    @initialize(max_size=st.integers(1, 5))
    def setup(self, max_size: int) -> None:
        self.max_size = max_size

    def _worst(self, exclude: int | None = None) -> int | None:
        """Lowest score, ties: the newest (highest id) — the member an eviction removes."""
        others = [k for k in self.pool if k != exclude]
        return min(others, key=lambda k: (self.pool[k], -k)) if others else None

    @rule(score=SCORES)
    def enter(self, score: float) -> None:
        sid, worst = next(self.ids), self._worst()
        lowest = self.pool[worst] if worst is not None else None
        full = len(self.pool) >= self.max_size
        d = decide_entry(score, len(self.pool), lowest, max_size=self.max_size, min_score=MIN_SCORE)
        # SPEC §3.5 table, row by row
        if score < MIN_SCORE:
            assert (d.action, d.rule) == (PoolAction.REJECT, 1)
        elif not full:
            assert (d.action, d.rule) == (PoolAction.ENTER, 2)
        elif score > min(self.pool.values()):
            assert (d.action, d.rule) == (PoolAction.ENTER_EVICT_WORST, 3)
        else:
            assert (d.action, d.rule) == (PoolAction.REJECT, 4)
        if d.action is PoolAction.REJECT:
            self.retired.add(sid)
            return
        if d.action is PoolAction.ENTER_EVICT_WORST:
            del self.pool[worst]
            self.retired.add(worst)
        self.pool[sid] = score

    @precondition(lambda self: bool(self.pool))
    @rule(data=st.data(), new_score=SCORES)
    def retest(self, data: st.DataObject, new_score: float) -> None:
        sid = data.draw(st.sampled_from(sorted(self.pool)), label="member")
        worst = self._worst(exclude=sid)
        others_min = self.pool[worst] if worst is not None else None
        d = decide_retest(new_score, len(self.pool), others_min, max_size=self.max_size, min_score=MIN_SCORE)
        full = len(self.pool) >= self.max_size
        retire = new_score < MIN_SCORE or (full and others_min is not None and new_score < others_min)
        assert (d.action is PoolAction.REJECT) == retire, (d, new_score, others_min, full)
        if retire:
            del self.pool[sid]
            self.retired.add(sid)
        else:
            self.pool[sid] = new_score

    @precondition(lambda self: bool(self.pool))
    @rule(data=st.data())
    def leave(self, data: st.DataObject) -> None:
        """A member leaves the pool outside the rules (promoted to LIVE or retired by the monitor)."""
        sid = data.draw(st.sampled_from(sorted(self.pool)), label="member")
        del self.pool[sid]
        self.retired.add(sid)

    @invariant()
    def never_over_max_size(self) -> None:
        assert len(self.pool) <= self.max_size

    @invariant()
    def every_member_meets_min_score(self) -> None:
        assert all(s >= MIN_SCORE for s in self.pool.values())

    @invariant()
    def retired_never_come_back(self) -> None:
        assert not self.retired & set(self.pool)


PoolRulesMachine.TestCase.settings = settings(max_examples=100, stateful_step_count=25, deadline=None,
                                              suppress_health_check=[HealthCheck.too_slow])
test_pool_rules_state_machine = PoolRulesMachine.TestCase
