"""The pool's entry and re-test rules of SPEC §3.5, as pure functions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sixbtc.pool.rules import PoolAction, decide_entry, decide_retest

MAX, MIN = 5, 40.0


def _entry(score: float, count: int, worst: float | None):
    return decide_entry(score, count, worst, max_size=MAX, min_score=MIN)


def _retest(score: float, count: int, worst_other: float | None):
    return decide_retest(score, count, worst_other, max_size=MAX, min_score=MIN)


# -- entry ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("count", "worst"), [(0, None), (3, 50.0), (MAX, 10.0)])
def test_rule1_below_min_score_is_rejected_whatever_the_pool(count: int, worst: float | None) -> None:
    d = _entry(39.99, count, worst)
    assert (d.action, d.rule) == (PoolAction.REJECT, 1)
    assert "min_score" in d.reason


def test_rule2_score_equal_to_min_score_enters_a_non_full_pool() -> None:
    d = _entry(MIN, 0, None)
    assert (d.action, d.rule) == (PoolAction.ENTER, 2)


def test_rule2_pool_one_short_of_full_enters_even_below_the_worst() -> None:
    d = _entry(41.0, MAX - 1, 90.0)
    assert (d.action, d.rule) == (PoolAction.ENTER, 2)


def test_rule3_full_pool_and_better_than_worst_evicts_the_worst() -> None:
    d = _entry(60.01, MAX, 60.0)
    assert (d.action, d.rule) == (PoolAction.ENTER_EVICT_WORST, 3)


def test_rule4_full_pool_and_score_equal_to_worst_is_rejected() -> None:
    d = _entry(60.0, MAX, 60.0)
    assert (d.action, d.rule) == (PoolAction.REJECT, 4)


def test_rule4_full_pool_and_score_below_worst_is_rejected() -> None:
    d = _entry(55.0, MAX, 60.0)
    assert (d.action, d.rule) == (PoolAction.REJECT, 4)


def test_rule1_wins_over_rule3_when_worst_is_below_min_score() -> None:
    # a pool member below min_score (e.g. min_score raised later) does not let a weak candidate in
    d = _entry(35.0, MAX, 20.0)
    assert (d.action, d.rule) == (PoolAction.REJECT, 1)


# -- re-test -------------------------------------------------------------------------------
def test_retest_below_min_score_retires() -> None:
    d = _retest(39.9, 1, None)
    assert (d.action, d.rule) == (PoolAction.REJECT, 1)


def test_retest_at_min_score_keeps() -> None:
    assert _retest(MIN, 1, None).action is PoolAction.KEEP


def test_retest_full_pool_below_every_other_member_retires() -> None:
    d = _retest(45.0, MAX, 50.0)
    assert (d.action, d.rule) == (PoolAction.REJECT, 4)


def test_retest_full_pool_equal_to_worst_other_keeps() -> None:
    assert _retest(50.0, MAX, 50.0).action is PoolAction.KEEP


def test_retest_not_full_below_others_keeps() -> None:
    d = _retest(45.0, MAX - 1, 50.0)
    assert (d.action, d.rule) == (PoolAction.KEEP, 0)


def test_retest_alone_in_a_full_pool_of_one_keeps() -> None:
    d = decide_retest(45.0, 1, None, max_size=1, min_score=MIN)
    assert d.action is PoolAction.KEEP


# -- property: the pool is the top-k leaderboard --------------------------------------------
def _apply(pool: list[float], score: float, max_size: int, min_score: float) -> None:
    """In-memory pool model: what a storage adapter does with each decision."""
    worst = min(pool) if pool else None
    d = decide_entry(score, len(pool), worst, max_size=max_size, min_score=min_score)
    if d.action is PoolAction.ENTER:
        pool.append(score)
    elif d.action is PoolAction.ENTER_EVICT_WORST:
        pool.remove(min(pool))
        pool.append(score)
    else:
        assert d.action is PoolAction.REJECT


@settings(max_examples=300, deadline=None)
@given(
    scores=st.lists(st.floats(min_value=0.0, max_value=100.0, allow_nan=False), max_size=60)
    | st.lists(st.sampled_from([30.0, 40.0, 50.0, 60.0, 70.0]), max_size=60),  # many ties
    max_size=st.integers(min_value=1, max_value=8),
    min_score=st.sampled_from([0.0, 40.0, 50.0, 99.0]),
)
def test_sequential_entries_keep_exactly_the_top_scores(scores: list[float], max_size: int,
                                                        min_score: float) -> None:
    pool: list[float] = []
    seen: list[float] = []
    for s in scores:
        _apply(pool, s, max_size, min_score)
        seen.append(s)
        eligible = sorted((x for x in seen if x >= min_score), reverse=True)
        assert len(pool) <= max_size
        assert len(pool) == min(max_size, len(eligible))
        assert sorted(pool, reverse=True) == eligible[: len(pool)]
