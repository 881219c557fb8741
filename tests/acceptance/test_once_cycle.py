"""Acceptance: one `run --once` cycle on a slice of the real data, asserted on the database."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from sixbtc.adapters.storage.tables import (
    BacktestResultRow,
    OrderRow,
    PositionRow,
    StrategyEventRow,
    StrategyRow,
    TradeRow,
)
from sixbtc.app.container import Container
from sixbtc.app.home import Home
from sixbtc.app.once import run_once
from sixbtc.cli.main import app
from sixbtc.domain.orders import OrderStatus
from sixbtc.domain.strategy import StrategyStatus

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "binance_usdm"
SYMBOLS = ("BTC", "ETH", "SOL", "XRP", "DOGE", "BCH")

CONFIG = """
backtest:
  timeframes: [1h, 4h]
  max_coins: 4
  max_param_sets: 12
  max_degradation: 1.0
  min_trades: 5
  workers: 2
validator:
  workers: 2
generator:
  workers: 2
  sources: [template, unger]  # the seeded draw below puts strategies in the pool with this mix
scoring:
  multiple_testing_gate: false
active_pool:
  max_size: 5
  min_score: 0
rotator:
  min_score_live: 0
  require_confirmation: false
  max_live_strategies: 3
executor:
  replay_days: 20
