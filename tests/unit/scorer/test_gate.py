"""The multiple-testing gate: DSR with N trials, PBO by CSCV, reasons and the on/off switch."""

from __future__ import annotations

import numpy as np
import pytest

from sixbtc.scorer.gate import multiple_testing_gate, pbo_splits_for, trial_sharpe_variance
from sixbtc.scorer.statistics import expected_max_sharpe

RNG = np.random.default_rng(7)


def _gate(track, grid=None, n=1, v=0.0, **kw):
    return multiple_testing_gate(np.asarray(track), grid, n, v, dsr_min_prob=0.95, pbo_max=0.5, **kw)


def test_a_real_edge_passes_and_the_figures_are_reported() -> None:
    track = RNG.normal(0.004, 0.01, 200)  # daily Sharpe ~0.4 over 200 days
    v = _gate(track, n=10, v=0.005)
    assert v.reason is None and v.dsr > 0.99 and v.n_days == 200 and v.n_trials == 10
    assert v.sr0 == pytest.approx(expected_max_sharpe(10, 0.005))
    assert v.to_json()["dsr"] == pytest.approx(v.dsr, abs=1e-6) and v.to_json()["pbo"] is None


def test_the_best_of_many_noise_trials_is_deflated_away() -> None:
    trials = RNG.normal(0.0, 0.01, (180, 500))
    sr = trials.mean(0) / trials.std(0)
    best = trials[:, int(np.argmax(sr))]
    undeflated = _gate(best, n=1)
    deflated = _gate(best, grid=trials, n=500, v=trial_sharpe_variance([trials]))
    assert undeflated.dsr > 0.95  # the lucky maximum looks significant on its own ...
    assert deflated.dsr < 0.5 and deflated.reason == "score:dsr"  # ... not against 500 trials
    assert 0.2 < deflated.pbo < 0.8  # skill-less grid: choosing in-sample is a coin flip


def test_pbo_rejects_an_overfit_grid_and_spares_a_dominant_configuration() -> None:
    noise = np.random.default_rng(3).normal(0.0, 0.01, (200, 40))
    edge = noise.copy()
    edge[:, 0] += 0.008  # one configuration is genuinely better on every block
    good = _gate(edge[:, 0], grid=edge, n=1)
    assert good.pbo < 0.1 and good.reason is None
    bad = multiple_testing_gate(edge[:, 0], noise, 1, 0.0, dsr_min_prob=0.0, pbo_max=0.05)
    assert bad.pbo > 0.05 and bad.reason == "score:pbo"


def test_switched_off_the_gate_computes_but_never_rejects() -> None:
    v = _gate(RNG.normal(0.0, 0.01, 100), n=1000, v=0.01, enforce=False)
    assert v.reason is None and v.dsr < 0.95


def test_a_track_that_never_traded_has_dsr_zero() -> None:
    assert _gate(np.zeros(120), n=5, v=0.01).dsr == 0.0


def test_bad_tracks_raise() -> None:
    with pytest.raises(ValueError, match="NaN"):
        _gate(np.array([0.01, np.nan, 0.0]))
    with pytest.raises(ValueError, match=">= 2"):
        _gate(np.array([0.01]))
    with pytest.raises(ValueError, match="n_trials"):
        _gate(np.array([0.01, 0.02, 0.0]), n=0)


def test_pbo_splits_follow_the_days() -> None:
    assert pbo_splits_for(180, 16) == 16
    assert pbo_splits_for(75, 16) == 14
    assert pbo_splits_for(39, 16) == 6  # too few days for the gate's PBO (< 40) but splits exist
    assert pbo_splits_for(15, 16) == 0
    assert pbo_splits_for(500, 9) == 8  # odd maximum rounds down to even


def test_trial_sharpe_variance_ignores_columns_that_never_traded() -> None:
    m = np.column_stack([RNG.normal(0.001, 0.01, 50), np.zeros(50), RNG.normal(-0.001, 0.01, 50)])
    sr = [m[:, 0].mean() / m[:, 0].std(), m[:, 2].mean() / m[:, 2].std()]
    assert trial_sharpe_variance([m]) == pytest.approx(np.var(sr, ddof=1))
    assert trial_sharpe_variance([np.zeros((10, 3))]) == 0.0
