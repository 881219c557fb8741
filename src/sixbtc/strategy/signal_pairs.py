"""The pair of arrays a strategy's ``signals`` yields, signal or grid, and how pairs compare.

Every signal source (sandbox, validator, backtester) passes a *pair* of arrays of shape
``(n_params, n_bars)`` (or ``(n_bars,)`` for one set):

* signal strategies (MOM REV TRN BRK VOL): ``(entries, exits)``, bool;
* grid strategies (GRD): ``(center, step)``, float64 price levels (NaN = no grid on that bar),
  see :mod:`sixbtc.strategy.contract`.

The causality tests (truncation, shuffle, warm-up, the backtest's own cuts) compare pairs with
:func:`pair_differs`: exact for bools; for floats equal within a relative ``1e-9`` (NaN equals
NaN), because the same moving average computed on a shorter history differs in the last bits
of its running sum (a look-ahead moves a price level far more than a billionth of it).
"""

from __future__ import annotations

import numpy as np

#: Relative tolerance of :func:`pair_differs` for float (grid) outputs.
GRID_RTOL = 1e-9


def is_grid_pair(pair: tuple[np.ndarray, np.ndarray]) -> bool:
    """True when the pair holds grid levels (float arrays), False for bool signals."""
    return np.asarray(pair[0]).dtype != np.bool_


def pair_differs(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Element-wise "differs" of two pairs of the same shape (bool array of that shape).

    Bool pairs: ``!=`` on either array. Float pairs: not within :data:`GRID_RTOL` relative
    (``numpy.isclose(rtol=GRID_RTOL, atol=0, equal_nan=True)``) on either array; a NaN
    against a number differs.
    """
    if not is_grid_pair(a) and not is_grid_pair(b):
        return (a[0] != b[0]) | (a[1] != b[1])
    out = np.zeros(np.shape(a[0]), dtype=bool)
    for x, y in ((a[0], b[0]), (a[1], b[1])):
        out |= ~np.isclose(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), rtol=GRID_RTOL,
                           atol=0.0, equal_nan=True)
    return out


def active_bars(pair: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Bars where the pair acts: an entry or exit fires (signals), a grid is defined (grid:
    finite center and finite ``step > 0``). Bool, the shape of ``pair[0]``."""
    if not is_grid_pair(pair):
        return pair[0] | pair[1]
    center, step = (np.asarray(x, dtype=np.float64) for x in pair)
    with np.errstate(invalid="ignore"):
        return np.isfinite(center) & np.isfinite(step) & (step > 0)


def entry_counts(pair: tuple[np.ndarray, np.ndarray], low: np.ndarray, high: np.ndarray,
                 direction: int) -> np.ndarray:
    """Entries per parameter set, int ``(n_params,)`` for a pair of ``(n_params, n_bars)``.

    Signals: the number of entry bars. Grids: the bars whose low (long; high for a short)
    reaches the first level ``center[i-1] - direction * step[i-1]`` set on the bar before.
    """
    if not is_grid_pair(pair):
        return pair[0].sum(axis=1)
    center, step = (np.asarray(x, dtype=np.float64) for x in pair)
    level = center[:, :-1] - direction * step[:, :-1]
    with np.errstate(invalid="ignore"):
        ok = active_bars((center[:, :-1], step[:, :-1]))
        touched = low[1:] <= level if direction > 0 else high[1:] >= level
    return (ok & touched).sum(axis=1)
