"""What a backtest or re-test writes: trial-ledger rows, the multiple-testing gate, the
scorer's inputs, the protocol figures of ``metrics`` and the ``backtest_results`` rows."""

from __future__ import annotations

from typing import Any

import numpy as np

from sixbtc.app.container import Container
from sixbtc.app.window import CycleWindow
from sixbtc.backtester.degradation import sharpe_degradation
from sixbtc.backtester.protocol import (
    BacktestOutcome,
    BacktestPlan,
    TimeframeRun,
    aggregate_oos,
    portfolio_equity,
    track_record,
)
from sixbtc.config.sections import ScoringSection
from sixbtc.domain.strategy import StrategyRecord
from sixbtc.scorer.effective_trials import EffectiveTrials, align, effective_trials
from sixbtc.scorer.gate import GateVerdict, multiple_testing_gate, trial_sharpe_variance
from sixbtc.scorer.score import ScoreInputs

#: Trial return series recorded per searched timeframe (rung-0 ledger row).
SERIES_PER_TIMEFRAME = 4


def record_trials(c: Container, rec: StrategyRecord, outcome: BacktestOutcome, plan: BacktestPlan,
                  params_list: list[dict[str, Any]]) -> int:
    """Write every search rung of every searched timeframe to the trial ledger (IS window), in one
    transaction that first removes what an earlier, interrupted backtest of the strategy recorded
    (:meth:`~sixbtc.adapters.storage.trials_repo.TrialRepository.replace_search`); the searched
    parameter list (the sample, or the timeframe's TPE proposals) goes on each timeframe's rung-0
    row. Returns the simulations recorded."""
    n = 0
    with c.engine.begin() as conn:
        c.trials.replace_search(conn, rec.id)
        for run in outcome.runs:
            for rung in run.ledger:
                arrays = {"sharpe": rung.sharpe, "total_return": rung.total_return, "n_trades": rung.n_trades}
                n += c.trials.add_rung_in(conn, rec.id, rec.code_hash, run.timeframe, rung.rung,
                                          (plan.is_start, plan.oos_start), rung.symbols, rung.set_indices, arrays,
                                          params=(run.params_list or params_list) if rung.rung == 0 else None,
                                          series=trial_series(run) if rung.rung == 0 else None)
    return n


def trial_series(run: TimeframeRun, k: int = SERIES_PER_TIMEFRAME) -> tuple[np.ndarray, np.ndarray] | None:
    """At most ``k`` columns of the run's screening matrix (IS+OOS daily returns on the
    screening coins): the chosen set's and evenly spaced others; None without a matrix."""
    g = run.screen_returns
    if g is None or g.returns.shape[1] == 0:
        return None
    n = g.returns.shape[1]
    cols = list(np.unique(np.linspace(0, n - 1, min(k, n)).astype(int)))
    chosen = np.flatnonzero(g.set_indices == run.param_index)
    if chosen.size and int(chosen[0]) not in cols:
        cols[-1] = int(chosen[0])
    return g.days, g.returns[:, sorted(set(cols))]


def record_retest_trials(c: Container, rec: StrategyRecord, outcome: BacktestOutcome, plan: BacktestPlan) -> int:
    """Ledger row (``kind="retest"``) of a re-test: the fixed parameter set × every coin, IS
    metrics. Re-tests do not add configurations to the strategy's N (no selection)."""
    coins = outcome.best.coins
    arrays = {k: np.array([[cr.is_metrics[k] for cr in coins]]) for k in ("sharpe", "total_return", "n_trades")}
    return c.trials.add_rung(rec.id, rec.code_hash, outcome.best.timeframe, 0, (plan.is_start, plan.oos_start),
                             [cr.symbol for cr in coins], np.zeros(1, dtype=np.int64), arrays, kind="retest",
                             params=[outcome.best.params])


