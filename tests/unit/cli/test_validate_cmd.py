"""``sixbtc validate FILE.py``: report, JSON, exit codes, data source."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.app.home import Home
from sixbtc.cli.main import app

runner = CliRunner()
CORPUS = Path(__file__).resolve().parents[1] / "validator" / "corpus"
DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "binance_usdm"


def _run(home: Path, *args: str):
    return runner.invoke(app, ["--home", str(home), "validate", *args])


def test_clean_file_passes_with_exit_0_and_reports_warmup(tmp_path: Path) -> None:
    res = _run(tmp_path / "home", str(CORPUS / "clean" / "sma_cross.py"), "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["passed"] is True and out["phase"] == "passed" and out["reason"] is None
    assert out["phases"] == dict.fromkeys(("syntax", "ast", "execution", "lookahead"), "pass")
    assert 0 < out["warmup_bars"] <= out["allowed_warmup"] == 250
    assert out["data"].startswith("synthetic geometric random walk (seed 7")
    assert not (tmp_path / "home").exists()  # validating creates nothing in the home


def test_biased_file_is_rejected_with_exit_1_and_line_numbers(tmp_path: Path) -> None:
    path = CORPUS / "biased" / "negative_shift.py"
    res = _run(tmp_path, str(path), "--json")
    assert res.exit_code == 1, res.output
    out = json.loads(res.output)
    assert (out["phase"], out["reason"]) == ("ast", "ast:negative_shift")
    assert out["phases"] == {"syntax": "pass", "ast": "FAIL", "execution": "not run",
                             "lookahead": "not run"}  # fmt: skip
    line = out["findings"][0]["line"]
    assert "shift(close, -1)" in path.read_text().splitlines()[line - 1]
    text = _run(tmp_path, str(path))
    assert text.exit_code == 1
    assert f"line {line:>4}  ast:negative_shift" in text.output and "REJECTED" in text.output


def test_empirical_rejection_prints_phase_and_first_bar(tmp_path: Path) -> None:
    res = _run(tmp_path, str(CORPUS / "biased" / "future_by_slicing.py"))
    assert res.exit_code == 1, res.output
    assert "lookahead  FAIL  lookahead:truncation" in res.output.replace("\n", " ")
    assert "signals differ at bar" in res.output.replace("\n", " ")


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    res = _run(tmp_path, str(tmp_path / "nope.py"))
    assert res.exit_code == 2 and "no such file" in res.output


def test_real_btc_candles_from_the_home_store_are_used(tmp_path: Path) -> None:
    source = DATA / "BTC_1h.parquet"
    if not source.exists():
        pytest.skip(f"real data absent: {source}")
    home = Home(tmp_path)
    ParquetCandleStore(home.store_dir).write_candles(
        "BTC", "1h", pd.read_parquet(source).tail(2000)
    )
    res = _run(tmp_path, str(CORPUS / "clean" / "ema_cross.py"), "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["data"].startswith("BTC 1h, last 2000 candles")
