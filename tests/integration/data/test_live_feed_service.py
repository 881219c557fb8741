"""The service's live candles as configured: the websocket feed by default (the universe's
streams subscribed through the REAL ccxt pro client against the local fakes, a stale stream
raising a recorded ``stale_feed`` alert), REST polling with ``data.live_feed: rest``."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sixbtc.adapters.exchanges.ccxt_market import CcxtMarketData
from sixbtc.app.container import Container
from sixbtc.app.home import Home
from sixbtc.app.live_candles import RestPolling, live_candles
from sixbtc.app.roles import RoleRuntime
from sixbtc.app.roles.trading import run_executor
from sixbtc.config import Settings
from sixbtc.core.clock import SimClock
from sixbtc.core.errors import ConfigError
from sixbtc.data.live_feed import StreamingCandleFeed
from sixbtc.testing.fake_binance import FakeBinance
from sixbtc.testing.fake_binance_ws import FakeKlineServer, parse_stream

START = pd.Timestamp("2024-01-01", tz="UTC")
N, LIVE_FROM = 120, 100
FRAME = pd.DataFrame({"timestamp": pd.date_range(START, periods=N, freq="h"), "open": 100.0 + np.arange(N),
                      "high": 101.0 + np.arange(N), "low": 99.0 + np.arange(N), "close": 100.0 + np.arange(N),
                      "volume": 1.0})


def _at(bar: int) -> SimClock:
    return SimClock((START + pd.Timedelta(hours=bar, seconds=1)).to_pydatetime())


def test_the_default_feed_is_the_websocket_and_a_silent_stream_raises_a_stale_feed_alert(tmp_path: Path) -> None:
    start_ms = int(START.value // 1_000_000)
    with FakeBinance(now_ms=start_ms + N * 3_600_000, frames={("BTC", "1h"): FRAME}) as venue, \
            FakeKlineServer(venue, start_ms=start_ms + LIVE_FROM * 3_600_000) as ws:
        clock = _at(LIVE_FROM)
        settings = Settings(data={"coins": ["BTC"], "timeframes": ["1h"], "exchange_api_url": venue.url,
                                  "exchange_ws_url": ws.ws_url, "feed_stagger_s": 0, "feed_stale_grace_s": 5})
        c = Container(Home(tmp_path / "home"), settings, clock)
        c.store.write_candles("BTC", "1h", FRAME.iloc[:LIVE_FROM])
        client = CcxtMarketData(exchange=venue.ccxt_exchange(), now_ms=lambda: int(clock.now().timestamp() * 1000))
        logs: list[str] = []
        feed = live_candles(c, client, logs.append)
        try:
            assert isinstance(feed, StreamingCandleFeed)
            feed.refresh([])  # no LIVE strategy: the universe (data.coins x data.timeframes) is subscribed
            ws.wait_subscribed(1)
            assert feed.streams() == [("BTC", "1h")]
            ws.silence("BTC", "1h")
            clock.advance_to(clock.now() + timedelta(hours=3))
            ws.advance(3)
            feed.refresh([])
            alerts = c.ops.alerts("stale_feed")
            assert [(a["key"], a["severity"]) for a in alerts] == [("BTC 1h", "warning")]
            assert any("BTC 1h is stale" in m for m in logs)
            assert c.store.last_timestamp("BTC", "1h") == START + pd.Timedelta(hours=LIVE_FROM + 2)  # REST poll
        finally:
            feed.close()


def test_data_live_feed_rest_polls_rest(tmp_path: Path) -> None:
    c = Container(Home(tmp_path / "home"), Settings(data={"live_feed": "rest"}), _at(LIVE_FROM))
    assert isinstance(live_candles(c, None, print), RestPolling)


def test_a_rest_mirror_without_a_websocket_url_is_refused(tmp_path: Path) -> None:
    settings = Settings(data={"exchange_api_url": "http://127.0.0.1:9"})
    c = Container(Home(tmp_path / "home"), settings, _at(LIVE_FROM))
    with pytest.raises(ConfigError, match="data.exchange_ws_url"):
        live_candles(c, None, print)


def test_the_executor_role_runs_the_websocket_feed_and_polls_funding_and_open_interest(tmp_path: Path) -> None:
    """``sixbtc worker executor`` online: the universe is subscribed over the websocket (no LIVE
    strategy needed), funding and open interest are polled and stored; a clean stop closes it."""
    start_ms = int(START.value // 1_000_000)
    funding = pd.DataFrame({"timestamp": pd.date_range(START, periods=10, freq="8h"), "rate": 1e-4})
    with FakeBinance(now_ms=start_ms + N * 3_600_000, frames={("BTC", "1h"): FRAME, ("BTC", "funding"): funding}) \
            as venue, FakeKlineServer(venue, start_ms=start_ms + N * 3_600_000) as ws:
        home = Home(tmp_path / "home")
        home.ensure().config_path.write_text(
            "data:\n  coins: [BTC]\n  timeframes: [1h]\n  feed_stagger_s: 0\n  history_days: 3000\n"
            f"  exchange_api_url: {venue.url}\n  exchange_ws_url: {ws.ws_url}\n"
            "backtest:\n  timeframes: [1h]\n")
        c = Container.open(home)
        c.store.write_candles("BTC", "1h", FRAME)
        with RoleRuntime(c, "executor", interruptible=False) as rt:
            def stop_when_done() -> None:
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and not (
                        ws.subscribed() and len(c.store.read_open_interest("BTC")) and len(c.store.read_funding("BTC"))):
                    time.sleep(0.05)
                rt.stop.set()
            threading.Thread(target=stop_when_done, daemon=True).start()
            run_executor(rt)
        assert ("BTC", "1h") in {k for _, names in ws.subscribe_log for k in map(parse_stream, names)}
        assert list(c.store.read_open_interest("BTC")["value"]) == [1000.0]
        assert len(c.store.read_funding("BTC")) == 10