def gate_verdict(c: Container, rec: StrategyRecord | None, outcome: BacktestOutcome,
                 window: tuple[Any, Any] | None = None) -> GateVerdict:
    """The multiple-testing gate of a backtest that passed the protocol, N read from the
    trial ledger (configurations searched for the strategy, at least those of ``outcome``;
    only those with ``rec`` None, a strategy not stored) and, with ``scoring.factory_trials``,
    the factory's effective number of trials on the ledger window ``window`` (IS start,
    IS end; :func:`factory_trials`)."""
    sc = c.settings.scoring
    factory = factory_trials(c, window) if sc.factory_trials and window is not None else None
    return gate_for(outcome, sc, c.trials.configs_for(rec.id) if rec is not None else 0, factory)


_factory_cache: dict[tuple[str, Any, Any], tuple[int, EffectiveTrials]] = {}


def factory_trials(c: Container, window: tuple[Any, Any]) -> EffectiveTrials:
    """:func:`~sixbtc.scorer.effective_trials.effective_trials` of the trial return series of
    every strategy searched on ``window`` (newest ``scoring.trial_series_max`` rows).

    Cached per process, database and window: recomputed when the window's ledger rows grew by 10 % or
    by 50 rows since the last estimate (a cycle's window is fixed; the estimate follows the
    factory's growing search at a bounded cost), or shrank (another database behind the same
    URL, e.g. a recreated file: the cached estimate is not of these rows).
    """
    sc = c.settings.scoring
    rows = c.trials.window_rows(window)
    key = (str(c.engine.url), *window)
    hit = _factory_cache.get(key)
    if hit is not None and hit[0] <= rows < hit[0] * 1.1 and rows - hit[0] < 50:
        return hit[1]
    series = c.trials.window_series(window, sc.trial_series_max)
    est = effective_trials(align(series), sc.trial_cluster_correlation, sc.trial_series_max)
    _factory_cache[key] = (rows, est)
    return est


def gate_for(outcome: BacktestOutcome, sc: ScoringSection, ledger_configs: int = 0,
             factory: EffectiveTrials | None = None) -> GateVerdict:
    """:func:`~sixbtc.scorer.gate.multiple_testing_gate` of ``outcome.best`` (see that module):
    track = IS+OOS pooled daily returns of the choice, N = max(``ledger_configs``, sets ×
    timeframes searched) with V of every searched timeframe's screening matrix, or, when the
    factory's effective number of trials ``factory.n_eff`` is larger, N = ``n_eff`` with
    V = the clusters' ``sr_variance`` (the larger of the two searches behind the selection);
    PBO on the assigned timeframe's matrix; thresholds and the on/off switch from ``scoring``."""
    best = outcome.best
    n_trials = max(1, ledger_configs, sum(r.n_sets for r in outcome.runs))
    grids = [r.screen_returns.returns for r in outcome.runs if r.screen_returns is not None]
    v = trial_sharpe_variance(grids)
    if factory is not None and factory.n_eff > n_trials:
        n_trials, v = factory.n_eff, factory.sr_variance
    track, _, _ = outcome.track if outcome.track is not None else track_record(best)
    return multiple_testing_gate(track, None if best.screen_returns is None else best.screen_returns.returns,
                                 n_trials, v, dsr_min_prob=sc.dsr_min_prob,
                                 pbo_max=sc.pbo_max, pbo_splits=sc.pbo_splits, enforce=sc.multiple_testing_gate)


