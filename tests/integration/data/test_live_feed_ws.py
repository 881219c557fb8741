"""The websocket live feed through the REAL ccxt pro client against the local fake Binance.

REST (history, backfills) and the kline websocket both run on 127.0.0.1; market time is driven
by the test (each ``tick`` pushes one bar per stream and moves the store's clock past its close).
Faults: a dropped websocket, a maintenance gap (REST has the candles, or the venue lacks them
too), a silent stream, candles closed only by the next one (no final flag).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sixbtc.adapters.exchanges.ccxt_klines import MAX_BACKOFF_S, CcxtKlineStream, backoff_delay
from sixbtc.adapters.exchanges.ccxt_market import CcxtMarketData
from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.core.clock import SimClock
from sixbtc.data.live_feed import StreamingCandleFeed
from sixbtc.testing.fake_binance import FakeBinance
from sixbtc.testing.fake_binance_ws import FakeKlineServer

HOUR_MS = 3_600_000
START = pd.Timestamp("2024-01-01", tz="UTC")
N_BARS, LIVE_FROM = 300, 200  # the store holds bars [0, 200); the websocket pushes from bar 200
START_MS = int(START.value // 1_000_000)
SYMBOLS = ("BTC", "ETH")


def _frame(shift: float) -> pd.DataFrame:
    ts = pd.date_range(START, periods=N_BARS, freq="h")
    close = 100.0 + shift + np.sin(np.arange(N_BARS) / 10.0)
    return pd.DataFrame({"timestamp": ts, "open": close, "high": close + 1, "low": close - 1, "close": close,
                         "volume": 1.0 + np.arange(N_BARS) % 5})


FRAMES = {(s, "1h"): _frame(float(i)) for i, s in enumerate(SYMBOLS)}


class World:
    """Fake venue + websocket + store + feed, with the market clock."""

    def __init__(self, tmp: Path, final_flags: bool = True, grace_s: float = 5.0) -> None:
        self.venue = FakeBinance(now_ms=START_MS + N_BARS * HOUR_MS, frames=FRAMES).start()
        self.ws = FakeKlineServer(self.venue, start_ms=START_MS + LIVE_FROM * HOUR_MS, final_flags=final_flags).start()
        self.clock = SimClock((START + pd.Timedelta(hours=LIVE_FROM, seconds=1)).to_pydatetime())
        self.store = ParquetCandleStore(tmp / "store", clock=self.clock)
        for key, frame in FRAMES.items():
            self.store.write_candles(*key, frame.iloc[:LIVE_FROM])
        self.rest = CcxtMarketData(exchange=self.venue.ccxt_exchange(), backoff_s=0.01,
                                   now_ms=lambda: int(self.clock.now().timestamp() * 1000))
        self.source = CcxtKlineStream(api_url=self.venue.url, ws_url=self.ws.ws_url, stagger_s=0.02, backoff_s=0.05)
        self.alarms: list[tuple[str, str, float]] = []
        self.recovered: list[tuple[str, str]] = []
        self.feed = StreamingCandleFeed(self.source, self.store, self.rest, self.clock, stale_grace_s=grace_s,
                                        on_stale=lambda s, t, o: self.alarms.append((s, t, o)),
                                        on_recovered=lambda s, t: self.recovered.append((s, t)), flush_delay_s=0.01,
                                        check_every_s=3600)  # staleness is checked by the tests
        self.bar = LIVE_FROM  # bars pushed so far end before this index

    def connect(self) -> None:
        self.feed.start()
        self.feed.subscribe([(s, "1h") for s in SYMBOLS])
        self.ws.wait_subscribed(len(SYMBOLS))

    def tick(self, bars: int = 1) -> None:
        """Push ``bars`` bars of every stream (the clock moves past their close first)."""
        self.bar += bars
        self.clock.advance_to((START + pd.Timedelta(hours=self.bar, seconds=1)).to_pydatetime())
        self.ws.advance(bars)

    def wait(self, cond: Callable[[], bool], timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not cond():
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.01)

    def close(self) -> None:
        self.feed.close()
        self.ws.stop()
        self.venue.stop()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


def _stored(w: World, symbol: str) -> pd.DataFrame:
    return w.store.read_candles(symbol, "1h")


def _assert_equal_to_venue(w: World, symbol: str, upto: int) -> None:
    stored, expected = _stored(w, symbol), FRAMES[(symbol, "1h")].iloc[:upto]
    assert len(stored) == upto, f"{symbol}: {len(stored)} stored, {upto} expected"
    assert (stored["timestamp"].to_numpy() == expected["timestamp"].to_numpy()).all()
    for col in ("open", "high", "low", "close", "volume"):
        assert np.allclose(stored[col], expected[col]), col


def _klines(w: World) -> int:
    return sum(1 for path, _ in w.venue.requests if path == "/fapi/v1/klines")


def test_closed_candles_are_buffered_validated_and_flushed_and_forming_ones_never(world: World) -> None:
    world.connect()
    world.tick(3)
    world.wait(lambda: world.feed.stats().closed == 3 * len(SYMBOLS))
    world.feed.flush()  # what the background flusher has not stored yet
    assert world.feed.stats().stored == 3 * len(SYMBOLS)
    for sym in SYMBOLS:
        _assert_equal_to_venue(world, sym, LIVE_FROM + 3)  # the final values, not the forming (open-only) ones
    assert world.feed.stats().rejected == 0 and world.feed.stats().backfilled == 0
    assert all(0 <= ms < 5_000 for ms in world.feed.latency_ms)


def test_without_final_flags_a_candle_closes_when_the_next_one_starts(tmp_path: Path) -> None:
    w = World(tmp_path, final_flags=False)
    try:
        w.connect()
        w.tick(3)
        w.wait(lambda: w.feed.stats().closed == 2 * len(SYMBOLS))
        w.feed.flush()
        for sym in SYMBOLS:
            _assert_equal_to_venue(w, sym, LIVE_FROM + 2)  # bar 202 is still forming
    finally:
        w.close()


def test_a_dropped_websocket_reconnects_with_back_off_and_the_missed_candles_are_backfilled(world: World) -> None:
    world.source.backoff_s = 0.3  # the bars below close before the reconnect
    world.connect()
    world.tick(2)
    world.wait(lambda: world.feed.stats().closed == 2 * len(SYMBOLS))
    world.ws.drop()
    world.tick(3)  # closed while nobody is connected: never pushed
    world.wait(lambda: world.ws.connections_total >= 2 and len(world.ws.subscribed()) == len(SYMBOLS))
    world.tick(1)
    world.wait(lambda: world.feed.stats().closed == 3 * len(SYMBOLS))
    world.feed.flush()
    for sym in SYMBOLS:
        _assert_equal_to_venue(world, sym, LIVE_FROM + 6)
    assert world.feed.stats().reconnects >= 1 and world.feed.stats().backfilled == 3 * len(SYMBOLS)
    assert world.source.waits and world.source.waits[0] == pytest.approx(0.3)


def test_a_maintenance_gap_is_backfilled_over_rest_or_recorded_as_known_when_the_venue_lacks_it(world: World) -> None:
    world.connect()
    world.tick(1)
    world.ws.skip("BTC", "1h", 3)  # BTC bars 201-203 are not pushed; REST has them
    world.ws.skip("ETH", "1h", 3)
    lo, hi = START_MS + 201 * HOUR_MS, START_MS + 204 * HOUR_MS
    world.venue.gaps[("ETH", "1h")] = [(lo, hi)]  # ... ETH's are missing at the venue too
    world.bar += 3
    world.tick(1)  # pushes bar 204 of both
    world.wait(lambda: world.feed.stats().closed == 2 * len(SYMBOLS))
    world.feed.flush()
    _assert_equal_to_venue(world, "BTC", LIVE_FROM + 5)
    eth = _stored(world, "ETH")
    assert len(eth) == LIVE_FROM + 2 and eth["timestamp"].iloc[-1] == START + pd.Timedelta(hours=204)
    assert world.store.known_gaps("ETH", "1h") == [(pd.Timestamp(lo, unit="ms", tz="UTC"),
                                                   pd.Timestamp(hi, unit="ms", tz="UTC"))]
    asked = _klines(world)
    world.tick(1)
    world.wait(lambda: world.feed.stats().closed == 3 * len(SYMBOLS))
    world.feed.flush()
    assert _klines(world) == asked  # the known gap is not asked for again
    assert len(_stored(world, "ETH")) == LIVE_FROM + 3


def test_a_silent_stream_raises_the_staleness_alarm_once_is_polled_over_rest_and_recovers(world: World) -> None:
    world.connect()
    world.tick(1)
    world.wait(lambda: world.feed.stats().closed == len(SYMBOLS))
    world.ws.silence("ETH", "1h")
    world.tick(3)
    world.wait(lambda: world.feed.stats().closed == len(SYMBOLS) + 3)  # BTC only
    world.feed.flush()
    assert world.feed.check_stale() == [("ETH", "1h")]
    assert [a[:2] for a in world.alarms] == [("ETH", "1h")] and world.alarms[0][2] > 0
    _assert_equal_to_venue(world, "ETH", LIVE_FROM + 4)  # the REST poll kept the store fresh
    world.clock.advance_to(world.clock.now() + timedelta(minutes=1))
    assert world.feed.check_stale() == [("ETH", "1h")] and len(world.alarms) == 1  # one alarm per episode
    world.ws.silent.clear()
    world.tick(1)
    world.wait(lambda: world.feed.stats().closed == len(SYMBOLS) + 5)
    world.feed.flush()
    assert world.feed.check_stale() == [] and world.recovered == [("ETH", "1h")]
    _assert_equal_to_venue(world, "ETH", LIVE_FROM + 5)


def test_subscriptions_are_sent_in_staggered_batches(world: World) -> None:
    world.source.batch_size, world.source.stagger_s = 1, 0.15
    world.connect()
    sent = world.ws.subscribe_log
    assert [names for _, names in sent] == [["btcusdt@kline_1h"], ["ethusdt@kline_1h"]]
    assert sent[1][0] - sent[0][0] >= 0.1


def test_a_new_stream_catches_up_over_rest_before_it_subscribes(world: World) -> None:
    world.clock.advance_to((START + pd.Timedelta(hours=LIVE_FROM + 4, seconds=1)).to_pydatetime())
    world.connect()  # bars 200-203 closed while the feed was not running
    for sym in SYMBOLS:
        _assert_equal_to_venue(world, sym, LIVE_FROM + 4)


def test_a_connection_without_any_update_is_failed_and_reconnected(world: World) -> None:
    world.source.idle_timeout_s = 0.3  # a half-open connection: nothing arrives at all
    world.connect()
    world.wait(lambda: world.ws.connections_total >= 2 and len(world.ws.subscribed()) == len(SYMBOLS))
    assert world.feed.stats().reconnects >= 1 and world.source.waits


def test_reconnect_back_off_doubles_up_to_sixty_seconds() -> None:
    assert [backoff_delay(1.0, a) for a in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff_delay(0.5, 1000) == MAX_BACKOFF_S
