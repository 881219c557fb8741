"""`run --once` on the synthetic world: a failing LIVE strategy no longer ends the cycle, claims of
dead workers are released at the start, worker ids carry the worker's own pid."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from executor_world import add_live, dead_pid, strategy_code
from sqlalchemy import select
from typer.testing import CliRunner

from sixbtc.adapters.storage.tables import StrategyRow
from sixbtc.app.once import run_once
from sixbtc.app.processes import pid_alive, this_host, worker_id
from sixbtc.app.window import plan_window
from sixbtc.app.workers import run_role_pool
from sixbtc.cli.main import app
from sixbtc.domain.claims import WorkerId
from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyStatus, StrategyType

RAISES = 'if data["volume"][-1] >= 370: raise RuntimeError("boom at bar 370")'
LOOPS = "while True: pass"


def _generated(c, name: str, code: str) -> int:
    sid = c.strategies.add(StrategyCandidate(name, StrategyType.MOM, StrategySource.USER, code, name))
    assert sid is not None
    return sid


def test_run_once_with_a_failing_live_strategy_prints_its_summary_and_succeeds(make_world) -> None:
    c = make_world()
    good = add_live(c, "Strategy_MOM_00000001", strategy_code("Strategy_MOM_00000001"), ("BTC", "ETH"))
    bad = add_live(c, "Strategy_MOM_00000002", strategy_code("Strategy_MOM_00000002", trap=RAISES), ("BTC", "ETH"))

    res = CliRunner().invoke(app, ["--home", str(c.home.root), "run", "--once", "--generate", "0"])

    assert res.exit_code == 0, res.output  # before the fix: exit 1, no summary
    assert "cycle finished" in res.output and "replay_bars=96" in res.output
    assert c.strategies.get(bad).status is StrategyStatus.RETIRED
    assert c.strategies.get(good).status is StrategyStatus.LIVE and c.trading.trades(good)


def test_run_once_releases_the_claims_of_dead_workers_first(make_world) -> None:
    c = make_world()
    sids = [_generated(c, f"Strategy_MOM_000000a{i}", "def broken(:\n") for i in range(3)]  # rejected at once
    me = WorkerId.parse(worker_id("validator"))
    owners = [WorkerId("validator", this_host(), dead_pid()),  # killed
              # its pid now belongs to a process started later (this one): before the fix kept
              # until scheduler.stale_claim_minutes
              WorkerId("validator", this_host(), me.pid, me.started - 1),
              WorkerId("validator", "another-host", dead_pid())]  # not ours to judge: kept
    for sid, owner in zip(sids, owners, strict=True):
        assert c.strategies.claim(StrategyStatus.GENERATED, str(owner)).id == sid  # then the worker died

    report = run_once(c, 0)

    assert report.counts["claims_released"] == 2
    assert report.counts["validator_processed"] == 2, "the released strategies were validated in this run"
    assert [c.strategies.get(sid) is None for sid in sids] == [True, True, False]
    assert c.strategies.get(sids[2]).status is StrategyStatus.GENERATED


def test_worker_ids_name_the_worker_process_itself(make_world) -> None:
    c = make_world()
    sid = _generated(c, "Strategy_MOM_000000bb", strategy_code("Strategy_MOM_000000bb", trap=LOOPS))
    done = threading.Thread(target=run_role_pool, args=(c, "validator", 1, plan_window(c.store, c.settings)))
    done.start()
    owner = None
    deadline = time.monotonic() + 60
    while owner is None and time.monotonic() < deadline:  # the worker holds it while its sandbox times out
        with c.engine.connect() as conn:
            owner = conn.execute(select(StrategyRow.processing_by).where(StrategyRow.id == sid)).scalar()
        time.sleep(0.02)
    done.join(timeout=120)
    worker = WorkerId.parse(owner)
    assert worker is not None, f"unparseable worker id {owner!r}"
    assert worker.role == "validator" and worker.same_host(this_host()) and worker.started is not None
    assert worker.pid != os.getpid(), "the id must carry the worker's pid, not the parent's"
    assert not pid_alive(worker.pid), "the pool's worker process has exited"


def test_pid_alive_knows_a_reaped_child_from_a_running_one(tmp_path: Path) -> None:
    assert pid_alive(os.getpid())
    assert not pid_alive(dead_pid())
