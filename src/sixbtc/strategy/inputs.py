"""The strategy inputs beyond OHLCV, and their causal alignment on a strategy's bars.

A strategy declares the extra inputs it reads in a class attribute (default: none)::

    inputs = ("open_time", "funding", "btc", "htf:4h")

=================  =========================================================================
declared           keys added to ``data`` (all shape ``(n_bars,)``, oldest first)
=================  =========================================================================
``open_time``      ``open_time``: int64, UTC milliseconds of each bar's open
``funding``        ``funding``: float64 fraction, the last funding rate *settled* at or before
                   the bar's close (NaN when none settled within :data:`FUNDING_MAX_AGE_MS`)
``open_interest``  ``open_interest``: float64, the last value stamped at or before the bar's
                   close, where the store holds any (NaN otherwise; the bundled data has none)
``btc``            ``btc_open btc_high btc_low btc_close btc_volume``: float64, BTC's candle
                   on the same timeframe that closed last at or before the bar's close
                   (forward-filled from closed candles for at most :data:`BTC_MAX_AGE_MS`;
                   NaN before BTC data)
``htf:<tf>``       ``htf_<tf>_open … htf_<tf>_volume``: float64, the same coin's last
                   ``<tf>`` candle that **closed** at or before the bar's close (NaN while
                   none has; e.g. ``htf_4h_close``)
=================  =========================================================================

Every value at bar ``i`` is a function of data available at the close of bar ``i`` only:
the alignment is "as of" the bar's close time (``open_time + bar length``) against each
source's *availability* time (a candle's close, a funding settlement). Higher-timeframe
candles are built from the coin's own candles (:func:`resample`: UTC-aligned buckets, a
bucket counts only once all its bars are present, so a still-open higher candle is never
shown). Each source has a staleness bound (:func:`asof`), so the value at a bar does not
depend on where the loaded history starts, provided the loader reads that bound of
history before the first bar (:func:`lookback_ms`): a paper executor given the last
``N`` bars sees exactly what the backtest saw on the same bars.

:class:`MarketSample` holds the raw sources; :meth:`MarketSample.window` cuts them as they
stood at the close of a bar (the validator's truncation test re-aligns from that cut raw
data, so a look-ahead in the alignment itself would show). :func:`build_data` is the one
code path from raw sources to ``data`` for the backtester, the validator and the executor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sixbtc.domain.timeframe import Timeframe

OHLCV = ("open", "high", "low", "close", "volume")
#: Plain (non-parameterised) extra inputs.
PLAIN_INPUTS = ("open_time", "funding", "open_interest", "btc")
#: Most higher timeframes one strategy may declare.
MAX_HTF = 3
HOUR_MS = 3_600_000
#: Staleness bound of the funding rate (ms): Binance settles every 1-8 h; a longer silence
#: is a hole in the data (``RENDER``/``TON`` 2025-07..12), not a rate still in force.
FUNDING_MAX_AGE_MS = 24 * HOUR_MS
#: Staleness bound of open interest (ms).
OI_MAX_AGE_MS = 24 * HOUR_MS
#: Staleness bound of BTC's forward-filled candle (ms).
BTC_MAX_AGE_MS = 24 * HOUR_MS


def htf_keys(tf: str) -> tuple[str, ...]:
    """Data keys of higher timeframe ``tf`` (``htf_4h_open`` …)."""
    return tuple(f"htf_{tf}_{k}" for k in OHLCV)


BTC_KEYS = tuple(f"btc_{k}" for k in OHLCV)


def parse_inputs(declared: Any, timeframes: Sequence[str] = ()) -> tuple[str, ...]:
    """Check a strategy's ``inputs`` declaration.

    Parameters
    ----------
    declared : Any
        The class attribute (``None`` when absent): a tuple/list of :data:`PLAIN_INPUTS`
        names and ``"htf:<tf>"`` entries.
    timeframes : sequence of str
        The strategy's declared timeframes; every higher timeframe must be a whole multiple
        of each of them, and longer.

    Returns
    -------
    tuple of str
        The declared inputs in their order (``()`` when ``declared`` is None).

    Raises
    ------
    ValueError
        Naming the entry: not a string, unknown, repeated, a bad or not-higher timeframe,
        more than :data:`MAX_HTF` higher timeframes.
    """
    if declared is None:
        return ()
    if not isinstance(declared, list | tuple):
        raise ValueError(f"inputs must be a tuple of input names, got {declared!r}")
    accepted = ", ".join(PLAIN_INPUTS) + ", htf:<timeframe>"
    for item in declared:
        if not isinstance(item, str):
            raise ValueError(f"inputs: {item!r} is not a string (accepted: {accepted})")
        if item.startswith("htf:"):
            _check_htf(item, timeframes)
        elif item not in PLAIN_INPUTS:
            raise ValueError(f"inputs: unknown input {item!r} (accepted: {accepted})")
    if len(set(declared)) != len(declared):
        raise ValueError(f"inputs: repeated input in {tuple(declared)!r}")
    if sum(i.startswith("htf:") for i in declared) > MAX_HTF:
        raise ValueError(f"inputs: at most {MAX_HTF} higher timeframes, got {tuple(declared)!r}")
    return tuple(declared)


def _check_htf(item: str, timeframes: Sequence[str]) -> None:
    tf = item[4:]
    try:
        htf_ms = Timeframe.parse(tf).ms
    except ValueError as exc:
        raise ValueError(f"inputs: {item!r}: {exc}") from None
    for base in timeframes:
        base_ms = Timeframe.parse(base).ms
        if htf_ms <= base_ms or htf_ms % base_ms:
            raise ValueError(f"inputs: {item!r} is not a higher timeframe of the declared timeframe "
                             f"{base!r} (it must be longer and a whole multiple)")


def data_keys(inputs: Sequence[str]) -> tuple[str, ...]:
    """The ``data`` keys the declared ``inputs`` add to OHLCV, in order."""
    keys: list[str] = []
    for item in inputs:
        if item == "btc":
            keys += BTC_KEYS
        elif item.startswith("htf:"):
            keys += htf_keys(item[4:])
        else:
            keys.append(item)
    return tuple(keys)


def is_extra_key(key: str) -> bool:
    """True when ``key`` names an extra input array (``open_time``, ``btc_close``, ``htf_4h_low`` …)."""
    if key in ("open_time", "funding", "open_interest") or key in BTC_KEYS:
        return True
    parts = key.split("_")
    return len(parts) == 3 and parts[0] == "htf" and parts[2] in OHLCV and parts[1] in {t.value for t in Timeframe}


def lookback_ms(inputs: Sequence[str]) -> int:
    """History (ms) a loader must read before the first bar so that the declared inputs
    there equal their value on a longer history: the largest staleness bound involved, two
    periods of a higher timeframe (the last closed one may have opened that long before)."""
    out = 0
    for item in inputs:
        if item.startswith("htf:"):
            out = max(out, 2 * Timeframe.parse(item[4:]).ms)
        else:
            out = max(out, {"funding": FUNDING_MAX_AGE_MS, "open_interest": OI_MAX_AGE_MS,
                            "btc": BTC_MAX_AGE_MS}.get(item, 0))
    return out


def asof(at_ms: np.ndarray, avail_ms: np.ndarray, values: np.ndarray, max_age_ms: int) -> np.ndarray:
    """For each time ``at_ms[i]``, the value whose availability time is the latest at or
    before it, if that is less than ``max_age_ms`` old; NaN otherwise.

    Parameters
    ----------
    at_ms : numpy.ndarray
        int64 ``(n,)`` query times (UTC ms), e.g. bar close times.
    avail_ms : numpy.ndarray
        int64 ``(m,)`` availability times (UTC ms), ascending.
    values : numpy.ndarray
        float64 ``(m,)``.
    max_age_ms : int
        Staleness bound (ms, ``> 0``): a value ``max_age_ms`` or more older is not used.

    Returns
    -------
    numpy.ndarray
        float64 ``(n,)``.
    """
    out = np.full(len(at_ms), np.nan)
    if len(avail_ms) == 0:
        return out
    idx = np.searchsorted(avail_ms, at_ms, side="right") - 1
    safe = np.maximum(idx, 0)
    ok = (idx >= 0) & (at_ms - avail_ms[safe] < max_age_ms)
    out[ok] = np.asarray(values, dtype=np.float64)[safe[ok]]
    return out


@dataclass(frozen=True)
class Candles:
    """Candles on one timeframe: ``open_time`` int64 UTC ms ``(n,)`` (ascending, on the
    grid), ``bar_ms`` the timeframe (ms) and ``ohlcv`` float64 arrays ``(n,)``."""

    open_time: np.ndarray
    bar_ms: int
    ohlcv: Mapping[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.open_time)

    def rows(self, start: int, end: int) -> Candles:
        """Candles ``[start, end)``."""
        return Candles(self.open_time[start:end], self.bar_ms, {k: v[start:end] for k, v in self.ohlcv.items()})

    def closed_by(self, t_ms: int) -> Candles:
        """The candles that closed at or before ``t_ms`` (UTC ms)."""
        return self.rows(0, int(np.searchsorted(self.open_time + self.bar_ms, t_ms, side="right")))


@dataclass(frozen=True)
class Events:
    """Timestamped values (funding settlements, open interest): ``time_ms`` int64 ``(m,)``
    ascending, ``values`` float64 ``(m,)``."""

    time_ms: np.ndarray
    values: np.ndarray

    def upto(self, t_ms: int) -> Events:
        """The events stamped at or before ``t_ms``."""
        k = int(np.searchsorted(self.time_ms, t_ms, side="right"))
        return Events(self.time_ms[:k], self.values[:k])


def resample(c: Candles, htf_ms: int) -> Candles:
    """Complete higher-timeframe candles of ``c`` (UTC-aligned buckets of ``htf_ms``).

    A bucket is kept only when all ``htf_ms / c.bar_ms`` of its bars are present: open of
    the first, max high, min low, close of the last, summed volume.

    Raises
    ------
    ValueError
        If ``htf_ms`` is not a whole multiple of ``c.bar_ms`` larger than it.
    """
    if htf_ms <= c.bar_ms or htf_ms % c.bar_ms:
        raise ValueError(f"a higher timeframe of {htf_ms} ms is not a multiple of the {c.bar_ms} ms bars")
    if len(c) == 0:
        return Candles(np.zeros(0, np.int64), htf_ms, {k: np.zeros(0) for k in OHLCV})
    bucket = c.open_time // htf_ms
    keys, first, counts = np.unique(bucket, return_index=True, return_counts=True)
    last = first + counts - 1
    o = {k: np.asarray(c.ohlcv[k], dtype=np.float64) for k in OHLCV}
    full = {"open": o["open"][first], "high": np.maximum.reduceat(o["high"], first),
            "low": np.minimum.reduceat(o["low"], first), "close": o["close"][last],
            "volume": np.add.reduceat(o["volume"], first)}
    keep = counts == htf_ms // c.bar_ms
    return Candles((keys * htf_ms)[keep].astype(np.int64), htf_ms, {k: v[keep] for k, v in full.items()})


@dataclass(frozen=True)
class MarketSample:
    """Raw sources behind one coin's bars on one timeframe.

    Attributes
    ----------
    candles : Candles
        The coin's candles on the strategy's timeframe: ``first`` bars of history (read
        for the higher timeframes) then the visible bars.
    first : int
        Index of the first visible bar in ``candles``.
    funding, open_interest : Events or None
        Settlements / stamps (None: the store holds none).
    btc : Candles or None
        BTC's candles on the same timeframe (None: none stored).
    """

    candles: Candles
    first: int = 0
    funding: Events | None = None
    open_interest: Events | None = None
    btc: Candles | None = field(default=None)

    @property
    def n_bars(self) -> int:
        """Visible bars."""
        return len(self.candles) - self.first

    def window(self, start: int, end: int, history_ms: int | None = None) -> MarketSample:
        """The sample on visible bars ``[start, end)`` as it stood at the close of bar
        ``end - 1``: every source cut to what was available then (earlier history kept;
        with ``history_ms``, only the candles opened at most that long before bar
        ``start``, e.g. :func:`lookback_ms`, which leaves :func:`build_data` unchanged).

        Raises
        ------
        ValueError
            If not ``0 <= start < end <= n_bars``.
        """
        if not 0 <= start < end <= self.n_bars:
            raise ValueError(f"window [{start}, {end}) is not inside the {self.n_bars} bars")
        c, lo = self.candles, 0
        if history_ms is not None:
            lo = int(np.searchsorted(c.open_time, int(c.open_time[self.first + start]) - history_ms))
        t = int(c.open_time[self.first + end - 1]) + c.bar_ms
        return MarketSample(c.rows(lo, self.first + end), self.first + start - lo,
                            self.funding.upto(t) if self.funding is not None else None,
                            self.open_interest.upto(t) if self.open_interest is not None else None,
                            self.btc.closed_by(t) if self.btc is not None else None)


def build_data(sample: MarketSample, inputs: Sequence[str]) -> dict[str, np.ndarray]:
    """``data`` for ``Strategy.signals``: OHLCV of the visible bars plus the declared inputs.

    Parameters
    ----------
    sample : MarketSample
    inputs : sequence of str
        Checked declarations (:func:`parse_inputs`).

    Returns
    -------
    dict of str -> numpy.ndarray
        OHLCV float64 and :func:`data_keys` arrays, shape ``(n_bars,)`` each.

    Raises
    ------
    ValueError
        For a higher timeframe that is not a multiple of the bars' timeframe.
    """
    c, f = sample.candles, sample.first
    bars = c.rows(f, len(c))
    data = {k: np.asarray(bars.ohlcv[k], dtype=np.float64) for k in OHLCV}
    close_ms = bars.open_time.astype(np.int64) + c.bar_ms
    for item in inputs:
        if item == "open_time":
            data["open_time"] = bars.open_time.astype(np.int64)
        elif item in ("funding", "open_interest"):
            ev = sample.funding if item == "funding" else sample.open_interest
            age = FUNDING_MAX_AGE_MS if item == "funding" else OI_MAX_AGE_MS
            data[item] = asof(close_ms, ev.time_ms, ev.values, age) if ev is not None else np.full(len(bars), np.nan)
        elif item == "btc":
            data.update(_aligned(sample.btc, close_ms, BTC_KEYS, BTC_MAX_AGE_MS))
        else:
            htf = resample(c, Timeframe.parse(item[4:]).ms)
            data.update(_aligned(htf, close_ms, htf_keys(item[4:]), htf.bar_ms))
    return data


def _aligned(src: Candles | None, close_ms: np.ndarray, keys: tuple[str, ...], max_age: int) -> dict[str, np.ndarray]:
    if src is None:
        return {k: np.full(len(close_ms), np.nan) for k in keys}
    avail = src.open_time.astype(np.int64) + src.bar_ms
    return {key: asof(close_ms, avail, src.ohlcv[name], max_age) for key, name in zip(keys, OHLCV, strict=True)}
