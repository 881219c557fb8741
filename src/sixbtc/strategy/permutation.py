"""Bar permutation that keeps every bar's OHLC shape (for Monte Carlo permutation tests).

Method: Masters, "Permutation and Randomization Tests for Trading System Development" (2020),
ch. 1 ("permuting price bars"); Aronson, "Evidence-Based Technical Analysis" (2006), ch. 5
(Monte Carlo permutation). Each bar is described relative to the previous close; permuting
these shapes keeps the distribution of bar returns and ranges and destroys their order, i.e.
any serial structure a strategy could exploit.
"""

from __future__ import annotations

import numpy as np

OHLCV_KEYS = ("open", "high", "low", "close", "volume")


def permute_bars(sample: dict[str, np.ndarray], start: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Permute bars ``[start, n_bars)`` as (open, high, low, close)/previous close, volume tuples.

    The path is rebuilt from ``close[start - 1]``, so prices stay continuous (up to rounding) and positive,
    ``low <= min(open, close)`` and ``high >= max(open, close)`` still hold, and bars before
    ``start`` are untouched.

    Parameters
    ----------
    sample : dict of str -> numpy.ndarray
        OHLCV float64 arrays of shape ``(n_bars,)``, prices > 0.
    start : int
        First permuted bar, ``1 <= start < n_bars``.
    rng : numpy.random.Generator
        Source of the permutation (seed it for reproducibility).

    Returns
    -------
    dict of str -> numpy.ndarray
        A new OHLCV sample of the same shapes.

    Raises
    ------
    ValueError
        If ``start`` is out of range or a key is missing.
    """
    missing = [k for k in OHLCV_KEYS if k not in sample]
    if missing:
        raise ValueError(f"sample lacks {missing}")
    close = np.asarray(sample["close"], dtype=np.float64)
    n = len(close)
    if not 1 <= start < n:
        raise ValueError(f"start must be in [1, {n}), got {start}")
    prev = close[start - 1 : n - 1]
    order = rng.permutation(n - start)
    rel = {k: (np.asarray(sample[k], dtype=np.float64)[start:] / prev)[order] for k in ("open", "high", "low", "close")}
    new_close = close[start - 1] * np.cumprod(rel["close"])
    new_prev = np.concatenate(([close[start - 1]], new_close[:-1]))
    out = {k: np.array(sample[k], dtype=np.float64, copy=True) for k in OHLCV_KEYS}
    for key in ("open", "high", "low", "close"):  # same multiplier per bar keeps low <= o, c <= high
        out[key][start:] = rel[key] * new_prev
    out["volume"][start:] = np.asarray(sample["volume"], dtype=np.float64)[start:][order]
    return out
