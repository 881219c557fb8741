"""Mutating routes and the WebSocket: token and Origin checks, and what each action does.

The emergency stop, its end and pause/resume go through the trading states (the table the
CLI's ``emergency-stop`` / ``resume`` and ``status`` use): each test checks the state row, the
event naming who, and what the executor's set (``live_set``) then runs."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse
from tests.unit.api.conftest import AUTH, TOKEN, promote
from typer.testing import CliRunner

from sixbtc.api.app import create_app
from sixbtc.app.container import Container
from sixbtc.app.paper import live_set
from sixbtc.app.retesting import retest_due_before
from sixbtc.cli.main import app as cli
from sixbtc.core.errors import ConfigError
from sixbtc.domain.orders import Market, OrderRequest, OrderSide, OrderType
from sixbtc.domain.risk import GLOBAL_SCOPE, TradingState, strategy_scope
from sixbtc.domain.strategy import StrategyStatus
from sixbtc.testing.fake_exchange import FakeExchange

WS_OK = ["sixbtc", f"token.{TOKEN}"]


def _mutating(client: TestClient) -> list[str]:
    schema = client.get("/openapi.json").json()["paths"]
    paths = [p.replace("{strategy_id}", "3") for p, ops in schema.items() if set(ops) - {"get"}]
    assert len(paths) == 6, paths  # emergency stop, clear, pause, resume, retire, retest
    return paths


def test_every_mutating_route_refuses_a_missing_or_wrong_token(client: TestClient, home: Container) -> None:
    before = home.dashboard.last_event_id()
    for path in _mutating(client):
        assert client.post(path).status_code == 401, path
        assert client.post(path, headers={"Authorization": "Bearer wrong"}).status_code == 403, path
        assert client.post(path, headers={"Authorization": f"Bearer {TOKEN}x"}).status_code == 403, path
        assert client.post(path, headers={"Authorization": "Basic " + TOKEN}).status_code == 401, path
        bad_origin = {**AUTH, "Origin": "http://evil.example"}
        assert client.post(path, headers=bad_origin).status_code == 403, path
    assert home.dashboard.last_event_id() == before, "a refused action must change nothing"
    assert home.strategies.get(3).status is StrategyStatus.LIVE


def test_the_websocket_refuses_a_missing_or_wrong_token_or_origin(client: TestClient) -> None:
    cases = ((["sixbtc"], {}, 401), (["sixbtc", "token.wrong"], {}, 403),
             (WS_OK, {"Origin": "http://evil.example"}, 403))
    for protocols, headers, code in cases:
        with pytest.raises(WebSocketDenialResponse) as err, \
                client.websocket_connect("/api/ws", subprotocols=protocols, headers=headers):
            pass
        assert err.value.status_code == code


def test_the_websocket_pushes_a_snapshot_then_changes(client: TestClient, home: Container) -> None:
    with client.websocket_connect("/api/ws", subprotocols=WS_OK,
                                  headers={"Origin": "http://127.0.0.1:8080"}) as ws:
        first = ws.receive_json()
        assert first["type"] == "snapshot" and first["data"]["counts"] == home.strategies.counts_by_status()
        assert first["data"]["positions"][0]["stop_price"] == 49_000.0 and first["data"]["paused"] == []
        assert first["data"]["trading_state"] == "ACTIVE"
        assert client.post("/api/strategies/3/pause", headers=AUTH).status_code == 200
        got = [ws.receive_json(), ws.receive_json()]
    events = next(m for m in got if m["type"] == "events")["events"]
    assert [e["reason"] for e in events] == ["control:pause"]
    assert next(m for m in got if m["type"] == "snapshot")["data"]["paused"] == [3]


def test_pause_and_resume_set_the_strategy_trading_state(client: TestClient, home: Container) -> None:
    assert [s.active for s in live_set(home)] == [True]
    res = client.post("/api/strategies/3/pause", headers=AUTH, json={"actor": "alice"})
    assert res.status_code == 200 and res.json()["state"] == "REDUCING"
    row = home.trading_states.get(strategy_scope(3))
    assert row.state is TradingState.REDUCING and row.reason == "pause" and row.detail == "by alice via api@testclient"
    assert [s.active for s in live_set(home)] == [False] and home.strategies.get(3).status is StrategyStatus.LIVE
    assert client.get("/api/strategies/3").json()["strategy"]["trading_state"] == "REDUCING"
    assert client.get("/api/pool").json()["rows"][0]["trading_state"] == "REDUCING"
    assert client.post("/api/strategies/3/pause", headers=AUTH).status_code == 409
    assert client.post("/api/strategies/1/pause", headers=AUTH).status_code == 409  # ACTIVE, not LIVE
    assert client.post("/api/strategies/99/pause", headers=AUTH).status_code == 404
    assert client.post("/api/strategies/3/resume", headers=AUTH).status_code == 200
    assert client.post("/api/strategies/3/resume", headers=AUTH).status_code == 409
    assert home.trading_states.get(strategy_scope(3)).state is TradingState.ACTIVE
    assert [s.active for s in live_set(home)] == [True]
    events = home.dashboard.events_for(3)[-2:]
    assert [e["reason"] for e in events] == ["control:pause", "control:resume"]
    assert events[0]["detail"] == "by alice via api@testclient" and events[0]["ts"] is not None
    assert events[1]["detail"] == "by api@testclient; was REDUCING (pause)"


def test_a_strategy_paused_in_the_api_is_resumed_by_the_cli(client: TestClient, home: Container) -> None:
    client.post("/api/strategies/3/pause", headers=AUTH)
    res = CliRunner().invoke(cli, ["--home", str(home.home.root), "resume", "--strategy", "3"])
    assert res.exit_code == 0 and "REDUCING (pause) -> ACTIVE" in res.output, res.output
    assert client.get("/api/strategies/3").json()["strategy"]["trading_state"] == "ACTIVE"
    assert home.dashboard.events_for(3)[-1]["detail"].startswith("by cli:")


def test_retire_and_retest_are_recorded_with_who(client: TestClient, home: Container) -> None:
    assert client.post("/api/strategies/1/retest", headers=AUTH).status_code == 200
    assert home.strategies.get(1).last_backtested_at < retest_due_before(home)
    assert client.post("/api/strategies/3/retest", headers=AUTH).status_code == 409  # LIVE: not re-tested
    res = client.post("/api/strategies/2/retire", headers=AUTH, json={"actor": "bob"})
    assert res.status_code == 200 and home.strategies.get(2).status is StrategyStatus.RETIRED
    assert client.post("/api/strategies/2/retire", headers=AUTH).status_code == 409
    reasons = {e["reason"]: e["detail"] for e in home.dashboard.events_for(1) + home.dashboard.events_for(2)}
    assert reasons["control:retest"] == "by api@testclient" and reasons["control:retire"] == "by bob via api@testclient"
    assert client.post("/api/strategies/3/retire", headers=AUTH).json()["subaccount_freed"] is False  # holds a position


def _venue() -> FakeExchange:
    """One sub-account with a long BTC position and its resting stop."""
    v = FakeExchange({"BTC": Market("BTC", 5, 40)}, {"BTC": 50_000.0}, master_usd=1_000.0)
    v.add_subaccount("paper-001", 100.0)
    v.place_order("paper-001", OrderRequest("e-3", "BTC", OrderSide.BUY, OrderType.MARKET, 0.01))
    v.place_order("paper-001", OrderRequest("sl-3", "BTC", OrderSide.SELL, OrderType.STOP_MARKET, 0.01,
                                            trigger_price=49_000.0, reduce_only=True))
    v.calls.clear()
    return v


def _global_events(home: Container) -> list[dict]:
    return [e for e in home.dashboard.events_after(0, 1000) if e["strategy_id"] is None]


def test_emergency_stop_halts_trading_cancels_on_the_venue_and_is_recorded(home: Container) -> None:
    v = _venue()
    client = TestClient(create_app(home, TOKEN, static_dir=None, open_venue=lambda c: v))
    res = client.post("/api/emergency-stop", headers=AUTH, json={"actor": "carol"})
    assert res.status_code == 200 and res.json()["newly_halted"] is True and res.json()["complete"] is True
    assert res.json()["cancelled"] == [["paper-001", "BTC", "sl-3"]] and [c[0] for c in v.calls] == ["cancel_order"]
    row = home.trading_states.get(GLOBAL_SCOPE)
    assert row.state is TradingState.HALTED and row.reason == "emergency_stop"
    assert row.detail == "by carol via api@testclient; close_positions=no"
    event = _global_events(home)[-1]
    assert event["reason"] == "control:emergency_stop" and event["detail"] == row.detail and event["ts"] is not None
    assert live_set(home) == [], "HALTED: the executor runs nothing"
    promote(home, 1)  # the rotator promotes during the halt
    assert live_set(home) == []
    ks = client.get("/api/live").json()["kill_switch"]
    assert ks["state"] == "HALTED" and ks["halted"] is True and "by carol" in ks["detail"]
    status = json.loads(CliRunner().invoke(cli, ["--home", str(home.home.root), "status", "--json"]).stdout)
    assert status["trading"]["global_state"]["state"] == "HALTED"  # the CLI sees the API's halt
    assert client.post("/api/emergency-stop/clear", headers=AUTH).json() == {"state": "ACTIVE", "was": "HALTED"}
    assert client.post("/api/emergency-stop/clear", headers=AUTH).status_code == 409
    assert home.trading_states.get(GLOBAL_SCOPE).state is TradingState.ACTIVE
    assert sorted((s.id, s.active) for s in live_set(home)) == [(1, True), (3, True)]
    assert _global_events(home)[-1]["reason"] == "control:resume"
    assert not any(r.startswith("control:") for r in home.strategies.rejections_by_reason()), "not rejections"


def test_emergency_stop_with_close_closes_every_position(home: Container) -> None:
    v = _venue()
    client = TestClient(create_app(home, TOKEN, static_dir=None, open_venue=lambda c: v))
    out = client.post("/api/emergency-stop", headers=AUTH, json={"close": True}).json()
    assert out["complete"] is True and out["open_positions"] == {"paper-001": 0}
    assert [c[3] for c in out["closed"]] == ["filled"] and out["cancelled"] == [["paper-001", "BTC", "sl-3"]]


def test_a_halt_from_the_cli_is_seen_by_the_api_and_lifted_from_it(client: TestClient, home: Container) -> None:
    res = CliRunner().invoke(cli, ["--home", str(home.home.root), "emergency-stop"])
    assert res.exit_code == 0 and "trading HALTED" in res.output  # the paper venue: stop complete
    assert client.get("/api/live").json()["kill_switch"]["halted"] is True
    with client.websocket_connect("/api/ws", subprotocols=WS_OK) as ws:
        assert ws.receive_json()["data"]["halted"] is True
    assert _global_events(home)[-1]["detail"].startswith("by cli:")
    assert client.post("/api/emergency-stop/clear", headers=AUTH).status_code == 200
    res = CliRunner().invoke(cli, ["--home", str(home.home.root), "resume"])
    assert "already ACTIVE" in res.output


def test_an_api_emergency_stop_without_a_venue_still_halts(home: Container) -> None:
    def no_venue(_c: Container) -> None:
        raise ConfigError("no live (hyperliquid) execution venue is available in this build")

    client = TestClient(create_app(home, TOKEN, static_dir=None, open_venue=no_venue))
    out = client.post("/api/emergency-stop", headers=AUTH).json()
    assert out["complete"] is False and out["failures"][0][0] == "venue"  # the venue could not be opened
    assert home.trading_states.get(GLOBAL_SCOPE).state is TradingState.HALTED
