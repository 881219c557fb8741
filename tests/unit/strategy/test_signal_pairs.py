"""Comparing signal pairs: exact for bool signals, within 1e-9 relative for grid levels."""

from __future__ import annotations

import numpy as np

from sixbtc.strategy.signal_pairs import active_bars, entry_counts, is_grid_pair, pair_differs


def test_bool_pairs_compare_exactly():
    a = (np.array([[True, False, True]]), np.array([[False, False, True]]))
    b = (a[0].copy(), a[1].copy())
    b[1][0, 1] = True
    assert not is_grid_pair(a)
    assert pair_differs(a, b).tolist() == [[False, True, False]]
    assert active_bars(a).tolist() == [[True, False, True]]
    assert entry_counts(a, np.ones(3), np.ones(3), 1).tolist() == [2]


def test_grid_pairs_compare_within_a_billionth_and_nan_equals_nan():
    center = np.array([[np.nan, 100.0, 100.0, 100.0]])
    step = np.array([[np.nan, 1.0, 1.0, 0.0]])
    near = (center * (1 + 1e-12), step.copy())
    assert is_grid_pair((center, step))
    assert not pair_differs((center, step), near).any()
    far = (center.copy(), step.copy())
    far[0][0, 2] = 100.0 * (1 + 1e-7)
    far[1][0, 0] = 1.0  # NaN against a number differs
    assert pair_differs((center, step), far).tolist() == [[True, False, True, False]]
    assert active_bars((center, step)).tolist() == [[False, True, True, False]]


def test_grid_entry_counts_are_first_level_touches_of_the_previous_bars_grid():
    center = np.full((1, 5), 100.0)
    step = np.full((1, 5), 2.0)
    low = np.array([99.0, 98.0, 99.0, 97.0, 99.0])
    high = np.array([101.0, 101.0, 102.0, 101.0, 103.0])
    assert entry_counts((center, step), low, high, 1).tolist() == [2]  # bars 1 and 3 reach 98
    assert entry_counts((center, step), low, high, -1).tolist() == [2]  # bars 2 and 4 reach 102
