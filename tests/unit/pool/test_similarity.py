"""Pool-entry correlation cap: the better of two strategies that trade alike is kept."""

from __future__ import annotations

import numpy as np
import pytest

from sixbtc.pool.similarity import correlation, decide_correlated

RNG = np.random.default_rng(4)
BASE = RNG.normal(0, 0.01, 60)
DAY = 20_000


def test_correlation_aligns_calendar_days_and_needs_the_overlap() -> None:
    a = (DAY + 59, BASE)
    shifted = (DAY + 69, np.concatenate([BASE[10:], RNG.normal(0, 0.01, 10)]))  # same days 10..59
    assert correlation(a, shifted, 20) == pytest.approx(1.0, abs=1e-12)
    assert correlation(a, (DAY + 200, BASE), 20) is None  # no common day
    assert correlation(a, (DAY + 59, np.zeros(60)), 20) is None  # constant: undefined


def test_a_worse_near_duplicate_is_refused_naming_the_member() -> None:
    twin = (DAY + 59, BASE + RNG.normal(0, 0.001, 60))  # same rule, another take-profit
    other = (DAY + 59, RNG.normal(0, 0.01, 60))
    members = [(1, "Strategy_MOM_1", 70.0, (DAY + 59, BASE)), (2, "Strategy_REV_2", 80.0, other),
               (3, "Strategy_TRN_3", 90.0, None)]
    d = decide_correlated(60.0, twin, members, max_correlation=0.9, min_overlap=20)
    assert d.evict == () and d.blocker[0] == "Strategy_MOM_1" and d.blocker[2] > 0.9
    assert "Strategy_MOM_1" in d.describe() and "score 70.0" in d.describe()


def test_a_better_near_duplicate_evicts_the_member_and_ties_keep_the_incumbent() -> None:
    members = [(1, "Strategy_MOM_1", 70.0, (DAY + 59, BASE)), (2, "Strategy_MOM_2", 65.0, (DAY + 59, BASE * 2))]
    assert decide_correlated(75.0, (DAY + 59, BASE), members, max_correlation=0.9, min_overlap=20).evict == (1, 2)
    assert decide_correlated(70.0, (DAY + 59, BASE), members, max_correlation=0.9, min_overlap=20).blocker
    off = decide_correlated(10.0, (DAY + 59, BASE), members, max_correlation=1.0, min_overlap=20)
    assert off.evict == () and off.blocker is None
    assert decide_correlated(10.0, None, members, max_correlation=0.9, min_overlap=20).blocker is None
