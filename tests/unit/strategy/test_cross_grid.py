"""cross_grid against the per-pair cross_above / cross_below, bit for bit."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sixbtc.strategy import indicators as ind
from sixbtc.strategy.cross_grid import cross_grid


def _per_pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pairs = list(itertools.product(range(len(a)), range(len(b))))
    up = np.column_stack([ind.cross_above(a[i], b[j]) for i, j in pairs])
    down = np.column_stack([ind.cross_below(a[i], b[j]) for i, j in pairs])
    return up, down


def test_sma_grid_equals_the_per_set_crosses_across_block_boundaries() -> None:
    rng = np.random.default_rng(12)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, 2_600)))  # > 2 blocks of bars
    fast = np.array([ind.sma(close, w) for w in (3, 5, 8, 13)])
    slow = np.array([ind.sma(close, w) for w in (20, 50, 100)])
    up, down = cross_grid(fast, slow)
    want_up, want_down = _per_pair(fast, slow)
    assert up.shape == (2_600, 12) and up.flags.c_contiguous
    np.testing.assert_array_equal(up, want_up)
    np.testing.assert_array_equal(down, want_down)
    assert up.sum() > 50 and down.sum() > 50  # real crossings, not an all-False match


values = st.one_of(st.floats(-3, 3, allow_nan=False, width=16), st.just(np.nan), st.sampled_from([0.0, 1.0]))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 40), st.data())
def test_ties_nans_and_shapes_match_the_per_pair_functions(na, nb, n, data) -> None:
    a = np.array(data.draw(st.lists(st.lists(values, min_size=n, max_size=n), min_size=na, max_size=na)))
    b = np.array(data.draw(st.lists(st.lists(values, min_size=n, max_size=n), min_size=nb, max_size=nb)))
    up, down = cross_grid(a, b)
    want_up, want_down = _per_pair(a, b)
    np.testing.assert_array_equal(up, want_up)
    np.testing.assert_array_equal(down, want_down)


@pytest.mark.parametrize(("a", "b"), [(np.ones(5), np.ones((1, 5))), (np.ones((1, 5)), np.ones((2, 4))),
                                      (np.ones((0, 5)), np.ones((1, 5))), ([["x"]], np.ones((1, 1)))])
def test_bad_shapes_are_refused(a, b) -> None:
    with pytest.raises(ValueError, match="a|b"):
        cross_grid(a, b)
