"""The backtest protocol (SPEC §3.4): first backtest and re-test of one strategy.

First backtest (:func:`run_backtest`), per configured timeframe:

1. load every coin covering ``[is_start - warm-up, oos_end)`` (:mod:`~sixbtc.backtester.coinset`);
2. search the sampled parameter sets by successive halving on the in-sample window
   (:mod:`~sixbtc.backtester.search`; with ``search.method == "optuna"`` and the whole grid,
   TPE proposals of it, :mod:`~sixbtc.backtester.tpe`); the best mean IS Sharpe (with
   ``min_trades`` IS trades) is the timeframe's choice;
3. trade that choice out of sample on every coin (per-coin metrics and equity).

The timeframe whose choice has the best mean IS Sharpe becomes the assigned timeframe; only
then are out-of-sample results looked at. Gates, in order (rejection reasons):
``backtest:no_data``, ``suspect:lookahead`` (results no real strategy produces, whatever the
other gates would say, :mod:`~sixbtc.backtester.plausibility`), ``backtest:too_few_trades``
(IS or OOS), ``backtest:degradation`` (IS→OOS Sharpe degradation above ``max_degradation``,
by default of the excess over the direction's hold in each window, both Sharpe ratios of the
equal-weight portfolio of the coins' daily returns, :mod:`~sixbtc.backtester.degradation`),
``backtest:excess`` (OOS excess over the exposure- and size-matched hold of the strategy's
direction at most ``min_excess_return``,
:mod:`~sixbtc.backtester.benchmark`), ``backtest:walkforward`` (WFA consistency below ``wfa_min_consistency``,
:mod:`~sixbtc.backtester.walkforward`), ``backtest:lookahead`` (the chosen set's signals on
each coin's series cut at ``causality_cuts`` points differ from the full series' before the
cut, :mod:`~sixbtc.backtester.causality`) and ``backtest:shuffle`` (permutation p-value above
``shuffle_max_pvalue``, :mod:`~sixbtc.backtester.shuffle`; run last, it is the dearest).

``trials`` counts every (parameter set, coin, timeframe, window) simulation of the strategy's
own rules: search rungs, the OOS runs and the WFA folds. Shuffle-test simulations run on
permuted data and are reported separately (:attr:`ShuffleResult.simulations`).

For the multiple-testing gate (:mod:`sixbtc.scorer.gate`) each searched timeframe also keeps
what its search simulated (:attr:`TimeframeRun.ledger`, for the trial ledger) and, with
``plan.screen_returns``, the daily returns of every sampled set on the screening coins over
IS+OOS (one extra simulation per set and screening coin, never used to choose);
:func:`track_record` gives the chosen set's pooled IS+OOS daily returns and
:func:`oos_daily_returns` its OOS ones.

Re-test (:func:`run_retest`): the assigned timeframe and the stored parameters only, on a
new window: IS/OOS metrics, the same gates except the shuffle test (the plausibility gate and
the causality check included), and WFA folds with the parameters fixed — about one
simulation per coin and window instead of a search.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from sixbtc.backtester.benchmark import excess_over_hold, window_hold
from sixbtc.backtester.causality import CausalityCheck, check_causality
from sixbtc.backtester.coinset import CoinSeries, load_series
from sixbtc.backtester.degradation import degradation_figures, describe
from sixbtc.backtester.history import history_series
from sixbtc.backtester.metrics import GridResult
from sixbtc.backtester.plausibility import Plausibility, PlausibilityBounds, assess
from sixbtc.backtester.pooled import annualised_sharpe, equity_daily, pooled_metrics
from sixbtc.backtester.ports import CandleSource, GridRunner, SignalSource
from sixbtc.backtester.search import SearchConfig, search
from sixbtc.backtester.shuffle import ShuffleResult, shuffle_test
from sixbtc.backtester.sizeable import NO_STOP, size_fraction, sizeable, sizeable_space
from sixbtc.backtester.trials import GridReturns, RungTrials, pool_daily
from sixbtc.backtester.walkforward import WalkForward, walk_forward, walk_forward_history
from sixbtc.domain.sizing import SizingRule

METRIC_KEYS = ("total_return", "sharpe", "sortino", "max_drawdown", "win_rate", "profit_factor",
               "expectancy", "n_trades", "exposure", "avg_holding_bars")


@dataclass(frozen=True)
class BacktestPlan:
    """Where and how to backtest one strategy.

    ``symbols_by_tf`` lists candidate coins per timeframe, most liquid first (the search
    screens on the first ones); windows are UTC timestamps with
    ``is_start < oos_start < oos_end``; costs are fractions / basis points.
    ``wfa_windows = 0`` or ``shuffle_permutations = 0`` switch those tests off;
    ``seed`` seeds the shuffle test and the causality check's cuts; ``screen_returns`` keeps
    the rung-0 IS+OOS daily returns (PBO matrix); ``causality_cuts`` (>= 1) cuts per coin of
    the causality check; ``plausibility`` the bounds of the plausibility gate;
    ``min_excess_return`` (fraction) the OOS excess over the exposure-matched directional
    hold a strategy must exceed (:mod:`~sixbtc.backtester.benchmark`); ``wfa_span``
    ``"window"`` (``wfa_windows`` folds over IS+OOS) or ``"history"`` (folds of IS + OOS
    days over the coins' whole stored history before ``oos_end``, any ``wfa_windows`` > 0).
    ``sizing``: the configured ``risk.sizing`` rule (None = the engine's all-in 1x).
    ``degradation_basis``: ``"excess"`` or ``"return"``, the Sharpe ratios the degradation
    gate compares (:mod:`~sixbtc.backtester.degradation`). ``runner``: where the search's
    grid simulations run (:class:`~sixbtc.backtester.ports.GridRunner`; None = in this process).
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
    search: SearchConfig = SearchConfig()
    wfa_windows: int = 4
    wfa_min_consistency: float = 0.5
    shuffle_permutations: int = 50
    shuffle_max_pvalue: float = 0.1
    shuffle_coins: int = 3
    seed: int = 0
    screen_returns: bool = True
    causality_cuts: int = 2
    plausibility: PlausibilityBounds = PlausibilityBounds()
    min_excess_return: float = 0.0
    wfa_span: str = "window"
    sizing: SizingRule | None = None
    degradation_basis: str = "excess"
    runner: GridRunner | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class CoinRun:
    """Metrics of the chosen parameter set on one coin (dicts keyed by :data:`METRIC_KEYS`),
    its normalised OOS equity per bar, its OOS trades' net returns (fractions of notional),
    ``bar_days`` int64 ``(len(equity),)`` the UTC day of each OOS bar, ``trade_pnl`` the OOS
    trades' net USD results and ``trade_days`` int64 the UTC day of each OOS trade's exit."""

    symbol: str
    is_metrics: dict[str, float]
    oos_metrics: dict[str, float]
    equity: np.ndarray = field(repr=False)
    trade_returns: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    bar_days: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64), repr=False)
    trade_pnl: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    trade_days: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64), repr=False)


