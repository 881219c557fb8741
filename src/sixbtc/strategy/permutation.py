"""Bar permutation that keeps every bar's OHLC shape (for Monte Carlo permutation tests).

Method: Masters, "Permutation and Randomization Tests for Trading System Development" (2020),
ch. 1 ("permuting price bars"); Aronson, "Evidence-Based Technical Analysis" (2006), ch. 5
(Monte Carlo permutation). Each bar is described relative to the previous close; permuting
these shapes keeps the distribution of bar returns and ranges and destroys their order, i.e.
any serial structure a strategy could exploit.

The look-ahead tests (the validator's shuffle test, the backtest's causality check) compare
a strategy's signals on a series with the bars after a cut permuted to its signals on the
real series: the permuted bars must not be told from real ones by anything a strategy can
read. Real candles lie on the instrument's decimal price tick (0.1 for BTC on Binance USD-M)
and rebuilt prices would not, so the permuted prices are rounded to the tick of the input
(:func:`decimal_tick`); volumes are permuted as they are (still on their lot grid).
"""

from __future__ import annotations

import numpy as np

OHLCV_KEYS = ("open", "high", "low", "close", "volume")


#: Most decimals a tick may have (1e-12), and the tolerance of "on the grid" (in ticks).
_MAX_DECIMALS, _GRID_TOL = 12, 1e-6


def decimal_tick(prices: np.ndarray) -> float | None:
    """The coarsest decimal tick ``10 ** -d`` (``d`` in 0..12) every price lies on.

    Parameters
    ----------
    prices : numpy.ndarray
        Positive finite prices, any shape.

    Returns
    -------
    float or None
        E.g. ``0.1`` for BTC candles; ``None`` when the prices are on no such grid (synthetic
        or rescaled series), or too large for float64 to tell (``price / tick > 1e15``).
    """
    flat = np.asarray(prices, dtype=np.float64).ravel()
    if flat.size == 0 or not np.isfinite(flat).all():
        return None
    top = float(np.abs(flat).max())
    for d in range(_MAX_DECIMALS + 1):
        if top * 10.0**d > 1e15:
            return None
        scaled = flat * 10.0**d
        if float(np.abs(scaled - np.round(scaled)).max()) <= _GRID_TOL:
            return 10.0**-d
    return None


