"""Import and validation on the real Binance USDⓈ-M snapshot in ``<repo>/../shared/data``."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.data.anomalies import find_spikes
from sixbtc.data.importer import import_path
from sixbtc.data.replay import ReplayFeed

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "binance_usdm"

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def usdm() -> Path:
    if not (DATA / "BTC_1h.parquet").is_file():
        pytest.skip(f"real market data not found at {DATA.resolve()}")
    return DATA


def test_real_btc_files_import_without_rejections(usdm: Path, tmp_path: Path) -> None:
    store = ParquetCandleStore(tmp_path / "store")
    results = import_path(usdm, store, symbols={"BTC"}, timeframes={"1h", "4h", "funding"})
    imported = {r.timeframe: r for r in results if not r.skipped}
    assert set(imported) == {"1h", "4h", "funding"}
    for tf, result in imported.items():
        source = pd.read_parquet(usdm / f"BTC_{tf}.parquet")
        assert result.error is None and result.rejected == 0
        assert result.stored == len(source)
        stored = store.read_funding("BTC") if tf == "funding" else store.read_candles("BTC", tf)
        pd.testing.assert_frame_equal(stored, source)


def test_corrupted_copy_rejects_exactly_the_corrupted_rows(usdm: Path, tmp_path: Path) -> None:
    source = pd.read_parquet(usdm / "BTC_4h.parquet")
    bad = source.copy()
    bad.loc[10, "close"] = np.nan
    bad.loc[20, ["high", "low"]] = [bad.loc[20, "low"], bad.loc[20, "high"]]  # high < low
    bad.loc[30, "timestamp"] += pd.Timedelta(minutes=30)  # off the 4h grid
    bad = pd.concat([bad, bad.iloc[[40]]], ignore_index=True)  # duplicate of row 40
    src = tmp_path / "src"
    src.mkdir()
    bad.to_parquet(src / "BTC_4h.parquet")
    store = ParquetCandleStore(tmp_path / "store")
    [result] = import_path(src, store)
    assert result.rejected == 4
    assert result.reasons == {
        "non_finite": 1,
        "high_below_open_close": 1,
        "off_grid": 1,
        "duplicate_identical": 1,
    }
    assert result.stored == len(source) - 3
    expected = source.drop(index=[10, 20, 30]).reset_index(drop=True)
    pd.testing.assert_frame_equal(store.read_candles("BTC", "4h"), expected)


def test_replay_over_real_data_is_time_ordered(usdm: Path, tmp_path: Path) -> None:
    store = ParquetCandleStore(tmp_path)
    shutil.copy(usdm / "BTC_1h.parquet", tmp_path / "BTC_1h.parquet")
    shutil.copy(usdm / "ETH_4h.parquet", tmp_path / "ETH_4h.parquet")
    start, end = pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2025-01-08", tz="UTC")
    candles = list(ReplayFeed(store, [("BTC", "1h"), ("ETH", "4h")], start, end))
    assert len(candles) == 7 * 24 + 7 * 6
    closes = [c.close_ts for c in candles]
    assert closes == sorted(closes)
    source = pd.read_parquet(usdm / "BTC_1h.parquet").set_index("timestamp")
    btc = next(c for c in candles if c.symbol == "BTC")
    assert btc.close == source.loc[btc.ts, "close"]


def test_spike_rule_is_silent_on_real_perps_and_finds_the_published_bad_tick(usdm: Path) -> None:
    for name in ("BTC_1h", "ETH_1h", "SOL_5m", "PIPPIN_1h", "KAS_1h"):
        assert find_spikes(pd.read_parquet(usdm / f"{name}.parquet")) == [], name
    spot = usdm.parent / "binance_spot" / "LINK_1h.parquet"
    if not spot.is_file():
        pytest.skip(f"{spot} not found")
    [spike] = find_spikes(pd.read_parquet(spot))  # the 0.0001 low of 2020-03-12 10:00
    assert (spike.ts, spike.column) == (pd.Timestamp("2020-03-12 10:00", tz="UTC"), "low")
