"""A synthetic validation sample for when no real candles are at hand (CLI, tests).

The validator's empirical tests need *some* OHLCV history; real candles are better (they
have the regimes that make look-ahead show), but a user validating a strategy file on a
fresh install has none. This module builds a reproducible geometric random walk.
"""

from __future__ import annotations

import numpy as np

#: Seed of the bundled synthetic sample (fixed: every run validates on the same data).
SYNTHETIC_SEED = 7


def synthetic_sample(n_bars: int = 2000, seed: int = SYNTHETIC_SEED) -> dict[str, np.ndarray]:
    """Geometric random walk with consistent OHLC, like 1h BTC candles.

    ``close_t = 30,000 * exp(sum of N(0, 0.8 %) log returns)``; ``open_t = close_{t-1}``;
    high/low add half-normal wicks (sd 0.3 %); volume ~ U(100, 1000). So
    ``low <= min(open, close) <= max(open, close) <= high`` on every bar.

    Parameters
    ----------
    n_bars : int
        Number of bars, >= 2.
    seed : int
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    dict of str -> numpy.ndarray
        ``open high low close volume``, float64, shape ``(n_bars,)``; prices in USD.

    Raises
    ------
    ValueError
        If ``n_bars`` is not an int >= 2.
    """
    if isinstance(n_bars, bool) or not isinstance(n_bars, int) or n_bars < 2:
        raise ValueError(f"n_bars must be an int >= 2, got {n_bars!r}")
    rng = np.random.default_rng(seed)
    close = 30_000 * np.exp(np.cumsum(rng.normal(0, 0.008, n_bars)))
    open_ = np.concatenate(([30_000.0], close[:-1]))
    wick = np.abs(rng.normal(0, 0.003, (2, n_bars)))
    return {
        "open": open_,
        "high": np.maximum(open_, close) * (1 + wick[0]),
        "low": np.minimum(open_, close) * (1 - wick[1]),
        "close": close,
        "volume": rng.uniform(100, 1000, n_bars),
    }
