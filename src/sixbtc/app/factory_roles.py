"""The factory's roles: generator, validator and backtester, one unit of work at a time.

Each ``*_one`` function claims one strategy atomically, processes it and writes the verdict
with its fencing token, so any number of processes (or machines, on PostgreSQL) can run
them side by side.
"""

from __future__ import annotations

import contextlib
import hashlib
from datetime import UTC, datetime, time
from typing import Any

import numpy as np

from sixbtc.app.container import Container
from sixbtc.app.window import CycleWindow
from sixbtc.backtester.protocol import BacktestPlan, aggregate_oos, portfolio_equity, run_backtest
from sixbtc.core.errors import DataError, StaleClaim, StrategyRejected
from sixbtc.domain.strategy import StrategyRecord, StrategyStatus
from sixbtc.generator.factory import generate
from sixbtc.scorer.score import ScoreInputs, score
from sixbtc.strategy.sandbox import StrategySandbox
from sixbtc.validator.pipeline import validate

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


def validation_sample(c: Container, window: CycleWindow) -> dict[str, np.ndarray]:
    """The validator's sample: the last ``validator.sample_bars`` 1h (else first available)
    candles of the first preferred coin before the replay window.

    Raises
    ------
    DataError
        If the store has no usable series.
    """
    for tf in ("1h", *c.settings.backtest.timeframes):
        for sym in ("BTC", *c.store.symbols(tf)):
            if c.store.has(sym, tf):
                df = c.store.read_candles(sym, tf, None, window.replay_start).tail(c.settings.validator.sample_bars)
                if len(df) >= 200:
                    return {k: df[k].to_numpy(np.float64) for k in ("open", "high", "low", "close", "volume")}
    raise DataError("no candle series with at least 200 bars for the validation sample")


def validate_one(c: Container, sandbox: StrategySandbox, sample: dict[str, np.ndarray], worker: str) -> bool:
    """Claim one GENERATED strategy and validate it. Returns False when none was waiting."""
    rec = c.strategies.claim(StrategyStatus.GENERATED, worker)
    if rec is None:
        return False
    try:
        report = validate(rec.code, sandbox, sample, cut_points=c.settings.validator.cut_points)
        if report.passed:
            c.strategies.transition(rec.id, rec.claim_token, StrategyStatus.VALIDATED, phase="validator",
                                    reason="validated", detail=report.detail[:500])
        else:
            c.strategies.reject(rec.id, rec.claim_token, phase=f"validator:{report.phase}",
                                reason=report.reason or "invalid", detail=report.detail)
    except StaleClaim:
        pass
    except Exception as exc:  # noqa: BLE001 — an unexpected error fails this strategy, not the worker
        _fail(c, rec, "validator", exc)
    except BaseException:  # shutdown (SIGINT/SIGTERM): give the claim back, then stop
        c.strategies.release(rec.id, rec.claim_token)
        raise
    return True


def _fail(c: Container, rec: StrategyRecord, phase: str, exc: Exception) -> None:
    with contextlib.suppress(StaleClaim):
        c.strategies.transition(rec.id, rec.claim_token, StrategyStatus.FAILED, phase=phase,
                                reason=f"error:{type(exc).__name__}", detail=str(exc)[:1000])


def sample_params(grid: list[dict[str, Any]], limit: int, code_hash: str) -> list[dict[str, Any]]:
    """At most ``limit`` parameter sets of ``grid``, sampled reproducibly (seeded by the code hash)."""
    if len(grid) <= limit:
        return grid
    rng = np.random.default_rng(int(hashlib.sha256(code_hash.encode()).hexdigest()[:16], 16))
    return [grid[i] for i in sorted(rng.choice(len(grid), size=limit, replace=False))]


