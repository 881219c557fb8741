"""Grid helpers: value picking, risk grids and shrinking to max_grid."""

from __future__ import annotations

import numpy as np
import pytest

from sixbtc.generator.blocks import (
    SL_CHOICES,
    TP_CHOICES,
    choose_risk,
    choose_values,
    fit_grid,
    grid_size,
)


def test_choose_values_picks_two_or_three_in_order():
    rng = np.random.default_rng(0)
    seen_sizes = set()
    for _ in range(100):
        values = choose_values((1, 2, 3, 4, 5), rng)
        seen_sizes.add(len(values))
        assert values == sorted(values) and len(set(values)) == len(values)
    assert seen_sizes == {2, 3}
    assert choose_values((7,), rng) == [7]


def test_choose_risk_pairs_stop_and_target():
    rng = np.random.default_rng(1)
    for _ in range(100):
        risk = choose_risk(rng)
        i, j = SL_CHOICES.index(risk["sl_pct"][0]), TP_CHOICES.index(risk["tp_pct"][0])
        assert len(risk["sl_pct"]) == len(risk["tp_pct"]) == 2 and abs(i - j) <= 1
        assert all(0 < v < 1 for v in risk["sl_pct"] + risk["tp_pct"])


@pytest.mark.parametrize("max_grid", [1, 2, 7, 64, 10_000])
def test_fit_grid_shrinks_to_bound_keeping_subsequences(max_grid):
    grid = {"a": [1, 2, 3], "b": [4, 5, 6], "c": [7, 8], "d": [0.1, 0.2], "e": [9, 10, 11]}
    fitted = fit_grid(grid, max_grid, np.random.default_rng(max_grid))
    assert grid_size(fitted) <= max_grid and set(fitted) == set(grid)
    for key, values in fitted.items():
        assert values and all(v in grid[key] for v in values)
        assert values == [v for v in grid[key] if v in values]
    if max_grid >= grid_size(grid):
        assert fitted == grid
    assert grid["a"] == [1, 2, 3]  # input untouched


def test_fit_grid_rejects_non_positive_bound():
    with pytest.raises(ValueError, match="max_grid must be >= 1"):
        fit_grid({"a": [1]}, 0, np.random.default_rng(0))
