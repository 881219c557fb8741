"""Validation samples: a synthetic walk for when no real candles are at hand, and the extra
samples the empirical look-ahead tests also run on.

The validator's empirical tests need *some* OHLCV history; real candles are better (they
have the regimes that make look-ahead show), but a user validating a strategy file on a
fresh install has none. :func:`synthetic_sample` builds a reproducible geometric random walk.

One sample is not enough: code can behave honestly on it and read the future elsewhere,
switched on by the data (series length, price level, first value, volume scale, volatility).
:func:`synthetic_extras` are walks whose scales are far from a BTC sample's and from each
other (issue 8): a micro price with huge volumes and high volatility, a mega price with tiny
volumes and low volatility, and a long cheap series (longer than every default backtest
span). Real extras from the candle store are chosen by :mod:`sixbtc.validator.samples`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from sixbtc.strategy.inputs import MarketSample

#: Seed of the bundled synthetic sample (fixed: every run validates on the same data).
SYNTHETIC_SEED = 7
#: Bars of the long synthetic extra: more than the longest default backtest span
#: (15m: 250 warm-up + 180 days x 96 bars = 17,530 bars).
LONG_SYNTHETIC_BARS = 20_000


@dataclass(frozen=True)
class NamedSample:
    """One validation sample and a short description of where it came from.

    Attributes
    ----------
    name : str
        E.g. ``"BTC 1h first 2000"`` or ``"synthetic micro-price"``; shown in rejections.
    data : dict of str -> numpy.ndarray
        ``open high low close volume`` float64 arrays of equal shape ``(n_bars,)``.
    market : MarketSample or None
        The raw sources of the extra strategy inputs on the same bars (real clock,
        funding, BTC; :mod:`sixbtc.strategy.inputs`); None: a synthetic market is used for
        strategies that declare extra inputs.
    """

    name: str
    data: dict[str, np.ndarray]
    market: MarketSample | None = None

    @property
    def n_bars(self) -> int:
        """Number of bars."""
        return len(self.data["close"])

    @property
    def source(self) -> dict[str, np.ndarray] | MarketSample:
        """What the validator runs on: the raw sources when known, else the OHLCV arrays."""
        return self.market if self.market is not None else self.data


def synthetic_sample(
    n_bars: int = 2000,
    seed: int = SYNTHETIC_SEED,
    *,
    price: float = 30_000.0,
    sigma: float = 0.008,
    volume: tuple[float, float] = (100.0, 1000.0),
) -> dict[str, np.ndarray]:
    """Geometric random walk with consistent OHLC, like 1h BTC candles by default.

    ``close_t = price * exp(sum of N(0, sigma) log returns)``; ``open_t = close_{t-1}``;
    high/low add half-normal wicks (sd ``sigma * 3 / 8``); volume ~ U(``volume``). So
    ``low <= min(open, close) <= max(open, close) <= high`` on every bar.

    Parameters
    ----------
    n_bars : int
        Number of bars, >= 2.
    seed : int
        Seed of :func:`numpy.random.default_rng`.
    price : float
        First open (quote currency), > 0.
    sigma : float
        Standard deviation of the per-bar log return, > 0.
    volume : (float, float)
        Bounds of the uniform volume (base units), ``0 < low < high``.

    Returns
    -------
    dict of str -> numpy.ndarray
        ``open high low close volume``, float64, shape ``(n_bars,)``.

    Raises
    ------
    ValueError
        If ``n_bars`` is not an int >= 2 or a scale is not positive.
    """
    if isinstance(n_bars, bool) or not isinstance(n_bars, int) or n_bars < 2:
        raise ValueError(f"n_bars must be an int >= 2, got {n_bars!r}")
    if not (price > 0 and sigma > 0 and 0 < volume[0] < volume[1]):
        raise ValueError(f"price, sigma and volume must be positive, got {price}, {sigma}, {volume}")
    rng = np.random.default_rng(seed)
    close = price * np.exp(np.cumsum(rng.normal(0, sigma, n_bars)))
    open_ = np.concatenate(([price], close[:-1]))
    wick = np.abs(rng.normal(0, sigma * 0.375, (2, n_bars)))
    return {
        "open": open_,
        "high": np.maximum(open_, close) * (1 + wick[0]),
        "low": np.minimum(open_, close) * (1 - wick[1]),
        "close": close,
        "volume": rng.uniform(volume[0], volume[1], n_bars),
    }


def synthetic_extras() -> list[NamedSample]:
    """The synthetic extra samples of the look-ahead tests (fixed seeds, always the same;
    built once per process, arrays read-only).

    Returns
    -------
    list of NamedSample
        * micro price: 3,000 bars from 1e-4, per-bar sd 1.5 %, volume 1e9-1e10;
        * mega price: 1,500 bars from 5e6, per-bar sd 0.3 %, volume 1e-3-1e-2;
        * long: :data:`LONG_SYNTHETIC_BARS` bars from 2.0, per-bar sd 0.5 %, volume 1e5-1e6.

        The primary sample (the last 2,000 BTC 1h candles of Binance USD-M to 2026-01) has
        prices near 1e5, a per-bar sd of 0.5 % and volumes of 4e2-6e4.
    """
    return list(_synthetic_extras())


@functools.cache
def _synthetic_extras() -> tuple[NamedSample, ...]:
    specs = (
        ("synthetic micro-price", 3000, 11, 1e-4, 0.015, (1e9, 1e10)),
        ("synthetic mega-price", 1500, 12, 5e6, 0.003, (1e-3, 1e-2)),
        ("synthetic long", LONG_SYNTHETIC_BARS, 13, 2.0, 0.005, (1e5, 1e6)),
    )
    out = []
    for name, n, seed, price, sigma, volume in specs:
        data = synthetic_sample(n, seed, price=price, sigma=sigma, volume=volume)
        for arr in data.values():
            arr.flags.writeable = False
        out.append(NamedSample(f"{name} ({n} bars)", data))
    return tuple(out)