@dataclass(frozen=True)
class TimeframeRun:
    """Result of one timeframe: chosen parameters (and their index in the sampled list),
    mean IS Sharpe, per-coin runs, trials, the search's final candidates and the coin series
    (kept for the walk-forward and shuffle tests); ``ledger`` what the search simulated per
    rung and ``screen_returns`` the rung-0 IS+OOS daily returns (PBO matrix), ``n_sets`` the
    number of sampled sets searched and ``params_list`` those sets (the caller's list, or the
    TPE proposals of this timeframe)."""

    timeframe: str
    params: dict[str, Any]
    is_sharpe: float
    coins: list[CoinRun]
    trials: int
    param_index: int = 0
    survivors: list[int] = field(default_factory=list)
    series: list[CoinSeries] = field(default_factory=list, repr=False)
    ledger: list[RungTrials] = field(default_factory=list, repr=False)
    screen_returns: GridReturns | None = field(default=None, repr=False)
    n_sets: int = 1
    params_list: list[dict[str, Any]] = field(default_factory=list, repr=False)


@dataclass(frozen=True)
class BacktestOutcome:
    """Verdict of a backtest. ``reason`` is ``None`` when it passed.

    ``runs`` holds every timeframe's choice (``best`` is one of them); ``wfa``, ``shuffle``,
    ``causality`` (its cost: signal calls, seconds) and ``plausibility`` (the figures) are None
    when the test was off or not reached. ``track`` is :func:`track_record` of ``best``
    (computed once, for the degradation gate and the multiple-testing gate) and
    ``is_sharpe_pooled`` the annualised Sharpe of its in-sample days (the equal-weight
    portfolio's, like the OOS Sharpe it is compared with), ``excess`` the OOS figures of
    :func:`excess_oos`, ``degradation`` the degradation gate's figures
    (:func:`~sixbtc.backtester.degradation.degradation_figures`); None when not reached.
    """

    reason: str | None
    detail: str
    best: TimeframeRun | None
    trials: int
    runs: list[TimeframeRun] = field(default_factory=list)
    wfa: WalkForward | None = None
    shuffle: ShuffleResult | None = None
    causality: CausalityCheck | None = None
    plausibility: Plausibility | None = None
    track: tuple[np.ndarray, np.ndarray, int] | None = field(default=None, repr=False)
    is_sharpe_pooled: float | None = None
    excess: dict[str, float] | None = None
    degradation: dict[str, float | str] | None = None

    @property
    def is_sharpe(self) -> float:
        """Pooled IS Sharpe when measured, else the search's mean IS Sharpe (0 without a choice)."""
        if self.is_sharpe_pooled is not None:
            return self.is_sharpe_pooled
        return self.best.is_sharpe if self.best is not None else 0.0


