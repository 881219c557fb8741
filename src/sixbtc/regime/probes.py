"""The simple test signals of the regime classification: N-bar breaks of the close."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def break_signals(high: np.ndarray, low: np.ndarray, close: np.ndarray,
                  n: int) -> tuple[np.ndarray, np.ndarray]:
    """Closes that break the previous ``n`` bars' range (causal: bar ``i`` uses bars ``<= i``).

    Parameters
    ----------
    high, low, close : numpy.ndarray
        float64 ``(n_bars,)``, oldest first.
    n : int
        Bars of the range, ``>= 1``.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        bool ``(n_bars,)`` each: ``up[i] = close[i] > max(high[i-n:i])`` and
        ``down[i] = close[i] < min(low[i-n:i])``; False for the first ``n`` bars.

    Raises
    ------
    ValueError
        If ``n < 1`` or the arrays are not 1-D of one length.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    h, lo, c = (np.asarray(a, dtype=np.float64) for a in (high, low, close))
    if h.ndim != 1 or h.shape != lo.shape or h.shape != c.shape:
        raise ValueError(f"high, low, close must be 1-D of one length, got {h.shape}, {lo.shape}, {c.shape}")
    up = np.zeros(c.shape[0], dtype=bool)
    down = np.zeros(c.shape[0], dtype=bool)
    if c.shape[0] <= n:
        return up, down
    prior_high = sliding_window_view(h, n)[:-1].max(axis=1)  # prior_high[k] = max(h[k:k+n]) -> bar k+n
    prior_low = sliding_window_view(lo, n)[:-1].min(axis=1)
    up[n:] = c[n:] > prior_high
    down[n:] = c[n:] < prior_low
    return up, down