def permute_bars(sample: dict[str, np.ndarray], start: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Permute bars ``[start, n_bars)`` as (open, high, low, close)/previous close, volume tuples.

    The path is rebuilt from ``close[start - 1]``, so prices stay continuous (up to rounding) and positive,
    ``low <= min(open, close)`` and ``high >= max(open, close)`` still hold, and bars before
    ``start`` are untouched. Rebuilt prices are rounded to the input's decimal tick when it
    has one (:func:`decimal_tick`; at least one tick), so they are on the same grid as the
    real ones (rounding is monotone: the OHLC order holds).

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
    close = _checked(sample, start)
    return _permuted(sample, start, rng.permutation(len(close) - start))


def _permuted(sample: dict[str, np.ndarray], start: int, order: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`permute_bars` with the permutation ``order`` of bars ``[start, n)`` given."""
    close = np.asarray(sample["close"], dtype=np.float64)
    n = len(close)
    prev = close[start - 1 : n - 1]
    rel = {k: (np.asarray(sample[k], dtype=np.float64)[start:] / prev)[order] for k in ("open", "high", "low", "close")}
    new_close = close[start - 1] * np.cumprod(rel["close"])
    new_prev = np.concatenate(([close[start - 1]], new_close[:-1]))
    out = {k: np.array(sample[k], dtype=np.float64, copy=True) for k in OHLCV_KEYS}
    for key in ("open", "high", "low", "close"):  # same multiplier per bar keeps low <= o, c <= high
        out[key][start:] = rel[key] * new_prev
    out["volume"][start:] = np.asarray(sample["volume"], dtype=np.float64)[start:][order]
    return _on_tick(out, sample, start)


def keep_extras(data: dict[str, np.ndarray], base: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``data`` plus every array of ``base`` it lacks (e.g. the extra inputs of a strategy,
    :mod:`sixbtc.strategy.inputs`, next to prices rebuilt by :func:`permute_bars` or
    :func:`reflect_bars`, which return OHLCV only)."""
    return {**{k: v for k, v in base.items() if k not in data}, **data}


def permute_data(data: dict[str, np.ndarray], start: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """:func:`permute_bars` of the OHLCV of ``data``, and the same permutation of bars
    ``[start, n)`` applied to every extra input array but ``open_time`` (the clock stays:
    bar contents move, time does not), so prices, BTC, funding and higher-timeframe values
    stay together. Draws one permutation from ``rng``, like :func:`permute_bars` (the OHLCV
    result is the same for the same generator state).

    Raises
    ------
    ValueError
        As :func:`permute_bars`.
    """
    close = _checked(data, start)
    order = rng.permutation(len(close) - start)
    out = _permuted(data, start, order)
    for key, arr in data.items():
        if key in out:
            continue
        arr = np.array(arr, copy=True)
        if key != "open_time":
            arr[start:] = arr[start:][order]
        out[key] = arr
    return out


def reflect_bars(sample: dict[str, np.ndarray], start: int) -> dict[str, np.ndarray]:
    """Reflect the price path from bar ``start`` on about ``close[start - 1]`` (in log price).

    Every later move keeps its size and reverses its sign (``p' = pivot**2 / p``; high and
    low swap roles), volumes stay, bars before ``start`` are untouched and prices are
    rounded to the input's decimal tick as in :func:`permute_bars`. A look-ahead test on
    such a series sees every peek into the future reversed (a "next close is higher" is now
    false where it was true), which a permutation gets right only half of the time.

    Parameters
    ----------
    sample : dict of str -> numpy.ndarray
        OHLCV float64 arrays of shape ``(n_bars,)``, prices > 0.
    start : int
        First reflected bar, ``1 <= start < n_bars``.

    Returns
    -------
    dict of str -> numpy.ndarray
        A new OHLCV sample of the same shapes.

    Raises
    ------
    ValueError
        If ``start`` is out of range or a key is missing.
    """
    close = _checked(sample, start)
    square = close[start - 1] ** 2
    out = {k: np.array(sample[k], dtype=np.float64, copy=True) for k in OHLCV_KEYS}
    for key, mirror in (("open", "open"), ("close", "close"), ("high", "low"), ("low", "high")):
        out[key][start:] = square / np.asarray(sample[mirror], dtype=np.float64)[start:]
    return _on_tick(out, sample, start)


def _checked(sample: dict[str, np.ndarray], start: int) -> np.ndarray:
    """The close array of a complete sample whose bar ``start`` may be moved, or raise."""
    missing = [k for k in OHLCV_KEYS if k not in sample]
    if missing:
        raise ValueError(f"sample lacks {missing}")
    close = np.asarray(sample["close"], dtype=np.float64)
    if not 1 <= start < len(close):
        raise ValueError(f"start must be in [1, {len(close)}), got {start}")
    return close


def _on_tick(out: dict[str, np.ndarray], sample: dict[str, np.ndarray], start: int) -> dict[str, np.ndarray]:
    """Round the prices of bars ``[start, n)`` of ``out`` to the tick of ``sample`` (if any)."""
    tick = decimal_tick(np.stack([np.asarray(sample[k], dtype=np.float64) for k in ("open", "high", "low", "close")]))
    if tick is not None:  # round(x * 10**d) / 10**d: the double nearest the decimal
        scale = round(1.0 / tick)
        for key in ("open", "high", "low", "close"):
            out[key][start:] = np.maximum(np.round(out[key][start:] * scale), 1.0) / scale
    return out
