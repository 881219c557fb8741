"""API read routes return the database's numbers and never a secret."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from tests.unit.api.conftest import TOKEN, add_active, promote

from sixbtc.api.app import create_app
from sixbtc.app.container import Container
from sixbtc.app.home import Home
from sixbtc.domain.strategy import StrategyStatus

READS = ("/api/health", "/api/status", "/api/pipeline", "/api/pool", "/api/live", "/api/orders", "/api/data",
         "/api/events", "/api/strategies/1", "/api/strategies/3", "/api/strategies/3/candles", "/openapi.json")


def test_pipeline_counts_funnel_and_failures_match_the_database(client: TestClient, home: Container) -> None:
    view = client.get("/api/pipeline").json()
    assert view["counts"] == home.strategies.counts_by_status()
    assert view["counts"]["ACTIVE"] == 2 and view["counts"]["LIVE"] == 1
    funnel = {f["stage"]: f for f in view["funnel"]}
    assert funnel["GENERATED"]["reached"] == 3 and funnel["VALIDATED"]["reached"] == 3
    assert funnel["LIVE"]["reached"] == 1 and funnel["LIVE"]["conversion"] == 1 / 3
    assert {q["queue"]: q["size"] for q in view["queues"]} == {"GENERATED": 0, "VALIDATED": 0}
    assert {s["status"] for s in view["stage_times"]} >= {"GENERATED", "VALIDATED"}
    assert sum(view["trend"]["series"]["GENERATED"]) == 3
    assert view["pool"]["count"] == 2


def test_the_funnel_keeps_events_folded_by_the_retention_task(client: TestClient, home: Container) -> None:
    from datetime import UTC, datetime

    from sixbtc.adapters.storage.funnel_repo import FunnelRepository

    before = client.get("/api/pipeline").json()["funnel"]
    assert FunnelRepository(home.engine).fold_events(datetime(2100, 1, 1, tzinfo=UTC)) > 0
    assert not home.dashboard.events_after(0)  # every event folded
    assert client.get("/api/pipeline").json()["funnel"] == before


def test_pool_leaderboard_is_sorted_and_filtered(client: TestClient) -> None:
    rows = client.get("/api/pool").json()["rows"]
    assert [(r["id"], r["status"], r["score"]) for r in rows] == [(3, "LIVE", 70.0), (1, "ACTIVE", 55.0),
                                                                   (2, "ACTIVE", 45.0)]
    assert rows[1]["dsr"] == 0.97 and rows[1]["pbo"] == 0.1 and rows[1]["trials"] == 40
    assert rows[1]["oos_sharpe"] == 1.5 and rows[1]["confirm_percentile"] == 80.0
    assert [r["id"] for r in client.get("/api/pool", params={"type": "REV"}).json()["rows"]] == [2]
    assert client.get("/api/pool", params={"timeframe": "4h"}).json()["rows"] == []
    assert client.get("/api/pool", params={"source": "template"}).json()["count"] == 3
    assert client.get("/api/pool", params={"type": "../x"}).status_code == 422


def test_strategy_detail_has_code_params_lineage_and_events(client: TestClient, home: Container) -> None:
    d = client.get("/api/strategies/3").json()
    assert d["strategy"]["status"] == "LIVE" and d["code"] == home.strategies.get(3).code
    assert d["params"]["n"] == 14 and d["lineage"]["parents"] == [{"name": "P1", "id": None}]
    assert [e["to_status"] for e in d["events"]] == ["GENERATED", "VALIDATED", "ACTIVE", "LIVE"]
    assert d["positions"][0]["stop_price"] == 49_000.0 and d["subaccount"]["label"] == "paper-001"
    assert client.get("/api/strategies/99").status_code == 404
    assert client.get("/api/strategies/0").status_code == 422


def test_live_view_has_positions_with_stops_and_pnl_per_subaccount(client: TestClient, home: Container) -> None:
    live = client.get("/api/live").json()
    assert live["mode"] == "paper"
    (pos,) = live["positions"]
    assert (pos["symbol"], pos["stop_price"], pos["target_price"]) == ("BTC", 49_000.0, 52_000.0)
    assert pos["strategy"] == home.strategies.get(3).name and pos["mark_price"] is None  # no candles stored
    (sub,) = live["subaccounts"]
    assert (sub["label"], sub["capital_usd"], sub["open_positions"], sub["realised_pnl_usd"]) == ("paper-001", 100.0, 1, 0.0)
    assert live["kill_switch"]["halted"] is False and live["orders"][0]["client_order_id"] == "e-3"


def test_no_read_returns_a_secret(tmp_path: Path, monkeypatch) -> None:
    secrets = {"SIXBTC__LLM__API_KEY": "sk-llm-secret-0123456789",
               "SIXBTC__EXCHANGE__AGENT_PRIVATE_KEY": "0x" + "ab" * 32,
               "SIXBTC__NOTIFY__TELEGRAM_TOKEN": "tg-secret-987654321"}
    for k, v in secrets.items():
        monkeypatch.setenv(k, v)
    c = Container.open(Home(tmp_path))
    promote(c, add_active(c, 1, 60.0))
    client = TestClient(create_app(c, TOKEN, static_dir=None))
    for path in READS:
        res = client.get(path.replace("/3", "/1"))
        assert res.status_code == 200, (path, res.text)
        for value in (*secrets.values(), TOKEN):
            assert value not in res.text, f"{path} returned a secret"


def test_unbuilt_dashboard_says_how_to_build_it(client: TestClient) -> None:
    res = client.get("/")
    assert res.status_code == 200 and "make run" in res.text


def test_built_dashboard_is_served_from_the_static_dir(home: Container, tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "index.html").write_text("<!doctype html><title>SixBTC dashboard</title>")
    client = TestClient(create_app(home, TOKEN, static_dir=tmp_path / "dist"))
    assert "SixBTC dashboard" in client.get("/").text
    assert client.get("/api/health").json() == {"status": "ok"}
    assert home.strategies.get(3).status is StrategyStatus.LIVE
