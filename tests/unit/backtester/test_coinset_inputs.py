"""Declared extra inputs in the backtest series and the paper history: one loader, one
alignment, the same arrays for the same bars."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from sixbtc.app.paper import ArrayHistory
from sixbtc.backtester.coinset import load_series
from sixbtc.backtester.shuffle import shuffle_test
from sixbtc.strategy.inputs import data_keys

T0 = pd.Timestamp("2025-03-01", tz="UTC")
HOUR = pd.Timedelta(hours=1)
N = 900
INPUTS = ("open_time", "funding", "btc", "htf:4h", "htf:1d")
WINDOW = (T0 + 300 * HOUR, T0 + 600 * HOUR, T0 + N * HOUR)
WARMUP = 100


def walk(seed: int, start: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, N - start)))
    open_ = np.concatenate(([100.0], close[:-1]))
    return pd.DataFrame({"timestamp": T0 + HOUR * np.arange(start, N), "open": open_, "high": np.maximum(open_, close),
                         "low": np.minimum(open_, close), "close": close, "volume": rng.uniform(1, 2, N - start)})


class Store:
    def __init__(self) -> None:
        self.frames = {"ETH": walk(1), "BTC": walk(2, start=250)}  # BTC starts later: NaN before it
        hours = pd.DatetimeIndex(T0 + 8 * HOUR * np.arange(N // 8))
        self.funding = pd.DataFrame({"timestamp": hours, "rate": np.random.default_rng(3).normal(0, 2e-4, len(hours))})

    def _cut(self, df: pd.DataFrame, start: Any, end: Any) -> pd.DataFrame:
        keep = np.ones(len(df), bool)
        if start is not None:
            keep &= (df["timestamp"] >= start).to_numpy()
        if end is not None:
            keep &= (df["timestamp"] < end).to_numpy()
        return df[keep].reset_index(drop=True)

    def read_candles(self, symbol: str, timeframe: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        return self._cut(self.frames[symbol], start, end)

    def read_funding(self, symbol: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        return self._cut(self.funding, start, end)


class Recorder:
    """A signal source that records the data it is given (entries where funding < 0)."""

    inputs = INPUTS

    def __init__(self) -> None:
        self.calls: list[dict[str, np.ndarray]] = []

    def signals(self, data: dict[str, np.ndarray], params_list: list[dict[str, Any]]):
        self.calls.append(data)
        e = np.nan_to_num(data["funding"]) < 0
        return np.stack([e] * len(params_list)), np.stack([~e] * len(params_list))


def test_series_carries_the_declared_inputs_and_paper_history_gives_the_same_bars():
    store, src = Store(), Recorder()
    s = load_series(store, src, "ETH", "1h", WINDOW, WARMUP, [{"sl_pct": 0.02, "tp_pct": 0.04}], 1, (0.0, 0.0))
    assert s is not None and s.inputs == INPUTS
    assert set(data_keys(INPUTS)) <= set(s.data) and s.data["open_time"].dtype == np.int64
    assert np.isfinite(s.data["htf_1d_close"][:1]).all()  # read a day of history before the first bar
    assert np.isnan(s.data["btc_close"]).any() and np.isfinite(s.data["btc_close"][-1])
    history = ArrayHistory(SimpleNamespace(store=store), T0 + N * HOUR)
    first = int((WINDOW[0] - T0) / HOUR) - WARMUP  # the series' bar 0 is this stored bar
    for k in (WARMUP, 250, 333, 599, len(s.data["close"]) - 1):
        upto = (T0 + (first + k) * HOUR).to_pydatetime()
        got = history.recent("ETH", "1h", upto, 80, inputs=INPUTS)
        for key, arr in s.data.items():
            np.testing.assert_array_equal(got[key], arr[k - 79 : k + 1], err_msg=f"{key} at bar {k}")
    plain = history.recent("ETH", "1h", upto, 80)
    assert set(plain) == {"open", "high", "low", "close", "volume"}


def test_prefix_signals_realign_from_the_cut_sources_and_shuffles_keep_inputs():
    store, src = Store(), Recorder()
    s = load_series(store, src, "ETH", "1h", WINDOW, WARMUP, [{"sl_pct": 0.02, "tp_pct": 0.04}], 1, (0.0, 0.0))
    s.prefix_signals(0, 333)
    cut = src.calls[-1]
    assert len(cut["close"]) == 333 and set(cut) == set(s.data)
    for key in cut:
        np.testing.assert_array_equal(cut[key], s.data[key][:333], err_msg=key)  # honest alignment: equal
    s.signals_on(0, {k: s.data[k] for k in ("open", "high", "low", "close", "volume")})
    assert "htf_4h_close" in src.calls[-1]
    result = shuffle_test([s], src, 0, 2, seed=1)
    shuffled = src.calls[-1]
    np.testing.assert_array_equal(shuffled["open_time"], s.data["open_time"])
    assert not np.array_equal(shuffled["funding"][s.i_oos:], s.data["funding"][s.i_oos:])
    np.testing.assert_array_equal(np.sort(shuffled["funding"][s.i_oos:]), np.sort(s.data["funding"][s.i_oos:]))
    assert 0 < result.pvalue <= 1
