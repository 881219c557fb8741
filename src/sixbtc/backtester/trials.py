"""What the first backtest simulated, for the trial ledger and the multiple-testing gate.

The search records, per rung, which parameter sets ran on which coins and their in-sample
metrics (:class:`RungTrials`); the protocol adds the daily returns of every sampled set on
the screening coins over IS+OOS (the CSCV/PBO matrix) and of the chosen set on every coin
(the DSR track record). Daily returns of several coins are pooled with :func:`pool_daily`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class RungTrials:
    """One rung of the parameter search: ``n_sets`` sets × ``n_coins`` coins, IS window.

    Attributes
    ----------
    rung : int
        0 for the screening rung.
    set_indices : numpy.ndarray
        int64 ``(n_sets,)``: positions in the sampled parameter list.
    symbols : list of str
        ``n_coins`` coins, most liquid first.
    sharpe, total_return, n_trades : numpy.ndarray
        float32 ``(n_sets, n_coins)``: annualised IS Sharpe, IS total return (fraction),
        IS trade count of each simulation.
    """

    rung: int
    set_indices: np.ndarray
    symbols: list[str]
    sharpe: np.ndarray = field(repr=False)
    total_return: np.ndarray = field(repr=False)
    n_trades: np.ndarray = field(repr=False)

    @property
    def simulations(self) -> int:
        """Number of (set, coin) simulations of the rung."""
        return int(self.sharpe.size)


@dataclass(frozen=True)
class GridReturns:
    """Daily returns of many parameter sets pooled equal-weight over coins.

    ``returns`` is float64 ``(n_days, n_sets)`` (fractions, oldest day first), ``days`` int64
    ``(n_days,)`` UTC days since 1970-01-01, ``set_indices`` int64 ``(n_sets,)``.
    """

    returns: np.ndarray = field(repr=False)
    days: np.ndarray = field(repr=False)
    set_indices: np.ndarray = field(repr=False)


def pool_daily(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Equal-weight pool of several coins' daily returns (rebalanced daily).

    Parameters
    ----------
    parts : list of (returns, days)
        Per coin: float64 ``(n_days_i, n_sets)`` daily returns and int64 ``(n_days_i,)`` days.

    Returns
    -------
    returns, days : numpy.ndarray
        ``(n_days, n_sets)`` over the union of days (each day the mean of the coins that
        have it) and ``(n_days,)``.

    Raises
    ------
    ValueError
        If ``parts`` is empty or the coins disagree on ``n_sets``.
    """
    if not parts:
        raise ValueError("pool_daily needs at least one coin")
    if len({r.shape[1] for r, _ in parts}) != 1:
        raise ValueError(f"pool_daily: coins disagree on n_sets: {[r.shape for r, _ in parts]}")
    days = np.unique(np.concatenate([d for _, d in parts]))
    total = np.zeros((len(days), parts[0][0].shape[1]))
    count = np.zeros((len(days), 1))
    for r, d in parts:
        pos = np.searchsorted(days, d)
        total[pos] += r
        count[pos] += 1.0
    return total / np.maximum(count, 1.0), days
