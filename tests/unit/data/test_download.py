"""download(): full, forward and backfill updates with an in-memory fake venue."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.core.errors import DataError, NetworkUnavailable, TransientExchangeError
from sixbtc.data.downloader import download
from sixbtc.data.ports import MarketDataClient

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
NOW_MS = 1_704_067_200_000 + 30 * DAY_MS + HOUR_MS // 2  # 2024-01-31 00:30 UTC


class FakeVenue:
    """In-memory venue: hourly candles from ``listing_ms``; funding every 8 h."""

    def __init__(self, listing_ms: int = 0, broken: frozenset[int] = frozenset(),
                 announces_listing: bool = False) -> None:
        self.listing = listing_ms
        self.announces_listing = announces_listing  # listing_ms() tells the listing date
        self.broken = broken  # open times (ms) served with high < close
        self.calls: list[tuple[str, str, int, int]] = []
        self.fail_with: Exception | None = None

    def fetch_ohlcv(
        self, symbol: str, timeframe: str, since_ms: int, until_ms: int
    ) -> pd.DataFrame:
        self.calls.append((symbol, timeframe, since_ms, until_ms))
        if self.fail_with:
            raise self.fail_with
        step = {"1h": HOUR_MS, "4h": 4 * HOUR_MS}[timeframe]
        first = max(since_ms, self.listing)
        first = -(-first // step) * step
        opens = np.arange(first, min(until_ms, NOW_MS - step + 1), step, dtype="int64")
        close = 100.0 + (opens // step % 50)
        frame = pd.DataFrame(
            {
                "timestamp": pd.to_datetime(opens, unit="ms", utc=True).as_unit("ns"),
                "open": close,
                "high": close + 1,
                "low": close - 1,
                "close": close,
                "volume": np.ones(len(opens)),
            }
        )
        frame.loc[
            frame["timestamp"].isin(pd.to_datetime(list(self.broken), unit="ms", utc=True)), "high"
        ] = 1.0
        return frame

    def fetch_funding_history(self, symbol: str, since_ms: int, until_ms: int) -> pd.DataFrame:
        self.calls.append((symbol, "funding", since_ms, until_ms))
        step = 8 * HOUR_MS
        first = -(-max(since_ms, self.listing) // step) * step
        stamps = np.arange(first, until_ms, step, dtype="int64") + 2  # ms jitter
        return pd.DataFrame(
            {
                "timestamp": pd.to_datetime(stamps, unit="ms", utc=True),
                "rate": np.full(len(stamps), 1e-4),
            }
        )

    def list_symbols(self) -> list[str]:
        return ["BTC"]

    def listing_ms(self, symbol: str) -> int | None:
        return self.listing if self.announces_listing else None


@pytest.fixture
def store(tmp_path: Path) -> ParquetCandleStore:
    return ParquetCandleStore(tmp_path)


def test_fake_implements_port() -> None:
    assert isinstance(FakeVenue(), MarketDataClient)


def test_first_download_fetches_history_days(store: ParquetCandleStore) -> None:
    venue = FakeVenue()
    results = download(venue, store, ["BTC"], ["1h"], history_days=10, now_ms=NOW_MS)
    candles, funding = results
    assert (candles.mode, candles.stored, candles.rejected) == ("full", 240, 0)
    stored = store.read_candles("BTC", "1h")
    assert stored["timestamp"].iloc[0] == pd.Timestamp(
        NOW_MS - 10 * DAY_MS - HOUR_MS // 2, unit="ms", tz="UTC"
    )
    assert stored["timestamp"].iloc[-1] == pd.Timestamp(
        NOW_MS - HOUR_MS - HOUR_MS // 2, unit="ms", tz="UTC"
    )
    since = NOW_MS - 10 * DAY_MS
    expected_events = len(range(-(-since // (8 * HOUR_MS)) * 8 * HOUR_MS, NOW_MS, 8 * HOUR_MS))
    assert funding.timeframe == "funding" and funding.stored == expected_events
    assert store.read_funding("BTC")["timestamp"].dt.second.eq(0).all()  # rounded
    assert not store.entry("BTC", "1h").is_full_history


def test_second_run_is_a_forward_update(store: ParquetCandleStore) -> None:
    venue = FakeVenue()
    download(venue, store, ["BTC"], ["1h"], history_days=5, now_ms=NOW_MS - DAY_MS)
    venue.calls.clear()
    [result] = download(venue, store, ["BTC"], ["1h"], history_days=5, now_ms=NOW_MS, funding=False)
    assert result.mode == "forward"
    last_before = NOW_MS - DAY_MS - HOUR_MS - HOUR_MS // 2
    forward = [c for c in venue.calls if c[2] == last_before + HOUR_MS]
    assert forward, venue.calls
    assert result.stored == 24
    assert len(store.read_candles("BTC", "1h")) == 5 * 24 + 24


def test_backfill_when_history_window_grows(store: ParquetCandleStore) -> None:
    venue = FakeVenue()
    download(venue, store, ["BTC"], ["1h"], history_days=2, now_ms=NOW_MS, funding=False)
    [result] = download(venue, store, ["BTC"], ["1h"], history_days=4, now_ms=NOW_MS, funding=False)
    assert result.mode == "backfill+forward"
    assert result.stored == 48
    assert len(store.read_candles("BTC", "1h")) == 96


def test_listing_inside_window_marks_full_history(store: ParquetCandleStore) -> None:
    listing = NOW_MS - 3 * DAY_MS - HOUR_MS // 2
    venue = FakeVenue(listing_ms=listing)
    download(venue, store, ["BTC"], ["4h"], history_days=10, now_ms=NOW_MS, funding=False)
    entry = store.entry("BTC", "4h")
    assert entry.is_full_history and entry.first == pd.Timestamp(listing, unit="ms", tz="UTC")
    venue.calls.clear()
    [result] = download(
        venue, store, ["BTC"], ["4h"], history_days=10, now_ms=NOW_MS, funding=False
    )
    assert result.mode == "forward"  # no pointless backfill before the listing date


def test_invalid_candles_are_rejected_not_stored(store: ParquetCandleStore) -> None:
    bad = NOW_MS - 5 * HOUR_MS - HOUR_MS // 2
    venue = FakeVenue(broken=frozenset({bad}))
    [result] = download(venue, store, ["BTC"], ["1h"], history_days=1, now_ms=NOW_MS, funding=False)
    assert (result.fetched, result.stored, result.rejected) == (24, 23, 1)
    assert result.reasons == {"high_below_open_close": 1}
    assert pd.Timestamp(bad, unit="ms", tz="UTC") not in set(
        store.read_candles("BTC", "1h")["timestamp"]
    )


def test_errors_are_recorded_or_abort(store: ParquetCandleStore) -> None:
    venue = FakeVenue()
    venue.fail_with = TransientExchangeError("HTTP 503")
    results = download(
        venue, store, ["BTC", "ETH"], ["1h"], history_days=1, now_ms=NOW_MS, funding=False
    )
    assert [r.error for r in results] == ["TransientExchangeError: HTTP 503"] * 2
    venue.fail_with = NetworkUnavailable("offline")
    with pytest.raises(NetworkUnavailable):
        download(venue, store, ["BTC"], ["1h"], history_days=1, now_ms=NOW_MS)
    with pytest.raises(DataError, match="history_days"):
        download(venue, store, ["BTC"], ["1h"], history_days=0, now_ms=NOW_MS)
    with pytest.raises(DataError, match="timeframe"):
        download(venue, store, ["BTC"], ["2h"], history_days=1, now_ms=NOW_MS)


class SloppyVenue(FakeVenue):
    """A venue (or client) that also returns the forming candle, a candle dated 2030, and
    funding events that are absurd (5.0 = 500 % per interval) or dated 2030."""

    def fetch_ohlcv(
        self, symbol: str, timeframe: str, since_ms: int, until_ms: int
    ) -> pd.DataFrame:
        frame = super().fetch_ohlcv(symbol, timeframe, since_ms, until_ms)
        if frame.empty:
            return frame
        extra = frame.iloc[[-1, -1]].copy()
        forming = pd.Timestamp(NOW_MS - HOUR_MS // 2, unit="ms", tz="UTC")  # 00:00, closes 01:00
        extra["timestamp"] = [forming, pd.Timestamp("2030-01-01", tz="UTC")]
        return pd.concat([frame, extra], ignore_index=True)

    def fetch_funding_history(self, symbol: str, since_ms: int, until_ms: int) -> pd.DataFrame:
        frame = super().fetch_funding_history(symbol, since_ms, until_ms)
        frame.loc[0, "rate"] = 5.0
        frame.loc[1, "rate"] = -3.0
        future = pd.DataFrame({"timestamp": [pd.Timestamp("2030-01-01", tz="UTC")], "rate": [1e-4]})
        return pd.concat([frame, future], ignore_index=True)


def test_future_and_forming_rows_from_the_venue_are_rejected(store: ParquetCandleStore) -> None:
    candles, funding = download(SloppyVenue(), store, ["BTC"], ["1h"], history_days=1, now_ms=NOW_MS)
    assert candles.reasons == {"not_closed": 1, "future_timestamp": 1}
    assert (candles.fetched, candles.stored, candles.rejected) == (26, 24, 2)
    assert store.last_timestamp("BTC", "1h") == pd.Timestamp(
        NOW_MS - HOUR_MS - HOUR_MS // 2, unit="ms", tz="UTC"
    )
    assert funding.reasons == {"rate_out_of_range": 2, "future_timestamp": 1}
    stored = store.read_funding("BTC")
    assert stored["rate"].abs().max() <= 1e-4
    assert stored["timestamp"].max() < pd.Timestamp(NOW_MS, unit="ms", tz="UTC")


def test_a_spike_from_the_venue_is_stored_and_reported(store: ParquetCandleStore) -> None:
    class SpikyVenue(FakeVenue):
        def fetch_ohlcv(self, *args: object) -> pd.DataFrame:
            frame = super().fetch_ohlcv(*args)
            frame.loc[10, ["open", "high", "low", "close"]] *= 100
            return frame

    [result] = download(SpikyVenue(), store, ["BTC"], ["1h"], history_days=1, now_ms=NOW_MS,
                        funding=False)
    assert result.stored == 24 and len(result.warnings) == 1 and "spike" in result.warnings[0]
