"""The effective number of independent trials behind the factory's whole search.

A strategy that passes is the best of everything the factory tried, not only of its own
parameter grid. The trials are far from independent (one rule with two take-profits, the
same indicator on neighbouring periods), so their raw count over-deflates, and one
strategy's grid alone under-deflates. Following López de Prado (2019), "A Data Science
Solution to the Multiple-Testing Crisis in Financial Research", *J. Financial Data Science*
1(1), the trials' return series are **clustered by correlation** and the number of clusters
is the effective number of trials ``N_eff``; the variance of the clusters' Sharpe ratios is
the ``V`` of the deflated Sharpe ratio's expected maximum
(:func:`~sixbtc.scorer.psr.expected_max_sharpe`).

The clustering here is a simple, documented stand-in for ONC (which picks the number of
clusters by silhouette scores): **leader clustering** on the correlation matrix. Series are
visited best per-day Sharpe first; each joins the first cluster whose leader it correlates
with at least ``threshold`` (default 0.5, a correlation distance ``sqrt((1 - ρ) / 2)`` of
0.5), else it leads a new cluster. A cluster's return series is the equal-weight mean of
its members, its Sharpe the per-day Sharpe of that mean.

Cost is bounded: at most ``max_series`` series (the newest ledger rows first), so one
estimate is one ``(n, n)`` correlation matrix of a few hundred series (milliseconds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EffectiveTrials:
    """``n_eff`` clusters of ``n_series`` series; ``sr_variance`` the variance (ddof 1) of the
    clusters' per-day Sharpe ratios (0 with fewer than 2 clusters)."""

    n_eff: int
    sr_variance: float
    n_series: int


def align(parts: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Stack several ``(days, returns)`` blocks on the union of their days (0 where absent).

    Parameters
    ----------
    parts : list of (days, returns)
        int ``(n_days_i,)`` UTC days and float ``(n_days_i, n_cols_i)`` daily returns.

    Returns
    -------
    numpy.ndarray
        float64 ``(n_days, sum n_cols_i)``; ``(0, 0)`` when ``parts`` is empty.
    """
    if not parts:
        return np.zeros((0, 0))
    days = np.unique(np.concatenate([np.asarray(d, dtype=np.int64) for d, _ in parts]))
    out = np.zeros((len(days), sum(np.asarray(r).reshape(len(d), -1).shape[1] for d, r in parts)))
    col = 0
    for d, r in parts:
        r = np.asarray(r, dtype=np.float64).reshape(len(d), -1)
        out[np.searchsorted(days, np.asarray(d, dtype=np.int64)), col:col + r.shape[1]] = r
        col += r.shape[1]
    return out


def effective_trials(returns: np.ndarray, threshold: float = 0.5, max_series: int = 500) -> EffectiveTrials:
    """Cluster the columns of ``returns`` by correlation (see the module notes).

    Parameters
    ----------
    returns : numpy.ndarray
        float ``(n_days, n_series)`` daily returns, one column per trial. Columns that never
        moved (zero variance) are dropped; only the last ``max_series`` columns are used.
    threshold : float
        Smallest correlation with a cluster's leader to join it, in (-1, 1].
    max_series : int
        Largest number of columns clustered (>= 1).

    Returns
    -------
    EffectiveTrials
        ``n_eff`` >= 1 (1 when fewer than 2 usable columns).

    Raises
    ------
    ValueError
        If ``returns`` is not 2-D or holds NaN/inf, or the parameters are out of range.
    """
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 2 or not np.isfinite(r).all():
        raise ValueError(f"returns must be a finite 2-D (n_days, n_series) array, got shape {r.shape}")
    if not -1.0 < threshold <= 1.0 or max_series < 1:
        raise ValueError(f"threshold must be in (-1, 1] and max_series >= 1, got {threshold}, {max_series}")
    r = r[:, -max_series:]
    sd = r.std(axis=0)
    r = r[:, sd > 1e-12]
    if r.shape[1] < 2 or r.shape[0] < 3:
        return EffectiveTrials(1, 0.0, int(r.shape[1]))
    z = (r - r.mean(axis=0)) / r.std(axis=0)
    corr = z.T @ z / r.shape[0]
    order = np.argsort(-(r.mean(axis=0) / r.std(axis=0)), kind="stable")
    leaders: list[int] = []
    members: list[list[int]] = []
    for j in order:
        hit = next((k for k, lead in enumerate(leaders) if corr[lead, j] >= threshold), None)
        if hit is None:
            leaders.append(int(j))
            members.append([int(j)])
        else:
            members[hit].append(int(j))
    sharpes = []
    for m in members:
        series = r[:, m].mean(axis=1)
        s = series.std()
        sharpes.append(series.mean() / s if s > 1e-12 else 0.0)
    var = float(np.var(sharpes, ddof=1)) if len(sharpes) >= 2 else 0.0
    return EffectiveTrials(len(members), var, int(r.shape[1]))
