"""Issue 13, watchdog rules (pure): each anomaly of SPEC §3.10 and its absence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sixbtc.metrics.watchdog import Observation, Stream, anomalies

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RULES = {"stale_after": timedelta(minutes=5), "heartbeat_timeout": timedelta(seconds=120)}


def hb(role: str, age_s: float, state: str = "running", feed: str | None = None) -> dict:
    return {"role": role, "worker": f"{role}@h:1/1", "state": state, "beat_at": NOW - timedelta(seconds=age_s), "feed": feed}


def kinds(obs: Observation) -> list[tuple[str, str]]:
    return [(a.kind, a.key) for a in anomalies(obs, **RULES)]


def test_a_healthy_system_has_no_anomaly() -> None:
    obs = Observation(NOW, [hb("executor", 5, feed="connected"), hb("validator", 10)],
                      [Stream("BTC", "1h", 3600, NOW - timedelta(hours=1, minutes=4))], frozenset({1, 2}), frozenset({1}),
                      {}, [{"id": 1, "strategy_id": 1, "symbol": "BTC", "stop_price": 95.0}])
    assert kinds(obs) == []


def test_feed_disconnected_or_offline() -> None:
    assert kinds(Observation(NOW, [hb("executor", 1, feed="disconnected")])) == [("feed_disconnected", "executor@h:1/1")]
    assert kinds(Observation(NOW, [hb("executor", 1, feed="offline")]))[0][0] == "feed_disconnected"
    assert kinds(Observation(NOW, [hb("executor", 1, state="stopped", feed="offline")])) == []  # not running


def test_data_stale_after_five_minutes_past_the_candle_close() -> None:
    fresh = Stream("ETH", "15m", 900, NOW - timedelta(minutes=19))  # closed 4 min ago
    stale = Stream("BTC", "15m", 900, NOW - timedelta(minutes=21))  # closed 6 min ago
    empty = Stream("SOL", "1h", 3600, None)
    assert kinds(Observation(NOW, streams=[fresh, stale, empty])) == [("data_stale", "BTC/15m"), ("data_stale", "SOL/1h")]


def test_all_stopped_only_when_every_live_strategy_is() -> None:
    assert kinds(Observation(NOW, live_ids=frozenset({1, 2}), stopped_ids=frozenset({1, 2}))) == [("all_stopped", "live")]
    assert kinds(Observation(NOW, live_ids=frozenset({1, 2}), stopped_ids=frozenset({2}))) == []
    assert kinds(Observation(NOW)) == []  # nothing LIVE: nothing stopped


def test_kill_switch_and_missing_stop() -> None:
    obs = Observation(NOW, states={"global": ("HALTED", "kill:global_drawdown_24h"), "strategy:3": ("REDUCING", "x")},
                      positions=[{"id": 7, "strategy_id": 3, "symbol": "BTC", "stop_price": 0.0},
                                 {"id": 8, "strategy_id": 3, "symbol": "ETH", "stop_price": float("nan")},
                                 {"id": 9, "strategy_id": 3, "symbol": "SOL", "stop_price": None},
                                 {"id": 10, "strategy_id": 3, "symbol": "XRP", "stop_price": 0.5}])
    found = anomalies(obs, **RULES)
    assert [(a.kind, a.key) for a in found] == [("kill_switch", "global"), ("kill_switch", "strategy:3"),
                                                ("missing_stop", "position:7"), ("missing_stop", "position:8"),
                                                ("missing_stop", "position:9")]
    assert all(a.severity == "CRITICAL" for a in found)
    assert "kill:global_drawdown_24h" in found[0].text


def test_role_silent_after_the_heartbeat_timeout_unless_stopped() -> None:
    obs = Observation(NOW, [hb("backtester", 121), hb("validator", 119), hb("rotator", 9999, state="stopped")])
    assert kinds(obs) == [("role_silent", "backtester@h:1/1")]