def metrics_row(g: GridResult, j: int) -> dict[str, float]:
    """Metrics of parameter-set position ``j`` of ``g`` keyed by :data:`METRIC_KEYS`."""
    return {k: float(getattr(g, k)[j]) for k in METRIC_KEYS}


def _load(signals: SignalSource, candles: CandleSource, plan: BacktestPlan, timeframe: str,
          params_list: list[dict[str, Any]], direction: int) -> list[CoinSeries]:
    window = (plan.is_start, plan.oos_start, plan.oos_end)
    return [s for sym in plan.symbols_by_tf.get(timeframe, [])
            if (s := load_series(candles, signals, sym, timeframe, window, plan.warmup_bars, params_list,
                                 direction, (plan.fee_rate, plan.slippage_bps, plan.sizing))) is not None]


def _finish(timeframe: str, series: list[CoinSeries], j: int, is_results: list[GridResult], pos: int,
            trials: int, survivors: list[int]) -> TimeframeRun:
    """Trade choice ``j`` out of sample on every coin (one simulation per coin)."""
    coins = []
    for s, g in zip(series, is_results, strict=True):
        oos = s.single(j, s.i_oos, s.n_bars)
        tr = oos.trades
        coins.append(CoinRun(s.symbol, metrics_row(g, pos), {k: float(getattr(oos.metrics, k)) for k in METRIC_KEYS},
                             oos.equity / oos.equity[0], np.asarray(tr["return_frac"], dtype=np.float64),
                             s.days[s.i_oos:s.n_bars].copy(), np.asarray(tr["pnl_usd"], dtype=np.float64),
                             s.days[np.minimum(np.asarray(tr["exit_idx"], dtype=np.int64), s.n_bars - 1)]))
    is_sharpe = float(np.nan_to_num(np.mean([g.sharpe[pos] for g in is_results])))
    return TimeframeRun(timeframe, series[0].params(j), is_sharpe, coins, trials + len(series), j, survivors, series)


def run_timeframe(strategy_signals: SignalSource, candles: CandleSource, plan: BacktestPlan, timeframe: str,
                  params_list: list[dict[str, Any]], direction: int,
                  space: dict[str, list[Any]] | None = None) -> TimeframeRun | None:
    """Search ``params_list`` on every coin of ``timeframe`` (IS only), then trade the choice OOS.

    With ``space`` (the whole grid) and ``plan.search.method == "optuna"`` the searched sets
    are TPE proposals of ``space`` instead (:func:`~sixbtc.backtester.search.search`).
    Returns None when no coin has enough data or no parameter set trades enough in-sample.
    """
    tpe = space is not None and plan.search.method == "optuna"
    params_list = [] if tpe else params_list  # TPE fills this timeframe's own list
    series = _load(strategy_signals, candles, plan, timeframe, params_list, direction)
    if not series:
        return None
    found = search(series, params_list, plan.min_trades, plan.search, space=space if tpe else None, seed=plan.seed,
                   screen_returns=plan.screen_returns, runner=plan.runner)
    if found is None:
        return None
    for s in series:
        s.keep_only(found.survivors)
    run = _finish(timeframe, series, found.chosen, found.is_results, found.survivors.index(found.chosen),
                  found.trials, found.survivors)
    return replace(run, ledger=found.ledger, screen_returns=found.screen_returns, n_sets=len(params_list),
                   params_list=params_list)


