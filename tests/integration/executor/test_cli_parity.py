"""CLI parity (SPEC §3.12): ``sixbtc generate N``, ``sixbtc retest [--all|NAME]`` and
``sixbtc rotate [--dry-run]`` on the synthetic world (real sandbox, real Parquet store)."""

from __future__ import annotations

import json
from datetime import timedelta

from executor_world import strategy_code
from typer.testing import CliRunner

from sixbtc.cli.main import app
from sixbtc.core.ids import sha256_hex
from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyStatus, StrategyType

runner = CliRunner()


def _active(c, name: str, score: float, backtested_days_ago: float) -> int:
    code = strategy_code(name)
    sid = c.strategies.add(StrategyCandidate(name=name, type=StrategyType.MOM, source=StrategySource.USER,
                                             code=code, code_hash=sha256_hex(code)))
    for src, dst in ((StrategyStatus.GENERATED, StrategyStatus.VALIDATED), (StrategyStatus.VALIDATED, StrategyStatus.ACTIVE)):
        rec = c.strategies.claim(src, "setup")
        extra = {} if dst is StrategyStatus.VALIDATED else {
            "params": {"sl_pct": 0.02, "tp_pct": 0.03}, "timeframe": "1h", "symbols": ["BTC", "ETH"],
            "metrics": {"direction": "long"}, "score": score,
            "last_backtested_at": c.clock.now() - timedelta(days=backtested_days_ago)}
        c.strategies.transition(sid, rec.claim_token, dst, phase="setup", reason="setup", **extra)
    return sid


def _run(c, *args: str) -> dict:
    res = runner.invoke(app, ["--home", str(c.home.root), *args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_generate_stops_at_the_daily_limit_counted_in_the_database(make_world) -> None:
    c = make_world(daily_limit=4)
    assert _run(c, "generate", "3") == {"generated": 3, "dropped": 0, "daily_left": 1, "queue_left": 497}
    assert _run(c, "generate", "3")["generated"] == 1  # a new process: the quota is in the database
    res = runner.invoke(app, ["--home", str(c.home.root), "generate", "2"])
    assert res.exit_code == 0 and "stopped early: the daily limit is reached" in res.output


def test_retest_due_all_and_by_name(make_world) -> None:
    c = make_world(daily_limit=0)
    due = _active(c, "Strategy_MOM_0000000a", 60.0, 5)
    fresh = _active(c, "Strategy_MOM_0000000b", 61.0, 0.5)
    out = _run(c, "retest")
    assert [r["name"] for r in out["retested"]] == ["Strategy_MOM_0000000a"]  # only the due one
    assert c.strategies.get(due).last_backtested_at > c.clock.now() - timedelta(minutes=5) or \
        c.strategies.get(due).status is StrategyStatus.RETIRED
    assert _run(c, "retest")["retested"] == []  # nothing due any more
    out = _run(c, "retest", "Strategy_MOM_0000000b")
    assert [r["name"] for r in out["retested"]] == ["Strategy_MOM_0000000b"]
    assert out["retested"][0]["score_before"] == 61.0 and out["retested"][0]["status"] in ("ACTIVE", "RETIRED")
    active = [s.name for s in c.strategies.list_by_status(StrategyStatus.ACTIVE)]
    out = _run(c, "retest", "--all")
    assert sorted(r["name"] for r in out["retested"]) == sorted(active)
    res = runner.invoke(app, ["--home", str(c.home.root), "retest", "Strategy_MOM_000000ff"])
    assert res.exit_code == 1 and "no unclaimed ACTIVE strategy named 'Strategy_MOM_000000ff'" in res.output
    assert fresh


def test_rotate_dry_run_writes_nothing_and_rotate_promotes_the_same(make_world) -> None:
    c = make_world(daily_limit=0)
    c.home.config_path.write_text(c.home.config_path.read_text()
                                  + "rotator:\n  require_confirmation: false\n  max_correlation: 1.0\n")
    sid = _active(c, "Strategy_MOM_0000000c", 70.0, 0)
    _active(c, "Strategy_MOM_0000000d", 20.0, 0)  # below rotator.min_score_live
    plan = _run(c, "rotate", "--dry-run")
    assert plan == {"dry_run": True, "promoted": [{"id": sid, "name": "Strategy_MOM_0000000c", "score": 70.0,
                                                    "sub_account": None}]}
    assert c.strategies.get(sid).status is StrategyStatus.ACTIVE
    done = _run(c, "rotate")
    assert [r["id"] for r in done["promoted"]] == [sid] and done["promoted"][0]["sub_account"]
    assert c.strategies.get(sid).status is StrategyStatus.LIVE
    assert _run(c, "rotate", "--dry-run")["promoted"] == []
