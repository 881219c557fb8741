"""``sixbtc pool``: the ACTIVE strategies as JSON and as a table; ``sixbtc status`` transitions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sixbtc.app.container import Container
from sixbtc.app.home import resolve_home
from sixbtc.cli import context
from sixbtc.cli.main import app
from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyStatus, StrategyType

runner = CliRunner()
T_BT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T_RT = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def _enter(c: Container, i: int, score: float, **fields: object) -> int:
    """Store candidate ``i``, validate it and ``try_enter`` it with ``score`` (pool 3, min 40)."""
    sid = c.strategies.add(StrategyCandidate(f"Strategy_TRN_{i:08x}", StrategyType.TRN, StrategySource.TEMPLATE,
                                             f"# {i}\n", f"{i:064x}"))
    rec = c.strategies.claim(StrategyStatus.GENERATED, "t")
    c.strategies.transition(sid, rec.claim_token, StrategyStatus.VALIDATED, phase="validator", reason="test:ok")
    rec = c.strategies.claim(StrategyStatus.VALIDATED, "t")
    c.pool.try_enter(sid, rec.claim_token, score, max_size=3, min_score=40.0, **fields)
    return sid


@pytest.fixture
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich tables 250 columns wide, so that no cell is wrapped or truncated."""
    monkeypatch.setattr(context.console, "width", 250)


def _home(tmp_path: Path) -> Container:
    (tmp_path / "config.yaml").write_text("active_pool:\n  max_size: 3\n  min_score: 40.0\n")
    c = Container.open(resolve_home(tmp_path))
    _enter(c, 1, 55.0, timeframe="1h", last_backtested_at=T_BT,
           metrics={"sharpe": 1.25, "dsr": 0.97, "pbo": 0.12, "trials": 240})
    _enter(c, 2, 70.0, timeframe="4h", last_backtested_at=T_RT,
           metrics={"sharpe": 2.0, "dsr": 0.5, "pbo": 0.3, "trials": 12,
                    "retest": {"sharpe": 1.5, "at": T_RT.isoformat()}, "excess_return": 0.04,
                    "confirm": {"total_return": 0.031, "twin_percentile": 87.5}})
    _enter(c, 3, 45.0)  # no timeframe, metrics or backtest time: every value missing
    _enter(c, 4, 30.0)  # rule 1: RETIRED, not listed
    _enter(c, 5, 60.0)  # rule 3: evicts the 45.0 one
    return c


def test_pool_json_lists_active_strategies_best_first_with_nulls(tmp_path: Path) -> None:
    _home(tmp_path)
    res = runner.invoke(app, ["--home", str(tmp_path), "pool", "--json"])
    assert res.exit_code == 0, res.output
    view = json.loads(res.output)
    assert (view["count"], view["max_size"], view["min_score"]) == (3, 3, 40.0)
    rows = view["strategies"]
    assert [r["name"] for r in rows] == ["Strategy_TRN_00000002", "Strategy_TRN_00000005", "Strategy_TRN_00000001"]
    assert [r["score"] for r in rows] == [70.0, 60.0, 55.0]
    top, bare, first = rows
    assert (top["type"], top["timeframe"], top["dsr"], top["pbo"], top["trials"]) == ("TRN", "4h", 0.5, 0.3, 12)
    assert (top["oos_sharpe"], top["retest_oos_sharpe"]) == (2.0, 1.5)
    assert (top["excess_return"], top["confirm_return"], top["confirm_percentile"]) == (0.04, 0.031, 87.5)
    assert datetime.fromisoformat(top["last_retest_at"]) == T_RT
    assert datetime.fromisoformat(first["last_backtested_at"]) == T_BT
    assert first["last_retest_at"] is None and first["trials"] == 240 and first["oos_sharpe"] == 1.25
    assert {k for k, v in bare.items() if v is None} == {"timeframe", "dsr", "pbo", "trials", "oos_sharpe",
                                                         "retest_oos_sharpe", "last_backtested_at",
                                                         "last_retest_at", "excess_return", "confirm_return",
                                                         "confirm_percentile"}


def test_pool_limit_keeps_the_best_and_the_total_count(tmp_path: Path) -> None:
    _home(tmp_path)
    res = runner.invoke(app, ["--home", str(tmp_path), "pool", "--json", "--limit", "1"])
    view = json.loads(res.output)
    assert view["count"] == 3 and [r["score"] for r in view["strategies"]] == [70.0]
    bad = runner.invoke(app, ["--home", str(tmp_path), "pool", "--limit", "0"])
    assert bad.exit_code == 2 and "--limit" in bad.output


def test_pool_table_and_empty_pool(tmp_path: Path, wide_console: None) -> None:
    empty = runner.invoke(app, ["--home", str(tmp_path / "empty"), "pool", "--json"])
    assert json.loads(empty.output)["strategies"] == [] and json.loads(empty.output)["count"] == 0
    _home(tmp_path)
    res = runner.invoke(app, ["--home", str(tmp_path), "pool"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert "pool: 3/3 ACTIVE, min_score 40.0" in res.output
    row = next(line for line in lines if "Strategy_TRN_00000001" in line)
    assert "0.970" in row and "240" in row and "2026-03-01 12:00" in row
    assert "0.031" in next(line for line in lines if "Strategy_TRN_00000002" in line)  # confirmation return
    bare = next(line for line in lines if "Strategy_TRN_00000005" in line)
    assert bare.count(" - ") >= 6  # missing values print as "-"
    assert "Strategy_TRN_00000003" not in res.output and "Strategy_TRN_00000004" not in res.output


def test_status_table_shows_the_last_transitions_with_reasons(tmp_path: Path, wide_console: None) -> None:
    _home(tmp_path)
    res = runner.invoke(app, ["--home", str(tmp_path), "status"])
    assert res.exit_code == 0, res.output
    assert "last transitions" in res.output
    lines = res.output.splitlines()
    evicted = [line for line in lines if "Strategy_TRN_00000003" in line and "pool:evicted" in line]
    assert len(evicted) == 1 and "ACTIVE" in evicted[0] and "RETIRED" in evicted[0]
    assert any("Strategy_TRN_00000004" in line and "pool:rule1" in line for line in lines)