def run_backtest(signals: SignalSource, candles: CandleSource, plan: BacktestPlan,
                 params_list: list[dict[str, Any]], direction: int, *,
                 space: dict[str, list[Any]] | None = None) -> BacktestOutcome:
    """Run the first-backtest protocol over every timeframe of ``plan`` and give the verdict.

    Parameters
    ----------
    signals : SignalSource
        The loaded strategy.
    candles : CandleSource
    plan : BacktestPlan
    params_list : list of dict
        The sampled parameter sets (each with ``sl_pct`` and ``tp_pct`` fractions).
    direction : int
        +1 long, -1 short.
    space : dict of str to list or None
        The strategy's whole grid; with ``plan.search.method == "optuna"`` each timeframe
        searches TPE proposals of it instead of ``params_list``.

    Returns
    -------
    BacktestOutcome
        Reasons as listed in the module docstring.
    """
    if not any(plan.symbols_by_tf.values()):
        return BacktestOutcome("backtest:no_data", "no coin covers the backtest window", None, 0)
    params_list, space = sizeable(plan.sizing, params_list), sizeable_space(plan.sizing, space)
    if not params_list:
        return BacktestOutcome("backtest:too_few_trades", NO_STOP, None, 0)
    runs: list[TimeframeRun] = []
    best: TimeframeRun | None = None
    for tf in plan.symbols_by_tf:
        run = run_timeframe(signals, candles, plan, tf, params_list, direction, space)
        if run is None:
            continue
        runs.append(run)
        if best is None or run.is_sharpe > best.is_sharpe:
            best, dropped = run, best
        else:
            dropped = run
        if dropped is not None:
            dropped.series.clear()  # only the assigned timeframe's signals are needed later
    trials = sum(r.trials for r in runs)
    if best is None:
        return BacktestOutcome("backtest:too_few_trades", f"no parameter set reached {plan.min_trades} IS trades",
                               None, trials)
    return _verdict(plan, best, runs, trials, signals, candles)


