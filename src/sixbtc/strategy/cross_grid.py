"""Crossings of every pair of two families of series at once (a parameter grid's signals).

:func:`cross_grid` gives, for rows ``a[i]`` (e.g. SMA(fast) for each fast window) and rows
``b[j]`` (e.g. SMA(slow) for each slow window), the :func:`~sixbtc.strategy.indicators.cross_above`
and :func:`~sixbtc.strategy.indicators.cross_below` of every pair ``(i, j)`` in one pass of
numpy broadcasting, with no Python loop over the ``n_a * n_b`` pairs, already in the
engine's ``(n_bars, n_sets)`` layout (:func:`sixbtc.backtester.run_grid`), so no transpose
either. The values are those of the per-pair functions, bit for bit (the same four
comparisons, False at bar 0 and wherever a value involved is NaN). numpy only: importable
inside the sandbox.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cross_grid"]

#: Bars per block: one block's temporaries stay in the cache (bool ``(block, n_a, n_b)``).
_BLOCK_BARS = 1024


def _rows(x: object, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 2-D array of numbers: {exc}") from None
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"{name} must have shape (n_rows >= 1, n_bars), got {arr.shape}")
    return np.ascontiguousarray(arr.T)  # (n_bars, n_rows): a bar's values side by side


def cross_grid(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Crossings above and below of every pair ``(a[i], b[j])``.

    Parameters
    ----------
    a : ndarray, shape (n_a, n_bars)
    b : ndarray, shape (n_b, n_bars)

    Returns
    -------
    above, below : ndarray of bool, shape (n_bars, n_a * n_b)
        Column ``i * n_b + j`` (the order of ``itertools.product(range(n_a), range(n_b))``)
        is ``cross_above(a[i], b[j])`` resp. ``cross_below(a[i], b[j])``:
        ``a > b`` now and ``a <= b`` one bar earlier (resp. ``<`` and ``>=``); False at bar 0
        and wherever one of the four values is NaN.

    Raises
    ------
    ValueError
        If ``a`` or ``b`` is not a non-empty 2-D array of numbers, or their bar counts differ.
    """
    at, bt = _rows(a, "a"), _rows(b, "b")
    if at.shape[0] != bt.shape[0]:
        raise ValueError(f"a and b must have the same number of bars, got {at.shape[0]} and {bt.shape[0]}")
    n, na, nb = at.shape[0], at.shape[1], bt.shape[1]
    above = np.zeros((n, na * nb), dtype=bool)
    below = np.zeros((n, na * nb), dtype=bool)
    prev = np.empty((min(_BLOCK_BARS, max(n - 1, 1)), na, nb), dtype=bool)
    for s in range(1, n, _BLOCK_BARS):
        e = min(n, s + _BLOCK_BARS)
        a_now, b_now = at[s:e, :, None], bt[s:e, None, :]
        a_prev, b_prev = at[s - 1:e - 1, :, None], bt[s - 1:e - 1, None, :]
        t = prev[: e - s]
        up, down = above[s:e].reshape(e - s, na, nb), below[s:e].reshape(e - s, na, nb)
        np.greater(a_now, b_now, out=up)
        up &= np.less_equal(a_prev, b_prev, out=t)
        np.less(a_now, b_now, out=down)
        down &= np.greater_equal(a_prev, b_prev, out=t)
    return above, below
