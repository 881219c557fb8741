"""Mutating routes and the WebSocket: token and Origin checks, and what each action does."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse
from tests.unit.api.conftest import AUTH, TOKEN

from sixbtc.app.container import Container
from sixbtc.app.paper import live_set
from sixbtc.app.retesting import retest_due_before
from sixbtc.domain.strategy import StrategyStatus

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
        assert client.post("/api/strategies/3/pause", headers=AUTH).status_code == 200
        got = [ws.receive_json(), ws.receive_json()]
    events = next(m for m in got if m["type"] == "events")["events"]
    assert [e["reason"] for e in events] == ["control:pause"]
    assert next(m for m in got if m["type"] == "snapshot")["data"]["paused"] == [3]


def test_pause_and_resume_halt_the_strategy_in_the_executor_set(client: TestClient, home: Container) -> None:
    assert [s.active for s in live_set(home)] == [True]
    res = client.post("/api/strategies/3/pause", headers=AUTH, json={"actor": "alice"})
    assert res.status_code == 200 and res.json()["paused"] is True
    assert [s.active for s in live_set(home)] == [False] and home.strategies.get(3).status is StrategyStatus.LIVE
    assert client.post("/api/strategies/3/pause", headers=AUTH).status_code == 409
    assert client.post("/api/strategies/1/pause", headers=AUTH).status_code == 409  # ACTIVE, not LIVE
    assert client.post("/api/strategies/99/pause", headers=AUTH).status_code == 404
    assert client.post("/api/strategies/3/resume", headers=AUTH).status_code == 200
    assert [s.active for s in live_set(home)] == [True]
    events = home.dashboard.events_for(3)[-2:]
    assert [e["reason"] for e in events] == ["control:pause", "control:resume"]
    assert events[0]["detail"] == "by alice via api@testclient" and events[0]["ts"] is not None


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


def test_emergency_stop_halts_every_live_strategy_until_cleared(client: TestClient, home: Container) -> None:
    res = client.post("/api/emergency-stop", headers=AUTH)
    assert res.status_code == 200 and res.json()["paused"] == [home.strategies.get(3).name]
    ks = client.get("/api/live").json()["kill_switch"]
    assert ks["halted"] is True and ks["paused"][0]["id"] == 3 and "by api@testclient" in ks["detail"]
    assert [s.active for s in live_set(home)] == [False]
    assert client.post("/api/emergency-stop/clear", headers=AUTH).status_code == 200
    assert client.post("/api/emergency-stop/clear", headers=AUTH).status_code == 409
    assert [s.active for s in live_set(home)] == [False], "paused strategies stay paused after the halt"
    assert client.post("/api/strategies/3/resume", headers=AUTH).status_code == 200
    assert [s.active for s in live_set(home)] == [True]


def test_the_halt_also_stops_a_strategy_promoted_after_it(client: TestClient, home: Container) -> None:
    from tests.unit.api.conftest import promote

    client.post("/api/emergency-stop", headers=AUTH)
    promote(home, 1)  # the rotator promotes during the halt
    assert sorted((s.id, s.active) for s in live_set(home)) == [(1, False), (3, False)]


def test_emergency_stop_with_close_retires_the_live_strategies(client: TestClient, home: Container) -> None:
    res = client.post("/api/emergency-stop", headers=AUTH, json={"close": True})
    assert res.status_code == 200 and res.json()["retired"] == [home.strategies.get(3).name]
    assert home.strategies.get(3).status is StrategyStatus.RETIRED
    assert [(s.id, s.active) for s in live_set(home)] == [(3, False)]  # wound down: its position is closed
