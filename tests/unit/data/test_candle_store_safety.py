"""Review of issue 8, the candle store: nothing is lost and nothing crashes when a store file is
corrupt, cannot be changed, or is written by two processes at once.

* A corrupt file is moved to ``quarantine/`` (before: deleted); when it cannot be moved it is
  ignored with one warning (before: a read-only store ended every command in a traceback).
* Writes from several processes are serialised by a lock file (before: each process merged
  into what it had read, and the last rename won: rows of the others were lost).
* A repair on read, or the quarantine of a corrupt file, never replaces a file that another
  process wrote after it was read.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sixbtc.adapters.storage.candle_store import ParquetCandleStore

HOUR = pd.Timedelta(hours=1)
T0 = pd.Timestamp("2024-01-01", tz="UTC")


def candles(n: int, start: pd.Timestamp = T0, level: float = 100.0) -> pd.DataFrame:
    close = level + np.arange(n, dtype=float)
    return pd.DataFrame({"timestamp": pd.DatetimeIndex([start + i * HOUR for i in range(n)]).as_unit("ns"),
                         "open": close, "high": close + 1, "low": close - 1, "close": close,
                         "volume": np.ones(n)})


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]


# ------------------------------------------------------------------------- corrupt files
def test_a_corrupt_file_is_moved_to_quarantine_not_deleted(tmp_path: Path) -> None:
    store = ParquetCandleStore(tmp_path)
    path = tmp_path / "BTC_1h.parquet"
    path.write_bytes(b"PAR1 half of a file, the rest was lost")
    assert not store.has("BTC", "1h") and not path.exists()
    [kept] = (tmp_path / "quarantine").glob("BTC_1h*")
    assert kept.read_bytes() == b"PAR1 half of a file, the rest was lost"
    assert store.inventory() == []


def test_a_corrupt_file_that_cannot_be_moved_is_ignored_and_kept(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = ParquetCandleStore(tmp_path)
    store.write_candles("ETH", "1h", candles(3))
    (tmp_path / "quarantine").write_text("a file where the quarantine folder should be")
    path = tmp_path / "BTC_1h.parquet"
    path.write_bytes(b"not a parquet file at all")
    for _ in range(3):
        assert [e.symbol for e in store.inventory()] == ["ETH"]
        assert not store.has("BTC", "1h")
    assert path.read_bytes() == b"not a parquet file at all"  # nothing lost
    assert len([w for w in warnings_of(caplog) if "BTC_1h.parquet" in w]) == 1


def test_a_folder_named_like_a_series_is_no_crash(tmp_path: Path) -> None:
    """Before: ``heal`` unlinked it and raised IsADirectoryError out of ``inventory()``."""
    (tmp_path / "BTC_1h.parquet").mkdir()
    store = ParquetCandleStore(tmp_path)
    assert store.inventory() == [] and not store.has("BTC", "1h")
    assert store.write_candles("BTC", "1h", candles(2)) == 2


# ------------------------------------------------------------------------- two processes
def _write_hours(root: str, first: int, count: int) -> None:
    store = ParquetCandleStore(Path(root))  # a store of its own, as another process has
    for i in range(first, first + count):
        store.write_candles("BTC", "1h", candles(1, start=T0 + i * HOUR))


def test_concurrent_writers_lose_no_row(tmp_path: Path) -> None:
    ParquetCandleStore(tmp_path).write_candles("BTC", "1h", candles(1, start=T0 - HOUR))
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_write_hours, args=(str(tmp_path), k * 100, 12)) for k in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    stored = ParquetCandleStore(tmp_path).read_candles("BTC", "1h")
    assert len(stored) == 1 + 3 * 12


def _land_a_write_after_the_read(monkeypatch: pytest.MonkeyPatch, path: Path, fail: bool) -> pd.DataFrame:
    """Make the store's next read of ``path`` be followed at once by another process's write
    of a valid file (the read returns what it saw, or fails as a corrupt file does)."""
    newer = candles(5, level=500.0)
    real_read = pd.read_parquet
    done = []

    def read_then_write(target: object, *args: object, **kwargs: object) -> pd.DataFrame:
        if done or Path(str(target)) != path:
            return real_read(target, *args, **kwargs)
        done.append(True)
        seen = None if fail else real_read(target, *args, **kwargs)
        tmp = path.with_name(".other-process.tmp")
        newer.to_parquet(tmp, index=False)
        tmp.replace(path)
        if fail:
            raise pa.ArrowInvalid("Parquet magic bytes not found in footer")
        return seen

    monkeypatch.setattr(pd, "read_parquet", read_then_write)
    return newer


def test_a_repair_never_replaces_a_newer_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = candles(4)
    bad.loc[1, "close"] = np.nan
    path = tmp_path / "BTC_1h.parquet"
    bad.to_parquet(path, index=False)
    store = ParquetCandleStore(tmp_path)
    newer = _land_a_write_after_the_read(monkeypatch, path, fail=False)
    store.read_candles("BTC", "1h")
    monkeypatch.undo()
    pd.testing.assert_frame_equal(pd.read_parquet(path), newer)
    pd.testing.assert_frame_equal(ParquetCandleStore(tmp_path).read_candles("BTC", "1h"), newer)


def test_a_quarantine_never_takes_a_newer_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "BTC_1h.parquet"
    path.write_bytes(b"PAR1 corrupt, about to be rewritten by the downloader")
    store = ParquetCandleStore(tmp_path)
    newer = _land_a_write_after_the_read(monkeypatch, path, fail=True)
    store.has("BTC", "1h")
    monkeypatch.undo()
    assert path.exists()
    pd.testing.assert_frame_equal(ParquetCandleStore(tmp_path).read_candles("BTC", "1h"), newer)
