"""Review of issue 8, ``sixbtc data import`` as a new user meets it: filters, odd encodings and
separators, empty and changing files, absurd values, clear reasons."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.cli.main import app
from sixbtc.data.anomalies import Spike
from sixbtc.data.importer import import_path, summarise
from sixbtc.data.validation import validate_candles

runner = CliRunner()
T0 = pd.Timestamp("2025-01-01", tz="UTC")


def candles(n: int = 6) -> pd.DataFrame:
    close = 100.0 + np.arange(n)
    return pd.DataFrame({"timestamp": pd.date_range(T0, periods=n, freq="1h", unit="ns"),
                         "open": close, "high": close + 1, "low": close - 1, "close": close,
                         "volume": np.ones(n)})


def run(tmp_path: Path, *args: str) -> tuple[int, str]:
    res = runner.invoke(app, ["--home", str(tmp_path / "home"), "data", "import", *args])
    return res.exit_code, " ".join(res.output.split())


@pytest.fixture
def store(tmp_path: Path) -> ParquetCandleStore:
    return ParquetCandleStore(tmp_path / "store")


# --------------------------------------------------------------------------- filters
def test_filters_apply_to_entries_that_cannot_be_read(tmp_path: Path, store: ParquetCandleStore) -> None:
    """Before: ``--symbols BTC`` on a folder with a broken ``ETH_1h.csv`` link exited 3."""
    src = tmp_path / "src"
    src.mkdir()
    candles().to_csv(src / "BTC_1h.csv", index=False)
    (src / "ETH_1h.csv").symlink_to(src / "gone.csv")
    os.mkfifo(src / "SOL_1h.csv")
    results = import_path(src, store, symbols={"BTC"})
    by_name = {r.file.name: r for r in results}
    assert by_name["BTC_1h.csv"].status == "imported"
    for name in ("ETH_1h.csv", "SOL_1h.csv"):
        assert by_name[name].status == "skipped" and "not selected" in by_name[name].skip_reason
    assert summarise(results).ok
    assert run(tmp_path, str(src), "--symbols", "BTC")[0] == 0
    assert run(tmp_path, str(src))[0] == 3  # without the filter they fail, as the README says


@pytest.mark.parametrize(("flag", "value"), [("--symbols", ""), ("--symbols", " , "), ("--timeframes", ",")])
def test_an_empty_filter_is_a_usage_error(tmp_path: Path, flag: str, value: str) -> None:
    """Before: ``--symbols ''`` imported everything and ``--symbols ,`` nothing."""
    src = tmp_path / "src"
    src.mkdir()
    candles().to_csv(src / "BTC_1h.csv", index=False)
    code, out = run(tmp_path, str(src), flag, value)
    assert code == 2 and f"{flag}: no value given" in out


# --------------------------------------------------------------------------- odd files
def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(("sep", "encoding"), [(";", "utf-8"), ("\t", "utf-16"), (",", "utf-16"),
                                               ("|", "utf-8-sig")])
def test_csv_with_another_separator_or_utf16_is_read(
        tmp_path: Path, store: ParquetCandleStore, sep: str, encoding: str) -> None:
    """Spreadsheets save ``;``-separated CSV (where ``,`` is the decimal mark) or UTF-16
    "Unicode text" with tabs. Before: "no time column" and "UnicodeDecodeError"."""
    file = _write(tmp_path / "BTC_1h.csv", candles().to_csv(index=False, sep=sep), encoding)
    [result] = import_path(file, store)
    assert (result.status, result.stored) == ("imported", 6), result
    pd.testing.assert_frame_equal(store.read_candles("BTC", "1h"), candles())


@pytest.mark.parametrize(("name", "content", "needle"), [
    ("BTC_1h.csv", b"", "the file is empty (0 bytes)"),
    ("BTC_1h.parquet", b"", "the file is empty (0 bytes)"),
    ("BTC_1h.csv", "timestamp,open,high,low,close,volume,note\n2025-01-01,1,2,1,1,1,café\n".encode("latin-1"),
     "line 2: not UTF-8 text (byte 0xe9 at offset 66); save it as UTF-8"),
    ("BTC_1h.csv", b"ts,o,h,l,c,v\n2025-01-01,1,2,1,1,1\n",
     "no time column (one of timestamp, date, time, open_time); columns found: ts, o, h, l, c, v"),
])
def test_unreadable_files_say_what_is_wrong(
        tmp_path: Path, store: ParquetCandleStore, name: str, content: bytes, needle: str) -> None:
    (tmp_path / name).write_bytes(content)
    [result] = import_path(tmp_path / name, store)
    assert result.status == "failed"
    assert result.error == f"{name}: {needle}"


def test_a_file_that_changes_while_it_is_read_is_not_imported(
        tmp_path: Path, store: ParquetCandleStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """A download still being written: what was read may end mid-row. Before: imported."""
    file = tmp_path / "BTC_1h.parquet"
    candles().to_parquet(file, index=False)
    real_read = pd.read_parquet

    def read_while_appended(path: object, *args: object, **kwargs: object) -> pd.DataFrame:
        frame = real_read(path, *args, **kwargs)
        with open(file, "ab") as handle:  # the writer goes on
            handle.write(b"more bytes")
        return frame

    monkeypatch.setattr(pd, "read_parquet", read_while_appended)
    [result] = import_path(file, store)
    assert result.status == "failed"
    assert result.error == "BTC_1h.parquet: the file changed while it was read; import it again when complete"
    assert not store.has("BTC", "1h")


def test_a_failed_file_is_reported_once(tmp_path: Path) -> None:
    """Before: each failure was also logged to stderr ("import of ... failed: ...")."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "BTC_1h.csv").write_bytes(b"")
    code, out = run(tmp_path, str(src))
    assert code == 3
    assert out.count("the file is empty") == 1 and "import of" not in out


# --------------------------------------------------------------------------- values
@pytest.mark.parametrize(("column", "value"), [("close", 1e300), ("high", 2e12), ("low", 1e-300),
                                               ("volume", 1e308)])
def test_absurd_magnitudes_are_rejected(column: str, value: float) -> None:
    """Before: a close of 1e300 and a volume of 1e308 were stored (products overflow to inf)."""
    df = candles()
    df.loc[2, column] = value
    if column == "close":
        df.loc[2, "high"] = value
    if column == "high":
        df.loc[2, "high"] = value
    checked = validate_candles(df, "1h", now=T0 + pd.Timedelta(days=1))
    assert checked.reasons == {"value_out_of_range": 1}
    assert "outside" in checked.examples[0]


def test_text_in_a_number_column_is_named_as_such() -> None:
    """Before: ``"93,264.90"`` (a thousands separator) was reported as "NaN or infinite"."""
    df = candles().astype({"close": object})
    df.loc[1, "close"] = "93,264.90"
    df.loc[3, "volume"] = np.nan
    checked = validate_candles(df, "1h", now=T0 + pd.Timedelta(days=1))
    assert checked.reasons == {"not_a_number": 1, "non_finite": 1}
    assert "not a number" in checked.examples[0]


def test_a_huge_spike_factor_is_printed_short() -> None:
    line = Spike(T0, "close", 1e290, 93264.9, 1e290 / 93264.9).describe()
    assert not re.search(r"\d{12}", line), line
    assert "1.07e+285x above" in line