def backtest_one(c: Container, sandbox: StrategySandbox, window: CycleWindow,
                 symbols_by_tf: dict[str, list[str]], worker: str) -> bool:
    """Claim one VALIDATED strategy, backtest, score and offer it to the pool.

    A strategy failing the backtest is deleted with its reason (SPEC §2). Returns False when
    none was waiting.
    """
    rec = c.strategies.claim(StrategyStatus.VALIDATED, worker)
    if rec is None:
        return False
    bt = c.settings.backtest
    try:
        spec = sandbox.load(rec.code)
        wanted = {tf: syms for tf, syms in symbols_by_tf.items() if tf in spec.timeframes}
        plan = BacktestPlan(wanted, window.is_start, window.oos_start, window.replay_start, bt.warmup_bars,
                            bt.fee_rate, bt.slippage_bps, bt.min_trades, bt.max_degradation)
        params_list = sample_params(spec.grid(), bt.max_param_sets, rec.code_hash)
        outcome = run_backtest(sandbox, c.store, plan, params_list, spec.direction.sign)
        if outcome.reason is not None:
            c.strategies.reject(rec.id, rec.claim_token, phase="backtest", reason=outcome.reason, detail=outcome.detail)
            return True
        _store_and_pool(c, rec, outcome, window, str(spec.direction))
    except StrategyRejected as exc:
        c.strategies.reject(rec.id, rec.claim_token, phase="backtest", reason=exc.reason, detail=exc.detail)
    except StaleClaim:
        pass
    except Exception as exc:  # noqa: BLE001
        _fail(c, rec, "backtest", exc)
    except BaseException:  # shutdown (SIGINT/SIGTERM): give the claim back, then stop
        c.strategies.release(rec.id, rec.claim_token)
        raise
    return True


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


def _store_and_pool(c: Container, rec: StrategyRecord, outcome: Any, window: CycleWindow, direction: str) -> None:
    best = outcome.best
    oos = aggregate_oos(best)
    fingerprint = behaviour_fingerprint(best.timeframe, oos)
    twin = _duplicate_of(c, fingerprint)
    if twin is not None:
        c.strategies.reject(rec.id, rec.claim_token, phase="backtest", reason="backtest:duplicate_behaviour",
                            detail=f"trades exactly like {twin} out of sample")
        return
    value = score(ScoreInputs(oos["sharpe"], oos["expectancy"], oos["profit_factor"], oos["win_rate"],
                              oos["max_drawdown"], oos["consistency"], oos["n_trades"]), c.settings.scoring)
    ranked = sorted(best.coins, key=lambda cr: cr.oos_metrics["sharpe"], reverse=True)
    live = [cr.symbol for cr in ranked if cr.oos_metrics["total_return"] > 0][:LIVE_COINS] or \
        [cr.symbol for cr in sorted(best.coins, key=lambda cr: cr.is_metrics["sharpe"], reverse=True)][:LIVE_COINS]
    rows = [{"timeframe": best.timeframe, "symbol": cr.symbol, "params": best.params, "is_metrics": cr.is_metrics,
             "oos_metrics": cr.oos_metrics, "score": None, "equity_curve": None, "data_start": window.is_start,
             "data_end": window.replay_start} for cr in best.coins]
    rows.append({"timeframe": best.timeframe, "symbol": None, "params": best.params, "is_metrics": {"sharpe": best.is_sharpe},
                 "oos_metrics": oos, "score": value, "equity_curve": portfolio_equity(best),
                 "data_start": window.is_start, "data_end": window.replay_start})
    c.results.add_many(rec.id, "first", rows)
    metrics = dict(oos, is_sharpe=best.is_sharpe, trials=outcome.trials, direction=direction,
                   fingerprint=fingerprint)
    ap = c.settings.active_pool
    c.pool.try_enter(rec.id, rec.claim_token, value, max_size=ap.max_size, min_score=ap.min_score,
                     params=best.params, timeframe=best.timeframe, symbols=live, metrics=metrics,
                     last_backtested_at=c.clock.now())