def score_inputs(oos: dict[str, float], wfa_consistency: float | None, is_sharpe: float,
                 pbo: float | None = None, degradation: float | None = None) -> ScoreInputs:
    """Scorer inputs from pooled OOS metrics.

    ``consistency`` is the share of coins profitable out of sample, ``wfa_consistency`` the
    share of walk-forward folds profitable (None when no WFA ran) and ``degradation`` the
    degradation gate's figure (:mod:`~sixbtc.backtester.degradation`; when None, the IS->OOS
    Sharpe degradation of ``is_sharpe`` and ``oos["sharpe"]``), each with its own weight in
    ``scoring``; ``pbo`` (None: not measured) and the profit concentration of ``oos``
    (``top_trade_share``, ``best_day_share``) feed the score's penalties (:mod:`sixbtc.scorer.score`).
    """
    if degradation is None:
        degradation = sharpe_degradation(is_sharpe, oos["sharpe"])
    return ScoreInputs(oos["sharpe"], oos["expectancy"], oos["profit_factor"], oos["win_rate"],
                       oos["max_drawdown"], oos["consistency"], oos["n_trades"], wfa_consistency=wfa_consistency,
                       degradation=degradation, pbo=pbo, top_trade_share=oos.get("top_trade_share"),
                       best_day_share=oos.get("best_day_share"))


def outcome_inputs(outcome: BacktestOutcome, pbo: float | None = None) -> ScoreInputs:
    """:func:`score_inputs` of ``outcome.best`` (pooled OOS metrics), its walk-forward
    consistency (None when no WFA ran), pooled IS Sharpe and degradation: what the backtester, the
    candidates list and ``sixbtc backtest FILE`` score."""
    wfa = outcome.wfa.consistency if outcome.wfa is not None else None
    return score_inputs(aggregate_oos(outcome.best), wfa, outcome.is_sharpe, pbo, gate_degradation(outcome))


def gate_degradation(outcome: BacktestOutcome) -> float | None:
    """The degradation gate's figure of ``outcome`` (None when the gate was not reached)."""
    return None if outcome.degradation is None else float(outcome.degradation["degradation"])


def protocol_metrics(outcome: BacktestOutcome) -> dict[str, Any]:
    """What the strategy's ``metrics`` JSON records about the protocol (WFA, shuffle, trials,
    the OOS excess over the directional hold: ``excess_return``, ``excess_sharpe``,
    ``benchmark_return``; the degradation gate's figures: ``degradation_gate``)."""
    out: dict[str, Any] = {"trials": outcome.trials, "wfa_consistency": None, "wfa_efficiency": None,
                           "shuffle_pvalue": None}
    if outcome.wfa is not None:
        out.update(wfa_consistency=outcome.wfa.consistency, wfa_efficiency=outcome.wfa.efficiency,
                   wfa_folds=[f.to_json() for f in outcome.wfa.folds])
    if outcome.shuffle is not None:
        out.update(shuffle_pvalue=outcome.shuffle.pvalue, shuffle=outcome.shuffle.to_json())
    if outcome.excess is not None:
        out.update({k: v for k, v in outcome.excess.items() if k not in ("exposure", "size")})
    if outcome.degradation is not None:
        out["degradation_gate"] = dict(outcome.degradation)
    return out


def result_rows(outcome: BacktestOutcome, value: float, window: CycleWindow, extra: dict[str, Any]) -> list[dict]:
    """Per-coin rows of the assigned timeframe, its aggregate row (score, equity, protocol
    figures) and one aggregate row per other timeframe's best choice."""
    best = outcome.best
    span = {"data_start": window.is_start, "data_end": window.confirm_start}
    rows = [dict(span, timeframe=best.timeframe, symbol=cr.symbol, params=best.params, is_metrics=cr.is_metrics,
                 oos_metrics=cr.oos_metrics, score=None, equity_curve=None) for cr in best.coins]
    rows.append(dict(span, timeframe=best.timeframe, symbol=None, params=best.params,
                     is_metrics={"sharpe": outcome.is_sharpe, "sharpe_search": best.is_sharpe},
                     oos_metrics=dict(aggregate_oos(best), **extra),
                     score=value, equity_curve=portfolio_equity(best)))
    rows += [dict(span, timeframe=r.timeframe, symbol=None, params=r.params, is_metrics={"sharpe": r.is_sharpe},
                  oos_metrics=dict(aggregate_oos(r), trials=r.trials), score=None, equity_curve=None)
             for r in outcome.runs if r is not best]
    return rows
