"""`sixbtc status`: the trading part (mode, venue, trading states, sub-accounts, positions with
stops, last reconciliation), in JSON and as tables, on a home's SQLite database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from sixbtc.app.container import Container
from sixbtc.app.home import Home
from sixbtc.cli.context import PIPE_WIDTH, console
from sixbtc.cli.main import app
from sixbtc.domain.risk import Halt, TradingState, strategy_scope
from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyType

runner = CliRunner()


def test_status_shows_states_subaccounts_and_positions_with_stops(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(console, "width", PIPE_WIDTH)  # output to a pipe (the width is fixed at import)
    c = Container.open(Home(tmp_path))
    sid = c.strategies.add(StrategyCandidate("Strategy_MOM_0000beef", StrategyType.MOM, StrategySource.USER, "x", "h"))
    label = c.trading.assign_subaccount(sid, "paper", 100.0)
    c.trading.assign_subaccount(sid + 1000, "paper", 100.0)
    c.trading.free_subaccount(sid + 1000)
    order = {"client_order_id": "sxe1", "strategy_id": sid, "subaccount": label, "symbol": "BTC", "side": "buy",
             "order_type": "market", "qty": 0.01, "price": None, "reduce_only": False, "mode": "paper",
             "filled_price": 60_000.0, "filled_ts": datetime(2026, 3, 1, tzinfo=UTC)}
    pos = {"strategy_id": sid, "subaccount": label, "symbol": "BTC", "timeframe": "1h", "direction": "long",
           "qty": 0.01, "entry_price": 60_000.0, "entry_ts": datetime(2026, 3, 1, tzinfo=UTC), "entry_fee_usd": 0.3,
           "stop_price": 58_800.0, "target_price": 61_800.0, "mode": "paper", "entry_client_order_id": "sxe1"}
    assert c.trading.open_position(order, pos) is not None
    c.trading_states.escalate(Halt(strategy_scope(sid), TradingState.REDUCING, "kill:strategy_session_loss", "11 %"))
    out = json.loads(runner.invoke(app, ["--home", str(tmp_path), "status", "--json"]).stdout)["trading"]
    assert (out["mode"], out["venue"], out["global_state"]["state"]) == ("paper", "paper", "ACTIVE")
    assert [(s["scope"], s["state"]) for s in out["strategy_states"]] == [(f"strategy:{sid}", "REDUCING")]
    assert [(s["label"], s["strategy"]) for s in out["subaccounts"]] == [("paper-001", "Strategy_MOM_0000beef"),
                                                                         ("paper-002", None)]
    p = out["positions"][0]
    assert (p["strategy"], p["symbol"], p["stop_price"], p["target_price"]) == ("Strategy_MOM_0000beef", "BTC",
                                                                                58_800.0, 61_800.0)
    assert (out["reconciliation"]["ts"], out["reconciliation"]["status"]) == (None, "not yet reconciled")
    res = runner.invoke(app, ["--home", str(tmp_path), "status"])
    text = " ".join(res.output.split())
    assert res.exit_code == 0, res.output
    assert "mode paper on venue paper; trading ACTIVE" in text and "last reconciliation: not yet reconciled" in text
    assert "REDUCING" in text and "kill:strategy_session_loss" in text and "58800.0000" in text


def test_status_shows_the_last_reconciliation_with_its_mismatches_uncut_at_80_columns(tmp_path: Path,
                                                                                     monkeypatch) -> None:
    c = Container.open(Home(tmp_path))
    c.reconciliations.record(mode="live", venue="hyperliquid", outcome="ok", summary="reconciled in 0.10 s: first",
                             mismatches=[], seconds=0.1)
    c.reconciliations.record(mode="live", venue="hyperliquid", outcome="mismatch", summary="reconciled in 0.20 s: 1 "
                             "mismatches", mismatches=[("live-001", "ETH", "venue position 0.05, recorded 0")],
                             seconds=0.2)
    rec = json.loads(runner.invoke(app, ["--home", str(tmp_path), "status", "--json"]).stdout)["trading"]["reconciliation"]
    assert (rec["status"], rec["venue"], rec["mismatches"]) == ("mismatch", "hyperliquid",
                                                                [["live-001", "ETH", "venue position 0.05, recorded 0"]])
    assert datetime.fromisoformat(rec["ts"]).tzinfo is not None
    monkeypatch.setattr(console, "width", 80)  # an 80-column terminal: cells fold, nothing is cut
    res = runner.invoke(app, ["--home", str(tmp_path), "status"])
    assert res.exit_code == 0, res.output
    assert max(len(line) for line in res.output.splitlines()) <= 80
    text = " ".join(res.output.split())
    assert "mismatch (live on hyperliquid): reconciled in 0.20 s: 1 mismatches" in text
    assert "live-001 ETH: venue position 0.05, recorded 0 (not traded)" in text
    assert "…" not in res.output
