"""download() through the REAL ccxt client against the local fake Binance, with scripted faults.

429 with Retry-After, 5xx pages, short / empty / repeated pages, funding the same way, the
listing date, and bulk history from the fake's monthly archives (zip + checksum).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sixbtc.adapters.exchanges.binance_archive import BinanceArchive
from sixbtc.adapters.exchanges.ccxt_market import CcxtMarketData
from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.data.downloader import download
from sixbtc.data.gaps import fill_gaps
from sixbtc.testing.fake_binance import FakeBinance, Fault

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
START = pd.Timestamp("2024-01-01", tz="UTC")
N_BARS = 24 * 75  # to mid-March
NOW_MS = int(START.value // 1_000_000) + N_BARS * HOUR_MS + HOUR_MS // 3


def _candles() -> pd.DataFrame:
    ts = pd.date_range(START, periods=N_BARS, freq="h")
    close = 100.0 + np.sin(np.arange(N_BARS) / 10.0)
    return pd.DataFrame({"timestamp": ts, "open": close, "high": close + 1, "low": close - 1,
                         "close": close, "volume": 1.0 + np.arange(N_BARS) % 7})


def _funding() -> pd.DataFrame:
    ts = pd.date_range(START, periods=N_BARS // 8, freq="8h")
    return pd.DataFrame({"timestamp": ts, "rate": np.linspace(-1e-4, 1e-4, len(ts))})


@pytest.fixture
def fake() -> Iterator[FakeBinance]:
    frames = {("BTC", "1h"): _candles(), ("BTC", "funding"): _funding()}
    with FakeBinance(now_ms=NOW_MS, page_limit=400, funding_page_limit=50, frames=frames) as venue:
        yield venue


class Waits(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _client(fake: FakeBinance, waits: Waits | None = None, **kw: object) -> CcxtMarketData:
    return CcxtMarketData(exchange=fake.ccxt_exchange(), backoff_s=0.01, now_ms=lambda: NOW_MS,
                          sleep=waits if waits is not None else Waits(), **kw)


def _run(fake: FakeBinance, store: ParquetCandleStore, client: CcxtMarketData, **kw: object) -> list:
    kw.setdefault("history_days", 80)
    return download(client, store, ["BTC"], ["1h"], now_ms=NOW_MS, **kw)


def _assert_complete(store: ParquetCandleStore) -> None:
    stored = store.read_candles("BTC", "1h")
    expected = _candles()
    assert len(stored) == N_BARS
    assert (stored["timestamp"].to_numpy() == expected["timestamp"].to_numpy()).all()
    assert np.allclose(stored["close"], expected["close"]) and np.allclose(stored["volume"], expected["volume"])


def _klines(fake: FakeBinance) -> int:
    return sum(1 for path, _ in fake.requests if path == "/fapi/v1/klines")


def test_429_with_retry_after_is_honoured_and_nothing_is_lost(fake: FakeBinance, tmp_path: Path) -> None:
    waits = Waits()
    client = _client(fake, waits)
    client.list_symbols()  # markets loaded: the faults hit the data calls
    fake.faults = [Fault(status=429, retry_after="2"), Fault(status=418, retry_after="1"),
                   Fault(status=429, retry_after="3", path="/fapi/v1/fundingRate")]
    store = ParquetCandleStore(tmp_path)
    candles, funding = _run(fake, store, client)
    assert candles.error is None and funding.error is None
    assert waits == [2.0, 1.0, 3.0]  # the venue's Retry-After, not the 0.01 s back-off
    assert client.retry_after_waits == [2.0, 1.0, 3.0]
    _assert_complete(store)
    assert len(store.read_funding("BTC")) == len(_funding())


def test_429_without_retry_after_backs_off_exponentially(fake: FakeBinance, tmp_path: Path) -> None:
    waits = Waits()
    client = _client(fake, waits)
    client.list_symbols()
    fake.faults = [Fault(status=429), Fault(status=429)]
    _run(fake, ParquetCandleStore(tmp_path), client, funding=False)
    assert waits == [0.01, 0.02]


def test_a_retry_after_beyond_the_cap_fails_the_series_not_the_run(fake: FakeBinance, tmp_path: Path) -> None:
    client = _client(fake)
    client.list_symbols()
    fake.faults = [Fault(status=429, retry_after="3600")]
    candles, funding = _run(fake, ParquetCandleStore(tmp_path), client)
    assert candles.error is not None and "Retry-After" in candles.error
    assert funding.error is None and funding.stored == len(_funding())


def test_5xx_pages_are_retried(fake: FakeBinance, tmp_path: Path) -> None:
    client = _client(fake)
    client.list_symbols()
    fake.faults = [Fault(status=502), Fault(status=503), Fault(status=500, path="/fapi/v1/fundingRate")]
    store = ParquetCandleStore(tmp_path)
    candles, funding = _run(fake, store, client)
    assert candles.error is None and funding.error is None
    _assert_complete(store)
    assert _klines(fake) == 5 + 2  # ceil(1800 / 400) pages + 2 failed attempts


def test_short_empty_and_repeated_pages_leave_no_hole(fake: FakeBinance, tmp_path: Path) -> None:
    client = _client(fake)
    client.list_symbols()
    fake.faults = [Fault(kind="short"), Fault(kind="empty"), Fault(kind="short"), Fault(kind="repeat"),
                   Fault(kind="empty", path="/fapi/v1/fundingRate"),
                   Fault(kind="short", path="/fapi/v1/fundingRate")]
    store = ParquetCandleStore(tmp_path)
    candles, funding = _run(fake, store, client)
    assert candles.stored == N_BARS and candles.rejected == 0
    _assert_complete(store)
    assert funding.stored == len(_funding())


def test_two_empty_pages_in_a_row_end_the_series_and_the_next_run_resumes(fake: FakeBinance, tmp_path: Path) -> None:
    client = _client(fake)
    client.list_symbols()
    store = ParquetCandleStore(tmp_path)
    _run(fake, store, client, funding=False)  # first page served, then two empties
    fake.faults = [Fault(kind="empty"), Fault(kind="empty")]
    store2 = ParquetCandleStore(tmp_path / "b")
    [first] = _run(fake, store2, client, funding=False)
    assert first.stored == 0
    [second] = _run(fake, store2, client, funding=False)
    assert second.mode == "full" and second.stored == N_BARS
    _assert_complete(store2)


def test_listing_date_inside_the_window_starts_the_series_and_marks_full_history(tmp_path: Path) -> None:
    listing = int(START.value // 1_000_000) + 10 * DAY_MS + 1234  # not on the grid
    frames = {("NEW", "1h"): _candles()}
    with FakeBinance(now_ms=NOW_MS, page_limit=400, frames=frames, listings={"NEW": listing}) as fake:
        client = CcxtMarketData(exchange=fake.ccxt_exchange(), backoff_s=0.01, now_ms=lambda: NOW_MS)
        store = ParquetCandleStore(tmp_path)
        [result] = download(client, store, ["NEW"], ["1h"], history_days=80, now_ms=NOW_MS, funding=False)
        entry = store.entry("NEW", "1h")
        assert entry is not None and entry.is_full_history
        assert entry.first == pd.Timestamp(listing, unit="ms", tz="UTC").ceil("h")
        first_query = next(q for p, q in fake.requests if p == "/fapi/v1/klines")
        assert int(first_query["startTime"]) == int(entry.first.value // 1_000_000)
        # from_listing: a later, longer run fetches nothing older (the series is full history)
        [again] = download(client, store, ["NEW"], ["1h"], history_days=1, now_ms=NOW_MS,
                           funding=False, from_listing=True)
        assert again.mode == "forward" and result.stored == len(store.read_candles("NEW", "1h"))


def test_from_listing_ignores_history_days(fake: FakeBinance, tmp_path: Path) -> None:
    fake.listings["BTC"] = int(START.value // 1_000_000)
    client = _client(fake)
    store = ParquetCandleStore(tmp_path)
    _run(fake, store, client, history_days=3, from_listing=True, funding=False)
    _assert_complete(store)
    assert store.entry("BTC", "1h").is_full_history


def test_bulk_history_from_the_monthly_archive(fake: FakeBinance, tmp_path: Path) -> None:
    client = _client(fake)
    store = ParquetCandleStore(tmp_path)
    archive = BinanceArchive(fake.url)
    [result] = _run(fake, store, client, archive=archive, funding=False)
    _assert_complete(store)
    zips = [p for p, _ in fake.requests if p.endswith(".zip")]
    # the window starts 2023-12-26: December has no file (before the data), March is not over
    assert [z.rsplit("-", 2)[-2:] for z in zips] == [["2023", "12.zip"], ["2024", "01.zip"], ["2024", "02.zip"]]
    rest = [q for p, q in fake.requests if p == "/fapi/v1/klines"]
    march = int(pd.Timestamp("2024-03-01", tz="UTC").value // 1_000_000)
    assert rest and all(int(q["startTime"]) >= march for q in rest)  # REST only for the current month
    assert result.stored == N_BARS


def test_a_checksum_mismatch_falls_back_to_rest(fake: FakeBinance, tmp_path: Path) -> None:
    client = _client(fake)
    store = ParquetCandleStore(tmp_path)
    fake.faults = [Fault(kind="corrupt", path="2024-02.zip")]
    [result] = _run(fake, store, client, archive=BinanceArchive(fake.url), funding=False)
    _assert_complete(store)
    feb = int(pd.Timestamp("2024-02-01", tz="UTC").value // 1_000_000)
    assert min(int(q["startTime"]) for p, q in fake.requests if p == "/fapi/v1/klines") == feb
    assert result.error is None


def test_a_100x_bad_tick_is_quarantined_then_recorded_as_a_known_gap(tmp_path: Path) -> None:
    frame = _candles()
    bad = frame["timestamp"].iloc[500]
    frame.loc[500, ["open", "high", "low", "close"]] *= 1000.0
    with FakeBinance(now_ms=NOW_MS, page_limit=400, frames={("BTC", "1h"): frame}) as fake:
        client = _client(fake)
        store = ParquetCandleStore(tmp_path)
        [result] = _run(fake, store, client, funding=False)
        assert result.reasons == {"spike_quarantined": 1} and result.stored == N_BARS - 1
        assert any("quarantined" in w for w in result.warnings)
        assert bad not in set(store.read_candles("BTC", "1h")["timestamp"])
        fill = fill_gaps(client, store, "BTC", "1h", now_ms=NOW_MS)
        assert fill.filled == 0 and fill.known_added == [(bad, bad + pd.Timedelta(hours=1))]
        asked = len(fake.requests)
        again = fill_gaps(client, store, "BTC", "1h", now_ms=NOW_MS)
        assert again.filled == 0 and len(fake.requests) == asked  # known: not requested again
