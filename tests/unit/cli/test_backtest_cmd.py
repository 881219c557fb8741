"""``sixbtc backtest FILE.py``: every gate's verdict, metrics, JSON, exit codes, on real data.

The home holds a small slice of the real Binance data (BTC, ETH, SOL 4h with funding), as the
acceptance test's; the strategy files are the validator corpus's.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sixbtc.cli.main import app

runner = CliRunner()
CORPUS = Path(__file__).resolve().parents[1] / "validator" / "corpus"
DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "binance_usdm"
CONFIG = """
backtest:
  timeframes: [4h]
  max_coins: 3
  max_param_sets: 8
  shuffle_permutations: 5
"""
GATES = ["validator", "data", "search", "plausibility", "oos_trades", "degradation", "excess", "walkforward", "causality",
         "shuffle", "duplicate", "multiple_testing", "pool", "confirmation"]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not DATA.is_dir():
        pytest.skip(f"real market data not found at {DATA} (../shared/data is absent)")
    src = tmp_path_factory.mktemp("slice")
    for sym in ("BTC", "ETH", "SOL"):
        for suffix in ("4h", "funding"):
            shutil.copy(DATA / f"{sym}_{suffix}.parquet", src / f"{sym}_{suffix}.parquet")
    root = tmp_path_factory.mktemp("home")
    (root / "config.yaml").write_text(CONFIG)
    res = runner.invoke(app, ["--home", str(root), "data", "import", str(src), "--timeframes", "4h"])
    assert res.exit_code == 0, res.output
    return root


def _run(home: Path, *args: str):
    return runner.invoke(app, ["--home", str(home), "backtest", *args])


@pytest.fixture(scope="module")
def sma_json(home: Path) -> tuple[int, dict]:
    res = _run(home, str(CORPUS / "clean" / "sma_cross.py"), "--json")
    return res.exit_code, json.loads(res.output)


def test_json_lists_every_gate_in_order_with_one_verdict_that_stops_or_passes(sma_json) -> None:
    code, out = sma_json
    assert [g["gate"] for g in out["gates"]] == GATES
    states = [g["state"] for g in out["gates"]]
    assert states[0] == "pass" and out["gates"][0]["detail"].startswith("warm-up")
    if out["passed"]:
        assert code == 0 and out["stopped_by"] is None and "FAIL" not in states
    else:  # the first FAIL is the reason; every later gate was not reached (or is off / not available)
        assert code == 1
        first = states.index("FAIL")
        assert out["stopped_by"] == out["gates"][first]["reason"]
        assert set(states[first + 1:]) <= {"not reached", "off", "not available"}
        assert all(s in ("pass", "off") for s in states[:first])
    assert out["gates"][1]["detail"] == "4h: 3 coins"
    assert all(g["detail"] for g in out["gates"] if g["state"] == "pass")  # every pass shows its figures


def test_json_has_per_timeframe_and_per_coin_metrics_dsr_pbo_and_score(sma_json) -> None:
    _, out = sma_json
    assert out["strategy"] == "Strategy_MOM_0badc0de"
    tf = out["timeframes"][0]
    assert tf["timeframe"] == "4h" == out["assigned"] and tf["sets"] <= 8 and tf["trials"] > 0
    assert {"sharpe", "total_return", "n_trades", "win_rate"} <= set(tf["oos"])
    assert [c["symbol"] for c in out["coins"]] == ["BTC", "ETH", "SOL"]
    assert {"sharpe", "n_trades"} <= set(out["coins"][0]["is"]) and "profit_factor" in out["coins"][0]["oos"]
    assert 0.0 <= out["dsr"] <= 1.0 and out["dsr_trials"] == tf["sets"]
    assert 0.0 <= out["score"] <= 100.0
    conf, row = out["confirmation"], out["gates"][-1]
    assert conf["end"] == out["window"]["replay_start"] and conf["start"] == out["window"]["confirm_start"]
    assert pd.Timestamp(conf["end"]) - pd.Timestamp(conf["start"]) == pd.Timedelta(days=30)
    assert conf["n_trades"] >= 0 and conf["symbols"] == ["BTC", "ETH", "SOL"]
    assert row["gate"] == "confirmation" and row["reason"] == "rotator:confirmation"
    assert row["state"] in ("pass", "FAIL", "not reached") and "twin percentile" in row["detail"]


def test_text_report_prints_the_gates_the_metrics_and_the_verdict(home: Path, sma_json,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from sixbtc.cli.context import console

    monkeypatch.setattr(console, "_width", 250)  # one line per row, whatever $COLUMNS the tests run with
    code, out = sma_json
    res = _run(home, str(CORPUS / "clean" / "sma_cross.py"))
    assert res.exit_code == code
    text = res.output
    for gate in GATES:
        assert gate in text
    assert "coins of 4h" in text and "DSR " in text and "score " in text
    assert ("WOULD ENTER THE POOL" in text) if out["passed"] else (f"STOPPED by {out['stopped_by']}" in text)
    assert "confirmation " in text and "twin percentile" in text


def test_invalid_strategy_is_stopped_by_the_validator_with_its_reason(home: Path) -> None:
    res = _run(home, str(CORPUS / "biased" / "negative_shift.py"), "--json")
    assert res.exit_code == 1, res.output
    out = json.loads(res.output)
    assert out["stopped_by"] == "ast:negative_shift" and out["passed"] is False
    assert out["gates"][0]["state"] == "FAIL" and "shift" in out["gates"][0]["detail"]
    assert out["timeframes"] == [] and out["dsr"] is None


def test_missing_file_and_empty_store_are_clear_errors(tmp_path: Path) -> None:
    res = _run(tmp_path, str(tmp_path / "nope.py"), "--json")
    assert res.exit_code == 2 and json.loads(res.output) == {"file": str(tmp_path / "nope.py"), "passed": False,
                                                             "error": f"no such file: {tmp_path / 'nope.py'}"}
    res = _run(tmp_path / "empty", str(CORPUS / "clean" / "sma_cross.py"))
    assert res.exit_code == 3 and "no candles for backtest.timeframes" in res.output


def test_an_in_sample_window_beyond_120_days_runs_end_to_end(home: Path) -> None:
    # 400 IS days + 60 OOS + 30 replay reach back to 2024-09: BTC and ETH 4h (from 2023) cover
    # them, SOL 4h (from 2025-02) does not and is left out by the window planner
    res = runner.invoke(app, ["--home", str(home), "backtest", str(CORPUS / "clean" / "sma_cross.py"), "--json"],
                        env={"SIXBTC__BACKTEST__IS_DAYS": "400"})
    assert res.exit_code in (0, 1), res.output
    out = json.loads(res.output)
    w = {k: pd.Timestamp(v) for k, v in out["window"].items()}
    assert w["oos_start"] - w["is_start"] == pd.Timedelta(days=400)
    assert out["gates"][1] == {"gate": "data", "reason": "backtest:no_data", "state": "pass", "detail": "4h: 2 coins"}
    assert [c["symbol"] for c in out["coins"]] == ["BTC", "ETH"]
    assert out["coins"][0]["is"]["n_trades"] > 0 and out["timeframes"][0]["trials"] > 0
