"""Monte Carlo band of backtest trades (bootstrap of n trades, additive returns)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sixbtc.monitor.mc_band import McBand, band_breach, path_stats, simulate_band


def test_path_stats_of_hand_computed_sequence() -> None:
    # running sum 0 → .02 → .01 → -.02 → 0 : peak .02, trough -.02
    total, dd = path_stats(np.array([0.02, -0.01, -0.03, 0.02]))
    assert total == pytest.approx(0.0)
    assert dd == pytest.approx(0.04)
    assert path_stats(np.array([-0.01])) == pytest.approx((-0.01, 0.01))  # a drawdown from the start
    assert path_stats(np.array([0.01, 0.02])) == pytest.approx((0.03, 0.0))


def test_one_trade_band_of_a_two_trade_backtest() -> None:
    # Each path is one draw of -1 % or +2 % (about half each): P5 of the sum is -1 %,
    # the drawdown is 1 % or 0 and its P95 is 1 %.
    band = simulate_band(np.array([-0.01, 0.02]), 1, paths=1000, percentile=5.0, seed=3)
    assert band == McBand(1, 5.0, pytest.approx(-0.01), pytest.approx(0.01))


def test_band_matches_the_normal_approximation_for_many_trades() -> None:
    rng = np.random.default_rng(0)
    trades = rng.normal(0.002, 0.01, 5000)
    n = 64
    band = simulate_band(trades, n, paths=4000, percentile=5.0, seed=1)
    expected = n * trades.mean() - 1.6449 * math.sqrt(n) * trades.std()
    assert band.lower_return == pytest.approx(expected, abs=0.1 * math.sqrt(n) * trades.std())
    assert band.upper_drawdown > 0


def test_same_seed_same_band_other_seed_differs() -> None:
    trades = np.random.default_rng(5).normal(0.0, 0.01, 200)
    a = simulate_band(trades, 20, paths=300, percentile=10.0, seed=42)
    assert simulate_band(trades, 20, paths=300, percentile=10.0, seed=42) == a
    assert simulate_band(trades, 20, paths=300, percentile=10.0, seed=43) != a


def test_band_breach_below_the_return_band_and_above_the_drawdown_band() -> None:
    band = McBand(n_trades=3, percentile=5.0, lower_return=-0.01, upper_drawdown=0.03)
    assert band_breach(np.array([0.01, -0.005, 0.0]), band) is None
    low = band_breach(np.array([-0.01, 0.0, -0.005]), band)
    assert low is not None and "cumulative return -1.50%" in low and "P5" in low
    deep = band_breach(np.array([0.02, -0.04, 0.03]), band)  # sum +1 % but fell 4 % from its peak
    assert deep is not None and "drawdown 4.00%" in deep and "P95" in deep


@pytest.mark.parametrize(("trades", "n", "paths", "pct", "match"), [
    (np.array([0.01]), 5, 10, 5.0, "2 trades"),
    (np.array([0.01, np.inf]), 5, 10, 5.0, "NaN or infinite"),
    (np.array([0.01, 0.02]), 0, 10, 5.0, "n_trades and paths"),
    (np.array([0.01, 0.02]), 5, 0, 5.0, "n_trades and paths"),
    (np.array([0.01, 0.02]), 5, 10, 50.0, "percentile"),
])
def test_bad_inputs_raise_value_error(trades: np.ndarray, n: int, paths: int, pct: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        simulate_band(trades, n, paths=paths, percentile=pct, seed=0)


def test_band_for_another_trade_count_is_refused() -> None:
    with pytest.raises(ValueError, match="band is for 3 trades"):
        band_breach(np.zeros(4), McBand(3, 5.0, -0.01, 0.03))