"""


@pytest.fixture(scope="module")
def cycle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Container, object]:
    if not DATA.is_dir():
        pytest.skip(f"real market data not found at {DATA} (../shared/data is absent)")
    src = tmp_path_factory.mktemp("slice")
    for sym in SYMBOLS:
        for suffix in ("1h", "4h", "funding"):
            f = DATA / f"{sym}_{suffix}.parquet"
            if f.exists():
                shutil.copy(f, src / f.name)
    home = Home(tmp_path_factory.mktemp("home"))
    home.ensure().config_path.write_text(CONFIG)
    runner = CliRunner()
    res = runner.invoke(app, ["--home", str(home.root), "data", "import", str(src), "--timeframes", "1h,4h"])
    assert res.exit_code == 0, res.output
    c = Container.open(home)
    report = run_once(c, 16, seed=7)
    return c, report


def test_every_strategy_is_accounted_for(cycle) -> None:
    c, report = cycle
    counts = c.strategies.counts_by_status()
    rejected = sum(c.strategies.rejections_by_reason().values())
    assert report.counts["generated"] > 0
    assert report.counts["retested"] == 0  # nothing is due for a re-test in a fresh home
    assert counts["GENERATED"] == 0 and counts["VALIDATED"] == 0, "queues must be drained by --once"
    assert sum(counts.values()) + rejected == report.counts["generated"]
    with c.engine.connect() as conn:
        generated_events = conn.execute(select(func.count()).where(
            StrategyEventRow.to_status == "GENERATED")).scalar_one()
        claims_left = conn.execute(select(func.count()).where(StrategyRow.processing_by.is_not(None))).scalar_one()
    assert generated_events == report.counts["generated"]
    assert claims_left == 0, "workers must release or consume every claim"


def test_regimes_are_computed_before_generation(cycle) -> None:
    c, report = cycle
    n_coins = min(len(SYMBOLS), c.settings.backtest.max_coins)  # the coins the backtests use
    assert "regimes" not in report.errors and report.counts["regimes"] == n_coins
    assert list(report.seconds).index("regimes") < list(report.seconds).index("generate")
    latest = c.regimes.latest("1h")
    assert len(latest) == n_coins and {sym for sym, _ in latest} <= set(SYMBOLS)
    assert all(r.window_end == report.window.replay_start for r in latest.values())


def test_pool_and_live_respect_limits(cycle) -> None:
    c, _ = cycle
    counts = c.strategies.counts_by_status()
    assert counts["ACTIVE"] + counts["LIVE"] + counts["RETIRED"] > 0
    assert counts["ACTIVE"] <= 5
    live = c.strategies.list_by_status(StrategyStatus.LIVE)
    assert 1 <= len(live) <= 3
    for rec in live:
        assert rec.timeframe in ("1h", "4h") and rec.params and rec.symbols
        assert {"sl_pct", "tp_pct"} <= set(rec.params)
        m = rec.metrics
        assert m["trials"] > 0 and m["shuffle_pvalue"] <= 0.1 and m["wfa_consistency"] >= 0.5  # gates held
        assert len(m["wfa_folds"]) == 4 and m["shuffle"]["n_permutations"] == 50
        sub = c.trading.subaccount_of(rec.id)
        assert sub is not None and sub["mode"] == "paper"
        with c.engine.connect() as conn:
            n = conn.execute(select(func.count()).where(BacktestResultRow.strategy_id == rec.id)).scalar_one()
        assert n >= 2  # per-coin rows + the aggregate row
        conf = m["confirm"]  # confirmed on the days between the backtest and the replay (not required here)
        assert isinstance(conf["total_return"], float) and conf["n_twins"] > 0
        assert 0 <= conf["twin_percentile"] <= 100 and conf["n_trades"] >= 0
        with c.engine.connect() as conn:
            row = conn.execute(select(BacktestResultRow).where(BacktestResultRow.strategy_id == rec.id,
                                                               BacktestResultRow.kind == "confirm")).one()
        assert _naive(row.data_start) == _naive(cycle[1].window.confirm_start)
        assert _naive(row.data_end) == _naive(cycle[1].window.replay_start)


def _naive(ts: object) -> pd.Timestamp:
    t = pd.Timestamp(ts)
    return t.tz_convert(None) if t.tzinfo else t


def test_paper_trades_are_on_unseen_days_and_consistent(cycle) -> None:
    c, report = cycle
    w = report.window
    trades = c.trading.trades(mode="paper")
    assert trades, "the LIVE set must have traded on the replay"
    for t in trades:
        assert pd.Timestamp(t["entry_ts"]) >= w.replay_start, "paper trading must not use backtest days"
        assert pd.Timestamp(t["exit_ts"]) <= w.replay_end
        sign = 1 if t["direction"] == "long" else -1
        expected = sign * t["qty"] * (t["exit_price"] - t["entry_price"]) - t["fees_usd"] + t["funding_usd"]  # > 0 received (executor/positions.py)
        assert t["pnl_usd"] == pytest.approx(expected, rel=1e-9, abs=1e-9)
    with c.engine.connect() as conn:
        filled = conn.execute(select(func.count()).where(OrderRow.status == OrderStatus.FILLED.value)).scalar_one()
        open_pos = conn.execute(select(func.count()).where(PositionRow.is_open.is_(True))).scalar_one()
        n_trades = conn.execute(select(func.count()).select_from(TradeRow.__table__)).scalar_one()
        ids = conn.execute(select(OrderRow.client_order_id)).scalars().all()
    assert filled == 2 * n_trades + open_pos
    assert len(ids) == len(set(ids))


def test_backtests_never_saw_the_replay_window(cycle) -> None:
    c, report = cycle
    with c.engine.connect() as conn:
        ends = conn.execute(select(BacktestResultRow.data_end)).scalars().all()
    assert ends
    for end in ends:
        ts = pd.Timestamp(end)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts
        assert ts <= report.window.replay_start


def test_status_json_reports_the_cycle(cycle) -> None:
    c, _ = cycle
    res = CliRunner().invoke(app, ["--home", str(c.home.root), "status", "--json"])
    assert res.exit_code == 0, res.output
    status = json.loads(res.output)
    assert set(status["strategies_by_status"]) == {s.value for s in StrategyStatus}
    assert status["strategies_by_status"] == c.strategies.counts_by_status()
    assert status["pool"]["count"] == c.pool.stats().count
    assert status["trades"]["paper"] == len(c.trading.trades(mode="paper")) and status["trades"]["live"] == 0
    assert {entry["name"] for entry in status["live"]} == {r.name for r in c.strategies.list_by_status(StrategyStatus.LIVE)}
    assert sum(entry["trades"] for entry in status["live"]) <= status["trades"]["paper"]
