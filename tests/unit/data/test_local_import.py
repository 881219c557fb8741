"""import_path: CryptoDataDownload CSV, plain CSV, Parquet, filters and per-file errors."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.core.clock import SimClock
from sixbtc.core.errors import DataError
from sixbtc.data.importer import classify, import_path, summarise
from sixbtc.data.timestamps import epoch_to_utc

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
    assert set(results) == {
        "ADA_1h.csv", "BNB_1h.parquet", "index.csv", "README.md", "Binance_SOLUSDT_1h.csv", "store"
    }
    assert results["store"].skipped and "folder" in results["store"].skip_reason
    assert "no time column" in results["ADA_1h.csv"].error
    assert results["BNB_1h.parquet"].error is not None
    assert results["index.csv"].skipped and "unrecognised" in results["index.csv"].skip_reason
    assert results["README.md"].skipped and "not a .parquet or .csv" in results["README.md"].skip_reason
    assert results["Binance_SOLUSDT_1h.csv"].stored == 3


def test_classify_and_errors(tmp_path: Path) -> None:
    assert classify(Path("1000PEPE_1h.parquet")).symbol == "1000PEPE"
    assert classify(Path("Binance_BTCUSDT_minute.csv")).timeframe == "1m"
    with pytest.raises(DataError, match="timeframe"):
        classify(Path("BTC_7h.parquet"))
    with pytest.raises(DataError, match="does not exist"):
        import_path(tmp_path / "missing", ParquetCandleStore(tmp_path / "s"))


def test_epoch_seconds_and_milliseconds() -> None:
    out, units = epoch_to_utc(pd.Series([1704067200, 1704067200000, None]))
    assert out.iloc[0] == out.iloc[1] == T0
    assert pd.isna(out.iloc[2]) and units == ("s", "ms")


# ------------------------------------------------------------------------------- issue 8
def frame(n: int = 3, start: pd.Timestamp = T0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": pd.date_range(start, periods=n, freq="1h", unit="ns"),
            "open": [1.0 + i for i in range(n)],
            "high": [1.5 + i for i in range(n)],
            "low": [0.5 + i for i in range(n)],
            "close": [1.2 + i for i in range(n)],
            "volume": [5.0] * n,
        }
    )


@pytest.mark.parametrize(
    ("unit", "scale", "word"),
    [("s", 10**9, "seconds"), ("ms", 10**6, "milliseconds"), ("us", 10**3, "microseconds"),
     ("ns", 1, "nanoseconds")],
)
def test_parquet_with_integer_epochs_of_any_unit_is_imported(
    tmp_path: Path, store: ParquetCandleStore, unit: str, scale: int, word: str
) -> None:
    df = frame()
    df["timestamp"] = df["timestamp"].astype("int64") // scale
    df.to_parquet(tmp_path / "BTC_1h.parquet")
    [result] = import_path(tmp_path / "BTC_1h.parquet", store)
    assert (result.stored, result.rejected, result.error) == (3, 0, None), result
    assert any(word in note for note in result.notes)
    pd.testing.assert_frame_equal(store.read_candles("BTC", "1h"), frame())


def test_parquet_time_index_and_upper_case_columns(tmp_path: Path, store: ParquetCandleStore) -> None:
    df = frame().rename(columns=str.capitalize).rename(columns={"Timestamp": "Date"})
    df.set_index("Date").to_parquet(tmp_path / "ETH_1h.parquet")
    [result] = import_path(tmp_path / "ETH_1h.parquet", store)
    assert result.stored == 3, result


def test_future_and_forming_candles_are_rejected_at_import(
    tmp_path: Path, store: ParquetCandleStore
) -> None:
    df = pd.concat([frame(6), frame(3, pd.Timestamp("2030-01-01", tz="UTC"))], ignore_index=True)
    df.to_parquet(tmp_path / "BTC_1h.parquet")
    clock = SimClock(datetime(2024, 1, 1, 5, 30, tzinfo=UTC))  # the 05:00 candle is forming
    [result] = import_path(tmp_path / "BTC_1h.parquet", store, clock=clock)
    assert result.reasons == {"not_closed": 1, "future_timestamp": 3}
    assert (result.stored, result.rejected) == (5, 4)
    assert store.last_timestamp("BTC", "1h") == T0 + pd.Timedelta(hours=4)


def test_future_funding_and_absurd_rates_are_rejected_at_import(
    tmp_path: Path, store: ParquetCandleStore
) -> None:
    pd.DataFrame(
        {
            "timestamp": [T0, T0 + pd.Timedelta(hours=8), T0 + pd.Timedelta(hours=16),
                          pd.Timestamp("2030-01-01", tz="UTC")],
            "rate": [1e-4, 5.0, -3.0, 1e-4],
        }
    ).to_parquet(tmp_path / "BTC_funding.parquet")
    clock = SimClock(datetime(2024, 6, 1, tzinfo=UTC))
    [result] = import_path(tmp_path / "BTC_funding.parquet", store, clock=clock)
    assert result.reasons == {"rate_out_of_range": 2, "future_timestamp": 1}
    assert list(store.read_funding("BTC")["rate"]) == [1e-4]


def test_every_skipped_entry_is_listed_with_its_reason(
    tmp_path: Path, store: ParquetCandleStore
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    frame().to_parquet(src / "BTC_7h.parquet")  # unknown timeframe
    frame().to_parquet(src / "eth_1h.parquet")  # lower-case symbol: imported as ETH
    frame().to_parquet(src / "XRP_1H.parquet")  # upper-case H: 1H is not a timeframe
    (src / "SOL_1h.parquet").symlink_to(src / "gone.parquet")  # dead symlink
    (src / "notes.txt").write_text("x")
    (src / "sub").mkdir()
    os.mkfifo(src / "ADA_1h.csv")  # a FIFO must not hang the import
    results = {r.file.name: r for r in import_path(src, store)}
    assert set(results) == {
        "BTC_7h.parquet", "eth_1h.parquet", "XRP_1H.parquet", "SOL_1h.parquet", "notes.txt",
        "sub", "ADA_1h.csv",
    }
    assert results["eth_1h.parquet"].status == "imported" and store.has("ETH", "1h")
    assert "unknown timeframe '7h'" in results["BTC_7h.parquet"].skip_reason
    assert "unknown timeframe '1H'" in results["XRP_1H.parquet"].skip_reason
    assert results["SOL_1h.parquet"].status == "failed"
    assert "broken symbolic link" in results["SOL_1h.parquet"].error
    assert results["ADA_1h.csv"].status == "failed" and "regular file" in results["ADA_1h.csv"].error
    assert results["notes.txt"].skip_reason and results["sub"].skip_reason
    assert all(r.skip_reason or r.error for r in results.values() if r.status != "imported")


@pytest.mark.parametrize("name", ["BTC_7h.parquet", "prices.parquet", "BTC_1H.csv"])
def test_a_named_file_that_cannot_be_imported_is_an_error(
    tmp_path: Path, store: ParquetCandleStore, name: str
) -> None:
    frame().to_parquet(tmp_path / name)
    [result] = import_path(tmp_path / name, store)
    assert result.status == "failed" and name in result.error
    assert not summarise([result]).ok


def test_a_named_dead_symlink_is_an_error(tmp_path: Path, store: ParquetCandleStore) -> None:
    (tmp_path / "BTC_1h.parquet").symlink_to(tmp_path / "nowhere.parquet")
    with pytest.raises(DataError, match="broken symbolic link"):
        import_path(tmp_path / "BTC_1h.parquet", store)


def test_a_file_with_no_valid_row_is_a_failure(tmp_path: Path, store: ParquetCandleStore) -> None:
    bad = frame()
    bad["high"] = 0.1  # high below open/close on every row
    bad.to_parquet(tmp_path / "BTC_1h.parquet")
    frame(0).to_parquet(tmp_path / "ETH_1h.parquet")
    frame().to_parquet(tmp_path / "XRP_1h.parquet")
    results = {r.file.name: r for r in import_path(tmp_path, store)}
    assert results["BTC_1h.parquet"].status == "failed"
    assert "all 3 rejected" in results["BTC_1h.parquet"].error
    assert results["BTC_1h.parquet"].reasons == {"high_below_open_close": 3}
    assert "no rows" in results["ETH_1h.parquet"].error
    summary = summarise(list(results.values()))
    assert (summary.imported, summary.failed, summary.stored, summary.rejected) == (1, 2, 3, 3)
    assert not summary.ok


def test_a_named_fifo_fails_instead_of_hanging(tmp_path: Path, store: ParquetCandleStore) -> None:
    os.mkfifo(tmp_path / "BTC_1h.csv")
    [result] = import_path(tmp_path / "BTC_1h.csv", store)
    assert result.status == "failed" and "not a regular file" in result.error
