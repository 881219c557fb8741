"""find_spikes: isolated one-bar outliers are reported (and kept), real moves are not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.data.anomalies import CLOSE_SPIKE_FACTOR, WICK_SPIKE_FACTOR, find_spikes
from sixbtc.data.importer import import_path

T0 = pd.Timestamp("2024-01-01", tz="UTC")
HOUR = pd.Timedelta(hours=1)


def candles(n: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.r_[close[0], close[:-1]]
    return pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex([T0 + i * HOUR for i in range(n)]).as_unit("ns"),
            "open": open_,
            "high": np.maximum(open_, close) * 1.002,
            "low": np.minimum(open_, close) * 0.998,
            "close": close,
            "volume": np.ones(n),
        }
    )


def spike(df: pd.DataFrame, i: int, factor: float) -> pd.DataFrame:
    out = df.copy()
    out.loc[i, ["open", "high", "low", "close"]] *= factor
    return out


def test_clean_random_walk_has_no_spike() -> None:
    assert find_spikes(candles()) == []


@pytest.mark.parametrize("factor", [100.0, 1 / 100.0, CLOSE_SPIKE_FACTOR * 1.1])
def test_isolated_one_bar_spike_is_found(factor: float) -> None:
    found = find_spikes(spike(candles(), 20, factor))
    assert [(s.ts, s.column) for s in found] == [(T0 + 20 * HOUR, "close")]
    assert "2024-01-01T20:00Z" in found[0].describe()


def test_wick_spike_is_found() -> None:
    df = candles()
    df.loc[30, "high"] = df.loc[30, "close"] * 100
    df.loc[31, "low"] = df.loc[31, "close"] / (WICK_SPIKE_FACTOR * 2)
    found = find_spikes(df)
    assert [(s.ts, s.column) for s in found] == [(T0 + 30 * HOUR, "high"), (T0 + 31 * HOUR, "low")]


def test_a_crash_that_does_not_revert_is_not_a_spike() -> None:
    df = candles()
    df.loc[25:, ["open", "high", "low", "close"]] *= 0.05  # a real -95 % collapse that stays
    df.loc[25, "open"] = df.loc[24, "close"]
    df.loc[25, "high"] = df.loc[25, "open"]
    assert find_spikes(df) == []


def test_import_stores_the_spike_and_warns(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    spike(candles(), 20, 100.0).to_parquet(src / "BTC_1h.parquet")
    store = ParquetCandleStore(tmp_path / "store")
    [result] = import_path(src, store)
    assert result.stored == 50 and result.rejected == 0
    assert len(result.warnings) == 1 and "2024-01-01T20:00Z" in result.warnings[0]
    assert "spike" in result.warnings[0]
    assert len(store.read_candles("BTC", "1h")) == 50  # kept: it may be a real flash crash
