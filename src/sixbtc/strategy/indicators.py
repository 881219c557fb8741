"""Causal technical indicators for strategy code: ``from sixbtc.strategy import indicators as ind``.

Conventions
-----------
* Inputs are 1-D float arrays of shape ``(n,)`` (anything ``np.asarray`` turns into one);
  they are converted to contiguous float64 (TA-Lib requires it). Several inputs of one
  call must share the same length.
* Outputs are float64 arrays of shape ``(n,)`` with NaN during warm-up, except the
  crosses, which return bool arrays (False where any input needed is NaN).
* Every output is causal: the value at bar ``i`` uses only bars ``<= i``. Recursive
  indicators (EMA, RSI, ATR, ADX, MACD) are seeded at the first bar of the given
  history, so they depend on where the history starts but never on later bars.
* Window arguments are ints ``>= 1`` (``bool`` is rejected); RSI, ADX and the MACD
  fast/slow periods need ``>= 2`` (TA-Lib minimum). A bad window raises ``ValueError``
  naming the argument.

Implementation: TA-Lib (``import talib``) for SMA, EMA, RSI, ATR, Bollinger bands, MACD,
ADX, rate of change and the stochastic oscillator; numpy for the rolling extremes,
z-score, shift, crosses and true range. Formulas follow J. Welles Wilder, *New Concepts
in Technical Trading Systems* (1978) for RSI/ATR/ADX/true range, G. Appel for MACD,
J. Bollinger for the bands and G. Lane for the stochastic, as implemented by TA-Lib.

Caching: when a :class:`~sixbtc.strategy.indicator_cache.IndicatorCache` is active (the
sandbox worker activates one), every indicator but the crosses is computed once per
(data set, indicator, input, parameters) and the stored result is returned afterwards as a
**read-only** array (``out.copy()`` gives a writable one); inputs must be the worker's
data arrays or results of earlier indicator calls to be recognised. Values are identical
with and without the cache. No pandas on any path.
"""

from __future__ import annotations

import numbers

import numpy as np
import talib
from numpy.lib.stride_tricks import sliding_window_view

from sixbtc.strategy.indicator_cache import cached_call as _cached_call

__all__ = [
    "adx",
    "atr",
    "bbands",
    "cross_above",
    "cross_below",
    "ema",
    "highest",
    "lowest",
    "macd",
    "roc",
    "rsi",
    "shift",
    "sma",
    "stoch",
    "true_range",
    "zscore",
]


# --------------------------------------------------------------------------- checks
def _series(x: object, name: str) -> np.ndarray:
    """Return ``x`` as a contiguous float64 1-D array or raise ``ValueError``."""
    try:
        arr = np.ascontiguousarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 1-D array of numbers: {exc}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D of shape (n,), got shape {arr.shape}")
    return arr


def _same_length(**arrays: np.ndarray) -> None:
    first, *rest = (a.shape[0] for a in arrays.values())
    if any(n != first for n in rest):
        lengths = {name: a.shape[0] for name, a in arrays.items()}
        raise ValueError(f"inputs must have the same length, got {lengths}")


