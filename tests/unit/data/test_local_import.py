"""import_path: CryptoDataDownload CSV, plain CSV, Parquet, filters and per-file errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.core.errors import DataError
from sixbtc.data.importer import classify, epoch_to_ms, import_path

# A small hand-written CDD-style file: banner line, newest first, mixed s/ms unix times,
# one invalid row (01:00: high 99.0 < close 101.0).
CDD_CSV = """https://www.CryptoDataDownload.com
unix,date,symbol,open,high,low,close,Volume SOL,Volume USDT,tradecount
1704078000000,2024-01-01 03:00:00,SOLUSDT,102.0,104.0,101.0,103.5,1300.0,134550.0,950
1704074400000,2024-01-01 02:00:00,SOLUSDT,101.0,103.0,100.5,102.0,1200.5,122451.0,900
1704070800,2024-01-01 01:00:00,SOLUSDT,100.0,99.0,99.5,101.0,1100.0,111100.0,800
1704067200,2024-01-01 00:00:00,SOLUSDT,99.0,100.5,98.0,100.0,1000.0,99500.0,700
"""

T0 = pd.Timestamp("2024-01-01", tz="UTC")


@pytest.fixture
def store(tmp_path: Path) -> ParquetCandleStore:
    return ParquetCandleStore(tmp_path / "store")


def test_cdd_csv_is_imported_oldest_first_with_base_volume(
    tmp_path: Path, store: ParquetCandleStore
) -> None:
    file = tmp_path / "Binance_SOLUSDT_1h.csv"
    file.write_text(CDD_CSV)
    [result] = import_path(file, store)
    assert (result.symbol, result.timeframe) == ("SOL", "1h")
    assert (result.stored, result.rejected) == (3, 1)
    assert result.reasons == {"high_below_open_close": 1}
    assert result.error is None and not result.skipped
    out = store.read_candles("SOL", "1h")
    assert list(out["timestamp"]) == [T0, T0 + pd.Timedelta(hours=2), T0 + pd.Timedelta(hours=3)]
    assert list(out["volume"]) == [1000.0, 1200.5, 1300.0]  # "Volume SOL", not "Volume USDT"


def test_cdd_daily_name_and_old_hour_format(tmp_path: Path, store: ParquetCandleStore) -> None:
    file = tmp_path / "Bitstamp_ETHUSD_d.csv"
    file.write_text(
        "https://www.CryptoDataDownload.com\n"
        "Date,Symbol,Open,High,Low,Close,Volume ETH,Volume USD\n"
        "2020-01-02,ETHUSD,130,131,127,128,1000,128000\n"
        "2020-01-01,ETHUSD,129,132,128,130,900,117000\n"
    )
    [result] = import_path(file, store)
    assert (result.symbol, result.timeframe, result.stored) == ("ETH", "1d", 2)
    hourly = tmp_path / "Coinbase_BTCUSD_1h.csv"
    hourly.write_text(
        "https://www.CryptoDataDownload.com\n"
        "Date,Symbol,Open,High,Low,Close,Volume BTC,Volume USD\n"
        "2019-10-17 01-PM,BTCUSD,8000,8010,7990,8005,10,80000\n"
        "2019-10-17 09-AM,BTCUSD,7990,8001,7980,8000,12,96000\n"
    )
    [result] = import_path(hourly, store)
    assert result.stored == 2
    stamps = list(store.read_candles("BTC", "1h")["timestamp"])
    assert stamps == [
        pd.Timestamp("2019-10-17 09:00", tz="UTC"),
        pd.Timestamp("2019-10-17 13:00", tz="UTC"),
    ]


def test_plain_csv_and_parquet_and_funding(tmp_path: Path, store: ParquetCandleStore) -> None:
    (tmp_path / "XRP_4h.csv").write_text(
        "open_time,open,high,low,close,volume\n"
        "1704067200000,0.6,0.62,0.59,0.61,1000\n1704081600000,0.61,0.63,0.6,0.62,900\n"
    )
    frame = store_frame = pd.DataFrame(
        {
            "timestamp": pd.date_range(T0, periods=3, freq="15min", unit="ns"),
            "open": [1.0, 1.1, 1.2],
            "high": [1.2, 1.3, 1.4],
            "low": [0.9, 1.0, 1.1],
            "close": [1.1, 1.2, 1.3],
            "volume": [5.0, 6.0, 7.0],
        }
    )
    frame.to_parquet(tmp_path / "ADA_15m.parquet")
    pd.DataFrame({"timestamp": [T0, T0 + pd.Timedelta(hours=8)], "rate": [1e-4, 2e-4]}).to_parquet(
        tmp_path / "ADA_funding.parquet"
    )
    results = {r.file.name: r for r in import_path(tmp_path, store)}
    assert results["XRP_4h.csv"].stored == 2
    assert results["ADA_15m.parquet"].stored == 3
    assert results["ADA_funding.parquet"].timeframe == "funding"
    assert results["ADA_funding.parquet"].stored == 2
    pd.testing.assert_frame_equal(store.read_candles("ADA", "15m"), store_frame)
    assert list(store.read_funding("ADA")["rate"]) == [1e-4, 2e-4]


def test_filters_mark_files_skipped(tmp_path: Path, store: ParquetCandleStore) -> None:
    (tmp_path / "Binance_SOLUSDT_1h.csv").write_text(CDD_CSV)
    (tmp_path / "Binance_ETHUSDT_1h.csv").write_text(CDD_CSV.replace("Volume SOL", "Volume ETH"))
    results = {r.symbol: r for r in import_path(tmp_path, store, symbols={"ETH"})}
    assert results["SOL"].skipped and results["SOL"].stored == 0
    assert not results["ETH"].skipped and results["ETH"].stored == 3
    assert not store.has("SOL", "1h")
    by_tf = import_path(tmp_path, store, timeframes={"4h"})
    assert all(r.skipped for r in by_tf)


def test_bad_files_report_errors_without_aborting(
    tmp_path: Path, store: ParquetCandleStore
) -> None:
    (tmp_path / "ADA_1h.csv").write_text("foo,open\n1,2\n")
    (tmp_path / "BNB_1h.parquet").write_bytes(b"not parquet")
    (tmp_path / "index.csv").write_text("a,b\n1,2\n")
    (tmp_path / "README.md").write_text("ignored: not a data file")
    (tmp_path / "Binance_SOLUSDT_1h.csv").write_text(CDD_CSV)
    results = {r.file.name: r for r in import_path(tmp_path, store)}
    assert set(results) == {"ADA_1h.csv", "BNB_1h.parquet", "index.csv", "Binance_SOLUSDT_1h.csv"}
    assert "no time column" in results["ADA_1h.csv"].error
    assert results["BNB_1h.parquet"].error is not None
    assert results["index.csv"].skipped and "unrecognised" in results["index.csv"].error
    assert results["Binance_SOLUSDT_1h.csv"].stored == 3


def test_classify_and_errors(tmp_path: Path) -> None:
    assert classify(Path("1000PEPE_1h.parquet")).symbol == "1000PEPE"
    assert classify(Path("Binance_BTCUSDT_minute.csv")).timeframe == "1m"
    with pytest.raises(DataError, match="timeframe"):
        classify(Path("BTC_7h.parquet"))
    with pytest.raises(DataError, match="does not exist"):
        import_path(tmp_path / "missing", ParquetCandleStore(tmp_path / "s"))


def test_epoch_seconds_and_milliseconds() -> None:
    out = epoch_to_ms(pd.Series([1704067200, 1704067200000, None]))
    assert out.iloc[0] == out.iloc[1] == 1704067200000.0
    assert pd.isna(out.iloc[2])