def _verdict(plan: BacktestPlan, best: TimeframeRun, runs: list[TimeframeRun], trials: int,
             signals: SignalSource | None, candles: CandleSource | None = None) -> BacktestOutcome:
    """Apply the gates to ``best``; ``signals`` None skips the shuffle test (re-test)."""
    oos = aggregate_oos(best)
    seen = assess(oos["sharpe_coin_mean"], [c.trade_returns for c in best.coins], [c.equity for c in best.coins],
                  plan.plausibility)

    measured: dict[str, Any] = {}

    def stop(reason: str | None, detail: str, **kw: Any) -> BacktestOutcome:
        return BacktestOutcome(reason, detail, best, kw.pop("trials", trials), runs, plausibility=seen,
                               **measured, **kw)
    if seen.suspect is not None:
        return stop("suspect:lookahead", f"{best.timeframe}: {seen.suspect}")
    if oos["n_trades"] < plan.min_trades:
        return stop("backtest:too_few_trades", f"{oos['n_trades']:.0f} OOS trades < {plan.min_trades}")
    track = track_record(best)
    is_sharpe = annualised_sharpe(track[0][: track[2]])[0]
    size = size_fraction(plan.sizing, best.params, bool(best.series) and best.series[0].is_grid(best.param_index))
    excess = excess_oos(best, oos["exposure"], size)
    deg = degradation_figures(plan.degradation_basis, track, (is_sharpe, oos["sharpe"]), excess["excess_sharpe"],
                              best.series, float(np.mean([c.is_metrics["exposure"] for c in best.coins])), size)
    measured.update(track=track, is_sharpe_pooled=is_sharpe, excess=excess, degradation=deg)
    if deg["degradation"] > plan.max_degradation:
        return stop("backtest:degradation", describe(deg, plan.max_degradation, passed=False))
    if excess["excess_return"] <= plan.min_excess_return:
        return stop("backtest:excess", f"OOS return {oos['total_return']:.2%} vs holding its direction "
                    f"{excess['benchmark_return']:.2%} at exposure {excess['exposure']:.0%} x size "
                    f"{excess['size']:.2f}: excess {excess['excess_return']:.2%} <= {plan.min_excess_return:.2%}")
    wfa = None
    if plan.wfa_windows > 0:
        wfa = _walk_forward(plan, best, candles)
        trials += wfa.trials
        if wfa.consistency < plan.wfa_min_consistency:
            return stop("backtest:walkforward", f"{wfa.consistency:.0%} of {len(wfa.folds)} walk-forward "
                        f"folds profitable < {plan.wfa_min_consistency:.0%}", trials=trials, wfa=wfa)
    causal = check_causality(best.series, best.param_index, best.timeframe, plan.causality_cuts, plan.seed)
    if causal.finding is not None:
        return stop("backtest:lookahead", causal.finding.describe(), trials=trials, wfa=wfa, causality=causal)
    shuffled = None
    if signals is not None and plan.shuffle_permutations > 0:
        shuffled = shuffle_test(best.series[: plan.shuffle_coins], signals, best.param_index,
                                plan.shuffle_permutations, plan.seed)
        if shuffled.pvalue > plan.shuffle_max_pvalue:
            return stop("backtest:shuffle", f"permutation p-value {shuffled.pvalue:.3f} > {plan.shuffle_max_pvalue}",
                        trials=trials, wfa=wfa, shuffle=shuffled, causality=causal)
    return stop(None, f"{best.timeframe}: OOS Sharpe {oos['sharpe']:.2f}", trials=trials, wfa=wfa, shuffle=shuffled,
                causality=causal)


def _walk_forward(plan: BacktestPlan, best: TimeframeRun, candles: CandleSource | None) -> WalkForward:
    """The walk-forward of ``plan.wfa_span`` (history: whole stored history, see
    :mod:`~sixbtc.backtester.history`; falls back to the window when it holds no more)."""
    if plan.wfa_span == "history" and candles is not None:
        hist = history_series(candles, best.series, best.timeframe, plan.is_start, plan.oos_start, plan.oos_end,
                              plan.warmup_bars)
        train, test = (plan.oos_start - plan.is_start).days, (plan.oos_end - plan.oos_start).days
        try:
            if hist and train > 0 and test > 0:
                return walk_forward_history(hist, best.survivors, train, test, plan.min_trades)
        except ValueError:  # the coins' common history holds no fold: the window's folds
            pass
    return walk_forward(best.series, best.survivors, plan.wfa_windows, plan.min_trades)


def run_retest(signals: SignalSource, candles: CandleSource, plan: BacktestPlan, timeframe: str,
               params: dict[str, Any], direction: int) -> BacktestOutcome:
    """Re-test fixed ``params`` on ``timeframe`` over the plan's (recent) window.

    Same gates as :func:`run_backtest` except the shuffle test; WFA folds trade the fixed
    parameters. ``trials`` = 2 × coins (IS, OOS) + WFA simulations.

    Returns
    -------
    BacktestOutcome
        ``backtest:no_data`` when no coin of ``timeframe`` covers the window,
        ``backtest:too_few_trades`` when the IS trades fall below ``min_trades``, else the
        verdict of the gates.
    """
    if not sizeable(plan.sizing, [params]):
        return BacktestOutcome("backtest:too_few_trades", NO_STOP, None, 0)
    series = _load(signals, candles, plan, timeframe, [params], direction)
    if not series:
        return BacktestOutcome("backtest:no_data", f"no {timeframe} coin covers the re-test window", None, 0)
    is_results = [s.grid([0], s.i_is, s.i_oos) for s in series]
    is_trades = int(sum(g.n_trades[0] for g in is_results))
    if is_trades < plan.min_trades:
        return BacktestOutcome("backtest:too_few_trades", f"{is_trades} IS trades < {plan.min_trades}", None,
                               len(series))
    run = _finish(timeframe, series, 0, is_results, 0, len(series), [0])
    return _verdict(plan, run, [run], run.trials, None, candles)


