"""Metrics of one parameter set over several coins, from the pooled trades and portfolio.

A strategy trades every coin of its assigned timeframe with the same capital each, so its
result is the equal-weight portfolio of the coins, and its trades are the union of the
coins' trades. Averaging per-coin ratios misstates that result: a coin with two winning
trades and no loss has the engine's capped profit factor of 1,000 and a mean of such ratios
keeps it, and a mean of per-coin Sharpe ratios ignores how the coins offset each other.
:func:`pooled_metrics` therefore computes:

* ``profit_factor``: gross profit / gross loss in USD of **all** trades pooled, capped at
  :data:`POOLED_PF_CAP`; the cap when there are profits and no loss at all, 0 with no
  trade or no profit. The score maps the profit factor onto [0, 1] between 1.0 and 2.5
  (:mod:`sixbtc.scorer.score`), so a capped value never weighs more than a PF of 2.5.
* ``win_rate``, ``expectancy``: share of pooled trades with a positive USD result, mean
  pooled ``return_frac``; ``n_trades`` the pooled count.
* ``sharpe``, ``sortino``: of the equal-weight portfolio's daily returns (per coin the
  day's last equity close over the previous day's, then the mean over the coins that have
  the day, as :func:`~sixbtc.backtester.trials.pool_daily`; rebalanced daily), annualised
  with ``sqrt(365)`` (risk-free rate 0).
* ``max_drawdown``: of the portfolio's cumulative daily equity (daily closes, positive
  fraction), ``total_return`` the portfolio's compounded return over the window.
* ``exposure``: coin mean (share of coin-bars in a position); ``consistency``: share of the
  coins that traded whose return is positive; ``sharpe_coin_mean``: the mean per-coin
  per-bar Sharpe (the plausibility gate's calibrated input,
  :mod:`~sixbtc.backtester.plausibility`).
* ``top_trade_share``: share of the gross profit (sum of winning trades, USD) made by the
  best ``ceil(10 %)`` of all pooled trades; ``best_day_share``: the best UTC day's net
  result (trades grouped by exit day) over the sum of the positive days' net results. Both
  in [0, 1]; 1 when nothing was won (:func:`profit_concentration`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sixbtc.backtester.trials import pool_daily

#: Largest pooled profit factor reported (also the value when no pooled trade lost).
POOLED_PF_CAP = 100.0
DAYS_PER_YEAR = 365.0


def equity_daily(equity: np.ndarray, bar_days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Daily returns of one normalised equity curve (1.0 before the first bar).

    Parameters
    ----------
    equity : numpy.ndarray
        float ``(n_bars,)`` equity at each bar's close (any positive scale).
    bar_days : numpy.ndarray
        int ``(n_bars,)`` UTC day of each bar, non-decreasing.

    Returns
    -------
    returns, days : numpy.ndarray
        float64 ``(n_days, 1)`` fractions and int64 ``(n_days,)``.

    Raises
    ------
    ValueError
        If the two arrays differ in length or are empty.
    """
    equity, bar_days = np.asarray(equity, dtype=np.float64), np.asarray(bar_days, dtype=np.int64)
    if equity.shape != bar_days.shape or equity.size == 0:
        raise ValueError(f"equity_daily: equity {equity.shape} and bar_days {bar_days.shape} must match, non-empty")
    last = np.flatnonzero(np.append(np.diff(bar_days) != 0, True))
    eq = equity[last] / (equity[0] if equity[0] > 0 else 1.0)
    prev = np.append(1.0, eq[:-1])
    ok = prev > 0
    return np.where(ok, eq / np.where(ok, prev, 1.0) - 1.0, 0.0)[:, None], bar_days[last]


def profit_factor(pnl: np.ndarray) -> float:
    """Pooled gross profit / gross loss of ``pnl`` (USD, any shape), capped at :data:`POOLED_PF_CAP`."""
    p = np.asarray(pnl, dtype=np.float64).ravel()
    gain, loss = float(p[p > 0].sum()), float(-p[p < 0].sum())
    if gain <= 0:
        return 0.0
    return POOLED_PF_CAP if loss <= 0 else min(POOLED_PF_CAP, gain / loss)


def annualised_sharpe(daily: np.ndarray) -> tuple[float, float]:
    """(Sharpe, Sortino) of daily returns, ``sqrt(365)``; 0 when flat or fewer than 2 days.

    Sortino uses the downside root-mean-square (target 0), capped at 1e3 as the engine's.
    """
    r = np.asarray(daily, dtype=np.float64)
    if r.size < 2:
        return 0.0, 0.0
    sd = float(r.std(ddof=1))
    mean = float(r.mean())
    sharpe = mean / sd * np.sqrt(DAYS_PER_YEAR) if sd > 1e-12 else 0.0
    down = float(np.sqrt(np.mean(np.minimum(r, 0.0) ** 2)))
    sortino = min(1e3, mean / down * np.sqrt(DAYS_PER_YEAR)) if down > 0 else (1e3 if mean > 0 else 0.0)
    return float(sharpe), float(sortino)


