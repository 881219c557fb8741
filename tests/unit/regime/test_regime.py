"""Regime classification (Unger method): the break signals, the decision table, and the two
tests run on the project's engine over synthetic trending / mean-reverting / random series."""

from __future__ import annotations

import numpy as np
import pytest

from sixbtc.app.regimes import engine_leg_runner
from sixbtc.config.sections import BacktestSection
from sixbtc.domain.regime import MarketRegime as R
from sixbtc.regime import break_signals, classify, measure_regime
from sixbtc.regime.classify import MIN_TRADES


def ar_series(phi: float, n: int = 3000, seed: int = 0, vol: float = 0.01) -> dict[str, np.ndarray]:
    """Log returns r[i] = phi * r[i-1] + noise: phi > 0 trends, phi < 0 mean-reverts."""
    rng = np.random.default_rng(seed)
    noise, r = rng.normal(0, vol, n), np.zeros(n)
    for i in range(1, n):
        r[i] = phi * r[i - 1] + noise[i]
    close = 100 * np.exp(np.cumsum(r))
    open_ = np.r_[close[0], close[:-1]]
    return {"open": open_, "high": np.maximum(open_, close) * 1.001,
            "low": np.minimum(open_, close) * 0.999, "close": close}


def test_break_signals_match_a_plain_loop_and_are_causal():
    d = ar_series(0.0, n=400, seed=3)
    n = 7
    up, down = break_signals(d["high"], d["low"], d["close"], n)
    for i in range(len(up)):
        want_up = i >= n and d["close"][i] > d["high"][i - n:i].max()
        want_down = i >= n and d["close"][i] < d["low"][i - n:i].min()
        assert (up[i], down[i]) == (want_up, want_down), i
    assert up.any() and down.any()
    cut_up, cut_down = break_signals(d["high"][:250], d["low"][:250], d["close"][:250], n)
    assert np.array_equal(cut_up, up[:250]) and np.array_equal(cut_down, down[:250])


def test_break_signals_refuse_bad_input():
    a = np.ones(10)
    with pytest.raises(ValueError, match="n must be"):
        break_signals(a, a, a, 0)
    with pytest.raises(ValueError, match="one length"):
        break_signals(a, a, np.ones(9), 3)


@pytest.mark.parametrize(("breakout", "reversal", "edge", "trades", "want"), [
    (0.10, -0.30, 0.0, 50, R.TREND),
    (-0.30, 0.10, 0.0, 50, R.REVERSAL),
    (-0.10, -0.20, 0.0, 50, R.MIXED),       # neither pays after costs
    (0.04, -0.30, 0.05, 50, R.MIXED),       # below the edge threshold
    (0.10, -0.30, 0.0, MIN_TRADES - 1, R.MIXED),  # too few breaks to tell
])
def test_decision_table(breakout, reversal, edge, trades, want):
    assert classify(breakout, reversal, edge, trades) is want


def test_classify_refuses_nan_and_negative_edge():
    with pytest.raises(ValueError, match="finite"):
        classify(float("nan"), 0.0)
    with pytest.raises(ValueError, match="min_edge"):
        classify(0.0, 0.0, -0.1)


@pytest.fixture(scope="module")
def run():
    return engine_leg_runner(BacktestSection(), "1h")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_trending_and_reverting_series_are_told_apart_on_the_engine(run, seed):
    trend = measure_regime(ar_series(0.3, seed=seed), run, breakout_bars=20, hold_bars=10, start=20)
    revert = measure_regime(ar_series(-0.3, seed=seed), run, breakout_bars=20, hold_bars=10, start=20)
    assert trend.regime is R.TREND and trend.breakout_metric > 0 > trend.reversal_metric
    assert revert.regime is R.REVERSAL and revert.reversal_metric > 0 > revert.breakout_metric
    assert trend.n_trades >= MIN_TRADES


def test_costs_make_a_random_walk_pay_neither_way(run):
    t = measure_regime(ar_series(0.0, seed=0), run, breakout_bars=20, hold_bars=10, start=20)
    assert t.regime is R.MIXED and t.breakout_metric < 0 and t.reversal_metric < 0
    # the reversal test trades the same bars the other way: the two nets add up to minus the
    # costs of both (about 2 x trades x (2 x fee + 2 x slippage) of the notional)
    costs = 2 * t.n_trades * 2 * (0.00045 + 0.0002)
    assert t.breakout_metric + t.reversal_metric == pytest.approx(-costs, rel=0.15)
