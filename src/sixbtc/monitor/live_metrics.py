"""Metrics of a paper/live track record (the live score itself is in ``sixbtc.scorer``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LiveMetrics:
    """Track record of one LIVE strategy.

    ``expectancy`` is the mean net return per trade (fraction of notional); ``max_drawdown``
    the peak-to-trough fall of ``capital + cumulative PnL`` as a fraction of its peak;
    ``sharpe`` the per-trade Sharpe ratio scaled by sqrt(trades per year) (0 for < 2 trades).
    """

    n_trades: int
    pnl_usd: float
    win_rate: float
    expectancy: float
    profit_factor: float
    max_drawdown: float
    sharpe: float


def live_metrics(returns_frac: np.ndarray, pnl_usd: np.ndarray, capital_usd: float, span_days: float) -> LiveMetrics:
    """Compute :class:`LiveMetrics` from closed trades in exit order.

    Parameters
    ----------
    returns_frac : ndarray, shape (n_trades,)
        Net return of each trade on its notional (fraction).
    pnl_usd : ndarray, shape (n_trades,)
        Net PnL of each trade (USD).
    capital_usd : float
        Starting capital of the sub-account (USD), > 0.
    span_days : float
        Days covered by the track record (for annualising the Sharpe ratio).

    Raises
    ------
    ValueError
        If the arrays differ in length or ``capital_usd`` <= 0.
    """
    if returns_frac.shape != pnl_usd.shape:
        raise ValueError("returns_frac and pnl_usd must have the same shape")
    if capital_usd <= 0:
        raise ValueError("capital_usd must be > 0")
    n = int(returns_frac.size)
    if n == 0:
        return LiveMetrics(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    equity = capital_usd + np.concatenate([[0.0], np.cumsum(pnl_usd)])
    peak = np.maximum.accumulate(equity)
    gains, losses = pnl_usd[pnl_usd > 0].sum(), -pnl_usd[pnl_usd < 0].sum()
    pf = gains / losses if losses > 0 else (10.0 if gains > 0 else 0.0)
    sd = returns_frac.std(ddof=1) if n > 1 else 0.0
    per_year = n / max(span_days, 1.0) * 365.0
    sharpe = float(returns_frac.mean() / sd * math.sqrt(per_year)) if sd > 0 else 0.0
    return LiveMetrics(n, float(pnl_usd.sum()), float((pnl_usd > 0).mean()), float(returns_frac.mean()),
                       float(pf), float(((peak - equity) / peak).max()), sharpe)
