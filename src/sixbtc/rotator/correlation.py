"""Correlation cap of the LIVE set: out-of-sample daily returns, aligned by calendar day (SPEC §5).

A candidate whose out-of-sample daily returns correlate (Pearson) above
``rotator.max_correlation`` with any LIVE or already chosen strategy is skipped. Series are
aligned on UTC calendar days: each series knows the day of its last value, so two strategies
backtested on different windows (a re-test moves the window on) are compared only on the days
both cover. With fewer than ``rotator.min_overlap_days`` common days, or when one series is
constant over the overlap, the correlation is undefined and the pair is treated as
**uncorrelated** (the cap cannot be judged, so it does not block a promotion).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np


@dataclass(frozen=True)
class DailyReturns:
    """Out-of-sample daily returns of one strategy.

    Parameters
    ----------
    last_day : datetime.date
        UTC calendar day of the last value.
    values : numpy.ndarray, shape (n_days,)
        Daily returns as fractions (0.01 = 1 %), oldest first, one per consecutive day.

    Raises
    ------
    ValueError
        If ``values`` is not 1-D or holds NaN/infinite values.
    """

    last_day: date
    values: np.ndarray

    def __post_init__(self) -> None:
        arr = np.asarray(self.values, dtype=np.float64)
        if arr.ndim != 1:
            raise ValueError(f"daily returns must be 1-D, got shape {arr.shape}")
        if not np.isfinite(arr).all():
            raise ValueError("daily returns contain NaN or infinite values")
        object.__setattr__(self, "values", arr)

    @property
    def first_ordinal(self) -> int:
        """Proleptic Gregorian ordinal of the first value's day."""
        return self.last_day.toordinal() - self.values.size + 1


def overlap_correlation(a: DailyReturns, b: DailyReturns, min_overlap: int) -> float | None:
    """Pearson correlation of ``a`` and ``b`` on the calendar days both cover.

    Parameters
    ----------
    a, b : DailyReturns
    min_overlap : int
        Fewest common days for the correlation to count (>= 2).

    Returns
    -------
    float or None
        The correlation in [-1, 1]; None when fewer than ``min_overlap`` days overlap or a
        series is constant on the overlap (undefined: treated as uncorrelated by the cap).

    Raises
    ------
    ValueError
        If ``min_overlap`` < 2.
    """
    if min_overlap < 2:
        raise ValueError(f"min_overlap must be >= 2 days, got {min_overlap}")
    lo = max(a.first_ordinal, b.first_ordinal)
    hi = min(a.last_day.toordinal(), b.last_day.toordinal())
    n = hi - lo + 1
    if n < min_overlap:
        return None
    x = a.values[lo - a.first_ordinal: lo - a.first_ordinal + n]
    y = b.values[lo - b.first_ordinal: lo - b.first_ordinal + n]
    dx, dy = x - x.mean(), y - y.mean()
    denom = math.sqrt(float(dx @ dx) * float(dy @ dy))
    if denom <= 0.0:
        return None
    return max(-1.0, min(1.0, float(dx @ dy) / denom))


def first_conflict(candidate: DailyReturns | None, peers: Iterable[tuple[int, DailyReturns | None]],
                   max_correlation: float, min_overlap: int) -> tuple[int, float] | None:
    """The first peer whose correlation with ``candidate`` exceeds ``max_correlation``.

    Parameters
    ----------
    candidate : DailyReturns or None
        The candidate's series; None (no series stored) never conflicts.
    peers : iterable of (int, DailyReturns or None)
        ``(strategy_id, series)`` of LIVE and already chosen strategies; None series are skipped.
    max_correlation : float
        The cap; a correlation strictly above it conflicts (1.0 disables the cap).
    min_overlap : int
        See :func:`overlap_correlation`.

    Returns
    -------
    tuple of (int, float) or None
        ``(peer_id, correlation)`` of the first conflict, or None.
    """
    if candidate is None or max_correlation >= 1.0:
        return None
    for peer_id, series in peers:
        if series is None:
            continue
        rho = overlap_correlation(candidate, series, min_overlap)
        if rho is not None and rho > max_correlation:
            return peer_id, rho
    return None
