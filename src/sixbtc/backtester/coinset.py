"""One coin's series for the backtest protocol: candles, funding, window indices and a
cache of the strategy's signals per parameter set.

Signals are computed once per (coin, parameter set) over the whole loaded span
``[is_start - warm-up, oos_end)``; every later simulation (search rungs, walk-forward folds,
OOS) re-uses them through :func:`~sixbtc.backtester.run_grid` windows, so no window ever
recomputes indicators. Indicator warm-up bars before ``is_start`` feed the signals but are
never traded.

Grid strategies (``GRD``) yield ``(center, step)`` float arrays in place of
``(entries, exits)`` (:mod:`sixbtc.strategy.signal_pairs`); the same cache holds them and every
simulation goes to the grid engine (:mod:`sixbtc.backtester.engine_grid`, ``levels`` and
``sl_pct`` from the parameter set), chosen by the arrays' dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sixbtc.backtester.engine import run_grid_daily, run_single
from sixbtc.backtester.engine_grid import run_grid_levels_daily, run_single_grid
from sixbtc.backtester.grid_jobs import GridJob, run_grid_job
from sixbtc.backtester.metrics import GridResult, SingleResult, bars_per_year
from sixbtc.backtester.ports import CandleSource, SignalSource
from sixbtc.domain.timeframe import Timeframe
from sixbtc.strategy.input_loader import load_market
from sixbtc.strategy.inputs import MarketSample, build_data
from sixbtc.strategy.permutation import keep_extras

OHLCV = ("open", "high", "low", "close", "volume")


def sizing_kwargs(costs: tuple) -> dict[str, Any]:
    """Engine sizing keywords of a ``costs`` tuple: ``(fee_rate, slippage_bps)`` (all-in 1x, the
    engine's default) or ``(fee_rate, slippage_bps, SizingRule)`` (the configured ``risk.sizing``,
    :meth:`sixbtc.domain.sizing.SizingRule.engine_kwargs`). Grid strategies (level engine) keep
    the all-in allocation: the executor does not trade them."""
    return costs[2].engine_kwargs() if len(costs) > 2 and costs[2] is not None else {}


def funding_on_bars(candles: CandleSource, symbol: str, ts: pd.DatetimeIndex) -> np.ndarray:
    """Funding rates aligned on bar open times.

    Returns
    -------
    numpy.ndarray
        float64 ``(len(ts),)``: the rate (fraction) settled at each bar's open, 0 elsewhere.
    """
    rates = np.zeros(len(ts))
    fr = candles.read_funding(symbol, ts[0], ts[-1] + pd.Timedelta(milliseconds=1))
    if len(fr):
        idx = ts.searchsorted(pd.DatetimeIndex(fr["timestamp"]))
        ok = idx < len(ts)
        hit = ok & (ts[np.minimum(idx, len(ts) - 1)] == pd.DatetimeIndex(fr["timestamp"]))
        rates[idx[hit]] = fr["rate"].to_numpy()[hit]
    return rates


class CoinSeries:
    """Candles of one coin and timeframe plus the strategy's signals, computed lazily.

    Attributes
    ----------
    symbol : str
    data : dict of str -> numpy.ndarray
        OHLCV float64 ``(n_bars,)``, bars ``[is_start - warm-up, oos_end)``.
    funding : numpy.ndarray
        float64 ``(n_bars,)`` rate settled at each open (fraction).
    i_is, i_oos, n_bars : int
        Absolute bar indices of ``is_start``, ``oos_start`` and the end (= ``oos_end``).
    bars_per_year : float
        Annualisation factor of the timeframe.
    direction : int
        +1 long, -1 short.
    costs : tuple
        (fee_rate fraction per side, slippage_bps) or (fee_rate, slippage_bps, SizingRule):
        see :func:`sizing_kwargs`.
    signal_calls : int
        Calls made to the signal source (for cost accounting).
    days : numpy.ndarray
        int64 ``(n_bars,)``: UTC day of each bar's open (days since 1970-01-01); when not
        given, consecutive blocks of ``round(bars_per_year / 365)`` bars stand for days.
    market : MarketSample or None
        The raw sources of the strategy's declared extra inputs (``inputs``), whose
        :func:`~sixbtc.strategy.inputs.build_data` is ``data``; None without extra inputs.
    inputs : tuple of str
        The declared extra inputs (:mod:`sixbtc.strategy.inputs`).
    """

    def __init__(self, symbol: str, data: dict[str, np.ndarray], funding: np.ndarray, i_is: int, i_oos: int,
                 bpy: float, signals: SignalSource, params_list: list[dict[str, Any]], direction: int,
                 costs: tuple, days: np.ndarray | None = None, market: MarketSample | None = None,
                 inputs: tuple[str, ...] = ()) -> None:
        self.symbol, self.data, self.funding = symbol, data, funding
        self.market, self.inputs = market, inputs
        per_day = max(1, round(bpy / 365.0))
        self.days = np.asarray(days, dtype=np.int64) if days is not None else \
            np.arange(len(data["close"]), dtype=np.int64) // per_day
        self.i_is, self.i_oos, self.n_bars = i_is, i_oos, len(data["close"])
        self.bars_per_year = bpy
        self.signal_calls = 0
        self.direction, self.costs = direction, costs
        self._source, self._params = signals, params_list
        self._entries: dict[int, np.ndarray] = {}
        self._exits: dict[int, np.ndarray] = {}

    @property
    def source(self) -> SignalSource:
        """The signal source the signals are computed with."""
        return self._source

    @property
    def params_list(self) -> list[dict[str, Any]]:
        """The sampled parameter list (indices of every method refer to it)."""
        return self._params

    def params(self, j: int) -> dict[str, Any]:
        """Parameter set ``j`` of the sampled list."""
        return self._params[j]

    def keep_only(self, indices: list[int]) -> None:
        """Drop cached signals of every other parameter set (frees memory)."""
        keep = set(indices)
        for cache in (self._entries, self._exits):
            for j in [j for j in cache if j not in keep]:
                del cache[j]

    def ensure(self, indices: list[int]) -> None:
        """Compute (in one signal call) the signals of the parameter sets not cached yet."""
        missing = [j for j in indices if j not in self._entries]
        if not missing:
            return
        entries, exits = self._source.signals(self.data, [self._params[j] for j in missing])
        self.signal_calls += 1
        for k, j in enumerate(missing):
            self._entries[j], self._exits[j] = entries[k], exits[k]

    def signals_of(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """Cached full-series ``(entries, exits)`` of parameter set ``j``, bool ``(n_bars,)``."""
        self.ensure([j])
        return self._entries[j], self._exits[j]

    def is_grid(self, j: int) -> bool:
        """Whether set ``j`` trades on the grid engine (its signals are ``center, step`` floats)."""
        return self.signals_of(j)[0].dtype == np.float64

    def prefix_signals(self, j: int, cut: int) -> tuple[np.ndarray, np.ndarray]:
        """Signals of parameter set ``j`` computed on the first ``cut`` bars only (one signal
        call, never cached), bool ``(cut,)`` each. The extra inputs are re-aligned from the
        raw sources as they stood at the close of bar ``cut - 1``
        (:meth:`~sixbtc.strategy.inputs.MarketSample.window`), not sliced.

        Raises
        ------
        ValueError
            If ``cut`` is not in ``[1, n_bars)``.
        """
        if not 1 <= cut < self.n_bars:
            raise ValueError(f"cut must be in [1, {self.n_bars}), got {cut}")
        if self.market is not None:
            return self.signals_on(j, build_data(self.market.window(0, cut), self.inputs))
        return self.signals_on(j, {k: v[:cut] for k, v in self.data.items()})

    def signals_on(self, j: int, data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Signals of parameter set ``j`` on other OHLCV arrays (one signal call, never
        cached), bool ``(len(data["close"]),)`` each; extra inputs missing from ``data``
        are taken from :attr:`data` (e.g. with reflected or permuted prices)."""
        entries, exits = self._source.signals(keep_extras(data, self.data), [self._params[j]])
        self.signal_calls += 1
        return np.asarray(entries)[0], np.asarray(exits)[0]

    def grid(self, indices: list[int], start: int, end: int) -> GridResult:
        """Metrics of parameter sets ``indices`` traded on bars ``[start, end)`` (in this process;
        :func:`~sixbtc.backtester.grid_jobs.run_grid_job` of :meth:`grid_job`)."""
        return run_grid_job(self.grid_job(indices, start, end))

    def grid_job(self, indices: list[int], start: int, end: int) -> GridJob:
        """The simulation of :meth:`grid` as a self-contained job: the signals of ``indices``
        are computed here (one signal call for the missing ones), so the job runs no strategy
        code wherever it is run."""
        ent, ext, sl = self._stacked(indices)
        extra = self._levels(indices) if ent.dtype == np.float64 else \
            np.array([self._params[j]["tp_pct"] for j in indices], dtype=np.float64)
        sizing = {} if ent.dtype == np.float64 else sizing_kwargs(self.costs)
        d = self.data
        return GridJob({k: d[k] for k in ("open", "high", "low", "close")}, self.funding, ent, ext, sl, extra,
                       self.direction, self.costs[0], self.costs[1], sizing, start, end, self.bars_per_year)

    def daily(self, indices: list[int], start: int, end: int) -> tuple[GridResult, np.ndarray, np.ndarray]:
        """Metrics and daily returns of parameter sets ``indices`` traded on bars ``[start, end)``.

        Returns ``(grid, daily_returns, days)`` as :func:`~sixbtc.backtester.engine.run_grid_daily`:
        ``daily_returns`` float64 ``(n_days, len(indices))`` (fractions), ``days`` int64 ``(n_days,)``.
        """
        ent, ext, sl = self._stacked(indices)
        d = self.data
        if ent.dtype == np.float64:
            return run_grid_levels_daily(d["open"], d["high"], d["low"], d["close"], ent, ext, self._levels(indices),
                                         sl, day_of_bar=self.days, direction=self.direction, fee_rate=self.costs[0],
                                         slippage_bps=self.costs[1], funding_rate=self.funding, start=start, end=end,
                                         bars_per_year=self.bars_per_year)
        tp = np.array([self._params[j]["tp_pct"] for j in indices], dtype=np.float64)
        return run_grid_daily(d["open"], d["high"], d["low"], d["close"], ent, ext, sl, tp, day_of_bar=self.days,
                              direction=self.direction, fee_rate=self.costs[0], slippage_bps=self.costs[1],
                              funding_rate=self.funding, start=start, end=end, bars_per_year=self.bars_per_year,
                              **sizing_kwargs(self.costs))

    def _stacked(self, indices: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Signals ``(n_bars, len(indices))`` and ``sl_pct`` of sets ``indices``. The signals are
        Fortran-ordered (the transpose of one ``(len(indices), n_bars)`` stack, one row copy per
        set): the engine's kernels read that set-major layout without another copy."""
        self.ensure(indices)
        ent = np.stack([self._entries[j] for j in indices], axis=0).T
        ext = np.stack([self._exits[j] for j in indices], axis=0).T
        return ent, ext, np.array([self._params[j]["sl_pct"] for j in indices], dtype=np.float64)

    def _levels(self, indices: list[int]) -> np.ndarray:
        """``levels`` of grid parameter sets ``indices``, int64."""
        return np.array([self._params[j]["levels"] for j in indices], dtype=np.int64)

    def single(self, j: int, start: int, end: int) -> SingleResult:
        """Trades, equity and metrics of parameter set ``j`` on bars ``[start, end)``."""
        self.ensure([j])
        return simulate_one(self.data, self._entries[j], self._exits[j], self._params[j], self.funding,
                            start, end, self.direction, self.costs, self.bars_per_year)


def simulate_one(data: dict[str, np.ndarray], entries: np.ndarray, exits: np.ndarray, params: dict[str, Any],
                 funding: np.ndarray, start: int, end: int, direction: int, costs: tuple,
                 bpy: float) -> SingleResult:
    """:func:`~sixbtc.backtester.run_single` of one parameter set (``sl_pct``/``tp_pct`` from ``params``), or
    :func:`~sixbtc.backtester.engine_grid.run_single_grid` when ``entries, exits`` are a grid's float
    ``center, step`` (``levels``/``sl_pct`` from ``params``)."""
    if entries.dtype == np.float64:
        return run_single_grid(data["open"], data["high"], data["low"], data["close"], np.ascontiguousarray(entries),
                               np.ascontiguousarray(exits), levels=int(params["levels"]),
                               sl_pct=float(params["sl_pct"]), direction=direction, fee_rate=costs[0],
                               slippage_bps=costs[1], funding_rate=funding, start=start, end=end, bars_per_year=bpy)
    return run_single(data["open"], data["high"], data["low"], data["close"], entries, exits,
                      sl_pct=float(params["sl_pct"]), tp_pct=float(params["tp_pct"]), direction=direction,
                      fee_rate=costs[0], slippage_bps=costs[1], funding_rate=funding, start=start, end=end,
                      bars_per_year=bpy, **sizing_kwargs(costs))


def load_series(candles: CandleSource, signals: SignalSource, symbol: str, timeframe: str,
                window: tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp], warmup_bars: int,
                params_list: list[dict[str, Any]], direction: int, costs: tuple,
                inputs: tuple[str, ...] | None = None) -> CoinSeries | None:
    """Load ``symbol``/``timeframe`` over warm-up + ``window`` = (is_start, oos_start, oos_end).

    ``inputs`` are the strategy's declared extra inputs (None: ``signals.inputs`` when the
    source has that attribute, as a loaded :class:`~sixbtc.strategy.sandbox.StrategySandbox`
    does, else none); their raw sources are read by
    :func:`sixbtc.strategy.input_loader.load_market` and aligned into ``data``.
    Returns None when the candles do not cover ``[is_start - warm-up, oos_end)``.

    Raises
    ------
    ValueError
        For an unknown timeframe.
    """
    tf = Timeframe.parse(timeframe)
    is_start, oos_start, oos_end = window
    start = is_start - pd.Timedelta(milliseconds=tf.ms * warmup_bars)
    df = candles.read_candles(symbol, tf.value, start, oos_end)
    ts = pd.DatetimeIndex(df["timestamp"])
    if len(df) == 0 or ts[0] > start or ts[-1] < oos_end - pd.Timedelta(milliseconds=tf.ms):
        return None
    data = {k: df[k].to_numpy(np.float64) for k in OHLCV}
    inputs = tuple(getattr(signals, "inputs", ()) if inputs is None else inputs)
    market = load_market(candles, symbol, tf.value, start, oos_end, inputs, frame=df) if inputs else None
    if market is not None:
        data = build_data(market, inputs)
    return CoinSeries(symbol, data, funding_on_bars(candles, symbol, ts), int(ts.searchsorted(is_start)),
                      int(ts.searchsorted(oos_start)), bars_per_year(tf.ms), signals, params_list, direction, costs,
                      days=np.asarray((ts - pd.Timestamp(0, tz=ts.tz)) // pd.Timedelta(days=1), dtype=np.int64),
                      market=market, inputs=inputs)
