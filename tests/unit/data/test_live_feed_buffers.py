"""StreamingCandleFeed intake rules with a recording kline source (the port's test double):
bounded buffers, closed-candle detection, duplicates, validation, the CandleFeed interface."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.core.clock import SimClock
from sixbtc.data.live_feed import BUFFER_SIZE, StreamingCandleFeed
from sixbtc.data.ports import CandleFeed, KlineSource, KlineUpdate

START = pd.Timestamp("2024-01-01", tz="UTC")
H = 3_600_000
T0 = int(START.value // 1_000_000)


class RecordingSource:
    """A KlineSource that pushes nothing by itself; records subscriptions."""

    def __init__(self) -> None:
        self.subscribed: list[tuple[str, str]] = []
        self.closed = False

    def start(self, sink: Callable[[KlineUpdate], None], on_state: Callable[[str, str], None]) -> None:
        self.sink = sink

    def subscribe(self, streams: list[tuple[str, str]]) -> None:
        self.subscribed += streams

    def close(self) -> None:
        self.closed = True


class EmptyRest:
    """A venue whose REST answers hold no candle (records the reads)."""

    def __init__(self) -> None:
        self.reads: list[tuple] = []

    def fetch_ohlcv(self, *args: object) -> pd.DataFrame:
        self.reads.append(args)
        return pd.DataFrame(columns=["timestamp", "open", "high", "low", "close", "volume"])


def _k(i: int, closed: bool = True, price: float = 100.0, high: float | None = None) -> KlineUpdate:
    return KlineUpdate("BTC", "1h", T0 + i * H, price, price + 1 if high is None else high, price - 1, price, 2.0,
                       closed, 0)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[StreamingCandleFeed, ParquetCandleStore, SimClock]:
    clock = SimClock((START + pd.Timedelta(hours=2000)).to_pydatetime())
    store = ParquetCandleStore(tmp_path, clock=clock)
    ts = pd.date_range(START, periods=10, freq="h")
    store.write_candles("BTC", "1h", pd.DataFrame({"timestamp": ts, "open": 100.0, "high": 101.0, "low": 99.0,
                                                   "close": 100.0, "volume": 1.0}))
    source = RecordingSource()
    assert isinstance(source, KlineSource)
    feed = StreamingCandleFeed(source, store, EmptyRest(), clock, check_every_s=3600)  # type: ignore[arg-type]
    feed.source.start(feed.on_kline, lambda *_: None)
    return feed, store, clock


def test_only_streams_with_stored_history_are_subscribed_after_a_rest_catch_up(setup) -> None:
    feed, _, _ = setup
    assert feed.subscribe([("BTC", "1h"), ("ETH", "1h")]) == [("BTC", "1h")]
    assert feed.source.subscribed == [("BTC", "1h")]
    assert feed.rest.reads == [("BTC", "1h", T0 + 9 * H + 1, T0 + 2000 * H)]  # since the last stored candle
    assert feed.subscribe([("BTC", "1h")]) == []
    assert isinstance(feed, CandleFeed)  # the interface of the replay feed


def test_buffers_are_bounded_and_a_dropped_candle_is_counted(setup) -> None:
    feed, store, _ = setup
    _track(feed, store)
    for i in range(10, 10 + BUFFER_SIZE + 20):
        feed.on_kline(_k(i))
    assert feed.stats().closed == BUFFER_SIZE + 20 and feed.stats().dropped == 20
    assert feed.flush() == BUFFER_SIZE  # the 20 oldest were dropped: a gap the REST backfill is asked for
    assert feed.rest.reads[-1][:2] == ("BTC", "1h")
    assert store.known_gaps("BTC", "1h") == [(START + pd.Timedelta(hours=10), START + pd.Timedelta(hours=30))]


def test_forming_updates_are_not_closed_and_a_repeated_final_is_ignored(setup) -> None:
    feed, store, _ = setup
    _track(feed, store)
    feed.on_kline(_k(10, closed=False, price=50.0))
    feed.on_kline(_k(10, closed=False, price=100.0))
    assert feed.stats().closed == 0
    feed.on_kline(_k(11, closed=False))  # bar 10's last update (price 100) was final
    feed.on_kline(_k(11, closed=True))
    feed.on_kline(_k(11, closed=True))  # sent again after a reconnect
    assert feed.stats().closed == 2
    assert feed.flush() == 2
    stored = store.read_candles("BTC", "1h")
    assert len(stored) == 12 and stored["close"].iloc[-2] == 100.0


def test_invalid_closed_candles_are_rejected_by_the_store_rules(setup) -> None:
    feed, store, _ = setup
    _track(feed, store)
    feed.on_kline(_k(10, high=50.0))  # high < max(open, close)
    feed.on_kline(_k(11, price=float("inf")))
    assert feed.flush() == 0
    assert feed.stats().rejected == 2 and len(store.read_candles("BTC", "1h")) == 10


def test_iteration_yields_flushed_candles_until_close(setup) -> None:
    feed, store, _ = setup
    _track(feed, store)
    got: list = []
    reader = threading.Thread(target=lambda: got.extend(feed))
    reader.start()
    while feed._out is None:  # the reader is waiting
        time.sleep(0.001)
    feed.on_kline(_k(10, price=120.0))
    feed.flush()
    feed.close()
    reader.join(5)
    assert [(c.symbol, c.ts, c.close) for c in got] == [("BTC", START + pd.Timedelta(hours=10), 120.0)]
    assert got[0].close_ts == START + pd.Timedelta(hours=11)
    hist = feed.history("BTC", "1h", START + pd.Timedelta(hours=11), 3)
    assert list(hist["timestamp"]) == list(pd.date_range(START + pd.Timedelta(hours=8), periods=3, freq="h"))
    assert np.isclose(hist["close"].iloc[-1], 120.0)


def _track(feed: StreamingCandleFeed, store: ParquetCandleStore) -> None:
    assert feed.subscribe([("BTC", "1h")]) == [("BTC", "1h")]
