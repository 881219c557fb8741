"""``sixbtc data import``: exit codes as in the README, skipped entries listed, true counts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sixbtc.cli.main import app

runner = CliRunner()
T0 = pd.Timestamp("2025-01-01", tz="UTC")


def candles(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": pd.date_range(T0, periods=n, freq="1h", unit="ns"),
            "open": [10.0 + i for i in range(n)],
            "high": [11.0 + i for i in range(n)],
            "low": [9.0 + i for i in range(n)],
            "close": [10.5 + i for i in range(n)],
            "volume": [1.0] * n,
        }
    )


def run(tmp_path: Path, *args: str) -> tuple[int, str]:
    res = runner.invoke(app, ["--home", str(tmp_path / "home"), "data", "import", *args])
    return res.exit_code, res.output


def test_clean_import_exits_0_with_singular_counts(tmp_path: Path) -> None:
    candles().to_parquet(tmp_path / "ABC_1h.parquet")
    code, out = run(tmp_path, str(tmp_path / "ABC_1h.parquet"))
    assert code == 0, out
    assert "1 file imported (4 rows stored, 0 rejected), 0 failed, 0 skipped; 1 coin in the registry" in out


def test_rejected_rows_keep_exit_0_and_are_explained(tmp_path: Path) -> None:
    df = candles()
    df.loc[1, "high"] = 1.0
    df.to_parquet(tmp_path / "ABC_1h.parquet")
    code, out = run(tmp_path, str(tmp_path / "ABC_1h.parquet"))
    assert code == 0, out
    assert "ABC_1h.parquet: 1 row rejected (high_below_open_close: 1); e.g. 2025-01-01T01:00Z" in out
    assert "(3 rows stored, 1 rejected)" in out


def test_a_file_with_zero_rows_stored_is_not_counted_as_imported(tmp_path: Path) -> None:
    df = candles()
    df["high"] = 1.0
    df.to_parquet(tmp_path / "ABC_1h.parquet")
    code, out = run(tmp_path, str(tmp_path / "ABC_1h.parquet"))
    assert code == 3, out
    assert "0 files imported (0 rows stored, 4 rejected), 1 failed" in out
    assert "no valid rows (all 4 rejected)" in out


def test_an_unreadable_file_in_a_folder_exits_3_and_the_rest_is_imported(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    candles().to_parquet(src / "ABC_1h.parquet")
    (src / "XYZ_1h.parquet").write_bytes(b"not parquet")
    code, out = run(tmp_path, str(src))
    assert code == 3, out
    assert "XYZ_1h.parquet: FAILED" in out
    assert "1 file imported (4 rows stored, 0 rejected), 1 failed, 0 skipped" in out


def test_skipped_entries_are_listed_with_their_reason(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    candles().to_parquet(src / "ABC_1h.parquet")
    candles().to_parquet(src / "ABC_7h.parquet")
    (src / "DEF_1h.parquet").symlink_to(src / "missing.parquet")
    (src / "README.md").write_text("notes")
    code, out = run(tmp_path, str(src))
    assert code == 3, out  # the dead link is a data file that cannot be read
    assert "ABC_7h.parquet" in out and "unknown timeframe '7h'" in out
    assert "README.md" in out and "not a .parquet or .csv file" in out
    assert "DEF_1h.parquet: FAILED" in out and "broken symbolic link" in out
    assert "2 skipped" in out


@pytest.mark.parametrize("name", ["ABC_7h.parquet", "abc.parquet"])
def test_a_named_file_that_cannot_be_imported_exits_3(tmp_path: Path, name: str) -> None:
    candles().to_parquet(tmp_path / name)
    code, out = run(tmp_path, str(tmp_path / name))
    assert code == 3, out
    assert f"{name}: FAILED" in out


def test_nothing_selected_exits_3_and_says_so(tmp_path: Path) -> None:
    candles().to_parquet(tmp_path / "ABC_1h.parquet")
    code, out = run(tmp_path, str(tmp_path / "ABC_1h.parquet"), "--symbols", "BTC")
    assert code == 3, out
    assert "symbol ABC not selected" in out and "nothing imported" in out


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [("--timeframes", "1h,7h", "unknown timeframe '7h'"), ("--symbols", "BTC,../x", "'../x'")],
)
def test_bad_filters_are_usage_errors(tmp_path: Path, flag: str, value: str, message: str) -> None:
    candles().to_parquet(tmp_path / "ABC_1h.parquet")
    code, out = run(tmp_path, str(tmp_path / "ABC_1h.parquet"), flag, value)
    assert code == 2, out
    assert message in out


def test_a_dead_symlink_named_on_the_command_line_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "ABC_1h.parquet").symlink_to(tmp_path / "gone.parquet")
    code, out = run(tmp_path, str(tmp_path / "ABC_1h.parquet"))
    assert code == 2, out
    assert "broken symbolic link" in out