def _window(value: object, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int window ``>= minimum`` or raise ``ValueError``."""
    if type(value) is int and value >= minimum:  # fast path (bool is not exactly int)
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _hlc(high: object, low: object, close: object) -> tuple[np.ndarray, ...]:
    h, lo, c = _series(high, "high"), _series(low, "low"), _series(close, "close")
    _same_length(high=h, low=lo, close=c)
    return h, lo, c


def _rolling(x: np.ndarray, n: int) -> np.ndarray:
    """Windows of the last ``n`` bars: shape ``(len(x) - n + 1, n)`` (a view)."""
    return sliding_window_view(x, n)


# --------------------------------------------------------------------------- averages
def sma(x: np.ndarray, n: int) -> np.ndarray:
    """Simple moving average of the last ``n`` bars (TA-Lib ``SMA``).

    Parameters
    ----------
    x : ndarray, shape (n_bars,)
    n : int
        Window in bars, ``>= 1``.

    Returns
    -------
    ndarray, shape (n_bars,)
        NaN for the first ``n - 1`` bars.

    Raises
    ------
    ValueError
        If ``x`` is not 1-D or ``n`` is not an int ``>= 1``.
    """
    arr, n = _series(x, "x"), _window(n, "n")
    return _cached_call("sma", (arr,), (n,), lambda: talib.SMA(arr, timeperiod=n))


def ema(x: np.ndarray, n: int) -> np.ndarray:
    """Exponential moving average, ``alpha = 2 / (n + 1)``, seeded with the first SMA (TA-Lib).

    Parameters
    ----------
    x : ndarray, shape (n_bars,)
    n : int
        Span in bars, ``>= 1``.

    Returns
    -------
    ndarray, shape (n_bars,)
        NaN for the first ``n - 1`` bars.

    Raises
    ------
    ValueError
        If ``x`` is not 1-D or ``n`` is not an int ``>= 1``.
    """
    arr, n = _series(x, "x"), _window(n, "n")
    return _cached_call("ema", (arr,), (n,), lambda: talib.EMA(arr, timeperiod=n))


# --------------------------------------------------------------------------- oscillators
def rsi(close: np.ndarray, n: int) -> np.ndarray:
    """Wilder's Relative Strength Index in points 0..100 (TA-Lib ``RSI``).

    Parameters
    ----------
    close : ndarray, shape (n_bars,)
    n : int
        Wilder smoothing period, ``>= 2``.

    Returns
    -------
    ndarray, shape (n_bars,)
        NaN for the first ``n`` bars.

    Raises
    ------
    ValueError
        If ``close`` is not 1-D or ``n`` is not an int ``>= 2``.
    """
    arr, n = _series(close, "close"), _window(n, "n", 2)
    return _cached_call("rsi", (arr,), (n,), lambda: talib.RSI(arr, timeperiod=n))


def macd(
    close: np.ndarray, fast: int, slow: int, signal: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Moving Average Convergence/Divergence (TA-Lib ``MACD``), in price units.

    Parameters
    ----------
    close : ndarray, shape (n_bars,)
    fast, slow : int
        EMA spans, ``2 <= fast < slow``.
    signal : int
        EMA span of the signal line, ``>= 1``.

    Returns
    -------
    (macd, signal, hist) : tuple of ndarray, each shape (n_bars,)
        ``macd = EMA_fast - EMA_slow``, ``signal = EMA_signal(macd)``,
        ``hist = macd - signal``; NaN for the first ``slow + signal - 2`` bars.

    Raises
    ------
    ValueError
        If ``close`` is not 1-D, a period is out of range, or ``fast >= slow``.
    """
    arr = _series(close, "close")
    fast, slow = _window(fast, "fast", 2), _window(slow, "slow", 2)
    signal = _window(signal, "signal")
    if fast >= slow:
        raise ValueError(f"fast must be < slow, got fast={fast}, slow={slow}")
    return _cached_call(
        "macd", (arr,), (fast, slow, signal),
        lambda: tuple(talib.MACD(arr, fastperiod=fast, slowperiod=slow, signalperiod=signal)),
    )


def roc(x: np.ndarray, n: int) -> np.ndarray:
    """Rate of change as a fraction: ``x[i] / x[i - n] - 1`` (TA-Lib ``ROCR`` minus 1).

    Parameters
    ----------
    x : ndarray, shape (n_bars,)
    n : int
        Look-back in bars, ``>= 1``.

    Returns
    -------
    ndarray, shape (n_bars,)
        Fraction (0.01 = +1 %); NaN for the first ``n`` bars.

    Raises
    ------
    ValueError
        If ``x`` is not 1-D or ``n`` is not an int ``>= 1``.
    """
    arr, n = _series(x, "x"), _window(n, "n")
    return _cached_call("roc", (arr,), (n,), lambda: talib.ROCR(arr, timeperiod=n) - 1.0)


def stoch(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, k: int, d: int
) -> tuple[np.ndarray, np.ndarray]:
    """Slow stochastic oscillator in points 0..100 (TA-Lib ``STOCH``, SMA smoothing).

    ``fastk = 100 * (close - lowest(low, k)) / (highest(high, k) - lowest(low, k))``;
    ``slowk = SMA(fastk, d)``; ``slowd = SMA(slowk, d)`` (Lane's "full stochastic k, d, d").

    Parameters
    ----------
    high, low, close : ndarray, shape (n_bars,)
    k : int
        Look-back of the raw %K, ``>= 1``.
    d : int
        Smoothing period for both %K and %D, ``>= 1``.

    Returns
    -------
    (slowk, slowd) : tuple of ndarray, each shape (n_bars,)
        NaN for the first ``k + 2 * d - 3`` bars.

    Raises
    ------
    ValueError
        If inputs are not 1-D arrays of one length, or ``k``/``d`` is not an int ``>= 1``.
    """
    h, lo, c = _hlc(high, low, close)
    k, d = _window(k, "k"), _window(d, "d")
    return _cached_call("stoch", (h, lo, c), (k, d), lambda: tuple(talib.STOCH(
        h, lo, c, fastk_period=k, slowk_period=d, slowk_matype=0, slowd_period=d, slowd_matype=0
    )))


# --------------------------------------------------------------------------- volatility
def true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Wilder's true range: ``max(high, prev_close) - min(low, prev_close)``.

    Parameters
    ----------
    high, low, close : ndarray, shape (n_bars,)

    Returns
    -------
    ndarray, shape (n_bars,)
        Price units; NaN at bar 0 (no previous close).

    Raises
    ------
    ValueError
        If inputs are not 1-D arrays of one length.
    """
    h, lo, c = _hlc(high, low, close)
    return _cached_call("true_range", (h, lo, c), (), lambda: _true_range(h, lo, c))


def _true_range(h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> np.ndarray:
    out = np.full(h.shape[0], np.nan)
    if h.shape[0] > 1:
        prev = c[:-1]
        out[1:] = np.maximum(h[1:], prev) - np.minimum(lo[1:], prev)
    return out


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, n: int) -> np.ndarray:
    """Average True Range, Wilder-smoothed (TA-Lib ``ATR``), in price units.

    Parameters
    ----------
    high, low, close : ndarray, shape (n_bars,)
    n : int
        Smoothing period, ``>= 1``.

    Returns
    -------
    ndarray, shape (n_bars,)
        NaN for the first ``n`` bars.

    Raises
    ------
    ValueError
        If inputs are not 1-D arrays of one length or ``n`` is not an int ``>= 1``.
    """
    h, lo, c = _hlc(high, low, close)
    n = _window(n, "n")
    return _cached_call("atr", (h, lo, c), (n,), lambda: talib.ATR(h, lo, c, timeperiod=n))


def bbands(x: np.ndarray, n: int, k: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bollinger bands: ``SMA(x, n) ± k * std(x, n)`` (population std, TA-Lib ``BBANDS``).

    Parameters
    ----------
    x : ndarray, shape (n_bars,)
    n : int
        Window in bars, ``>= 1`` (``n == 1`` gives three copies of ``x``).
    k : float
        Band width in standard deviations, finite and ``>= 0``.

    Returns
    -------
    (upper, middle, lower) : tuple of ndarray, each shape (n_bars,)
        NaN for the first ``n - 1`` bars.

    Raises
    ------
    ValueError
        If ``x`` is not 1-D, ``n`` is not an int ``>= 1`` or ``k`` is not a finite number ``>= 0``.
    """
    arr, n = _series(x, "x"), _window(n, "n")
    if isinstance(k, bool) or not isinstance(k, numbers.Real) or not np.isfinite(k) or k < 0:
        raise ValueError(f"k must be a finite number >= 0, got {k!r}")
    return _cached_call("bbands", (arr,), (n, float(k)), lambda: _bbands(arr, n, float(k)))


def _bbands(arr: np.ndarray, n: int, k: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if n == 1:
        return arr.copy(), arr.copy(), arr.copy()
    upper, middle, lower = talib.BBANDS(arr, timeperiod=n, nbdevup=k, nbdevdn=k, matype=0)
    return upper, middle, lower


def adx(high: np.ndarray, low: np.ndarray, close: np.ndarray, n: int) -> np.ndarray:
    """Wilder's Average Directional Index in points 0..100 (TA-Lib ``ADX``).

    Parameters
    ----------
    high, low, close : ndarray, shape (n_bars,)
    n : int
        Smoothing period, ``>= 2``.

    Returns
    -------
    ndarray, shape (n_bars,)
        NaN for the first ``2 * n - 1`` bars.

    Raises
    ------
    ValueError
        If inputs are not 1-D arrays of one length or ``n`` is not an int ``>= 2``.
    """
    h, lo, c = _hlc(high, low, close)
    n = _window(n, "n", 2)
    return _cached_call("adx", (h, lo, c), (n,), lambda: talib.ADX(h, lo, c, timeperiod=n))


# --------------------------------------------------------------------------- rolling / shifting
def _rolling_extreme(x: np.ndarray, n: int, reduce: str) -> np.ndarray:
    arr, n = _series(x, "x"), _window(n, "n")
    name = "highest" if reduce == "max" else "lowest"
    return _cached_call(name, (arr,), (n,), lambda: _rolling_reduce(arr, n, reduce))


def _rolling_reduce(arr: np.ndarray, n: int, reduce: str) -> np.ndarray:
    out = np.full(arr.shape[0], np.nan)
    if arr.shape[0] >= n:
        out[n - 1 :] = getattr(_rolling(arr, n), reduce)(axis=1)
    return out


def highest(x: np.ndarray, n: int) -> np.ndarray:
    """Rolling maximum over the last ``n`` bars including bar ``i`` (Donchian upper channel).

    Parameters
    ----------
    x : ndarray, shape (n_bars,)
    n : int
        Window in bars, ``>= 1``.

    Returns
    -------
    ndarray, shape (n_bars,)
        NaN for the first ``n - 1`` bars and wherever the window holds a NaN.

    Raises
    ------
    ValueError
        If ``x`` is not 1-D or ``n`` is not an int ``>= 1``.
    """
    return _rolling_extreme(x, n, "max")


def lowest(x: np.ndarray, n: int) -> np.ndarray:
    """Rolling minimum over the last ``n`` bars including bar ``i`` (Donchian lower channel).

    Same parameters, warm-up and errors as :func:`highest`.
    """
    return _rolling_extreme(x, n, "min")


def zscore(x: np.ndarray, n: int) -> np.ndarray:
    """Rolling z-score: ``(x[i] - mean) / std`` over the last ``n`` bars including ``i``.

    The standard deviation is the population one (ddof = 0), as in Bollinger bands.

    Parameters
    ----------
    x : ndarray, shape (n_bars,)
    n : int
        Window in bars, ``>= 1``.

    Returns
    -------
    ndarray, shape (n_bars,)
        Dimensionless; NaN for the first ``n - 1`` bars, where the window holds a NaN, and
        where the window's std is 0 (undefined, e.g. always for ``n == 1``).

    Raises
    ------
    ValueError
        If ``x`` is not 1-D or ``n`` is not an int ``>= 1``.
    """
    arr, n = _series(x, "x"), _window(n, "n")
    return _cached_call("zscore", (arr,), (n,), lambda: _zscore(arr, n))


def _zscore(arr: np.ndarray, n: int) -> np.ndarray:
    out = np.full(arr.shape[0], np.nan)
    if arr.shape[0] >= n:
        windows = _rolling(arr, n)
        mean = windows.mean(axis=1)
        std = windows.std(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (arr[n - 1 :] - mean) / std
        z[~(std > 0)] = np.nan
        out[n - 1 :] = z
    return out


def shift(x: np.ndarray, n: int) -> np.ndarray:
    """Lag a series: ``out[i] = x[i - n]`` (NaN for the first ``n`` bars).

    Parameters
    ----------
    x : ndarray, shape (n_bars,)
    n : int
        Lag in bars, ``>= 0`` (negative lags would read the future and are rejected).

    Returns
    -------
    ndarray, shape (n_bars,)

    Raises
    ------
    ValueError
        If ``x`` is not 1-D or ``n`` is not an int ``>= 0``.
    """
    arr, n = _series(x, "x"), _window(n, "n", 0)
    return _cached_call("shift", (arr,), (n,), lambda: _shift(arr, n))


def _shift(arr: np.ndarray, n: int) -> np.ndarray:
    out = np.full(arr.shape[0], np.nan)
    if n == 0:
        out[:] = arr
    elif n < arr.shape[0]:
        out[n:] = arr[:-n]
    return out


# --------------------------------------------------------------------------- crosses
def _cross_inputs(a: object, b: object) -> tuple[np.ndarray, object, object]:
    """``a`` as a series; ``b`` at bars ``1..n-1`` and ``0..n-2`` (slices, or a float level)."""
    sa = _series(a, "a")
    if np.ndim(b) == 0:
        try:
            level = float(b)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"b must be a 1-D array or a number, got {b!r}") from None
        return sa, level, level
    sb = _series(b, "b")
    if sb.shape[0] != sa.shape[0]:
        _same_length(a=sa, b=sb)
    return sa, sb[1:], sb[:-1]


def _cross(a: np.ndarray, b_now: object, b_prev: object, now_op, prev_op) -> np.ndarray:
    """``out[i] = now_op(a[i], b[i]) & prev_op(a[i-1], b[i-1])`` for ``i >= 1``; ``out[0]`` False.

    Written into one preallocated array (no temporaries but one), the hot path of a
    strategy's per-parameter-set signal code.
    """
    out = np.zeros(a.shape[0], dtype=bool)
    if a.shape[0] > 1:
        now = out[1:]
        now_op(a[1:], b_now, out=now)
        now &= prev_op(a[:-1], b_prev)
    return out


def cross_above(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """Bars where ``a`` crosses above ``b``: ``a[i] > b[i]`` and ``a[i-1] <= b[i-1]``.

    Parameters
    ----------
    a : ndarray, shape (n_bars,)
    b : ndarray, shape (n_bars,), or float
        A series or a constant level (e.g. an RSI threshold).

    Returns
    -------
    ndarray of bool, shape (n_bars,)
        False at bar 0 and wherever one of the four values involved is NaN.

    Raises
    ------
    ValueError
        If the inputs are not 1-D arrays of one length (or ``b`` a number).
    """
    sa, b_now, b_prev = _cross_inputs(a, b)
    return _cross(sa, b_now, b_prev, np.greater, np.less_equal)


def cross_below(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """Bars where ``a`` crosses below ``b``: ``a[i] < b[i]`` and ``a[i-1] >= b[i-1]``.

    Same parameters, result and errors as :func:`cross_above`.
    """
    sa, b_now, b_prev = _cross_inputs(a, b)
    return _cross(sa, b_now, b_prev, np.less, np.greater_equal)
