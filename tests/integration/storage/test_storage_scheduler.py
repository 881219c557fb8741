"""Scheduler storage on SQLite and PostgreSQL: the run log, the task lease across processes,
events folded into funnel counts before deletion, and the strategy cleanups."""

from __future__ import annotations

from datetime import timedelta

from scheduler_support import task_worker
from sqlalchemy import Engine, func, insert, select
from storage_support import T0, add_generated, add_validated, claim_specific, run_processes

from sixbtc.adapters.storage.funnel_repo import FunnelRepository
from sixbtc.adapters.storage.scheduler_repo import SchedulerRunRepository
from sixbtc.adapters.storage.strategy_repo import StrategyRepository
from sixbtc.adapters.storage.tables import PositionRow, StrategyEventRow, SubaccountRow
from sixbtc.core.clock import SimClock
from sixbtc.domain.strategy import StrategyStatus as S
from sixbtc.scheduler.ports import Outcome

E = StrategyEventRow.__table__


def test_the_run_log_records_runs_and_gives_the_newest_per_task(engine: Engine, clock: SimClock) -> None:
    runs = SchedulerRunRepository(engine, clock)
    a = runs.start("update_pairs", "box", 10)
    clock.advance_to(clock.now() + timedelta(seconds=5))
    runs.finish(a, Outcome.FAILED, "NetworkUnavailable: down")
    b = runs.start("update_pairs", "box", 10)
    c = runs.start("cleanup_tmp_dir", "box", 11)
    runs.finish(c, Outcome.OK, "0 files")
    last = runs.last_runs()
    assert set(last) == {"update_pairs", "cleanup_tmp_dir"}
    assert last["update_pairs"].id == b and last["update_pairs"].outcome is Outcome.RUNNING
    assert last["update_pairs"].finished_at is None
    first = runs.runs("update_pairs")[-1]
    assert (first.outcome, first.message, first.finished_at - first.started_at) == \
        (Outcome.FAILED, "NetworkUnavailable: down", timedelta(seconds=5))
    assert first.started_at.tzinfo is not None
    clock.advance_to(clock.now() + timedelta(days=40))
    assert runs.prune(clock.now() - timedelta(days=30)) == 3 and runs.runs() == []


def test_a_task_runs_once_when_three_processes_start_it_at_once(db_url: str, engine: Engine) -> None:
    out = dict(run_processes(task_worker, [(db_url, f"w{i}") for i in range(3)], timeout_s=120))
    outcomes = sorted(o for o, _ in out.values())
    assert outcomes == ["ok", "skipped", "skipped"], out
    for outcome, message in out.values():
        if outcome == "skipped":
            assert message.startswith("already running: the sched:cleanup_old_events lease is held: pid ")
    rows = SchedulerRunRepository(engine).runs("cleanup_old_events")
    assert sorted(r.outcome for r in rows) == [Outcome.OK, Outcome.SKIPPED, Outcome.SKIPPED]


def test_folded_events_keep_the_counts_of_generation_and_rejections(engine: Engine, clock: SimClock) -> None:
    repo = StrategyRepository(engine, clock)
    ids = add_generated(repo, 5)
    for sid in ids[:2]:
        repo.reject(sid, claim_specific(repo, S.GENERATED, sid), phase="validator", reason="validator:syntax")
    clock.advance_to(clock.now() + timedelta(days=8))
    add_generated(repo, 1, first=100)  # a recent event, kept
    since = T0 - timedelta(days=1)
    before = (repo.count_created_since(since), repo.rejections_by_reason(since), repo.rejections_by_reason())
    assert before == (6, {"validator:syntax": 2}, {"validator:syntax": 2})
    folded = FunnelRepository(engine).fold_events(clock.now() - timedelta(days=7), batch=3)
    assert folded == 7  # 5 GENERATED + 2 rejections
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(E)).scalar_one() == 1
    assert (repo.count_created_since(since), repo.rejections_by_reason(since), repo.rejections_by_reason()) == before
    assert repo.count_created_since(clock.now() - timedelta(hours=1)) == 1  # the folded day is older
    counts = FunnelRepository(engine).counts()
    assert {(k[0], k[2], k[3]): v for k, v in counts.items()} == {(T0, "", "GENERATED"): 5, (T0, "GENERATED", ""): 2}
    assert FunnelRepository(engine).fold_events(clock.now() - timedelta(days=7)) == 0  # idempotent


def test_cleanups_delete_only_old_unclaimed_strategies_without_positions_or_accounts(engine: Engine,
                                                                                     clock: SimClock) -> None:
    repo = StrategyRepository(engine, clock)
    old_gen = add_generated(repo, 3)
    old_val = add_validated(repo, 1, first=10)
    claimed = claim_specific(repo, S.GENERATED, old_gen[2])
    clock.advance_to(clock.now() + timedelta(days=2))
    new_gen = add_generated(repo, 1, first=20)
    n = repo.delete_unclaimed((S.GENERATED, S.VALIDATED), clock.now() - timedelta(days=1), phase="scheduler",
                              reason="cleanup:stale", batch=1)
    assert n == 3  # two old GENERATED and the old VALIDATED; the claimed one stays
    left = {r.id for st in (S.GENERATED, S.VALIDATED) for r in repo.list_by_status(st)}
    assert left == {old_gen[2], *new_gen} and claimed
    assert repo.rejections_by_reason() == {"cleanup:stale": 3}
    with engine.connect() as conn:
        events = conn.execute(select(E.c.strategy_id, E.c.from_status, E.c.phase).where(E.c.reason == "cleanup:stale")).all()
    assert sorted(events) == sorted([(old_gen[0], "GENERATED", "scheduler"), (old_gen[1], "GENERATED", "scheduler"),
                                     (old_val[0], "VALIDATED", "scheduler")])


def test_a_retired_strategy_with_an_open_position_or_a_sub_account_is_kept(engine: Engine, clock: SimClock) -> None:
    repo = StrategyRepository(engine, clock)
    ids = add_generated(repo, 3)
    with engine.begin() as conn:
        for sid in ids:
            repo.transition_in(conn, sid, None, S.FAILED, phase="test", reason="test:failed")
        conn.execute(insert(SubaccountRow.__table__).values(label="paper-001", mode="paper", strategy_id=ids[0],
                                                            capital_usd=100.0, balance_usd=100.0, updated_at=T0))
        conn.execute(insert(PositionRow.__table__).values(
            strategy_id=ids[1], subaccount="paper-002", symbol="BTC", timeframe="1h", direction="long", qty=1.0,
            entry_price=1.0, entry_ts=T0, entry_fee_usd=0.0, stop_price=0.9, target_price=1.1, mode="paper",
            is_open=True, entry_client_order_id="e-1", updated_at=T0))
    clock.advance_to(clock.now() + timedelta(days=8))
    assert repo.delete_unclaimed((S.FAILED,), clock.now() - timedelta(days=7), phase="scheduler",
                                 reason="cleanup:old_failed") == 1
    assert {r.id for r in repo.list_by_status(S.FAILED)} == {ids[0], ids[1]}
    assert repo.delete_unclaimed((S.RETIRED,), clock.now(), phase="scheduler", reason="cleanup:old_retired") == 0
