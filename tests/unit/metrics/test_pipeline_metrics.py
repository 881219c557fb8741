"""Issue 13, metrics stage: the snapshot's parts and the health rules (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sixbtc.metrics import pipeline as p
from sixbtc.metrics.collector import collect
from sixbtc.metrics.health import STUCK_MIN_GENERATED, overall_status
from sixbtc.metrics.ports import PoolMember

T0 = datetime(2026, 1, 1, tzinfo=UTC)
LIMITS = p.QueueLimits(generated=500, validated=50, active=300, live=10)


def ev(sid: int, frm: str | None, to: str | None, minutes: float, phase: str = "x", reason: str = "r") -> dict:
    return {"strategy_id": sid, "from_status": frm, "to_status": to, "phase": phase, "reason": reason,
            "ts": T0 + timedelta(minutes=minutes)}


@pytest.mark.parametrize(("util", "level"), [(0.0, "OK"), (0.799, "OK"), (0.80, "WARNING"), (0.95, "WARNING"),
                                             (0.951, "OVERFLOW"), (1.2, "OVERFLOW")])
def test_back_pressure_levels(util: float, level: str) -> None:
    assert p.back_pressure(util) == level


def test_queues_measure_each_status_against_its_limit() -> None:
    rows = {r["queue"]: r for r in p.queues({"GENERATED": 400, "VALIDATED": 48, "ACTIVE": 3, "LIVE": 0}, LIMITS)}
    assert rows["GENERATED"]["utilisation"] == 0.8 and rows["GENERATED"]["back_pressure"] == "WARNING"
    assert rows["VALIDATED"]["utilisation"] == 0.96 and rows["VALIDATED"]["back_pressure"] == "OVERFLOW"
    assert rows["ACTIVE"]["back_pressure"] == "OK" and rows["LIVE"]["size"] == 0


def test_funnel_counts_distinct_entries_and_rates_and_ignores_retests() -> None:
    events = [ev(i, None, "GENERATED", i) for i in range(1, 11)]
    events += [ev(i, "GENERATED", "VALIDATED", 20 + i) for i in range(1, 5)]
    events += [ev(1, "VALIDATED", "ACTIVE", 40), ev(1, "ACTIVE", "ACTIVE", 50, phase="retest")]
    events += [ev(5, "GENERATED", None, 30, phase="validator:syntax", reason="syntax:no_class")]
    rows = {r["stage"]: r for r in p.funnel(events)}
    assert [rows[s]["entered"] for s in p.FUNNEL] == [10, 4, 1, 0]
    assert rows["GENERATED"]["rate"] is None and rows["VALIDATED"]["rate"] == 0.4
    assert rows["ACTIVE"]["rate"] == 0.25 and rows["LIVE"]["rate"] == 0.0


def test_stage_times_from_entry_to_exit() -> None:
    events = [ev(1, None, "GENERATED", 0), ev(1, "GENERATED", "VALIDATED", 2), ev(2, None, "GENERATED", 0),
              ev(2, "GENERATED", "VALIDATED", 4), ev(1, "VALIDATED", "ACTIVE", 12)]
    rows = {r["status"]: r for r in p.stage_times(events)}
    assert rows["GENERATED"] == {"status": "GENERATED", "n": 2, "median_s": 180.0, "mean_s": 180.0}
    assert rows["VALIDATED"]["n"] == 1 and rows["VALIDATED"]["mean_s"] == 600.0


def test_failures_count_rejections_and_failed_by_reason() -> None:
    events = [ev(1, "GENERATED", None, 1, reason="lookahead:shift"), ev(2, "GENERATED", None, 2, reason="lookahead:shift"),
              ev(3, "VALIDATED", "FAILED", 3, reason="error:ValueError"), ev(4, "VALIDATED", None, 4, reason="backtest:few_trades"),
              ev(5, "ACTIVE", "ACTIVE", 5, reason="control:pause")]
    assert p.failures(events) == [{"reason": "lookahead:shift", "count": 2}, {"reason": "backtest:few_trades", "count": 1},
                                  {"reason": "error:ValueError", "count": 1}]


def test_retests_and_pass_rate() -> None:
    events = [ev(1, "ACTIVE", "ACTIVE", 1, "retest", "retest:kept"), ev(2, "ACTIVE", "RETIRED", 2, "retest", "retest:few_trades"),
              ev(3, "ACTIVE", "ACTIVE", 3, "retest", "retest:no_data"), ev(4, "ACTIVE", "ACTIVE", 4, "retest", "retest:kept"),
              ev(5, "ACTIVE", "ACTIVE", 5, "pool", "retest:kept")]
    assert p.retests(events) == {"count": 3, "passed": 2, "failed": 1, "pass_rate": 0.6667}
    assert p.retests([])["pass_rate"] is None


def test_rotations_count_promotions_and_live_retirements() -> None:
    events = [ev(1, "ACTIVE", "LIVE", 1), ev(2, "ACTIVE", "LIVE", 2), ev(1, "LIVE", "RETIRED", 3),
              ev(3, "ACTIVE", "RETIRED", 4)]
    assert p.rotations(events) == {"promoted": 2, "retired": 1}


def test_pool_stats_by_source() -> None:
    members = [PoolMember("template", 50.0, 1.0, 0.5), PoolMember("template", 70.0, 2.0, None),
               PoolMember("unger", 60.0, None, 0.6)]
    stats = p.pool_stats(members)
    assert stats["all"] == {"count": 3, "min_score": 50.0, "max_score": 70.0, "avg_score": 60.0, "avg_sharpe": 1.5,
                            "avg_win_rate": 0.55}
    assert stats["by_source"]["template"]["avg_score"] == 60.0 and stats["by_source"]["template"]["avg_win_rate"] == 0.5
    assert stats["by_source"]["unger"]["avg_sharpe"] is None
    assert p.pool_stats([])["all"]["min_score"] is None


def _status(counts: dict[str, int], events: list[dict], state: str = "ACTIVE") -> tuple[str, list[str]]:
    return overall_status(p.queues(counts, LIMITS), p.funnel(events), state)


HEALTHY_COUNTS = {"GENERATED": 10, "VALIDATED": 5, "ACTIVE": 20, "LIVE": 3}


def test_health_rules() -> None:
    assert _status(HEALTHY_COUNTS, []) == ("HEALTHY", [])
    assert _status(HEALTHY_COUNTS, [], "HALTED") == ("CRITICAL", ["trading HALTED"])
    assert _status(HEALTHY_COUNTS, [], "REDUCING") == ("WARNING", ["trading REDUCING"])
    assert _status(HEALTHY_COUNTS | {"VALIDATED": 49}, [])[0] == "CRITICAL"  # 0.98 > 0.95: OVERFLOW
    assert _status(HEALTHY_COUNTS | {"GENERATED": 450}, []) == ("WARNING", ["GENERATED queue WARNING (450/500)"])
    assert _status(HEALTHY_COUNTS | {"ACTIVE": 300}, [])[0] == "HEALTHY"  # a full pool is the goal
    assert _status(HEALTHY_COUNTS | {"ACTIVE": 0, "LIVE": 0}, []) == ("WARNING", ["ACTIVE pool empty", "no LIVE strategy"])
    stuck = [ev(i, None, "GENERATED", i) for i in range(STUCK_MIN_GENERATED)]
    assert _status(HEALTHY_COUNTS, stuck)[0] == "CRITICAL"
    assert _status(HEALTHY_COUNTS, stuck[:-1])[0] == "HEALTHY"  # below the sample size


class Reads:
    def __init__(self, events: list[dict]) -> None:
        self.events = events
        self.since: datetime | None = None

    def counts_by_status(self) -> dict[str, int]:
        return HEALTHY_COUNTS

    def events_since(self, since: datetime) -> list[dict]:
        self.since = since
        return [e for e in self.events if e["ts"] >= since]

    def pool_members(self) -> list[PoolMember]:
        return [PoolMember("pattern", 55.0, 1.2, 0.52)]

    def trading_state(self) -> str:
        return "ACTIVE"


def test_collect_reads_the_last_24_hours_and_fills_every_part() -> None:
    now = T0 + timedelta(days=2)
    reads = Reads([ev(1, None, "GENERATED", 0), ev(2, None, "GENERATED", 60 * 30), ev(2, "GENERATED", "VALIDATED", 60 * 30 + 1)])
    snap = collect(reads, LIMITS, now)
    assert reads.since == now - timedelta(hours=24)
    assert snap.status == "HEALTHY" and snap.ts == now
    assert [r["entered"] for r in snap.data["funnel_24h"]] == [1, 1, 0, 0]  # strategy 1 is older than 24 h
    assert set(snap.data) == {"counts", "queues", "funnel_24h", "stage_times_24h", "failures_24h", "pool", "retests_24h",
                              "live", "trading_state", "reasons", "window_s"}
    assert snap.data["live"] == {"count": 3, "promoted_24h": 0, "retired_24h": 0}
    assert snap.data["pool"]["by_source"]["pattern"]["count"] == 1
