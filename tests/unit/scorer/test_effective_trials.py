"""Effective number of independent trials: correlated trial series collapse into clusters."""

from __future__ import annotations

import numpy as np
import pytest

from sixbtc.scorer.effective_trials import align, effective_trials


def test_copies_are_one_trial_and_independent_series_are_many() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(0, 0.01, (200, 1))
    copies = base + rng.normal(0, 0.001, (200, 50))
    assert effective_trials(copies).n_eff == 1
    independent = rng.normal(0, 0.01, (200, 50))
    est = effective_trials(independent)
    assert est.n_eff == 50 and est.n_series == 50 and est.sr_variance > 0


def test_groups_of_correlated_trials_count_once_each() -> None:
    rng = np.random.default_rng(1)
    factors = rng.normal(0, 0.01, (300, 5))
    trials = np.repeat(factors, 8, axis=1) + rng.normal(0, 0.004, (300, 40))  # 5 rules x 8 neighbouring sets
    est = effective_trials(trials)
    assert est.n_eff == 5
    assert effective_trials(trials, max_series=8).n_series == 8  # bounded: the newest columns only
    flat = np.zeros((300, 3))
    assert effective_trials(flat).n_eff == 1  # never traded: no trial at all, N stays >= 1


def test_align_fills_missing_days_with_zero_and_bad_input_is_named() -> None:
    m = align([(np.array([1, 2]), np.array([[0.1], [0.2]])), (np.array([2, 3]), np.array([[0.3, 0.4], [0.5, 0.6]]))])
    assert m.tolist() == [[0.1, 0.0, 0.0], [0.2, 0.3, 0.4], [0.0, 0.5, 0.6]]
    assert align([]).shape == (0, 0)
    with pytest.raises(ValueError, match="finite 2-D"):
        effective_trials(np.array([np.nan, 1.0]))
    with pytest.raises(ValueError, match="threshold"):
        effective_trials(np.zeros((5, 2)), threshold=2.0)
