"""What the empirical tests feed a strategy: the full sample, a truncated one, a window of
it, one with the bars after a cut permuted, covering every declared input.

A :class:`SampleView` hides whether a strategy reads OHLCV only (a plain dict of arrays:
truncation and windows are slices) or declares extra inputs (:mod:`sixbtc.strategy.inputs`):
then the sample is a :class:`~sixbtc.strategy.inputs.MarketSample` (raw candles, funding
settlements, BTC candles) and every truncated or windowed series is **re-aligned from the
raw sources as they stood at the close of the last kept bar**
(:meth:`~sixbtc.strategy.inputs.MarketSample.window`), not sliced from the full-history
alignment: an alignment that shows a higher-timeframe candle before it closed (or a funding
rate before it settled) gives other values on the truncated sample, and the truncation test
sees it. The shuffle test permutes the bars after the cut and, with the same permutation,
every extra input but the clock (:func:`sixbtc.strategy.permutation.permute_data`).

A plain dict given for a strategy with extra inputs gets a synthetic market
(:func:`synthetic_market`): a UTC clock, funding settlements every 8 h and a BTC walk, all
seeded, so strategies reading them meet data of the right kind everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sixbtc.domain.timeframe import Timeframe
from sixbtc.strategy.contract import OHLCV_KEYS
from sixbtc.strategy.inputs import Candles, Events, MarketSample, build_data
from sixbtc.strategy.permutation import permute_data
from sixbtc.validator.sample import synthetic_sample

#: First bar of the synthetic clock: 2021-01-04 00:00 UTC (a Monday), in ms.
SYNTHETIC_T0_MS = 1_609_718_400_000
HOUR_MS = 3_600_000


def synthetic_market(data: dict[str, np.ndarray], bar_ms: int = HOUR_MS, seed: int = 0) -> MarketSample:
    """A :class:`MarketSample` around OHLCV arrays that carry no clock of their own.

    Parameters
    ----------
    data : dict of str -> numpy.ndarray
        OHLCV float64 ``(n_bars,)``.
    bar_ms : int
        Bar length (ms) of the synthetic clock (from :data:`SYNTHETIC_T0_MS`).
    seed : int
        Seed of the funding and BTC series.

    Returns
    -------
    MarketSample
        Funding settles every 8 h, rates AR(1) around 1e-4 (sd about 3e-4, fractions);
        BTC is a 1h-like geometric walk from 30,000 on the same grid.
    """
    n = len(data["close"])
    open_time = SYNTHETIC_T0_MS + bar_ms * np.arange(n, dtype=np.int64)
    bars = Candles(open_time, bar_ms, {k: np.asarray(data[k], dtype=np.float64) for k in OHLCV_KEYS})
    rng = np.random.default_rng([seed, n])
    n_fund = int(n * bar_ms // (8 * HOUR_MS)) + 1
    shocks = rng.normal(0.0, 2.5e-4, n_fund)
    rates = np.empty(n_fund)
    level = 1e-4
    for i, shock in enumerate(shocks):
        level = 1e-4 + 0.7 * (level - 1e-4) + shock
        rates[i] = level
    funding = Events(SYNTHETIC_T0_MS + 8 * HOUR_MS * np.arange(n_fund, dtype=np.int64), rates)
    btc = synthetic_sample(max(n, 2), int(rng.integers(1 << 31)))
    return MarketSample(bars, funding=funding, btc=Candles(open_time, bar_ms, {k: v[:n] for k, v in btc.items()}))


class SampleView:
    """The data of one validation sample for a strategy's declared ``inputs``.

    Parameters
    ----------
    sample : dict of str -> numpy.ndarray or MarketSample
        OHLCV arrays, or raw sources (required to re-align extra inputs).
    inputs : sequence of str
        The strategy's declared extra inputs (``()``: OHLCV only, a dict is sliced).
    """

    def __init__(self, sample: dict[str, np.ndarray] | MarketSample, inputs: Sequence[str] = ()) -> None:
        self.inputs = tuple(inputs)
        if isinstance(sample, MarketSample):
            self.market: MarketSample | None = sample
            self._full = build_data(sample, self.inputs)
        else:
            self.market = synthetic_market(sample) if self.inputs else None
            self._full = build_data(self.market, self.inputs) if self.market is not None else {
                k: np.asarray(sample[k], dtype=np.float64) for k in OHLCV_KEYS}

    @property
    def n_bars(self) -> int:
        """Bars of the sample."""
        return len(self._full["close"])

    def full(self) -> dict[str, np.ndarray]:
        """The whole sample's ``data``."""
        return self._full

    def window(self, start: int, end: int) -> dict[str, np.ndarray]:
        """``data`` of bars ``[start, end)``, extra inputs re-aligned from the raw sources
        available at the close of bar ``end - 1``."""
        if self.market is None:
            return {k: v[start:end] for k, v in self._full.items()}
        return build_data(self.market.window(start, end), self.inputs)

    def shuffled(self, cut: int, seed: int) -> dict[str, np.ndarray]:
        """The sample with bars ``[cut, n)`` permuted (``default_rng(seed)``), OHLCV as bar
        shapes and the extra inputs (not ``open_time``) by the same permutation."""
        return permute_data(self._full, cut, np.random.default_rng(seed))


def fits(sample: dict[str, np.ndarray] | MarketSample, inputs: Sequence[str]) -> bool:
    """True when every higher timeframe of ``inputs`` is a whole multiple, larger, of the
    sample's bars (plain dicts: 1h bars)."""
    bar_ms = sample.candles.bar_ms if isinstance(sample, MarketSample) else HOUR_MS
    for item in inputs:
        if item.startswith("htf:"):
            htf = Timeframe.parse(item[4:]).ms
            if htf <= bar_ms or htf % bar_ms:
                return False
    return True


def view_for(sample: dict[str, np.ndarray] | MarketSample | SampleView, inputs: Sequence[str],
             bar_ms: int = HOUR_MS) -> SampleView:
    """A view of ``sample`` for ``inputs``; a sample whose timeframe does not fit a declared
    higher timeframe (:func:`fits`) is given a synthetic clock of ``bar_ms`` bars instead."""
    if isinstance(sample, SampleView):
        return sample
    if isinstance(sample, MarketSample) and not inputs:
        return SampleView({k: sample.candles.ohlcv[k][sample.first:] for k in OHLCV_KEYS})
    if inputs and not fits(sample, inputs):
        ohlcv = sample if isinstance(sample, dict) else {k: v[sample.first:] for k, v in sample.candles.ohlcv.items()}
        return SampleView(synthetic_market(ohlcv, bar_ms), inputs)
    return SampleView(sample, inputs)
