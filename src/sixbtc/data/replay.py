"""Replay feed: closed candles from the candle store, in time order (SPEC §3.1 "Replay feed").

It has the interface of the live feed (:class:`sixbtc.data.ports.CandleFeed`), so paper
trading, rotation and monitoring can run on historical data. A candle is delivered at its
close time (open time + timeframe), never before: candles are ordered by close time, then
symbol, then timeframe length.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd

from sixbtc.core.errors import DataError
from sixbtc.data.ports import CandleStore, ClosedCandle
from sixbtc.domain.timeframe import Timeframe


def _utc(ts: pd.Timestamp, name: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(ts)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} is not a timestamp: {ts!r}") from exc
    if pd.isna(stamp):
        raise DataError(f"{name} is missing (NaT)")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


class ReplayFeed:
    """Closed candles of several streams replayed from a store, in time order.

    Parameters
    ----------
    store : CandleStore
        Source of candles.
    streams : list[tuple[str, str]]
        ``(symbol, timeframe)`` pairs, e.g. ``[("BTC", "1h"), ("ETH", "15m")]``.
    start, end : pandas.Timestamp
        Replay window (naive = UTC): candles with open time >= ``start`` and close time
        <= ``end`` are delivered.
    speed : float or None
        None (default) replays as fast as possible; otherwise market time runs ``speed``
        times faster than wall time (``sleep`` is called between distinct close times).
    sleep : callable
        Sleep function in seconds (injectable for tests).

    Raises
    ------
    DataError
        Empty or duplicated ``streams``, unknown timeframe, ``start >= end``,
        ``speed <= 0``, or a stream with no stored candles.
    """

    def __init__(
        self,
        store: CandleStore,
        streams: list[tuple[str, str]],
        start: pd.Timestamp,
        end: pd.Timestamp,
        *,
        speed: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not streams:
            raise DataError("ReplayFeed needs at least one (symbol, timeframe) stream")
        self.start, self.end = _utc(start, "start"), _utc(end, "end")
        if self.start >= self.end:
            raise DataError(f"replay start {self.start} must be before end {self.end}")
        if speed is not None and speed <= 0:
            raise DataError(f"replay speed must be > 0, got {speed}")
        self.streams = [(symbol, _timeframe(tf).value) for symbol, tf in streams]
        if len(set(self.streams)) != len(self.streams):
            raise DataError(f"duplicate replay streams in {streams}")
        self._store, self._speed, self._sleep = store, speed, sleep
        self._frames = {key: store.read_candles(*key) for key in self.streams}

    def __iter__(self) -> Iterator[ClosedCandle]:
        """Yield :class:`ClosedCandle` ordered by close time, then symbol, then timeframe."""
        keys, rows, close_ns = [], [], []
        for k, (symbol, tf) in enumerate(self.streams):
            frame = self._frames[(symbol, tf)]
            tf_ns = Timeframe(tf).ms * 1_000_000
            opens = frame["timestamp"].to_numpy(dtype="datetime64[ns]").astype("int64")
            closes = opens + tf_ns
            inside = np.flatnonzero((opens >= self.start.value) & (closes <= self.end.value))
            keys.append(np.full(len(inside), k))
            rows.append(inside)
            close_ns.append(closes[inside])
        stream_idx, row_idx, closes = (np.concatenate(a) for a in (keys, rows, close_ns))
        symbol_rank = np.array(
            [sorted(s for s, _ in self.streams).index(s) for s, _ in self.streams]
        )
        tf_ms = np.array([Timeframe(tf).ms for _, tf in self.streams])
        order = np.lexsort((tf_ms[stream_idx], symbol_rank[stream_idx], closes))
        previous_close: int | None = None
        for i in order:
            close = int(closes[i])
            if self._speed is not None and previous_close is not None and close > previous_close:
                self._sleep((close - previous_close) / 1e9 / self._speed)
            previous_close = close
            yield self._candle(self.streams[stream_idx[i]], int(row_idx[i]))

    def _candle(self, key: tuple[str, str], row: int) -> ClosedCandle:
        frame = self._frames[key]
        ts = frame["timestamp"].iloc[row]
        values = frame.iloc[row]
        return ClosedCandle(
            symbol=key[0],
            timeframe=key[1],
            ts=ts,
            close_ts=ts + pd.Timedelta(milliseconds=Timeframe(key[1]).ms),
            open=float(values["open"]),
            high=float(values["high"]),
            low=float(values["low"]),
            close=float(values["close"]),
            volume=float(values["volume"]),
        )

    def history(
        self, symbol: str, timeframe: str, upto_close_ts: pd.Timestamp, bars: int
    ) -> pd.DataFrame:
        """The last ``bars`` candles closed at or before ``upto_close_ts``.

        Parameters
        ----------
        symbol, timeframe : str
            Series; need not be one of the replayed streams (read from the store).
        upto_close_ts : pandas.Timestamp
            Close-time bound, inclusive (naive = UTC). History before ``start`` is included
            (warm-up for indicators).
        bars : int
            Maximum number of candles (> 0).

        Returns
        -------
        pandas.DataFrame
            Shape ``(<= bars, 6)``, candle frame contract, ascending.

        Raises
        ------
        DataError
            If ``bars <= 0``, the timeframe is unknown or nothing is stored for the series.
        """
        if bars <= 0:
            raise DataError(f"bars must be > 0, got {bars}")
        tf = _timeframe(timeframe)
        key = (symbol, tf.value)
        if key not in self._frames:
            self._frames[key] = self._store.read_candles(*key)
        frame = self._frames[key]
        last_open = _utc(upto_close_ts, "upto_close_ts") - pd.Timedelta(milliseconds=tf.ms)
        stop = int(frame["timestamp"].searchsorted(last_open, side="right"))
        return frame.iloc[max(0, stop - bars) : stop].reset_index(drop=True)


def _timeframe(value: str) -> Timeframe:
    try:
        return Timeframe.parse(str(value))
    except ValueError as exc:
        raise DataError(str(exc)) from None
