"""ParquetCandleStore: layout, merge, half-open reads, sidecar, auto-heal, cache."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.core.clock import SimClock
from sixbtc.core.errors import DataError
from sixbtc.data.ports import CandleStore

HOUR = pd.Timedelta(hours=1)
T0 = pd.Timestamp("2024-01-01 00:00", tz="UTC")


def candles(n: int, start: pd.Timestamp = T0, level: float = 100.0) -> pd.DataFrame:
    close = level + np.arange(n, dtype=float)
    return pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex([start + i * HOUR for i in range(n)]).as_unit("ns"),
            "open": close,
            "high": close + 1.0,
            "low": close - 1.0,
            "close": close,
            "volume": np.ones(n),
        }
    )


@pytest.fixture
def store(tmp_path: Path) -> ParquetCandleStore:
    return ParquetCandleStore(tmp_path / "binance")


def test_implements_the_port(store: ParquetCandleStore) -> None:
    assert isinstance(store, CandleStore)


def test_write_then_read_roundtrip_and_layout(store: ParquetCandleStore) -> None:
    df = candles(10)
    assert store.write_candles("BTC", "1h", df) == 10
    assert (store.root / "BTC_1h.parquet").is_file()
    meta = json.loads((store.root / "BTC_1h.meta.json").read_text())
    assert meta["rows"] == 10 and meta["is_full_history"] is False
    assert pd.Timestamp(meta["first"]) == T0 and pd.Timestamp(meta["last"]) == T0 + 9 * HOUR
    assert "updated_at" in meta
    pd.testing.assert_frame_equal(store.read_candles("BTC", "1h"), df)
    assert not list(store.root.glob("*.tmp"))  # no temp files left behind


def test_merge_new_rows_win(store: ParquetCandleStore) -> None:
    store.write_candles("BTC", "1h", candles(10))
    update = candles(5, start=T0 + 8 * HOUR, level=500.0)
    assert store.write_candles("BTC", "1h", update) == 5
    out = store.read_candles("BTC", "1h")
    assert len(out) == 13
    assert out.loc[out["timestamp"] == T0 + 8 * HOUR, "close"].item() == 500.0
    assert out.loc[out["timestamp"] == T0 + 7 * HOUR, "close"].item() == 107.0
    assert store.last_timestamp("BTC", "1h") == T0 + 12 * HOUR


def test_invalid_rows_never_stored(store: ParquetCandleStore) -> None:
    df = candles(5)
    df.loc[1, "close"] = np.nan
    df.loc[3, "high"] = 1.0
    assert store.write_candles("ETH", "1h", df) == 3
    out = store.read_candles("ETH", "1h")
    assert list(out["timestamp"]) == [T0, T0 + 2 * HOUR, T0 + 4 * HOUR]


def test_read_is_half_open(store: ParquetCandleStore) -> None:
    store.write_candles("BTC", "1h", candles(10))
    out = store.read_candles("BTC", "1h", T0 + 2 * HOUR, T0 + 5 * HOUR)
    assert list(out["timestamp"]) == [T0 + 2 * HOUR, T0 + 3 * HOUR, T0 + 4 * HOUR]
    naive = store.read_candles("BTC", "1h", start=pd.Timestamp("2024-01-01 08:00"))
    assert len(naive) == 2
    assert store.read_candles("BTC", "1h", T0 + 5 * HOUR, T0 + 5 * HOUR).empty


def test_read_missing_raises_and_has_is_false(store: ParquetCandleStore) -> None:
    assert not store.has("BTC", "1h")
    assert store.last_timestamp("BTC", "1h") is None
    with pytest.raises(DataError, match="BTC 1h"):
        store.read_candles("BTC", "1h")


def test_bad_names_rejected(store: ParquetCandleStore) -> None:
    with pytest.raises(DataError, match="symbol"):
        store.write_candles("../etc", "1h", candles(2))
    with pytest.raises(DataError, match="timeframe"):
        store.read_candles("BTC", "7h")


def test_inventory_and_symbols(store: ParquetCandleStore) -> None:
    store.write_candles("ETH", "1h", candles(3))
    store.write_candles("BTC", "4h", candles(2).iloc[[0]])
    store.write_candles("BTC", "1h", candles(4))
    store.write_funding("BTC", pd.DataFrame({"timestamp": [T0], "rate": [0.0001]}))
    entries = store.inventory()
    assert [(e.symbol, e.timeframe, e.rows) for e in entries] == [
        ("BTC", "1h", 4),
        ("BTC", "4h", 1),
        ("ETH", "1h", 3),
    ]
    assert entries[0].first == T0 and entries[0].last == T0 + 3 * HOUR
    assert store.symbols("1h") == ["BTC", "ETH"]
    assert store.symbols("4h") == ["BTC"]


def test_is_full_history_flag_is_kept_unless_given(store: ParquetCandleStore) -> None:
    store.write_candles("BTC", "1h", candles(3), is_full_history=True)
    store.write_candles("BTC", "1h", candles(2, start=T0 + 3 * HOUR))
    entry = store.entry("BTC", "1h")
    assert entry is not None and entry.is_full_history and entry.rows == 5


@pytest.mark.parametrize("content", [b"", b"PAR1", b"this is not a parquet file at all"])
def test_auto_heal_moves_corrupt_files_away(store: ParquetCandleStore, content: bytes) -> None:
    path = store.root / "SOL_1h.parquet"
    path.write_bytes(content)
    assert not store.has("SOL", "1h")
    assert not path.exists()
    assert store.write_candles("SOL", "1h", candles(2)) == 2  # a fresh write works after heal


def test_cache_sees_external_rewrite(store: ParquetCandleStore) -> None:
    store.write_candles("BTC", "1h", candles(3))
    assert len(store.read_candles("BTC", "1h")) == 3
    other = ParquetCandleStore(store.root)  # e.g. another process
    other.write_candles("BTC", "1h", candles(2, start=T0 + 3 * HOUR))
    os.utime(store.root / "BTC_1h.parquet", ns=(1, 2))  # force a different mtime key
    assert len(store.read_candles("BTC", "1h")) == 5


def test_returned_frame_mutation_does_not_corrupt_cache(store: ParquetCandleStore) -> None:
    store.write_candles("BTC", "1h", candles(3))
    first = store.read_candles("BTC", "1h")
    first.loc[0, "close"] = -1.0
    assert store.read_candles("BTC", "1h").loc[0, "close"] == 100.0


def test_funding_roundtrip_and_empty(store: ParquetCandleStore) -> None:
    empty = store.read_funding("BTC")
    assert empty.empty and list(empty.columns) == ["timestamp", "rate"]
    assert str(empty["timestamp"].dtype) == "datetime64[ns, UTC]"
    df = pd.DataFrame(
        {
            "timestamp": [T0 + 8 * HOUR * i + pd.Timedelta(milliseconds=3) for i in range(4)],
            "rate": [1e-4, 2e-4, -1e-4, 0.0],
        }
    )
    assert store.write_funding("BTC", df) == 4
    assert (store.root / "BTC_funding.parquet").is_file()
    out = store.read_funding("BTC", start=T0 + 8 * HOUR, end=T0 + 24 * HOUR)
    assert list(out["timestamp"]) == [T0 + 8 * HOUR, T0 + 16 * HOUR]
    assert list(out["rate"]) == [2e-4, -1e-4]
    store.write_funding("BTC", pd.DataFrame({"timestamp": [T0], "rate": [5e-4]}))
    assert store.read_funding("BTC")["rate"].iloc[0] == 5e-4
    assert store.inventory() == []  # funding is not a candle series


def test_failed_verification_keeps_old_file(
    store: ParquetCandleStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.write_candles("BTC", "1h", candles(3))
    before = (store.root / "BTC_1h.parquet").read_bytes()
    real_read = pd.read_parquet

    def read_failing_on_temp_files(path: object, *args: object, **kwargs: object) -> pd.DataFrame:
        if str(path).endswith(".tmp"):
            raise OSError("disk gone")
        return real_read(path, *args, **kwargs)

    # Simulate a storage failure in the third-party reader, not in our code.
    monkeypatch.setattr(pd, "read_parquet", read_failing_on_temp_files)
    with pytest.raises(DataError, match="verification"):
        store.write_candles("BTC", "1h", candles(2, start=T0 + 3 * HOUR))
    monkeypatch.undo()
    assert (store.root / "BTC_1h.parquet").read_bytes() == before
    assert not list(store.root.glob(".*.tmp"))
    assert len(store.read_candles("BTC", "1h")) == 3


def test_io_error_on_read_keeps_the_file(
    store: ParquetCandleStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.write_candles("BTC", "1h", candles(3))
    fresh = ParquetCandleStore(store.root)  # empty cache

    def read_io_error(*args: object, **kwargs: object) -> pd.DataFrame:
        raise OSError("input/output error")

    monkeypatch.setattr(pd, "read_parquet", read_io_error)
    with pytest.raises(DataError, match="cannot read"):
        fresh.read_candles("BTC", "1h")
    assert (store.root / "BTC_1h.parquet").exists()


# ------------------------------------------------------------------ issue 8: validate on read
def plant(store: ParquetCandleStore, name: str, frame: pd.DataFrame) -> None:
    """Write a file into the store behind its back (a hand edit, an older version...)."""
    frame.to_parquet(store.root / name, index=False)


def store_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]


def test_invalid_rows_in_a_store_file_never_reach_a_reader(
    store: ParquetCandleStore, caplog: pytest.LogCaptureFixture
) -> None:
    bad = candles(6)
    bad.loc[1, "close"] = np.nan
    bad.loc[3, ["open", "low"]] = [-5.0, -6.0]
    plant(store, "BTC_1h.parquet", bad)
    for _ in range(3):
        out = store.read_candles("BTC", "1h")
        assert list(out["timestamp"]) == [T0 + i * HOUR for i in (0, 2, 4, 5)]
        assert np.isfinite(out[["open", "high", "low", "close"]].to_numpy()).all()
    assert store.entry("BTC", "1h").rows == 4 and store.has("BTC", "1h")
    [warning] = store_warnings(caplog)
    assert "BTC_1h.parquet" in warning and "non_finite: 1" in warning
    assert "non_positive_price: 1" in warning
    [quarantined] = (store.root / "quarantine").glob("BTC_1h.*.parquet")
    kept = pd.read_parquet(quarantined)
    assert sorted(kept["reason"]) == ["non_finite", "non_positive_price"]
    assert len(pd.read_parquet(store.root / "BTC_1h.parquet")) == 4  # the file was repaired
    assert store.inventory()[0].rows == 4  # the quarantine folder is not a series


def test_unsorted_and_duplicated_store_file_is_repaired(
    store: ParquetCandleStore, caplog: pytest.LogCaptureFixture
) -> None:
    df = candles(5)
    plant(store, "ETH_1h.parquet", pd.concat([df.iloc[::-1], df.iloc[[2]]], ignore_index=True))
    out = store.read_candles("ETH", "1h")
    pd.testing.assert_frame_equal(out, df)
    assert len(store_warnings(caplog)) == 1


def test_funding_file_with_absurd_rates_is_repaired_on_read(store: ParquetCandleStore) -> None:
    plant(
        store,
        "BTC_funding.parquet",
        pd.DataFrame({"timestamp": [T0, T0 + 8 * HOUR, T0 + 16 * HOUR], "rate": [1e-4, 5.0, -3.0]}),
    )
    assert list(store.read_funding("BTC")["rate"]) == [1e-4]


def test_future_rows_in_a_store_file_are_quarantined(tmp_path: Path) -> None:
    clock = SimClock(datetime(2024, 1, 2, tzinfo=UTC))
    store = ParquetCandleStore(tmp_path, clock=clock)
    future = candles(3, start=pd.Timestamp("2030-01-01", tz="UTC"))
    plant(store, "BTC_1h.parquet", pd.concat([candles(5), future], ignore_index=True))
    assert store.last_timestamp("BTC", "1h") == T0 + 4 * HOUR
    assert store.write_candles("BTC", "1h", future) == 0  # and the store never writes them
    assert store.write_candles("BTC", "1h", candles(1, start=T0 + 23 * HOUR)) == 1  # closes 24:00
    assert store.write_candles("BTC", "1h", candles(1, start=T0 + 24 * HOUR)) == 0  # forming


def test_a_read_only_store_uses_the_valid_rows_and_warns_once(
    store: ParquetCandleStore, caplog: pytest.LogCaptureFixture
) -> None:
    bad = candles(4)
    bad.loc[0, "volume"] = -1.0
    plant(store, "BTC_1h.parquet", bad)
    (store.root / "quarantine").write_text("a file where the quarantine folder should be")
    for _ in range(5):
        assert len(store.read_candles("BTC", "1h")) == 3
        store.inventory()
    [warning] = store_warnings(caplog)
    assert "cannot be repaired" in warning and "3 valid rows" in warning


@pytest.mark.parametrize("content", ["{not json", "[]", '{"rows": "many"}', ""])
def test_a_corrupt_sidecar_is_rebuilt_once_with_one_warning(
    store: ParquetCandleStore, caplog: pytest.LogCaptureFixture, content: str
) -> None:
    store.write_candles("BTC", "1h", candles(4))
    meta_path = store.root / "BTC_1h.meta.json"
    meta_path.write_text(content)
    for _ in range(20):
        entry = store.entry("BTC", "1h")
        assert entry is not None and entry.rows == 4
        store.inventory()
    assert len(store_warnings(caplog)) == 1
    assert "sidecar" in store_warnings(caplog)[0]
    meta = json.loads(meta_path.read_text())
    assert meta["rows"] == 4 and meta["is_full_history"] is False


def test_a_stale_sidecar_is_rewritten_and_keeps_its_flag(store: ParquetCandleStore) -> None:
    store.write_candles("BTC", "1h", candles(4), is_full_history=True)
    meta_path = store.root / "BTC_1h.meta.json"
    meta = json.loads(meta_path.read_text())
    # older than the file (a crash between the file and sidecar writes): the file is the truth
    meta_path.write_text(json.dumps({**meta, "rows": 2, "last": "2024-01-01T01:00:00+00:00"}))
    entry = store.entry("BTC", "1h")
    assert entry.is_full_history and json.loads(meta_path.read_text())["rows"] == 4


def test_a_file_holding_less_than_its_sidecar_is_quarantined_not_trusted(store: ParquetCandleStore) -> None:
    store.write_candles("BTC", "1h", candles(4), is_full_history=True)
    meta_path = store.root / "BTC_1h.meta.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "rows": 99}))  # the file lost rows the sidecar recorded
    assert store.entry("BTC", "1h") is None and not store.has("BTC", "1h")
    assert [p.name.split(".")[0] for p in (store.root / "quarantine").iterdir()] == ["BTC_1h"]
    assert not meta_path.exists()  # the series is absent: the downloader fetches it again
