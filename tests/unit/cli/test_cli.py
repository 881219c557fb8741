"""CLI behaviour: init, configuration errors, empty status, import reporting."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.cli.main import app
from sixbtc.config import Settings, load_settings

runner = CliRunner()


def test_init_writes_a_config_that_loads_to_the_defaults(tmp_path: Path) -> None:
    res = runner.invoke(app, ["--home", str(tmp_path), "init"])
    assert res.exit_code == 0, res.output
    cfg = tmp_path / "config.yaml"
    text = cfg.read_text()
    for section in Settings.model_fields:
        assert f"\n{section}:" in text
    assert load_settings(cfg) == Settings.model_construct()
    again = runner.invoke(app, ["--home", str(tmp_path), "init"])
    assert again.exit_code == 1
    assert runner.invoke(app, ["--home", str(tmp_path), "init", "--force"]).exit_code == 0


def test_invalid_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("active_pool:\n  max_size: lots\nrotator:\n  max_live: 3\n")
    res = runner.invoke(app, ["--home", str(tmp_path), "status", "--json"])
    assert res.exit_code == 2
    assert "active_pool.max_size: expected int" in res.output
    assert "rotator.max_live: unknown key" in res.output


def test_status_json_on_an_empty_home_has_nulls_for_empty_statistics(tmp_path: Path) -> None:
    res = runner.invoke(app, ["--home", str(tmp_path), "status", "--json"])
    assert res.exit_code == 0, res.output
    status = json.loads(res.output)
    assert status["strategies_by_status"] == {s: 0 for s in
                                              ("GENERATED", "VALIDATED", "ACTIVE", "LIVE", "RETIRED", "FAILED")}
    assert status["pool"] == {"count": 0, "min_score": None, "max_score": None}
    assert status["live"] == [] and status["trades"] == {"paper": 0, "live": 0}
    assert status["rejections_by_reason"] == {}


def test_run_refuses_live_mode(tmp_path: Path) -> None:
    res = runner.invoke(app, ["--home", str(tmp_path), "run", "--live"])
    assert res.exit_code == 2
    assert "paper" in res.output


def test_import_reports_rejected_rows_per_file(tmp_path: Path) -> None:
    ts = pd.date_range("2025-01-01", periods=5, freq="1h", tz="UTC")
    df = pd.DataFrame({"timestamp": ts, "open": [10.0, 11, 12, 13, 14], "high": [11.0, 12, 13, 14, 15],
                       "low": [9.0, 10, 11, 12, 13], "close": [10.5, 11.5, 12.5, 13.5, 14.5],
                       "volume": [1.0, 1, 1, 1, 1]})
    df.loc[2, "high"] = 5.0  # high below open/close: must be rejected
    src = tmp_path / "src"
    src.mkdir()
    df.to_parquet(src / "ABC_1h.parquet")
    home = tmp_path / "home"
    res = runner.invoke(app, ["--home", str(home), "data", "import", str(src)])
    assert res.exit_code == 0, res.output
    assert "ABC_1h.parquet" in res.output
    assert "ABC_1h.parquet: 1 row rejected (high_below_open_close: 1)" in res.output
    stored = ParquetCandleStore(home / "data" / "binance").read_candles("ABC", "1h")
    assert len(stored) == 4 and 5.0 not in stored["high"].to_list()


def test_import_of_a_missing_path_fails_clearly(tmp_path: Path) -> None:
    res = runner.invoke(app, ["--home", str(tmp_path), "data", "import", str(tmp_path / "nope")])
    assert res.exit_code == 2
    assert "no such file" in res.output
