"""Result types of the backtest engine and the metric conventions.

Metric definitions (all computed inside the numba kernel, see
:mod:`sixbtc.backtester.kernel`, from running statistics, never from stored per-bar arrays):

* ``total_return``: final equity / ``init_cash`` - 1 (fraction).
* ``annual_return``: compound annual growth rate,
  ``(final / init) ** (bars_per_year / n_bars) - 1``; ``-1`` when equity ended <= 0;
  capped at ``1e6`` so that very short windows stay finite.
* ``sharpe``: ``mean(r) / std(r, ddof=1) * sqrt(bars_per_year)`` over the per-bar returns
  ``r`` of the close-to-close marked equity (the first return is measured from
  ``init_cash``); risk-free rate 0 (Sharpe 1966/1994); ``0`` when ``std`` is 0.
* ``sortino``: ``mean(r) / sqrt(mean(min(r, 0) ** 2)) * sqrt(bars_per_year)`` (target 0,
  Sortino & Price 1994); capped at ``1e3``; ``1e3`` when there is no negative bar and the
  mean is positive, ``0`` when there is neither.
* ``max_drawdown``: largest ``1 - equity / running peak`` (positive fraction; the peak
  starts at ``init_cash``). It can exceed 1 only if a gap through the liquidation level
  drove equity below zero; after that no new position is opened and later per-bar returns
  count as 0.
* ``win_rate``: share of trades with ``pnl_usd > 0``.
* ``profit_factor``: gross profit / gross loss in USD, capped at ``1e3``; ``1e3`` when
  there are profits and no losses, ``0`` when there are no trades or no profit.
* ``expectancy``: mean net ``return_frac`` per trade (fraction of entry notional).
* ``exposure``: bars in a position / bars in the window; ``avg_holding_bars``: mean bars
  held per trade. A trade holds the bars from its entry bar up to the bar before its exit
  bar when it exits at an open (signal, time limit), and up to its exit bar inclusive when it
  exits intrabar or at the final close (stop, target, liquidation, end of data).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sixbtc.backtester import kernel as k
from sixbtc.domain.trading import Metrics

DAYS_PER_YEAR = 365.0
MS_PER_DAY = 86_400_000

#: dtype of :attr:`SingleResult.trades`. Indices are absolute bar indices into the input
#: arrays; prices are fill prices after slippage (quote currency); ``qty`` in base units;
#: ``notional_usd`` = entry notional; ``fees_usd`` entry + exit fees; ``funding_usd`` net
#: funding paid (negative = received); ``pnl_usd`` net of fees, slippage and funding;
#: ``return_frac`` = ``pnl_usd / notional_usd``; ``exit_reason`` = ``ExitReason`` value.
TRADE_DTYPE = np.dtype(
    [
        ("entry_idx", np.int64),
        ("exit_idx", np.int64),
        ("entry_price", np.float64),
        ("exit_price", np.float64),
        ("qty", np.float64),
        ("notional_usd", np.float64),
        ("fees_usd", np.float64),
        ("funding_usd", np.float64),
        ("pnl_usd", np.float64),
        ("return_frac", np.float64),
        ("bars_held", np.int64),
        ("exit_reason", np.int64),
    ]
)

_TRADE_COLUMNS = {
    "entry_idx": k.T_ENTRY_IDX,
    "exit_idx": k.T_EXIT_IDX,
    "entry_price": k.T_ENTRY_PRICE,
    "exit_price": k.T_EXIT_PRICE,
    "qty": k.T_QTY,
    "notional_usd": k.T_NOTIONAL,
    "fees_usd": k.T_FEES,
    "funding_usd": k.T_FUNDING,
    "pnl_usd": k.T_PNL,
    "return_frac": k.T_RETURN,
    "bars_held": k.T_BARS_HELD,
    "exit_reason": k.T_REASON,
}

_METRIC_COLUMNS = {
    "total_return": k.M_TOTAL_RETURN,
    "annual_return": k.M_ANNUAL_RETURN,
    "sharpe": k.M_SHARPE,
    "sortino": k.M_SORTINO,
    "max_drawdown": k.M_MAX_DRAWDOWN,
    "win_rate": k.M_WIN_RATE,
    "profit_factor": k.M_PROFIT_FACTOR,
    "expectancy": k.M_EXPECTANCY,
    "n_trades": k.M_N_TRADES,
    "exposure": k.M_EXPOSURE,
    "avg_holding_bars": k.M_AVG_HOLDING_BARS,
}


def bars_per_year(timeframe_ms: int) -> float:
    """Number of bars of ``timeframe_ms`` milliseconds in a 365-day year (crypto trades 24/7).

    Parameters
    ----------
    timeframe_ms : int
        Bar length in milliseconds (e.g. ``Timeframe.H1.ms`` = 3,600,000 -> 8760.0).

    Raises
    ------
    ValueError
        If ``timeframe_ms`` is not a positive number.
    """
    if isinstance(timeframe_ms, bool) or not isinstance(timeframe_ms, int | float):
        raise ValueError(f"timeframe_ms must be a number of milliseconds, got {timeframe_ms!r}")
    if not timeframe_ms > 0:
        raise ValueError(f"timeframe_ms must be > 0, got {timeframe_ms!r}")
    return DAYS_PER_YEAR * MS_PER_DAY / float(timeframe_ms)


@dataclass(frozen=True)
class GridResult:
    """Metrics of every parameter set of one :func:`~sixbtc.backtester.run_grid` call.

    Every field is a read-only array of shape ``(n_params,)``: float64, except ``n_trades``
    (int64). Units and definitions are those of :mod:`sixbtc.backtester.metrics`.
    """

    total_return: np.ndarray
    annual_return: np.ndarray
    sharpe: np.ndarray
    sortino: np.ndarray
    max_drawdown: np.ndarray
    win_rate: np.ndarray
    profit_factor: np.ndarray
    expectancy: np.ndarray
    n_trades: np.ndarray
    exposure: np.ndarray
    avg_holding_bars: np.ndarray

    @classmethod
    def from_kernel(cls, out: np.ndarray) -> GridResult:
        """Build from the kernel output of shape ``(n_params, N_METRICS)``."""
        fields = {name: out[:, col].copy() for name, col in _METRIC_COLUMNS.items()}
        fields["n_trades"] = fields["n_trades"].astype(np.int64)
        for arr in fields.values():
            arr.flags.writeable = False
        return cls(**fields)

    @property
    def n_params(self) -> int:
        """Number of parameter sets."""
        return int(self.total_return.shape[0])

    def metrics(self, index: int) -> Metrics:
        """The :class:`~sixbtc.domain.trading.Metrics` of parameter set ``index``.

        Raises
        ------
        IndexError
            If ``index`` is outside ``[-n_params, n_params)``.
        """
        if not -self.n_params <= index < self.n_params:
            raise IndexError(f"index {index} out of range for {self.n_params} parameter sets")
        values = {name: float(getattr(self, name)[index]) for name in _METRIC_COLUMNS}
        values["n_trades"] = int(self.n_trades[index])
        return Metrics(**values)


@dataclass(frozen=True)
class SingleResult:
    """Trades, equity curve and metrics of one parameter set (:func:`run_single`).

    Attributes
    ----------
    trades : numpy.ndarray
        Read-only structured array of dtype :data:`TRADE_DTYPE`, shape ``(n_trades,)``, in time order.
    equity : numpy.ndarray
        Read-only float64 ``(end - start,)``: equity in USD marked to market at each bar's close
        (after any exit on that bar; open positions valued at the raw close, before exit
        costs).
    metrics : Metrics
        Identical to the matching :class:`GridResult` entry.
    """

    trades: np.ndarray
    equity: np.ndarray
    metrics: Metrics


def single_from_kernel(out: np.ndarray, trades: np.ndarray, equity: np.ndarray) -> SingleResult:
    """Build a :class:`SingleResult` from the kernel outputs.

    Parameters
    ----------
    out : numpy.ndarray
        float64 ``(N_METRICS,)``.
    trades : numpy.ndarray
        float64 ``(n_trades, N_TRADE_COLS)``.
    equity : numpy.ndarray
        float64 ``(n_window,)``.
    """
    records = np.empty(trades.shape[0], dtype=TRADE_DTYPE)
    for name, col in _TRADE_COLUMNS.items():
        records[name] = trades[:, col]
    metrics = GridResult.from_kernel(out.reshape(1, -1)).metrics(0)
    records.flags.writeable = False
    equity.flags.writeable = False
    return SingleResult(trades=records, equity=equity, metrics=metrics)
