"""Acceptance: generated grid strategies (GRD) through one `run --once` cycle on real data:
validated in the sandbox, backtested on the grid engine with every gate, scored, pooled, and
never promoted to LIVE (the executor places no grids yet).

The walk-forward and shuffle gates and the multiple-testing gate are opened (they run, none
stops): this test is about the plumbing of GRD strategies, not about finding an edge."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from sixbtc.adapters.storage.tables import StrategyEventRow
from sixbtc.app.container import Container
from sixbtc.app.home import Home
from sixbtc.app.once import run_once
from sixbtc.cli.main import app
from sixbtc.domain.strategy import StrategyStatus

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "binance_usdm"
SYMBOLS = ("BTC", "ETH", "SOL")

CONFIG = """
backtest:
  timeframes: [1h]
  max_coins: 3
  max_param_sets: 8
  max_degradation: 1.0
  min_excess_return: -100
  min_trades: 5
  workers: 1
  wfa_min_consistency: 0.0
  shuffle_permutations: 5
  shuffle_max_pvalue: 1.0
validator:
  workers: 1
generator:
  workers: 1
  sources: [grid]
  max_grid: 16
scoring:
  multiple_testing_gate: false
active_pool:
  min_score: 0
rotator:
  min_score_live: 0
executor:
  replay_days: 5
"""

@pytest.fixture(scope="module")
def cycle(tmp_path_factory: pytest.TempPathFactory):
    if not DATA.is_dir():
        pytest.skip(f"real market data not found at {DATA} (../shared/data is absent)")
    src = tmp_path_factory.mktemp("slice")
    for sym in SYMBOLS:
        for suffix in ("1h", "funding"):
            if (DATA / f"{sym}_{suffix}.parquet").exists():
                shutil.copy(DATA / f"{sym}_{suffix}.parquet", src / f"{sym}_{suffix}.parquet")
    home = Home(tmp_path_factory.mktemp("home"))
    home.ensure().config_path.write_text(CONFIG)
    res = CliRunner().invoke(app, ["--home", str(home.root), "data", "import", str(src), "--timeframes", "1h"])
    assert res.exit_code == 0, res.output
    c = Container.open(home)
    return c, run_once(c, 4, seed=11)


def test_grid_strategies_go_through_validation_and_the_first_backtest(cycle) -> None:
    c, report = cycle
    assert report.counts["generated"] == 4
    with c.engine.connect() as conn:
        events = conn.execute(select(StrategyEventRow.strategy_name, StrategyEventRow.phase, StrategyEventRow.reason,
                                     StrategyEventRow.to_status, StrategyEventRow.detail)).all()
    assert all(e.strategy_name.startswith("Strategy_GRD_") for e in events)
    broken = [e for e in events if e.reason.split(":")[0] in ("execution", "sandbox", "contract", "syntax", "ast",
                                                               "lookahead", "warmup")]
    assert not broken, broken
    validated = {e.strategy_name for e in events if e.to_status == "VALIDATED"}
    assert len(validated) == 4  # every generated grid is causal and honours the contract
    judged = {e.strategy_name for e in events if e.phase in ("backtest", "scorer", "pool") or
              e.reason.startswith(("backtest:", "score:", "pool:"))}
    assert judged, events  # the backtest gave a verdict on them (no crash)


def test_no_grid_strategy_is_promoted_and_the_reason_is_recorded(cycle) -> None:
    c, _ = cycle
    counts = c.strategies.counts_by_status()
    assert counts["LIVE"] == 0 and counts["ACTIVE"] >= 1  # pooled, scored, not promoted
    with c.engine.connect() as conn:
        refusals = list(conn.execute(select(StrategyEventRow.detail).where(StrategyEventRow.phase == "rotator"))
                        .scalars())
    assert refusals and set(refusals) == {"rotator: GRD not supported by the executor yet"}
    pooled = c.strategies.list_by_status(StrategyStatus.ACTIVE)
    assert all({"levels", "sl_pct"} <= set(r.params) and "tp_pct" not in r.params for r in pooled)
    assert all(r.metrics["trials"] > 0 and "shuffle_pvalue" in r.metrics for r in pooled)
