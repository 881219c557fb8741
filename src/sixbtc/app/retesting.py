"""Re-tester role: ACTIVE strategies due for a re-test, one claimed at a time, re-tested on
recent data with their stored parameters; the pool rules decide with the new score."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sixbtc.app.backtest_plan import backtest_plan
from sixbtc.app.backtest_records import (
    gate_degradation,
    protocol_metrics,
    record_retest_trials,
    result_rows,
    score_inputs,
)
from sixbtc.app.claim_guard import claim_guard
from sixbtc.app.container import Container
from sixbtc.app.window import CycleWindow, symbols_by_timeframe
from sixbtc.backtester.protocol import BacktestOutcome, aggregate_oos, run_retest
from sixbtc.core.errors import StrategyRejected
from sixbtc.domain.strategy import StrategyRecord, StrategyStatus
from sixbtc.scorer.score import score
from sixbtc.strategy.sandbox import StrategySandbox


def retest_due_before(c: Container) -> datetime:
    """ACTIVE strategies last backtested before this instant are due for a re-test
    (now − ``retest.interval_days``, UTC)."""
    return c.clock.now() - timedelta(days=c.settings.retest.interval_days)


def count_due_retests(c: Container) -> int:
    """Number of ACTIVE strategies due for a re-test (see :func:`retest_due_before`)."""
    cutoff = retest_due_before(c)

    def due(ts: datetime | None) -> bool:
        return ts is not None and (ts if ts.tzinfo else ts.replace(tzinfo=UTC)) < cutoff
    return sum(1 for r in c.strategies.list_by_status(StrategyStatus.ACTIVE) if due(r.last_backtested_at))


def retest_one(c: Container, sandbox: StrategySandbox, window: CycleWindow, worker: str,
               symbols_by_tf: dict[str, list[str]] | None = None) -> bool:
    """Claim the ACTIVE strategy with the oldest ``last_backtested_at`` that is due
    (:func:`retest_due_before`) and re-test it (:func:`retest_claimed`). Returns False when
    nothing was due."""
    rec = c.strategies.claim(StrategyStatus.ACTIVE, worker, oldest_backtest_first=True,
                             backtested_before=retest_due_before(c))
    if rec is None:
        return False
    retest_claimed(c, sandbox, window, rec, symbols_by_tf)
    return True


def retest_claimed(c: Container, sandbox: StrategySandbox, window: CycleWindow, rec: StrategyRecord,
                   symbols_by_tf: dict[str, list[str]] | None = None) -> None:
    """Re-test the claimed ACTIVE strategy ``rec``.

    Assigned timeframe, stored parameters, the window's IS+OOS span (recent data; in
    ``run --once`` the replay days stay held out). A failed gate retires it with the gate's
    reason; otherwise :meth:`PoolRepository.revalidate_after_retest` keeps it with the new
    score or retires it (pool rules). With no covering data it stays ACTIVE and its
    ``last_backtested_at`` moves on (``retest:no_data``). ``symbols_by_tf`` None = computed
    from the store.
    """
    with claim_guard(c, rec, "retest"):
        try:
            if symbols_by_tf is None:
                symbols_by_tf = symbols_by_timeframe(c.store, c.settings, window, c.registry.get_active_pairs())
            spec = sandbox.load(rec.code)
            tf = rec.timeframe or ""
            plan = backtest_plan(c.settings.backtest, window, {tf: symbols_by_tf.get(tf, [])}, rec.code_hash,
                                 c.settings.risk.sizing_rule())
            outcome = run_retest(sandbox, c.store, plan, tf, dict(rec.params or {}), spec.direction.sign)
            if outcome.best is not None:
                record_retest_trials(c, rec, outcome, plan)
            _retest_verdict(c, rec, outcome, window)
        except StrategyRejected as exc:
            c.strategies.transition(rec.id, rec.claim_token, StrategyStatus.RETIRED, phase="retest", reason=exc.reason,
                                    detail=exc.detail, last_backtested_at=c.clock.now())


def _retest_verdict(c: Container, rec: StrategyRecord, outcome: BacktestOutcome, window: CycleWindow) -> None:
    now = c.clock.now()
    if outcome.reason == "backtest:no_data":
        c.strategies.transition(rec.id, rec.claim_token, StrategyStatus.ACTIVE, phase="retest",
                                reason="retest:no_data", detail=outcome.detail, last_backtested_at=now)
        return
    if outcome.reason is not None:
        c.strategies.transition(rec.id, rec.claim_token, StrategyStatus.RETIRED, phase="retest",
                                reason=outcome.reason.replace("backtest:", "retest:"), detail=outcome.detail,
                                last_backtested_at=now)
        return
    oos = aggregate_oos(outcome.best)
    proto = protocol_metrics(outcome)
    value = score(score_inputs(oos, proto["wfa_consistency"], outcome.is_sharpe,
                               (rec.metrics or {}).get("pbo"), gate_degradation(outcome)), c.settings.scoring)
    flat = {k: proto[k] for k in ("trials", "wfa_consistency", "wfa_efficiency")}
    c.results.add_many(rec.id, "retest", result_rows(outcome, value, window, flat))
    retest = dict(oos, is_sharpe=outcome.is_sharpe, score=value, at=now.isoformat(), **proto)
    metrics = dict(rec.metrics or {}, retest=retest)
    ap = c.settings.active_pool
    c.pool.revalidate_after_retest(rec.id, rec.claim_token, value, max_size=ap.max_size, min_score=ap.min_score,
                                   metrics=metrics, last_backtested_at=now)