def max_drawdown(daily: np.ndarray) -> float:
    """Largest ``1 - equity / running peak`` of the compounded daily returns (peak starts at 1)."""
    eq = np.cumprod(1.0 + np.asarray(daily, dtype=np.float64))
    if eq.size == 0:
        return 0.0
    peak = np.maximum.accumulate(np.maximum(eq, 1.0))
    return float(np.max(1.0 - eq / peak))


def profit_concentration(pnl: np.ndarray, exit_days: np.ndarray, top: float = 0.1) -> tuple[float, float]:
    """How much of the profit a few trades and one day made.

    Parameters
    ----------
    pnl : numpy.ndarray
        float ``(n_trades,)`` net USD result of each trade (all coins pooled).
    exit_days : numpy.ndarray
        int ``(n_trades,)`` UTC day of each trade's exit.
    top : float
        Fraction of the trades counted as "top" (at least one trade).

    Returns
    -------
    top_trade_share, best_day_share : float
        In [0, 1] (see the module notes); (1.0, 1.0) when no trade or day made money.

    Raises
    ------
    ValueError
        If the arrays differ in length.
    """
    p = np.asarray(pnl, dtype=np.float64)
    d = np.asarray(exit_days, dtype=np.int64)
    if p.shape != d.shape:
        raise ValueError(f"profit_concentration: pnl {p.shape} and exit_days {d.shape} differ")
    gross = float(p[p > 0].sum())
    if gross <= 0:
        return 1.0, 1.0
    k = max(1, int(np.ceil(top * p.size)))
    best = np.sort(p)[::-1][:k]
    _, inv = np.unique(d, return_inverse=True)
    per_day = np.bincount(inv, weights=p)
    won = float(per_day[per_day > 0].sum())
    day_share = float(per_day.max() / won) if won > 0 else 1.0
    return float(min(1.0, best[best > 0].sum() / gross)), day_share


def pooled_metrics(equities: Sequence[np.ndarray], bar_days: Sequence[np.ndarray], trade_pnl: Sequence[np.ndarray],
                   trade_returns: Sequence[np.ndarray], coin_metrics: Sequence[dict[str, float]],
                   trade_days: Sequence[np.ndarray] | None = None) -> dict[str, float]:
    """The pooled metrics of the module notes for one parameter set on several coins.

    Parameters
    ----------
    equities, bar_days : sequence of numpy.ndarray
        Per coin: equity per bar (float) and the bar's UTC day (int), same length.
    trade_pnl, trade_returns : sequence of numpy.ndarray
        Per coin: each trade's net USD result and net ``return_frac``.
    trade_days : sequence of numpy.ndarray or None
        Per coin: each trade's exit day (for ``best_day_share``; None: every trade on its
        own day).
    coin_metrics : sequence of dict
        Per coin: the engine's metrics (``total_return``, ``sharpe``, ``n_trades``,
        ``exposure``).

    Returns
    -------
    dict of str -> float
        Keys ``total_return, sharpe, sortino, max_drawdown, exposure, win_rate, expectancy,
        profit_factor, n_trades, consistency, sharpe_coin_mean, top_trade_share,
        best_day_share``.

    Raises
    ------
    ValueError
        If no coin is given or the per-coin sequences differ in length.
    """
    n = len(coin_metrics)
    if n == 0 or not len(equities) == len(bar_days) == len(trade_pnl) == len(trade_returns) == n:
        raise ValueError("pooled_metrics needs the same positive number of coins in every argument")
    daily, _ = pool_daily([equity_daily(e, d) for e, d in zip(equities, bar_days, strict=True)])
    r = daily[:, 0]
    pnl = np.concatenate([np.asarray(p, dtype=np.float64) for p in trade_pnl])
    ret = np.concatenate([np.asarray(x, dtype=np.float64) for x in trade_returns])
    sharpe, sortino = annualised_sharpe(r)
    exit_days = np.concatenate([np.asarray(x, dtype=np.int64) for x in trade_days]) if trade_days is not None \
        else np.arange(pnl.size, dtype=np.int64)
    top_share, day_share = profit_concentration(pnl, exit_days)
    traded = [m for m in coin_metrics if m["n_trades"] > 0]
    return {
        "total_return": float(np.prod(1.0 + r) - 1.0), "sharpe": sharpe, "sortino": sortino,
        "max_drawdown": max_drawdown(r), "exposure": float(np.mean([m["exposure"] for m in coin_metrics])),
        "win_rate": float(np.mean(pnl > 0)) if pnl.size else 0.0,
        "expectancy": float(ret.mean()) if ret.size else 0.0, "profit_factor": profit_factor(pnl),
        "n_trades": float(pnl.size),
        "consistency": float(np.mean([m["total_return"] > 0 for m in traded])) if traded else 0.0,
        "sharpe_coin_mean": float(np.nan_to_num(np.mean([m["sharpe"] for m in coin_metrics]))),
        "top_trade_share": top_share, "best_day_share": day_share,
    }
