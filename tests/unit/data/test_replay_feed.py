"""ReplayFeed: closed candles in close-time order across streams; causal history()."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.core.errors import DataError
from sixbtc.data.ports import CandleFeed
from sixbtc.data.replay import ReplayFeed

T0 = pd.Timestamp("2024-01-01", tz="UTC")
HOUR = pd.Timedelta(hours=1)


def candles(n: int, step: pd.Timedelta, level: float) -> pd.DataFrame:
    close = level + np.arange(n, dtype=float)
    return pd.DataFrame(
        {
            "timestamp": [T0 + i * step for i in range(n)],
            "open": close,
            "high": close + 1,
            "low": close - 1,
            "close": close,
            "volume": np.ones(n),
        }
    )


@pytest.fixture
def store(tmp_path: Path) -> ParquetCandleStore:
    s = ParquetCandleStore(tmp_path)
    s.write_candles("BTC", "1h", candles(48, HOUR, 100.0))
    s.write_candles("ETH", "1h", candles(48, HOUR, 10.0))
    s.write_candles("BTC", "4h", candles(12, 4 * HOUR, 1000.0))
    return s


def test_is_a_candle_feed(store: ParquetCandleStore) -> None:
    feed = ReplayFeed(store, [("BTC", "1h")], T0, T0 + 2 * HOUR)
    assert isinstance(feed, CandleFeed)


def test_order_by_close_time_then_symbol(store: ParquetCandleStore) -> None:
    feed = ReplayFeed(
        store, [("ETH", "1h"), ("BTC", "4h"), ("BTC", "1h")], T0 + 2 * HOUR, T0 + 10 * HOUR
    )
    got = list(feed)
    keys = [(c.close_ts, c.symbol, c.timeframe) for c in got]
    assert keys == sorted(keys, key=lambda k: (k[0], k[1], pd.Timedelta(k[2])))
    assert all(c.close_ts - c.ts == pd.Timedelta(c.timeframe) for c in got)
    # 1h: opens 02:00..09:00 (8 each); 4h: opens 04:00 (closes 08:00) only
    assert sum(c.timeframe == "1h" for c in got) == 16
    assert [c.ts for c in got if c.timeframe == "4h"] == [T0 + 4 * HOUR]
    first = got[0]
    assert (first.symbol, first.ts, first.close) == ("BTC", T0 + 2 * HOUR, 102.0)
    at_8 = [(c.symbol, c.timeframe) for c in got if c.close_ts == T0 + 8 * HOUR]
    assert at_8 == [("BTC", "1h"), ("BTC", "4h"), ("ETH", "1h")]


def test_history_is_causal_and_includes_warmup(store: ParquetCandleStore) -> None:
    feed = ReplayFeed(store, [("BTC", "1h")], T0 + 24 * HOUR, T0 + 30 * HOUR)
    candle = next(iter(feed))
    hist = feed.history("BTC", "1h", candle.close_ts, bars=5)
    assert list(hist["timestamp"]) == [T0 + (20 + i) * HOUR for i in range(5)]
    assert hist["timestamp"].iloc[-1] == candle.ts
    # a 4h bar that is not closed yet at 25:00 is excluded
    h4 = feed.history("BTC", "4h", T0 + 25 * HOUR, bars=2)
    assert list(h4["timestamp"]) == [T0 + 16 * HOUR, T0 + 20 * HOUR]
    assert len(feed.history("BTC", "1h", T0 + 3 * HOUR, bars=100)) == 3


def test_speed_sleeps_between_close_times(store: ParquetCandleStore) -> None:
    slept: list[float] = []
    feed = ReplayFeed(
        store, [("BTC", "1h"), ("ETH", "1h")], T0, T0 + 3 * HOUR, speed=3600.0, sleep=slept.append
    )
    assert len(list(feed)) == 6
    assert slept == [1.0, 1.0]


def test_bad_arguments(store: ParquetCandleStore) -> None:
    with pytest.raises(DataError, match="at least one"):
        ReplayFeed(store, [], T0, T0 + HOUR)
    with pytest.raises(DataError, match="before"):
        ReplayFeed(store, [("BTC", "1h")], T0 + HOUR, T0)
    with pytest.raises(DataError, match="no candles"):
        ReplayFeed(store, [("SOL", "1h")], T0, T0 + HOUR)
    with pytest.raises(DataError, match="duplicate"):
        ReplayFeed(store, [("BTC", "1h"), ("BTC", "1h")], T0, T0 + HOUR)
    feed = ReplayFeed(store, [("BTC", "1h")], T0, T0 + HOUR)
    with pytest.raises(DataError, match="bars"):
        feed.history("BTC", "1h", T0 + HOUR, bars=0)
