"""One bounded cycle of the whole pipeline (``sixbtc run --once``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from sixbtc.app.container import Container
from sixbtc.app.generator_pool import generate_parallel
from sixbtc.app.lease import ExecutorLease
from sixbtc.app.monitoring import monitor_now
from sixbtc.app.paper import paper_replay
from sixbtc.app.processes import release_dead_claims
from sixbtc.app.regimes import refresh_if_due
from sixbtc.app.retesting import count_due_retests
from sixbtc.app.rotation import rotate_now
from sixbtc.app.window import CycleWindow, plan_window
from sixbtc.app.workers import backtest_roles, run_role_pool, validator_room
from sixbtc.core.errors import ConfigError, LeaseLost


@dataclass
class CycleReport:
    """What one cycle did: items per stage, wall time per stage (s), the windows used, and
    ``errors``: stage → the error that ended it early (the later stages still ran)."""

    window: CycleWindow
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class StageProgress:
    """Callbacks a front end (Rich progress) implements; the default does nothing."""

    def start(self, stage: str, total: int | None) -> None: ...

    def update(self, stage: str, done: int, total: int | None) -> None: ...

    def finish(self, stage: str) -> None: ...


@contextmanager
def _timed(report: CycleReport, stage: str, progress: StageProgress, total: int | None = None) -> Iterator[None]:
    """Time one stage; an error ends the stage (recorded in ``report.errors``), not the cycle.

    A lost executor lease and configuration errors end the cycle.
    """
    progress.start(stage, total)
    t0 = time.perf_counter()
    try:
        yield
    except (LeaseLost, ConfigError):
        raise
    except Exception as exc:  # noqa: BLE001 — the summary reports it; the next stages run
        report.errors[stage] = f"{type(exc).__name__}: {exc}"
    finally:
        report.seconds[stage] = round(time.perf_counter() - t0, 2)
        progress.finish(stage)


def run_once(c: Container, n_generate: int, progress: StageProgress | None = None,
             seed: int | None = None) -> CycleReport:
    """Refresh due market regimes, generate, validate, backtest, re-test, pool, rotate,
    paper-trade the replay, monitor.

    First the executor lease is taken for the whole cycle and the claims of dead workers of
    this host, and claims older than ``scheduler.stale_claim_minutes``, are released
    (``counts["claims_released"]``). The backtest stage runs ``workers +
    elastic_workers`` VALIDATED workers (capped at the CPU count); the re-test stage then
    re-tests the ACTIVE strategies that are due (``retest.interval_days``; usually none in a
    fresh home) on the same held-out windows. A stage with an empty queue starts no worker.
    A stage that fails is recorded in ``CycleReport.errors`` and the next stages run.

    Raises
    ------
    DataError
        If the candle store is empty (nothing to backtest on).
    LeaseHeld
        If another executor (service or cycle) trades this database; nothing is done.
    """
    p = progress or StageProgress()
    report = CycleReport(plan_window(c.store, c.settings, c.clock))
    with ExecutorLease(c, "sixbtc run --once") as lease:
        stale = timedelta(minutes=c.settings.scheduler.stale_claim_minutes)
        report.counts["claims_released"] = release_dead_claims(c) + c.strategies.release_stale(stale)
        _factory_stages(c, report, n_generate, p, seed)
        with _timed(report, "rotate", p):
            report.counts["promoted"] = len(rotate_now(c))
        with _timed(report, "paper", p):
            stats = paper_replay(c, report.window, lambda n, t: p.update("paper", n, t), lease=lease)
            report.counts["replay_bars"] = stats.bars
        with _timed(report, "monitor", p):
            report.counts["retired_by_monitor"] = sum(1 for _, v, _ in monitor_now(c) if v.retire)
    return report


def _factory_stages(c: Container, report: CycleReport, n_generate: int, p: StageProgress, seed: int | None) -> None:
    bt = c.settings.backtest
    backtest_workers = len(backtest_roles(bt.workers, bt.elastic_workers))
    with _timed(report, "regimes", p):  # daily (SPEC §3.1); before generation, which uses them
        readings = refresh_if_due(c, report.window)
        report.counts["regimes"] = len(readings) if readings is not None else 0
    with _timed(report, "generate", p, n_generate):
        created, dupes = generate_parallel(c, n_generate, seed,
                                           on_error=lambda m: report.errors.setdefault("generate:llm", m))
        report.counts.update(generated=created, duplicates=dupes)
    for stage, key, role, workers, status in (
            ("validate", "validator_processed", "validator", c.settings.validator.workers, "GENERATED"),
            ("backtest", "backtester_processed", "backtester", backtest_workers, "VALIDATED")):
        total = c.strategies.counts_by_status()[status]
        report.counts[key] = 0
        with _timed(report, stage, p, total):
            if total and (role != "validator" or validator_room(c)):  # back-pressure: VALIDATED queue full
                report.counts[key] = run_role_pool(c, role, workers, report.window, _ticker(c, stage, status, total, p))
    report.counts["retested"] = 0
    with _timed(report, "retest", p):
        due = count_due_retests(c)
        report.counts["retested"] = run_role_pool(c, "retester", min(backtest_workers, due), report.window) if due else 0


def _ticker(c: Container, stage: str, status: str, total: int, p: StageProgress) -> Callable[[], None]:
    def tick() -> None:
        p.update(stage, total - c.strategies.counts_by_status()[status], total)
    return tick
