"""Grid strategies (GRD) through the first-backtest protocol: search, OOS, walk-forward,
causality check, shuffle test and twins run on the grid engine; a grid that peeks is caught.

Fake grid sources run in-process and return ``(center, step)`` float arrays as the sandbox
does for a GRD strategy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from sixbtc.backtester.coinset import load_series
from sixbtc.backtester.engine_grid import run_single_grid
from sixbtc.backtester.plausibility import PlausibilityBounds
from sixbtc.backtester.protocol import BacktestPlan, run_backtest, run_retest
from sixbtc.backtester.search import SearchConfig
from sixbtc.backtester.shuffle import shuffle_test
from sixbtc.backtester.twins import evaluate_window

T0 = pd.Timestamp("2024-01-01", tz="UTC")
HOUR = pd.Timedelta(hours=1)
OPEN = PlausibilityBounds(max_sharpe=1e9, rate_sharpe=1e9)  # the plausibility gate opened


class Candles:
    """In-memory CandleSource of 1h random-walk frames, no funding."""

    def __init__(self, n: int, coins: int) -> None:
        self.frames = {}
        for k in range(coins):
            rng = np.random.default_rng(k)
            close = 10.0 * (k + 1) * np.exp(np.cumsum(rng.normal(0.0, 0.006, n)))
            open_ = np.concatenate(([close[0]], close[:-1]))
            wick = 1.0 + np.abs(rng.normal(0.0, 0.002, (2, n)))
            self.frames[f"C{k}"] = pd.DataFrame({
                "timestamp": T0 + HOUR * np.arange(n), "open": open_, "high": np.maximum(open_, close) * wick[0],
                "low": np.minimum(open_, close) / wick[1], "close": close, "volume": np.full(n, 1e6)})

    def read_candles(self, symbol: str, timeframe: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        df = self.frames[symbol]
        return df[(df["timestamp"] >= start) & (df["timestamp"] < end)].reset_index(drop=True)

    def read_funding(self, symbol: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        return pd.DataFrame({"timestamp": pd.DatetimeIndex([], tz="UTC"), "rate": np.zeros(0)})


def plan(symbols: list[str], n_bars: int = 1500, **kw: Any) -> BacktestPlan:
    """Warm-up 100 bars, IS 2/3 and OOS 1/3 of the rest (1h)."""
    oos_start = 100 + (n_bars - 100) * 2 // 3
    base: dict[str, Any] = dict(search=SearchConfig(rungs=1), shuffle_permutations=0, min_trades=10,
                                max_degradation=1.0, wfa_windows=0, seed=5)
    base.update(kw)
    return BacktestPlan({"1h": symbols}, T0 + 100 * HOUR, T0 + oos_start * HOUR, T0 + n_bars * HOUR, 100,
                        0.00045, 2.0, **base)


def sma(x: np.ndarray, n: int) -> np.ndarray:
    out = np.full(len(x), np.nan)
    csum = np.cumsum(np.concatenate(([0.0], x)))
    out[n - 1:] = (csum[n:] - csum[:-n]) / n
    return out


class HonestGrid:
    """Causal grid: center = SMA(close, n), step = k * mean |close change| over n bars."""

    def __init__(self) -> None:
        self.calls = 0

    def grid_of(self, data: dict[str, np.ndarray], p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        close = data["close"]
        move = np.abs(np.diff(close, prepend=close[0]))
        return sma(close, p["n"]), p["k"] * sma(move, p["n"])

    def signals(self, data: dict[str, np.ndarray], params_list: list[dict[str, Any]]):
        self.calls += 1
        pairs = [self.grid_of(data, p) for p in params_list]
        return np.array([c for c, _ in pairs]), np.array([s for _, s in pairs])


class PeekingGrid(HonestGrid):
    """Centers the grid on the *next* close: a buy-the-dip grid that knows where price goes."""

    def grid_of(self, data, p):
        center, step = super().grid_of(data, p)
        close = data["close"]
        return np.append(close[1:], np.nan) * (1 + 0 * center), step


GRID = [{"n": n, "k": k, "levels": lv, "sl_pct": 0.05} for n in (10, 30) for k in (0.5, 1.5) for lv in (1, 3)]


@pytest.fixture(scope="module")
def market() -> Candles:
    return Candles(1500, 3)


def test_a_grid_strategy_runs_the_whole_first_backtest(market: Candles) -> None:
    p = plan(["C0", "C1", "C2"], plausibility=OPEN, wfa_windows=3, shuffle_permutations=5, min_trades=5,
             wfa_min_consistency=0.0, shuffle_max_pvalue=1.0, max_degradation=1e9)  # every gate runs, none stops
    for direction in (1, -1):
        out = run_backtest(HonestGrid(), market, p, GRID, direction=direction)
        assert out.reason is None, out.detail
        assert out.causality is not None and out.causality.finding is None  # honest: no difference
        assert out.wfa is not None and len(out.wfa.folds) == 3
        assert out.shuffle is not None and 0 < out.shuffle.pvalue <= 1
        assert out.best.params["levels"] in (1, 3) and "tp_pct" not in out.best.params
        chosen = out.best
        s = chosen.series[0]
        center, step = s.signals_of(chosen.param_index)
        want = run_single_grid(s.data["open"], s.data["high"], s.data["low"], s.data["close"], center, step,
                               levels=chosen.params["levels"], sl_pct=0.05, direction=direction, fee_rate=0.00045,
                               slippage_bps=2.0, funding_rate=s.funding, start=s.i_oos, end=s.n_bars,
                               bars_per_year=s.bars_per_year)
        assert s.single(chosen.param_index, s.i_oos, s.n_bars).metrics == want.metrics  # the grid engine ran


def test_a_peeking_grid_is_rejected_by_the_causality_check(market: Candles) -> None:
    out = run_backtest(PeekingGrid(), market, plan(["C0", "C1", "C2"], plausibility=OPEN), GRID, direction=1)
    assert out.reason == "backtest:lookahead", out.detail
    retest = run_retest(PeekingGrid(), market, plan(["C0", "C1"], plausibility=OPEN), "1h", GRID[0], 1)
    assert retest.reason == "backtest:lookahead"


def test_shuffle_and_twins_work_on_grid_outputs(market: Candles) -> None:
    window = (T0 + 100 * HOUR, T0 + 1000 * HOUR, T0 + 1500 * HOUR)
    src = HonestGrid()
    coins = [load_series(market, src, f"C{k}", "1h", window, 100, GRID, 1, (0.00045, 2.0)) for k in range(3)]
    res = shuffle_test(coins, src, 2, 9, seed=1)
    assert res.simulations == 30 and 0 < res.pvalue <= 1
    again = shuffle_test(coins, src, 2, 9, seed=1)
    assert again.pvalue == res.pvalue
    twins = evaluate_window(coins, 2, np.array([100, 200, 300]))
    assert len(twins.twin_returns) == 3 and np.all(np.isfinite(twins.twin_returns))
    assert not np.allclose(twins.twin_returns, twins.total_return)  # a twin trades other times
