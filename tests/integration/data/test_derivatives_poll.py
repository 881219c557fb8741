"""Funding (every 5 min) and open interest (every 60 s) polled through the REAL ccxt client
against the local fake Binance, stored, and read back as the strategies' open_interest input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sixbtc.adapters.exchanges.ccxt_market import CcxtMarketData
from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.core.clock import SimClock
from sixbtc.data.derivatives import DerivativesPoller
from sixbtc.strategy.input_loader import load_market
from sixbtc.testing.fake_binance import FakeBinance

START = pd.Timestamp("2024-01-01", tz="UTC")
NOW = START + pd.Timedelta(days=10, minutes=30)
CANDLES = pd.DataFrame({"timestamp": pd.date_range(START, periods=24 * 10, freq="h"), "open": 100.0, "high": 101.0,
                        "low": 99.0, "close": 100.0, "volume": 1.0})


@pytest.fixture
def fake() -> Iterator[FakeBinance]:
    funding = pd.DataFrame({"timestamp": pd.date_range(START, periods=30, freq="8h"),
                            "rate": np.linspace(-1e-4, 1e-4, 30)})
    with FakeBinance(now_ms=int(NOW.value // 1_000_000), frames={("BTC", "funding"): funding,
                                                                  ("BTC", "1h"): CANDLES}) as venue:
        venue.open_interest_by_symbol["BTC"] = 12345.5
        yield venue


def test_funding_every_five_minutes_and_open_interest_every_minute_are_stored(fake: FakeBinance,
                                                                                tmp_path: Path) -> None:
    clock = SimClock(NOW.to_pydatetime())
    store = ParquetCandleStore(tmp_path, clock=clock)
    store.write_candles("BTC", "1h", CANDLES)
    client = CcxtMarketData(exchange=fake.ccxt_exchange(), backoff_s=0.01,
                            now_ms=lambda: int(clock.now().timestamp() * 1000))
    poller = DerivativesPoller(client, store, clock, lambda: ["BTC"], history_days=30)
    first = poller.poll()
    assert (first.funding_rows, first.open_interest_rows, first.errors) == (30, 1, 0)
    assert poller.poll() == type(first)(0, 0, 0)  # nothing due yet
    requests = len(fake.requests)
    clock.advance_to(clock.now() + timedelta(seconds=61))
    fake.open_interest_by_symbol["BTC"] = 13000.0
    fake.now_ms += 61_000
    assert poller.poll().open_interest_rows == 1
    assert [p for p, _ in fake.requests[requests:]] == ["/fapi/v1/openInterest"]  # funding not due
    clock.advance_to(clock.now() + timedelta(minutes=5))
    fake.now_ms += 300_000
    requests = len(fake.requests)
    poller.poll()
    assert {p for p, _ in fake.requests[requests:]} == {"/fapi/v1/openInterest", "/fapi/v1/fundingRate"}
    oi = store.read_open_interest("BTC")
    assert list(oi["value"]) == [12345.5, 13000.0, 13000.0]
    assert oi["timestamp"].iloc[0] == NOW and len(store.read_funding("BTC")) == 30
    sample = load_market(store, "BTC", "1h", START + pd.Timedelta(days=9), NOW + pd.Timedelta(hours=1),
                         ("open_interest",))
    assert sample.open_interest is not None and len(sample.open_interest.values) == 3
