"""The backtest protocol (SPEC §3.4, first version): timeframes × coins × parameter grid,
in-sample / out-of-sample split, selection on in-sample only, OOS verdict.

For each timeframe, each coin with full coverage of ``[is_start - warm-up, oos_end)`` is
simulated for every parameter set in one :func:`~sixbtc.backtester.run_grid` call per window
(IS ``[is_start, oos_start)``, OOS ``[oos_start, oos_end)``); indicator warm-up bars before
``is_start`` feed the signals but are never traded. The parameter set with the best mean
in-sample Sharpe across coins (with at least ``min_trades`` IS trades) is chosen per timeframe,
and the timeframe whose choice has the best mean IS Sharpe becomes the assigned timeframe.
Only then are its out-of-sample results looked at: too few OOS trades or an IS→OOS Sharpe
degradation above ``max_degradation`` rejects the strategy. Walk-forward windows and the
shuffle test come with the full protocol (issue 3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sixbtc.backtester.engine import run_grid, run_single
from sixbtc.backtester.metrics import GridResult, bars_per_year
from sixbtc.backtester.ports import CandleSource, SignalSource
from sixbtc.domain.timeframe import Timeframe

METRIC_KEYS = ("total_return", "sharpe", "sortino", "max_drawdown", "win_rate", "profit_factor",
               "expectancy", "n_trades", "exposure", "avg_holding_bars")


@dataclass(frozen=True)
class BacktestPlan:
    """Where and how to backtest one strategy.

    ``symbols_by_tf`` lists candidate coins per timeframe; windows are UTC timestamps with
    ``is_start < oos_start < oos_end``; costs are fractions / basis points.
    """

    symbols_by_tf: dict[str, list[str]]
    is_start: pd.Timestamp
    oos_start: pd.Timestamp
    oos_end: pd.Timestamp
    warmup_bars: int
    fee_rate: float
    slippage_bps: float
    min_trades: int
    max_degradation: float


@dataclass(frozen=True)
class CoinRun:
    """Metrics of the chosen parameter set on one coin (dicts keyed by :data:`METRIC_KEYS`)."""

    symbol: str
    is_metrics: dict[str, float]
    oos_metrics: dict[str, float]
    equity: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class TimeframeRun:
    """Result of one timeframe: chosen parameters, IS/OOS aggregates, per-coin runs."""

    timeframe: str
    params: dict[str, Any]
    is_sharpe: float
    coins: list[CoinRun]
    trials: int


@dataclass(frozen=True)
class BacktestOutcome:
    """Verdict of a backtest. ``reason`` is ``None`` when it passed."""

    reason: str | None
    detail: str
    best: TimeframeRun | None
    trials: int


def _arrays(df: pd.DataFrame) -> dict[str, np.ndarray]:
    return {k: df[k].to_numpy(np.float64) for k in ("open", "high", "low", "close", "volume")}


def _funding(candles: CandleSource, symbol: str, ts: pd.DatetimeIndex) -> np.ndarray:
    rates = np.zeros(len(ts))
    fr = candles.read_funding(symbol, ts[0], ts[-1] + pd.Timedelta(milliseconds=1))
    if len(fr):
        idx = ts.searchsorted(pd.DatetimeIndex(fr["timestamp"]))
        ok = idx < len(ts)
        hit = ok & (ts[np.minimum(idx, len(ts) - 1)] == pd.DatetimeIndex(fr["timestamp"]))
        rates[idx[hit]] = fr["rate"].to_numpy()[hit]
    return rates


def _metrics_row(g: GridResult, j: int) -> dict[str, float]:
    return {k: float(getattr(g, k)[j]) for k in METRIC_KEYS}


class _CoinGrid:
    """IS and OOS grid results of one coin, plus what is needed to re-run the chosen set."""

    def __init__(self, symbol: str, data: dict[str, np.ndarray], funding: np.ndarray, entries: np.ndarray,
                 exits: np.ndarray, i_is: int, i_oos: int, is_res: GridResult, oos_res: GridResult) -> None:
        self.symbol, self.data, self.funding = symbol, data, funding
        self.entries, self.exits, self.i_is, self.i_oos = entries, exits, i_is, i_oos
        self.is_res, self.oos_res = is_res, oos_res


def run_timeframe(strategy_signals: SignalSource, candles: CandleSource, plan: BacktestPlan, timeframe: str,
                  params_list: list[dict[str, Any]], direction: int) -> TimeframeRun | None:
    """Backtest every parameter set on every coin of ``timeframe``; choose on in-sample only.

    Returns None when no coin has enough data or no parameter set trades enough in-sample.
    """
    tf = Timeframe.parse(timeframe)
    grids = [g for sym in plan.symbols_by_tf.get(timeframe, [])
             if (g := _coin_grid(strategy_signals, candles, plan, tf, sym, params_list, direction)) is not None]
    if not grids:
        return None
    is_sharpe = np.mean([g.is_res.sharpe for g in grids], axis=0)
    is_trades = np.sum([g.is_res.n_trades for g in grids], axis=0)
    eligible = np.where(is_trades >= plan.min_trades, is_sharpe, -np.inf)
    if not np.isfinite(eligible).any():
        return None
    j = int(np.argmax(eligible))
    coins = [_coin_run(g, j, plan, tf, params_list[j], direction) for g in grids]
    return TimeframeRun(timeframe, params_list[j], float(is_sharpe[j]), coins, len(params_list) * len(grids))


def _coin_grid(signals: SignalSource, candles: CandleSource, plan: BacktestPlan, tf: Timeframe, symbol: str,
               params_list: list[dict[str, Any]], direction: int) -> _CoinGrid | None:
    start = plan.is_start - pd.Timedelta(milliseconds=tf.ms * plan.warmup_bars)
    df = candles.read_candles(symbol, tf.value, start, plan.oos_end)
    ts = pd.DatetimeIndex(df["timestamp"])
    if len(df) == 0 or ts[0] > start or ts[-1] < plan.oos_end - pd.Timedelta(milliseconds=tf.ms):
        return None
    i_is, i_oos = int(ts.searchsorted(plan.is_start)), int(ts.searchsorted(plan.oos_start))
    data = _arrays(df)
    entries, exits = signals.signals(data, params_list)
    entries, exits = np.ascontiguousarray(entries.T), np.ascontiguousarray(exits.T)
    sl = np.array([p["sl_pct"] for p in params_list], dtype=np.float64)
    tp = np.array([p["tp_pct"] for p in params_list], dtype=np.float64)
    funding = _funding(candles, symbol, ts)
    common = dict(direction=direction, fee_rate=plan.fee_rate, slippage_bps=plan.slippage_bps,
                  funding_rate=funding, bars_per_year=bars_per_year(tf.ms))
    args = (data["open"], data["high"], data["low"], data["close"], entries, exits, sl, tp)
    is_res = run_grid(*args, start=i_is, end=i_oos, **common)
    oos_res = run_grid(*args, start=i_oos, end=len(df), **common)
    return _CoinGrid(symbol, data, funding, entries, exits, i_is, i_oos, is_res, oos_res)


def _coin_run(g: _CoinGrid, j: int, plan: BacktestPlan, tf: Timeframe, params: dict[str, Any],
              direction: int) -> CoinRun:
    d = g.data
    single = run_single(d["open"], d["high"], d["low"], d["close"], g.entries[:, j], g.exits[:, j],
                        sl_pct=float(params["sl_pct"]), tp_pct=float(params["tp_pct"]), direction=direction,
                        fee_rate=plan.fee_rate, slippage_bps=plan.slippage_bps, funding_rate=g.funding,
                        start=g.i_oos, end=len(d["open"]), bars_per_year=bars_per_year(tf.ms))
    return CoinRun(g.symbol, _metrics_row(g.is_res, j), _metrics_row(g.oos_res, j), single.equity / single.equity[0])


def run_backtest(signals: SignalSource, candles: CandleSource, plan: BacktestPlan,
                 params_list: list[dict[str, Any]], direction: int) -> BacktestOutcome:
    """Run the protocol over every timeframe of ``plan`` and give the verdict.

    Reasons: ``backtest:no_data``, ``backtest:too_few_trades`` (IS or OOS),
    ``backtest:degradation``.
    """
    runs = [r for tf in plan.symbols_by_tf
            if (r := run_timeframe(signals, candles, plan, tf, params_list, direction)) is not None]
    trials = sum(r.trials for r in runs)
    if not any(plan.symbols_by_tf.values()):
        return BacktestOutcome("backtest:no_data", "no coin covers the backtest window", None, 0)
    if not runs:
        return BacktestOutcome("backtest:too_few_trades", f"no parameter set reached {plan.min_trades} IS trades",
                               None, trials)
    best = max(runs, key=lambda r: r.is_sharpe)
    oos = aggregate_oos(best)
    if oos["n_trades"] < plan.min_trades:
        return BacktestOutcome("backtest:too_few_trades", f"{oos['n_trades']:.0f} OOS trades < {plan.min_trades}",
                               best, trials)
    degradation = ((best.is_sharpe - oos["sharpe"]) / abs(best.is_sharpe)) if best.is_sharpe > 0 else 1.0
    if degradation > plan.max_degradation:
        return BacktestOutcome("backtest:degradation", f"IS Sharpe {best.is_sharpe:.2f} -> OOS {oos['sharpe']:.2f} "
                               f"({degradation:.0%} > {plan.max_degradation:.0%})", best, trials)
    return BacktestOutcome(None, f"{best.timeframe}: OOS Sharpe {oos['sharpe']:.2f}", best, trials)


def aggregate_oos(run: TimeframeRun) -> dict[str, float]:
    """Pool the OOS metrics of the chosen parameter set across coins.

    Sharpe, Sortino, drawdown, total return and exposure are coin means; win rate and
    expectancy are trade-weighted; profit factor is the trade-weighted mean (capped per coin by
    the engine); ``consistency`` is the share of coins with a positive OOS return among coins
    that traded.
    """
    m = [c.oos_metrics for c in run.coins]
    n = np.array([x["n_trades"] for x in m], dtype=np.float64)
    traded = n > 0
    w = n / n.sum() if n.sum() > 0 else np.zeros_like(n)
    out = {k: float(np.mean([x[k] for x in m])) for k in ("sharpe", "sortino", "max_drawdown", "total_return", "exposure")}
    for k in ("win_rate", "expectancy", "profit_factor"):
        out[k] = float(np.sum(w * np.array([x[k] for x in m])))
    out["n_trades"] = float(n.sum())
    out["consistency"] = float(np.mean([x["total_return"] > 0 for x, t in zip(m, traded, strict=True) if t])) if traded.any() else 0.0
    return out


def portfolio_equity(run: TimeframeRun, points: int = 500) -> list[float]:
    """Equal-weight average of the coins' normalised OOS equity curves, downsampled to ``points``."""
    n = min(len(c.equity) for c in run.coins)
    curve = np.mean([c.equity[:n] for c in run.coins], axis=0)
    idx = np.unique(np.linspace(0, n - 1, min(points, n)).astype(int))
    return [round(float(v), 6) for v in curve[idx]]
