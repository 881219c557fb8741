"""Shuffle (Monte Carlo permutation) test of the backtest protocol, and the bar permutation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from sixbtc.backtester.coinset import CoinSeries, load_series
from sixbtc.backtester.protocol import BacktestPlan, run_backtest
from sixbtc.backtester.shuffle import shuffle_test
from sixbtc.strategy.permutation import permute_bars

T0 = pd.Timestamp("2025-01-01", tz="UTC")
HOUR = pd.Timedelta(hours=1)
WINDOW = (T0 + 100 * HOUR, T0 + 1000 * HOUR, T0 + 1500 * HOUR)


def candles(seed: int, n: int = 1500, edge: float = 0.006) -> pd.DataFrame:
    """1h OHLCV; a bar closing up more than 0.8 % is followed by a +``edge`` bar (planted)."""
    rng = np.random.default_rng(seed)
    ret = rng.normal(0.0, 0.005, n)
    for i in range(1, n):
        if ret[i - 1] > 0.008:
            ret[i] += edge
    close = 100.0 * np.cumprod(1.0 + ret)
    open_ = np.concatenate(([100.0], close[:-1]))
    return pd.DataFrame({"timestamp": T0 + HOUR * np.arange(n), "open": open_, "high": np.maximum(open_, close) * 1.001,
                         "low": np.minimum(open_, close) * 0.999, "close": close, "volume": np.full(n, 1e6)})


class Store:
    def __init__(self, frames: dict[str, pd.DataFrame]) -> None:
        self.frames = frames

    def read_candles(self, symbol: str, timeframe: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        df = self.frames[symbol]
        return df[(df["timestamp"] >= start) & (df["timestamp"] < end)]

    def read_funding(self, symbol: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        return pd.DataFrame({"timestamp": pd.DatetimeIndex([], tz="UTC"), "rate": np.zeros(0)})


class MomentumSignals:
    """Enter after a bar closing up more than ``threshold`` (causal), exit one bar later."""

    def signals(self, data: dict[str, np.ndarray], params_list: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        c = data["close"]
        ret = np.concatenate(([0.0], c[1:] / c[:-1] - 1.0))
        entries = np.stack([ret > p["threshold"] for p in params_list])
        exits = np.roll(entries, 1, axis=1)
        exits[:, 0] = False
        return entries, exits


class RandomSignals:
    """Entries drawn at random (seeded by the parameters, independent of prices)."""

    def signals(self, data: dict[str, np.ndarray], params_list: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        n = len(data["close"])
        entries = np.stack([np.random.default_rng(p["seed"]).random(n) < 0.1 for p in params_list])
        exits = np.roll(entries, 1, axis=1)
        exits[:, 0] = False
        return entries, exits


def series(signals: Any, params: dict[str, Any], coins: int = 3) -> list[CoinSeries]:
    store = Store({f"C{k}": candles(seed=10 + k) for k in range(coins)})
    out = [load_series(store, signals, f"C{k}", "1h", WINDOW, 100, [params], 1, (0.0, 0.0)) for k in range(coins)]
    return [s for s in out if s is not None]


def test_planted_edge_has_a_small_pvalue() -> None:
    src = MomentumSignals()
    res = shuffle_test(series(src, {"threshold": 0.008, "sl_pct": 0.0, "tp_pct": 0.0}), src, 0, 40, seed=123)
    assert res.actual > 1.0
    assert res.pvalue == pytest.approx(1 / 41)  # no permutation matched the actual Sharpe
    assert res.simulations == 41 * 3 and res.seed == 123 and res.symbols == ["C0", "C1", "C2"]


def test_random_entries_are_not_significant_and_reproducible() -> None:
    src = RandomSignals()
    coins = series(src, {"seed": 5, "sl_pct": 0.0, "tp_pct": 0.0})
    first = shuffle_test(coins, src, 0, 40, seed=7)
    assert first.pvalue > 0.1
    assert shuffle_test(coins, src, 0, 40, seed=7).pvalue == first.pvalue  # seeded -> identical


def test_shuffle_gate_rejects_random_entries() -> None:
    store = Store({f"C{k}": candles(seed=10 + k) for k in range(3)})
    plan = BacktestPlan({"1h": ["C0", "C1", "C2"]}, *WINDOW, 100, 0.0, 0.0, 5, 1.0, wfa_windows=0,
                        shuffle_permutations=20, shuffle_max_pvalue=0.05, seed=3)
    out = run_backtest(RandomSignals(), store, plan, [{"seed": 5, "sl_pct": 0.0, "tp_pct": 0.0}], 1)
    assert out.reason == "backtest:shuffle" and out.shuffle is not None and out.shuffle.seed == 3


def test_permute_bars_keeps_ohlc_and_the_prefix() -> None:
    df = candles(seed=1, n=300)
    sample = {k: df[k].to_numpy() for k in ("open", "high", "low", "close", "volume")}
    out = permute_bars(sample, 100, np.random.default_rng(0))
    for k in sample:
        np.testing.assert_array_equal(out[k][:100], sample[k][:100])
    assert np.all(out["low"] <= np.minimum(out["open"], out["close"]))
    assert np.all(out["high"] >= np.maximum(out["open"], out["close"]))
    rel = np.sort(out["close"][100:] / out["open"][100:])
    np.testing.assert_allclose(rel, np.sort(sample["close"][100:] / sample["open"][100:]), rtol=1e-12)
    assert not np.allclose(out["close"][100:], sample["close"][100:])
    with pytest.raises(ValueError, match="start"):
        permute_bars(sample, 0, np.random.default_rng(0))
