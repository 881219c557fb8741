"""find_spikes: isolated one-bar outliers are reported (and kept), real moves are not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.data.anomalies import (
    CLOSE_SPIKE_FACTOR,
    WICK_SPIKE_FACTOR,
    find_spikes,
    screen_spikes,
    validate_and_screen,
    volume_warnings,
)
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
    spike(candles(), 20, 20.0).to_parquet(src / "BTC_1h.parquet")
    store = ParquetCandleStore(tmp_path / "store")
    [result] = import_path(src, store)
    assert result.stored == 50 and result.rejected == 0
    assert len(result.warnings) == 1 and "2024-01-01T20:00Z" in result.warnings[0]
    assert "spike" in result.warnings[0]
    assert len(store.read_candles("BTC", "1h")) == 50  # kept: it may be a real flash crash


def test_import_quarantines_a_100x_spike_reports_it_and_does_not_store_it(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    spike(candles(), 20, 1000.0).to_parquet(src / "BTC_1h.parquet")
    store = ParquetCandleStore(tmp_path / "store")
    [result] = import_path(src, store)
    assert result.stored == 49 and result.rejected == 1
    assert result.reasons == {"spike_quarantined": 1}
    assert "quarantined" in result.warnings[0] and "2024-01-01T20:00Z" in result.warnings[0]
    stored = store.read_candles("BTC", "1h")
    assert T0 + 20 * HOUR not in set(stored["timestamp"])


@pytest.mark.parametrize("factor", [100.0, 0.005])
def test_screen_splits_kept_and_quarantined(factor: float) -> None:
    df = candles()
    df.loc[:, ["open", "high", "low", "close"]] = 100.0  # flat: the factor is exact
    screened = screen_spikes(spike(df, 30, factor))
    assert len(screened.kept) == 49 and list(screened.quarantined["timestamp"]) == [T0 + 30 * HOUR]
    assert len(screen_spikes(spike(df, 30, 99.0)).quarantined) == 0


def test_edge_bars_are_judged_against_the_stored_neighbours() -> None:
    df = spike(candles(), 20, 1000.0)
    batch = df.iloc[20:21]  # the spike alone, as a one-bar gap fill returns it
    assert len(screen_spikes(batch).quarantined) == 0  # no neighbours: cannot judge
    around = df.iloc[[18, 19, 21, 22]]
    assert len(screen_spikes(batch, neighbours=around).quarantined) == 1


def test_validation_reasons_include_the_quarantine() -> None:
    df = spike(candles(), 10, 1000.0)
    df.loc[30, "volume"] = np.inf
    checked, warnings = validate_and_screen(df, "1h", now=T0 + 100 * HOUR)
    assert checked.reasons == {"non_finite": 1, "spike_quarantined": 1}
    assert checked.rejected == 2 and len(checked.valid) == 48
    assert set(checked.rejected_rows["reason"]) == {"non_finite", "spike_quarantined"}


def test_volume_only_anomaly_is_reported_not_rejected() -> None:
    df = candles(100)
    df.loc[60, "volume"] = 500.0  # 500x the usual 1.0, price unremarkable
    checked, warnings = validate_and_screen(df, "1h", now=T0 + 200 * HOUR)
    assert checked.rejected == 0 and len(checked.valid) == 100
    assert len(warnings) == 1 and "volume 500" in warnings[0] and "2024-01-03T12:00Z" in warnings[0]
    df.loc[60, "volume"] = 50.0
    assert volume_warnings(df) == []