def aggregate_oos(run: TimeframeRun) -> dict[str, float]:
    """The OOS metrics of the chosen parameter set pooled across coins
    (:func:`~sixbtc.backtester.pooled.pooled_metrics`: pooled trades, equal-weight portfolio
    of daily returns; no per-coin means of ratios)."""
    c = run.coins
    return pooled_metrics([x.equity for x in c], [x.bar_days for x in c], [x.trade_pnl for x in c],
                          [x.trade_returns for x in c], [x.oos_metrics for x in c], [x.trade_days for x in c])


def excess_oos(run: TimeframeRun, exposure: float, size: float = 1.0) -> dict[str, float]:
    """OOS excess of the chosen set over holding its direction on the run's coins
    (:func:`~sixbtc.backtester.benchmark.excess_over_hold`, matched to ``exposure`` and to
    ``size``, the entry notional as a fraction of equity).

    Raises
    ------
    ValueError
        If the run has no coin series.
    """
    if not run.series:
        raise ValueError(f"excess_oos: timeframe {run.timeframe} has no coin series left")
    hold, hold_days = window_hold(run.series, oos=True)
    r, days = oos_daily_returns(run)
    return excess_over_hold(r, days, hold, hold_days, min(1.0, max(0.0, exposure)), size)


def track_record(run: TimeframeRun) -> tuple[np.ndarray, np.ndarray, int]:
    """Daily returns of the chosen set over IS+OOS, pooled equal-weight across the run's coins.

    Needs ``run.series`` (the assigned timeframe's coins). One simulation per coin over
    ``[i_is, n_bars)`` (same trades as the IS and OOS runs except a position open across
    ``oos_start`` is not cut there).

    Returns
    -------
    returns : numpy.ndarray
        float64 ``(n_days,)`` daily returns (fractions), oldest first.
    days : numpy.ndarray
        int64 ``(n_days,)`` UTC days since 1970-01-01.
    first_oos : int
        Position of the first day whose bars are all out of sample.

    Raises
    ------
    ValueError
        If the run has no coin series.
    """
    if not run.series:
        raise ValueError(f"track_record: timeframe {run.timeframe} has no coin series left")
    pooled, days = pool_daily([s.daily([run.param_index], s.i_is, s.n_bars)[1:] for s in run.series])
    s0 = run.series[0]
    oos_day = int(s0.days[s0.i_oos]) + (1 if s0.i_oos > 0 and s0.days[s0.i_oos - 1] == s0.days[s0.i_oos] else 0)
    return pooled[:, 0], days, int(np.searchsorted(days, oos_day))


def oos_daily_returns(run: TimeframeRun) -> tuple[np.ndarray, np.ndarray]:
    """Pooled OOS daily returns of the chosen set: per coin the day's last close of the
    normalised OOS equity (:attr:`CoinRun.equity`) over the previous day's (1.0 before the
    first, :func:`~sixbtc.backtester.pooled.equity_daily`), then the equal-weight mean across
    coins per UTC day.

    Returns
    -------
    returns, days : numpy.ndarray
        float64 ``(n_days,)`` fractions oldest first, int64 ``(n_days,)``.

    Raises
    ------
    ValueError
        If the run has no coin series.
    """
    if not run.series:
        raise ValueError(f"oos_daily_returns: timeframe {run.timeframe} has no coin series left")
    pooled, days = pool_daily([equity_daily(cr.equity, cr.bar_days) for cr in run.coins])
    return pooled[:, 0], days


def portfolio_equity(run: TimeframeRun, points: int = 500) -> list[float]:
    """Equal-weight average of the coins' normalised OOS equity curves, downsampled to ``points``."""
    n = min(len(c.equity) for c in run.coins)
    curve = np.mean([c.equity[:n] for c in run.coins], axis=0)
    idx = np.unique(np.linspace(0, n - 1, min(points, n)).astype(int))
    return [round(float(v), 6) for v in curve[idx]]
