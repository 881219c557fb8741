"""The factory's roles: generator, validator, backtester and re-tester, one unit of work at a time.

Each ``*_one`` function claims one strategy atomically, processes it and writes the verdict
with its fencing token, so any number of processes (or machines, on PostgreSQL) can run
them side by side.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

import numpy as np

from sixbtc.app.container import Container
from sixbtc.app.window import CycleWindow, symbols_by_timeframe
from sixbtc.backtester.plausibility import PlausibilityBounds
from sixbtc.backtester.protocol import (
    BacktestOutcome,
    BacktestPlan,
    aggregate_oos,
    oos_daily_returns,
    portfolio_equity,
    run_backtest,
    run_retest,
    track_record,
)
from sixbtc.backtester.search import SearchConfig
from sixbtc.config.sections import BacktestSection, ScoringSection
from sixbtc.core.errors import DataError, StaleClaim, StrategyRejected
from sixbtc.domain.strategy import StrategyRecord, StrategyStatus
from sixbtc.generator.factory import generate
from sixbtc.scorer.gate import GateVerdict, multiple_testing_gate, trial_sharpe_variance
from sixbtc.scorer.score import ScoreInputs, score
from sixbtc.strategy.sandbox import StrategySandbox
from sixbtc.validator.pipeline import validate
from sixbtc.validator.sample import NamedSample
from sixbtc.validator.samples import backtest_span, extra_samples, named_sample

LIVE_COINS = 5


def generate_batch(c: Container, n: int, rng: np.random.Generator) -> tuple[int, int]:
    """Generate up to ``n`` strategies within the daily limit and back-pressure.

    Returns (created, duplicates).
    """
    cfg = c.settings.generator
    midnight = datetime.combine(c.clock.now().date(), time(0), tzinfo=UTC)
    room = min(n, cfg.daily_limit - c.strategies.count_created_since(midnight),
               cfg.max_generated_queue - c.strategies.counts_by_status()["GENERATED"])
    if room <= 0:
        return 0, 0
    result = generate(room, rng, existing_hashes=c.strategies.existing_hashes(), sources=tuple(cfg.sources),
                      max_grid=cfg.max_grid, timeframes=tuple(c.settings.backtest.timeframes))
    created = sum(1 for cand in result.candidates if c.strategies.add(cand) is not None)
    return created, result.duplicates + len(result.candidates) - created


def validation_sample(c: Container, window: CycleWindow) -> list[NamedSample]:
    """The validator's samples, primary first.

    Primary: the last ``validator.sample_bars`` 1h (else first available) candles of the first
    preferred coin before the replay window. Extras (:func:`sixbtc.validator.samples.extra_samples`):
    other coins, price scales, start dates and lengths from the store (before the replay
    window; the long one as long as the backtest's span on the shortest backtest timeframe),
    then the synthetic ones.

    Raises
    ------
    DataError
        If the store has no usable series.
    """
    bt = c.settings.backtest
    for tf in ("1h", *bt.timeframes):
        for sym in ("BTC", *c.store.symbols(tf)):
            if c.store.has(sym, tf):
                df = c.store.read_candles(sym, tf, None, window.replay_start).tail(c.settings.validator.sample_bars)
                if len(df) >= 200:
                    shortest, span = backtest_span(bt.warmup_bars, bt.is_days + bt.oos_days, bt.timeframes)
                    return [named_sample(df, f"{sym} {tf}"), *extra_samples(
                        c.store, end=window.replay_start, primary=sym, long_timeframe=shortest, long_bars=span)]
    raise DataError("no candle series with at least 200 bars for the validation sample")


def validate_one(c: Container, sandbox: StrategySandbox, sample: dict[str, np.ndarray] | Sequence[NamedSample],
                 worker: str) -> bool:
    """Claim one GENERATED strategy and validate it. Returns False when none was waiting.

    ``sample`` is :func:`validation_sample`'s list (primary first, then the extras) or one
    OHLCV dict (then the extras are the synthetic ones). A pass records the warm-up the
    strategy needs in the VALIDATED event's detail (``warmup_bars=W``); a rejection is stored
    with phase ``validator:<phase>``, the rule as the reason (e.g. ``ast:negative_shift``,
    ``warmup:exceeds_config``) and the detail (naming the extra sample it showed on, if
    any). Strategies needing more warm-up than ``backtest.warmup_bars`` are rejected.
    """
    rec = c.strategies.claim(StrategyStatus.GENERATED, worker)
    if rec is None:
        return False
    primary, extras = (sample, None) if isinstance(sample, dict) else (sample[0].data, sample[1:])
    with claim_guard(c, rec, "validator"):
        v = c.settings.validator
        report = validate(rec.code, sandbox, primary, cut_points=v.cut_points, allowed_warmup=c.settings.backtest.warmup_bars,
                          extra_samples=extras, extra_cut_points=v.extra_cut_points)
        if report.passed:
            c.strategies.transition(rec.id, rec.claim_token, StrategyStatus.VALIDATED, phase="validator",
                                    reason="validated", detail=report.detail[:500])
        else:
            c.strategies.reject(rec.id, rec.claim_token, phase=f"validator:{report.phase}",
                                reason=report.reason or "invalid", detail=report.detail)
    return True


@contextlib.contextmanager
def claim_guard(c: Container, rec: StrategyRecord, phase: str) -> Iterator[None]:
    """Run one claimed unit of work.

    A stale claim (another worker owns the strategy now) drops the work silently; an
    unexpected error marks the strategy FAILED with the error as reason (the worker goes on);
    a shutdown (SIGINT/SIGTERM arrive as ``KeyboardInterrupt``) gives the claim back and
    re-raises.
    """
    try:
        yield
    except StaleClaim:
        pass
    except Exception as exc:  # noqa: BLE001 — an unexpected error fails this strategy, not the worker
        _fail(c, rec, phase, exc)
    except BaseException:
        c.strategies.release(rec.id, rec.claim_token)
        raise


def _fail(c: Container, rec: StrategyRecord, phase: str, exc: Exception) -> None:
    with contextlib.suppress(StaleClaim):
        c.strategies.transition(rec.id, rec.claim_token, StrategyStatus.FAILED, phase=phase,
                                reason=f"error:{type(exc).__name__}", detail=str(exc)[:1000])


def code_seed(code_hash: str) -> int:
    """A reproducible 64-bit seed derived from a strategy's code hash."""
    return int(hashlib.sha256(code_hash.encode()).hexdigest()[:16], 16)


def sample_params(grid: list[dict[str, Any]], limit: int, code_hash: str) -> list[dict[str, Any]]:
    """At most ``limit`` parameter sets of ``grid``, sampled reproducibly (seeded by the code hash)."""
    if len(grid) <= limit:
        return grid
    rng = np.random.default_rng(code_seed(code_hash))
    return [grid[i] for i in sorted(rng.choice(len(grid), size=limit, replace=False))]


def backtest_plan(bt: BacktestSection, window: CycleWindow, symbols_by_tf: dict[str, list[str]],
                  code_hash: str) -> BacktestPlan:
    """The protocol plan from the ``backtest`` settings: IS ``[is_start, oos_start)``, OOS
    ``[oos_start, replay_start)``; the shuffle seed comes from the code hash (31 bits)."""
    return BacktestPlan(symbols_by_tf, window.is_start, window.oos_start, window.replay_start, bt.warmup_bars,
                        bt.fee_rate, bt.slippage_bps, bt.min_trades, bt.max_degradation,
                        search=SearchConfig(bt.search_rungs, bt.search_eta, bt.screen_coins),
                        wfa_windows=bt.wfa_windows, wfa_min_consistency=bt.wfa_min_consistency,
                        shuffle_permutations=bt.shuffle_permutations, shuffle_max_pvalue=bt.shuffle_max_pvalue,
                        shuffle_coins=bt.shuffle_coins, seed=code_seed(code_hash) % 2**31,
                        causality_cuts=bt.causality_cuts, plausibility=PlausibilityBounds.from_section(bt))


def backtest_one(c: Container, sandbox: StrategySandbox, window: CycleWindow,
                 symbols_by_tf: dict[str, list[str]], worker: str) -> bool:
    """Claim one VALIDATED strategy, backtest, score and offer it to the pool.

    A strategy failing the backtest is deleted with its reason (SPEC §2). Returns False when
    none was waiting.
    """
    rec = c.strategies.claim(StrategyStatus.VALIDATED, worker)
    if rec is None:
        return False
    with claim_guard(c, rec, "backtest"):
        try:
            spec = sandbox.load(rec.code)
            wanted = {tf: syms for tf, syms in symbols_by_tf.items() if tf in spec.timeframes}
            plan = backtest_plan(c.settings.backtest, window, wanted, rec.code_hash)
            params_list = sample_params(spec.grid(), c.settings.backtest.max_param_sets, rec.code_hash)
            outcome = run_backtest(sandbox, c.store, plan, params_list, spec.direction.sign)
            record_trials(c, rec, outcome, plan, params_list)
            if outcome.reason is not None:
                c.strategies.reject(rec.id, rec.claim_token, phase="backtest", reason=outcome.reason, detail=outcome.detail)
                return True
            _store_and_pool(c, rec, outcome, window, str(spec.direction))
        except StrategyRejected as exc:
            c.strategies.reject(rec.id, rec.claim_token, phase="backtest", reason=exc.reason, detail=exc.detail)
    return True


def record_trials(c: Container, rec: StrategyRecord, outcome: BacktestOutcome, plan: BacktestPlan,
                  params_list: list[dict[str, Any]]) -> int:
    """Write every search rung of every searched timeframe to the trial ledger (IS window);
    the sampled parameter list goes on each timeframe's rung-0 row. Returns the simulations
    recorded."""
    n = 0
    for run in outcome.runs:
        for rung in run.ledger:
            arrays = {"sharpe": rung.sharpe, "total_return": rung.total_return, "n_trades": rung.n_trades}
            n += c.trials.add_rung(rec.id, rec.code_hash, run.timeframe, rung.rung, (plan.is_start, plan.oos_start),
                                   rung.symbols, rung.set_indices, arrays,
                                   params=params_list if rung.rung == 0 else None)
    return n


def record_retest_trials(c: Container, rec: StrategyRecord, outcome: BacktestOutcome, plan: BacktestPlan) -> int:
    """Ledger row (``kind="retest"``) of a re-test: the fixed parameter set × every coin, IS
    metrics. Re-tests do not add configurations to the strategy's N (no selection)."""
    coins = outcome.best.coins
    arrays = {k: np.array([[cr.is_metrics[k] for cr in coins]]) for k in ("sharpe", "total_return", "n_trades")}
    return c.trials.add_rung(rec.id, rec.code_hash, outcome.best.timeframe, 0, (plan.is_start, plan.oos_start),
                             [cr.symbol for cr in coins], np.zeros(1, dtype=np.int64), arrays, kind="retest",
                             params=[outcome.best.params])


def gate_verdict(c: Container, rec: StrategyRecord, outcome: BacktestOutcome) -> GateVerdict:
    """The multiple-testing gate of a backtest that passed the protocol, N read from the
    trial ledger (configurations searched for the strategy, at least those of ``outcome``)."""
    return gate_for(outcome, c.settings.scoring, c.trials.configs_for(rec.id))


def gate_for(outcome: BacktestOutcome, sc: ScoringSection, ledger_configs: int = 0) -> GateVerdict:
    """:func:`~sixbtc.scorer.gate.multiple_testing_gate` of ``outcome.best`` (see that module):
    track = IS+OOS pooled daily returns of the choice, N = max(``ledger_configs``, sets ×
    timeframes searched), V from every searched timeframe's screening matrix, PBO on the
    assigned timeframe's matrix; thresholds and the on/off switch from ``scoring``."""
    best = outcome.best
    n_trials = max(1, ledger_configs, sum(r.n_sets for r in outcome.runs))
    grids = [r.screen_returns.returns for r in outcome.runs if r.screen_returns is not None]
    track, _, _ = track_record(best)
    return multiple_testing_gate(track, None if best.screen_returns is None else best.screen_returns.returns,
                                 n_trials, trial_sharpe_variance(grids), dsr_min_prob=sc.dsr_min_prob,
                                 pbo_max=sc.pbo_max, pbo_splits=sc.pbo_splits, enforce=sc.multiple_testing_gate)


def retest_due_before(c: Container) -> datetime:
    """ACTIVE strategies last backtested before this instant are due for a re-test."""
    return c.clock.now() - timedelta(days=c.settings.retest.interval_days)


def count_due_retests(c: Container) -> int:
    """Number of unclaimed ACTIVE strategies due for a re-test (see :func:`retest_due_before`)."""
    cutoff = retest_due_before(c)

    def due(ts: datetime | None) -> bool:
        return ts is not None and (ts if ts.tzinfo else ts.replace(tzinfo=UTC)) < cutoff
    return sum(1 for r in c.strategies.list_by_status(StrategyStatus.ACTIVE) if due(r.last_backtested_at))


def retest_one(c: Container, sandbox: StrategySandbox, window: CycleWindow, worker: str,
               symbols_by_tf: dict[str, list[str]] | None = None) -> bool:
    """Claim the ACTIVE strategy with the oldest ``last_backtested_at`` that is due, re-test it.

    Assigned timeframe, stored parameters, the window's IS+OOS span (recent data; in
    ``run --once`` the replay days stay held out). A failed gate retires it with the gate's
    reason; otherwise :meth:`PoolRepository.revalidate_after_retest` keeps it with the new
    score or retires it (pool rules). With no covering data it stays ACTIVE and its
    ``last_backtested_at`` moves on (``retest:no_data``). ``symbols_by_tf`` None = computed
    from the store. Returns False when nothing was due.
    """
    rec = c.strategies.claim(StrategyStatus.ACTIVE, worker, oldest_backtest_first=True,
                             backtested_before=retest_due_before(c))
    if rec is None:
        return False
    with claim_guard(c, rec, "retest"):
        try:
            if symbols_by_tf is None:
                symbols_by_tf = symbols_by_timeframe(c.store, c.settings, window, [r["symbol"] for r in c.coins.active()])
            spec = sandbox.load(rec.code)
            tf = rec.timeframe or ""
            plan = backtest_plan(c.settings.backtest, window, {tf: symbols_by_tf.get(tf, [])}, rec.code_hash)
            outcome = run_retest(sandbox, c.store, plan, tf, dict(rec.params or {}), spec.direction.sign)
            if outcome.best is not None:
                record_retest_trials(c, rec, outcome, plan)
            _retest_verdict(c, rec, outcome, window)
        except StrategyRejected as exc:
            c.strategies.transition(rec.id, rec.claim_token, StrategyStatus.RETIRED, phase="retest", reason=exc.reason,
                                    detail=exc.detail, last_backtested_at=c.clock.now())
    return True


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
    value = score(score_inputs(oos, proto["wfa_consistency"], outcome.best.is_sharpe), c.settings.scoring)
    flat = {k: proto[k] for k in ("trials", "wfa_consistency", "wfa_efficiency")}
    c.results.add_many(rec.id, "retest", _result_rows(outcome, value, window, flat))
    retest = dict(oos, is_sharpe=outcome.best.is_sharpe, score=value, at=now.isoformat(), **proto)
    metrics = dict(rec.metrics or {}, retest=retest)
    ap = c.settings.active_pool
    c.pool.revalidate_after_retest(rec.id, rec.claim_token, value, max_size=ap.max_size, min_score=ap.min_score,
                                   metrics=metrics, last_backtested_at=now)


def behaviour_fingerprint(timeframe: str, oos: dict[str, float]) -> str:
    """Hash of what a strategy *did* out of sample (timeframe, trade count, return, Sharpe).

    Two sources that differ as code but trade identically (same rule, same chosen parameters)
    get the same fingerprint; the pool keeps only the first of them.
    """
    key = f"{timeframe}|{oos['n_trades']:.0f}|{oos['total_return']:.10f}|{oos['sharpe']:.8f}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _duplicate_of(c: Container, fingerprint: str) -> str | None:
    for status in (StrategyStatus.ACTIVE, StrategyStatus.LIVE):
        for other in c.strategies.list_by_status(status):
            if (other.metrics or {}).get("fingerprint") == fingerprint:
                return other.name
    return None


def score_inputs(oos: dict[str, float], wfa_consistency: float | None, is_sharpe: float) -> ScoreInputs:
    """Scorer inputs from pooled OOS metrics.

    ``consistency`` is the share of coins profitable out of sample, ``wfa_consistency`` the
    share of walk-forward folds profitable (None when no WFA ran) and ``degradation`` the
    IS->OOS Sharpe degradation ``(SR_is - SR_oos) / |SR_is|`` (1.0 when ``is_sharpe <= 0``),
    each with its own weight in ``scoring``.
    """
    degradation = (is_sharpe - oos["sharpe"]) / abs(is_sharpe) if is_sharpe > 0 else 1.0
    return ScoreInputs(oos["sharpe"], oos["expectancy"], oos["profit_factor"], oos["win_rate"],
                       oos["max_drawdown"], oos["consistency"], oos["n_trades"], wfa_consistency=wfa_consistency,
                       degradation=degradation)


def protocol_metrics(outcome: BacktestOutcome) -> dict[str, Any]:
    """What the strategy's ``metrics`` JSON records about the protocol (WFA, shuffle, trials)."""
    out: dict[str, Any] = {"trials": outcome.trials, "wfa_consistency": None, "wfa_efficiency": None,
                           "shuffle_pvalue": None}
    if outcome.wfa is not None:
        out.update(wfa_consistency=outcome.wfa.consistency, wfa_efficiency=outcome.wfa.efficiency,
                   wfa_folds=[f.to_json() for f in outcome.wfa.folds])
    if outcome.shuffle is not None:
        out.update(shuffle_pvalue=outcome.shuffle.pvalue, shuffle=outcome.shuffle.to_json())
    return out


def _result_rows(outcome: BacktestOutcome, value: float, window: CycleWindow, extra: dict[str, Any]) -> list[dict]:
    """Per-coin rows of the assigned timeframe, its aggregate row (score, equity, protocol
    figures) and one aggregate row per other timeframe's best choice."""
    best = outcome.best
    span = {"data_start": window.is_start, "data_end": window.replay_start}
    rows = [dict(span, timeframe=best.timeframe, symbol=cr.symbol, params=best.params, is_metrics=cr.is_metrics,
                 oos_metrics=cr.oos_metrics, score=None, equity_curve=None) for cr in best.coins]
    rows.append(dict(span, timeframe=best.timeframe, symbol=None, params=best.params,
                     is_metrics={"sharpe": best.is_sharpe}, oos_metrics=dict(aggregate_oos(best), **extra),
                     score=value, equity_curve=portfolio_equity(best)))
    rows += [dict(span, timeframe=r.timeframe, symbol=None, params=r.params, is_metrics={"sharpe": r.is_sharpe},
                  oos_metrics=dict(aggregate_oos(r), trials=r.trials), score=None, equity_curve=None)
             for r in outcome.runs if r is not best]
    return rows


def _store_and_pool(c: Container, rec: StrategyRecord, outcome: BacktestOutcome, window: CycleWindow,
                    direction: str) -> None:
    best = outcome.best
    oos = aggregate_oos(best)
    fingerprint = behaviour_fingerprint(best.timeframe, oos)
    twin = _duplicate_of(c, fingerprint)
    if twin is not None:
        c.strategies.reject(rec.id, rec.claim_token, phase="backtest", reason="backtest:duplicate_behaviour",
                            detail=f"trades exactly like {twin} out of sample")
        return
    gate = gate_verdict(c, rec, outcome)
    if gate.reason is not None:
        c.strategies.reject(rec.id, rec.claim_token, phase="score", reason=gate.reason, detail=gate.detail)
        return
    proto = dict(protocol_metrics(outcome), **gate.to_json(), dsr_trials=gate.n_trials)
    value = score(score_inputs(oos, proto["wfa_consistency"], best.is_sharpe), c.settings.scoring)
    ranked = sorted(best.coins, key=lambda cr: cr.oos_metrics["sharpe"], reverse=True)
    live = [cr.symbol for cr in ranked if cr.oos_metrics["total_return"] > 0][:LIVE_COINS] or \
        [cr.symbol for cr in sorted(best.coins, key=lambda cr: cr.is_metrics["sharpe"], reverse=True)][:LIVE_COINS]
    flat = {k: proto[k] for k in ("trials", "wfa_consistency", "wfa_efficiency", "shuffle_pvalue", "dsr", "pbo",
                                  "dsr_trials")}
    flat.update(daily_returns=[float(x) for x in oos_daily_returns(best)[0]],
                trade_returns=[float(x) for cr in best.coins for x in cr.trade_returns])
    c.results.add_many(rec.id, "first", _result_rows(outcome, value, window, flat))
    metrics = dict(oos, is_sharpe=best.is_sharpe, direction=direction, fingerprint=fingerprint, **proto)
    ap = c.settings.active_pool
    c.pool.try_enter(rec.id, rec.claim_token, value, max_size=ap.max_size, min_score=ap.min_score,
                     params=best.params, timeframe=best.timeframe, symbols=live, metrics=metrics,
                     last_backtested_at=c.clock.now())
