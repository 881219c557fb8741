"""Read the raw sources of the declared strategy inputs from a candle store.

One loader for the backtester (:func:`sixbtc.backtester.coinset.load_series`), the paper
executor (:mod:`sixbtc.app.paper`) and the validator's real samples, so all of them align
the same data the same way (:func:`sixbtc.strategy.inputs.build_data`). It reads, besides
the coin's candles on the strategy's timeframe, :func:`~sixbtc.strategy.inputs.lookback_ms`
of history before the first bar: candles for the higher timeframes, funding settlements,
BTC candles (the staleness bounds of :mod:`sixbtc.strategy.inputs`), so the inputs at the
first bar equal their value on any longer history.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from sixbtc.core.errors import DataError
from sixbtc.domain.timeframe import Timeframe
from sixbtc.strategy.inputs import OHLCV, Candles, Events, MarketSample, lookback_ms

#: The market-context coin of the ``btc`` input.
BTC_SYMBOL = "BTC"


class StoreReader(Protocol):
    """Read access to the candle store (``sixbtc.data.ports.CandleStore``). A store that
    also has ``read_open_interest(symbol, start, end)`` (frame ``timestamp``, ``value``)
    feeds the ``open_interest`` input; without it that input is NaN."""

    def read_candles(self, symbol: str, timeframe: str, start: pd.Timestamp | None = None,
                     end: pd.Timestamp | None = None) -> pd.DataFrame: ...

    def read_funding(self, symbol: str, start: pd.Timestamp | None = None,
                     end: pd.Timestamp | None = None) -> pd.DataFrame: ...


def _ms(ts: Any) -> np.ndarray:
    return pd.DatetimeIndex(ts).as_unit("ms").asi8.astype(np.int64)


def frame_candles(df: pd.DataFrame, bar_ms: int) -> Candles:
    """A candle frame (``timestamp`` + OHLCV) as :class:`~sixbtc.strategy.inputs.Candles`."""
    return Candles(_ms(df["timestamp"]), bar_ms, {k: df[k].to_numpy(np.float64) for k in OHLCV})


def _events(df: pd.DataFrame, column: str) -> Events:
    return Events(_ms(df["timestamp"]), df[column].to_numpy(np.float64))


def load_market(reader: StoreReader, symbol: str, timeframe: str, start: pd.Timestamp, end: pd.Timestamp,
                inputs: Sequence[str], frame: pd.DataFrame | None = None) -> MarketSample:
    """The raw sources of ``inputs`` for ``symbol``'s bars opened in ``[start, end)``.

    Parameters
    ----------
    reader : StoreReader
    symbol, timeframe : str
    start, end : pandas.Timestamp
        UTC bounds of the visible bars' open times.
    inputs : sequence of str
        Checked declarations (:func:`sixbtc.strategy.inputs.parse_inputs`).
    frame : pandas.DataFrame, optional
        The visible bars when the caller has read them already (else read here).

    Returns
    -------
    MarketSample
        BTC candles are None when the store holds none for ``timeframe`` (the ``btc_*``
        inputs are then NaN); the funding events are empty when none are stored.

    Raises
    ------
    DataError
        From the reader, for the coin's own unreadable series.
    """
    tf = Timeframe.parse(timeframe)
    back = pd.Timedelta(milliseconds=lookback_ms(inputs))
    bars = frame if frame is not None else reader.read_candles(symbol, tf.value, start, end)
    history = reader.read_candles(symbol, tf.value, start - back, start) if back > pd.Timedelta(0) else bars[:0]
    candles = frame_candles(pd.concat([history, bars], ignore_index=True), tf.ms)
    market = MarketSample(candles, first=len(history))
    funding = oi = btc = None
    if "funding" in inputs:
        funding = _events(reader.read_funding(symbol, start - back, end), "rate")
    if "open_interest" in inputs and callable(read_oi := getattr(reader, "read_open_interest", None)):
        oi = _events(read_oi(symbol, start - back, end), "value")
    if "btc" in inputs:
        btc = _btc(reader, symbol, tf, candles, start - back, end)
    return MarketSample(market.candles, market.first, funding, oi, btc)


def _btc(reader: StoreReader, symbol: str, tf: Timeframe, own: Candles, start: pd.Timestamp,
         end: pd.Timestamp) -> Candles | None:
    if symbol == BTC_SYMBOL:
        return own
    try:
        return frame_candles(reader.read_candles(BTC_SYMBOL, tf.value, start, end), tf.ms)
    except DataError:  # no BTC series stored on this timeframe: the btc_* inputs are NaN
        return None
