"""Backtester role: one claimed VALIDATED strategy backtested, scored and offered to the pool.

A strategy that passed every gate is confirmed (:mod:`sixbtc.app.confirmation`) after its
score is fixed and before it is offered to the pool; the confirmation changes neither.
"""

from __future__ import annotations

from sixbtc.app.backtest_plan import backtest_plan, sample_params, search_space
from sixbtc.app.backtest_records import (
    gate_verdict,
    outcome_inputs,
    protocol_metrics,
    record_trials,
    result_rows,
)
from sixbtc.app.candidates import refused_figures, with_figures
from sixbtc.app.claim_guard import claim_guard
from sixbtc.app.confirmation import confirm_entrant
from sixbtc.app.container import Container
from sixbtc.app.window import CycleWindow
from sixbtc.backtester.protocol import (
    BacktestOutcome,
    aggregate_oos,
    oos_daily_returns,
    run_backtest,
)
from sixbtc.core.errors import StrategyRejected
from sixbtc.domain.strategy import StrategyRecord, StrategyStatus
from sixbtc.domain.trading import Direction
from sixbtc.generator.evolution import is_near_miss
from sixbtc.pool.admission import behaviour_fingerprint, live_symbols
from sixbtc.scorer.score import penalty_factors, score
from sixbtc.strategy.sandbox import StrategySandbox


def backtest_one(c: Container, sandbox: StrategySandbox, window: CycleWindow,
                 symbols_by_tf: dict[str, list[str]], worker: str) -> bool:
    """Claim one VALIDATED strategy, backtest, score and offer it to the pool.

    A strategy failing the backtest is deleted with its reason (SPEC §2) and, when the search
    chose parameters, its figures (DSR, OOS Sharpe, ...; :mod:`sixbtc.app.candidates`) in the
    event's detail. Returns False when none was waiting.
    """
    rec = c.strategies.claim(StrategyStatus.VALIDATED, worker)
    if rec is None:
        return False
    with claim_guard(c, rec, "backtest"):
        try:
            spec = sandbox.load(rec.code)
            wanted = {tf: syms for tf, syms in symbols_by_tf.items() if tf in spec.timeframes}
            plan = backtest_plan(c.settings.backtest, window, wanted, rec.code_hash, c.settings.risk.sizing_rule(),
                                 c.grid_runner)
            params_list = sample_params(spec.grid(), c.settings.backtest.max_param_sets, rec.code_hash)
            outcome = run_backtest(sandbox, c.store, plan, params_list, spec.direction.sign,
                                   space=search_space(spec, c.settings.backtest))
            record_trials(c, rec, outcome, plan, params_list)
            if outcome.reason is not None:
                c.strategies.reject(rec.id, rec.claim_token, phase="backtest", reason=outcome.reason,
                                    detail=with_figures(outcome.detail, refused_figures(c, rec, outcome)))
                return True
            _store_and_pool(c, sandbox, rec, outcome, window, spec.direction)
        except StrategyRejected as exc:
            c.strategies.reject(rec.id, rec.claim_token, phase="backtest", reason=exc.reason, detail=exc.detail)
    return True


def duplicate_of(c: Container, fingerprint: str) -> str | None:
    """Name of an ACTIVE or LIVE strategy with the same behaviour fingerprint, or None."""
    for status in (StrategyStatus.ACTIVE, StrategyStatus.LIVE):
        for other in c.strategies.list_by_status(status):
            if (other.metrics or {}).get("fingerprint") == fingerprint:
                return other.name
    return None


def _store_and_pool(c: Container, sandbox: StrategySandbox, rec: StrategyRecord, outcome: BacktestOutcome,
                    window: CycleWindow, direction: Direction) -> None:
    best = outcome.best
    oos = aggregate_oos(best)
    fingerprint = behaviour_fingerprint(best.timeframe, oos)
    twin = duplicate_of(c, fingerprint)
    if twin is not None:
        c.strategies.reject(rec.id, rec.claim_token, phase="backtest", reason="backtest:duplicate_behaviour",
                            detail=with_figures(f"trades exactly like {twin} out of sample",
                                                refused_figures(c, rec, outcome)))
        return
    gate = gate_verdict(c, rec, outcome, (window.is_start, window.oos_start))
    if gate.reason is not None:
        if is_near_miss(gate.reason):
            c.parents.keep_near_miss(rec.id, gate.reason, gate.dsr)
        c.strategies.reject(rec.id, rec.claim_token, phase="score", reason=gate.reason,
                            detail=with_figures(gate.detail, refused_figures(c, rec, outcome, gate)))
        return
    proto = dict(protocol_metrics(outcome), **gate.to_json(), dsr_trials=gate.n_trials)
    inputs = outcome_inputs(outcome, gate.pbo)
    value = score(inputs, c.settings.scoring)
    proto["score_penalties"] = {k: round(v, 4) for k, v in penalty_factors(inputs, c.settings.scoring).items()}
    live = live_symbols([(cr.symbol, cr.oos_metrics["sharpe"], cr.oos_metrics["total_return"], cr.is_metrics["sharpe"])
                         for cr in best.coins])
    flat = {k: proto[k] for k in ("trials", "wfa_consistency", "wfa_efficiency", "shuffle_pvalue", "dsr", "pbo",
                                  "dsr_trials")}
    flat.update({k: proto.get(k) for k in ("excess_return", "excess_sharpe", "benchmark_return")})
    daily, days = oos_daily_returns(best)
    flat.update(daily_returns=[float(x) for x in daily],
                trade_returns=[float(x) for cr in best.coins for x in cr.trade_returns])
    c.results.add_many(rec.id, "first", result_rows(outcome, value, window, flat))
    ap = c.settings.active_pool
    confirmation = confirm_entrant(c, sandbox, rec, best, window, direction.sign) if value >= ap.min_score else None
    metrics = dict(oos, is_sharpe=outcome.is_sharpe, is_sharpe_search=best.is_sharpe, direction=str(direction),
                   confirm=confirmation, fingerprint=fingerprint, daily_returns=flat["daily_returns"],
                   daily_last_day=int(days[-1]), **proto)
    c.pool.try_enter(rec.id, rec.claim_token, value, max_size=ap.max_size, min_score=ap.min_score,
                     correlation=((int(days[-1]), daily), ap.max_correlation, ap.min_overlap_days),
                     params=best.params, timeframe=best.timeframe, symbols=live, metrics=metrics,
                     last_backtested_at=c.clock.now())
