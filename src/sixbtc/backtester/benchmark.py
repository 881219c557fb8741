"""Excess over the directional benchmark: a rule, not a regime.

A short strategy earns money in a falling market whatever its timing. Its result is
therefore compared with **holding its direction** on the same coins over the same window:
buy-and-hold for a long, short-and-hold for a short: per coin one 1x position opened at the
window's first open and held to its last close (equity ``1 + d·(P_t / P_0 - 1)``, ``d`` = ±1,
as the engine holds a position: fixed quantity, no rebalancing), its daily returns (each
day's last close over the previous day's) averaged over the coins per day like the
strategy's (:func:`~sixbtc.backtester.trials.pool_daily`), and **matched to the strategy's exposure**
``e`` (the mean share of coin-bars it held a position, :data:`exposure`) **and position size**
``k`` (its entry notional as a fraction of equity, :func:`~sixbtc.backtester.sizeable.size_fraction`:
``min(risk_per_trade / sl_pct, max_leverage)`` under ``risk.sizing: risk``, 1 all-in): a
strategy in the market a third of the time at half its equity is compared with a sixth of
the hold. Figures (``m = e·k``):

* ``benchmark_return``: ``prod(1 + b) - 1`` of the benchmark's daily returns ``b`` (1x);
* ``excess_return``: ``prod(1 + r) - prod(1 + m·b)``, the strategy's compounded return
  ``r`` minus the matched hold's (fraction);
* ``excess_sharpe``: annualised Sharpe (``sqrt(365)``) of the daily differences
  ``r - m·b`` (an information ratio against the hold).

A strategy that is always short in a falling market has ``e`` ≈ 1 and an excess of about
minus its costs (~0); one that times its entries well has a positive excess. This is the
"excess over buy-and-hold" of the technical-analysis literature (Brock, Lakonishok & LeBaron,
"Simple technical trading rules and the stochastic properties of stock returns", *J. Finance*
47(5), 1992; Aronson, *Evidence-Based Technical Analysis*, 2006, ch. 1: detrending a rule's
returns by its market exposure), for either direction.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sixbtc.backtester.coinset import CoinSeries
from sixbtc.backtester.pooled import annualised_sharpe, equity_daily
from sixbtc.backtester.trials import pool_daily


def hold_daily(opens: Sequence[float], closes: Sequence[np.ndarray], bar_days: Sequence[np.ndarray],
               direction: int) -> tuple[np.ndarray, np.ndarray]:
    """Daily returns of holding ``direction`` 1x on each coin, equal weight.

    Parameters
    ----------
    opens : sequence of float
        Per coin: the window's first open (quote currency, > 0).
    closes, bar_days : sequence of numpy.ndarray
        Per coin: the window's closes per bar and each bar's UTC day.
    direction : int
        +1 long (buy and hold), -1 short (short and hold; one position, never rebalanced).

    Returns
    -------
    returns, days : numpy.ndarray
        float64 ``(n_days,)`` and int64 ``(n_days,)``.

    Raises
    ------
    ValueError
        If no coin is given, an open is not positive or ``direction`` is not ±1.
    """
    if direction not in (1, -1):
        raise ValueError(f"direction must be +1 or -1, got {direction!r}")
    if not closes or len(opens) != len(closes):
        raise ValueError("hold_daily needs the same positive number of opens and closes")
    parts = []
    for o, c, d in zip(opens, closes, bar_days, strict=True):
        if not o > 0:
            raise ValueError(f"hold_daily: the window's first open must be > 0, got {o!r}")
        curve = 1.0 + direction * (np.concatenate(([float(o)], np.asarray(c, dtype=np.float64))) / float(o) - 1.0)
        days = np.asarray(d, dtype=np.int64)
        parts.append(equity_daily(curve, np.concatenate(([days[0]], days))))
    pooled, days = pool_daily(parts)
    return pooled[:, 0], days


def window_hold(series: Sequence[CoinSeries], oos: bool) -> tuple[np.ndarray, np.ndarray]:
    """:func:`hold_daily` of the coins' in-sample bars ``[i_is, i_oos)`` (``oos`` False) or
    out-of-sample bars ``[i_oos, n_bars)`` (``oos`` True), in the series' direction.

    Raises
    ------
    ValueError
        As :func:`hold_daily` (no series, a non-positive first open).
    """
    if not series:
        raise ValueError("window_hold needs at least one coin series")
    spans = [(s.i_oos, s.n_bars) if oos else (s.i_is, s.i_oos) for s in series]
    return hold_daily([s.data["open"][lo] for s, (lo, _) in zip(series, spans, strict=True)],
                      [s.data["close"][lo:hi] for s, (lo, hi) in zip(series, spans, strict=True)],
                      [s.days[lo:hi] for s, (lo, hi) in zip(series, spans, strict=True)], series[0].direction)


def excess_over_hold(strategy: np.ndarray, strategy_days: np.ndarray, hold: np.ndarray, hold_days: np.ndarray,
                     exposure: float, size: float = 1.0) -> dict[str, float]:
    """The figures of the module notes.

    Parameters
    ----------
    strategy, strategy_days : numpy.ndarray
        The strategy's pooled daily returns (fractions) and their UTC days.
    hold, hold_days : numpy.ndarray
        :func:`hold_daily` of the same coins and window.
    exposure : float
        Mean share of coin-bars in a position, in [0, 1].
    size : float
        Entry notional as a fraction of equity (> 0; 1 = all-in 1x).

    Returns
    -------
    dict
        ``benchmark_return``, ``excess_return``, ``excess_sharpe``, ``exposure``, ``size``
        (floats). Days present in only one series count as 0 return for the other.

    Raises
    ------
    ValueError
        If ``exposure`` is outside [0, 1] or NaN, or ``size`` is not > 0.
    """
    if not 0.0 <= exposure <= 1.0:
        raise ValueError(f"exposure must be in [0, 1], got {exposure!r}")
    if not size > 0.0:
        raise ValueError(f"size must be > 0, got {size!r}")
    days = np.union1d(strategy_days, hold_days)
    r, b = np.zeros(len(days)), np.zeros(len(days))
    r[np.searchsorted(days, strategy_days)] = strategy
    b[np.searchsorted(days, hold_days)] = hold
    matched = exposure * size * b
    return {"benchmark_return": float(np.prod(1.0 + b) - 1.0),
            "excess_return": float(np.prod(1.0 + r) - np.prod(1.0 + matched)),
            "excess_sharpe": annualised_sharpe(r - matched)[0], "exposure": float(exposure), "size": float(size)}
