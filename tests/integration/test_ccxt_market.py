"""CcxtMarketData through the REAL ccxt client against a local fake Binance futures server.

The fake serves ``/fapi/v1/{time,exchangeInfo,klines,fundingRate}`` on 127.0.0.1 with
deterministic synthetic candles; no real network is touched.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import ccxt
import pandas as pd
import pytest

from sixbtc.adapters.exchanges.ccxt_market import CcxtMarketData
from sixbtc.core.errors import DataError, NetworkUnavailable, TransientExchangeError

HOUR_MS = 3_600_000
START_MS = 1_704_067_200_000  # 2024-01-01 00:00 UTC
N_BARS = 4000  # more than two pages of 1500
NOW_MS = START_MS + N_BARS * HOUR_MS + HOUR_MS // 2  # the last bar is still open
FUNDING_MS = 8 * HOUR_MS


def _market(
    base: str, status: str = "TRADING", contract: str = "PERPETUAL", quote: str = "USDT"
) -> dict:
    return {
        "symbol": f"{base}{quote}",
        "pair": f"{base}{quote}",
        "contractType": contract,
        "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000,
        "status": status,
        "baseAsset": base,
        "quoteAsset": quote,
        "marginAsset": quote,
        "pricePrecision": 2,
        "quantityPrecision": 3,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "triggerProtect": "0.0500",
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": "0.10",
                "maxPrice": "1000000",
                "tickSize": "0.10",
            },
            {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "1000", "stepSize": "0.001"},
        ],
        "orderTypes": ["LIMIT", "MARKET"],
        "timeInForce": ["GTC"],
    }


MARKETS = [
    _market("BTC"),
    _market("ETH"),
    _market("OLD", status="SETTLING"),
    _market("BTC", contract="CURRENT_QUARTER"),
    _market("ETH", quote="USDC"),
]
MARKETS[3]["symbol"] = "BTCUSDT_250328"
MARKETS[3]["deliveryDate"] = 1743148800000


def _kline(open_ms: int) -> list:
    i = (open_ms - START_MS) // HOUR_MS
    base = 40_000.0 + (i % 97) * 10.0
    return [
        open_ms,
        f"{base:.1f}",
        f"{base + 50:.1f}",
        f"{base - 50:.1f}",
        f"{base + 5:.1f}",
        f"{1.5 + i % 7:.3f}",
        open_ms + HOUR_MS - 1,
        "0",
        10,
        "0",
        "0",
        "0",
    ]


class FakeBinance:
    """State of the fake venue: request log and an optional queue of forced errors."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.fail_next: list[int] = []  # HTTP statuses to answer before serving normally
        self.extra_funding: list[dict] = []  # events served whatever the requested range
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                url = urlparse(self.path)
                fake.requests.append(url.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if fake.fail_next:
                    status = fake.fail_next.pop(0)
                    return self._send(status, {"code": -1003, "msg": "Too many requests."})
                routes = {
                    "/fapi/v1/time": lambda q: {"serverTime": NOW_MS},
                    "/fapi/v1/exchangeInfo": lambda q: {"timezone": "UTC", "symbols": MARKETS},
                    "/fapi/v1/klines": fake.klines,
                    "/fapi/v1/fundingRate": lambda q: fake.funding(q) + fake.extra_funding,
                }
                if url.path not in routes:
                    return self._send(404, {"code": -1, "msg": f"no route {url.path}"})
                if url.path in ("/fapi/v1/klines", "/fapi/v1/fundingRate") and query.get(
                    "symbol"
                ) not in ("BTCUSDT", "ETHUSDT"):
                    return self._send(400, {"code": -1121, "msg": "Invalid symbol."})
                return self._send(200, routes[url.path](query))

            def _send(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    @staticmethod
    def klines(q: dict) -> list:
        limit = min(int(q.get("limit", 500)), 1500)
        start = max(int(q.get("startTime", START_MS)), START_MS)
        start = START_MS + -(-(start - START_MS) // HOUR_MS) * HOUR_MS
        end = min(int(q.get("endTime", NOW_MS)), NOW_MS)
        return [_kline(t) for t in range(start, end + 1, HOUR_MS)][:limit]

    @staticmethod
    def funding(q: dict) -> list:
        limit = min(int(q.get("limit", 100)), 1000)
        start = int(q.get("startTime", START_MS))
        end = min(int(q.get("endTime", NOW_MS)), NOW_MS)
        out = []
        for k in range(N_BARS // 8):
            ts = START_MS + k * FUNDING_MS + 3  # a few ms of jitter, as on Binance
            if start <= ts <= end:
                out.append(
                    {
                        "symbol": q["symbol"],
                        "fundingTime": ts,
                        "fundingRate": f"{0.0001 * ((k % 5) - 2):.8f}",
                        "markPrice": "40000.0",
                    }
                )
        return out[:limit]


@pytest.fixture
def fake() -> FakeBinance:
    venue = FakeBinance()
    venue.thread.start()
    yield venue
    venue.server.shutdown()
    venue.server.server_close()


def _exchange(port: int) -> ccxt.binanceusdm:
    exchange = ccxt.binanceusdm(
        {
            "timeout": 3000,
            "enableRateLimit": False,
            "options": {"fetchCurrencies": False, "fetchMarkets": {"types": ["linear"]}},
        }
    )
    base = f"http://127.0.0.1:{port}"
    for key, version in (("fapiPublic", "v1"), ("fapiPublicV2", "v2"), ("fapiPublicV3", "v3")):
        exchange.urls["api"][key] = f"{base}/fapi/{version}"
    return exchange


def _client(port: int, **kwargs: object) -> CcxtMarketData:
    return CcxtMarketData(exchange=_exchange(port), backoff_s=0.01, now_ms=lambda: NOW_MS, **kwargs)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_list_symbols_keeps_active_usdt_linear_perps_only(fake: FakeBinance) -> None:
    assert _client(fake.port).list_symbols() == ["BTC", "ETH"]


def test_fetch_ohlcv_paginates_and_drops_the_open_candle(fake: FakeBinance) -> None:
    client = _client(fake.port)
    frame = client.fetch_ohlcv("BTC", "1h", START_MS, NOW_MS + 10 * HOUR_MS)
    # bars 0..N_BARS-1 are closed at NOW; the bar opened at START + N_BARS h is still open
    assert len(frame) == N_BARS
    assert frame["timestamp"].iloc[0] == pd.Timestamp(START_MS, unit="ms", tz="UTC")
    assert frame["timestamp"].is_monotonic_increasing and frame["timestamp"].is_unique
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert frame["open"].iloc[1] == float(_kline(START_MS + HOUR_MS)[1])
    assert fake.requests.count("/fapi/v1/klines") >= 3  # 4000 bars / 1500 per page


def test_fetch_ohlcv_respects_half_open_range(fake: FakeBinance) -> None:
    since, until = START_MS + 10 * HOUR_MS, START_MS + 20 * HOUR_MS
    frame = _client(fake.port).fetch_ohlcv("BTC", "1h", since, until)
    stamps = frame["timestamp"].astype("int64") // 1_000_000
    assert stamps.tolist() == list(range(since, until, HOUR_MS))


def test_fetch_funding_history(fake: FakeBinance) -> None:
    frame = _client(fake.port).fetch_funding_history("ETH", START_MS, START_MS + 80 * HOUR_MS)
    assert len(frame) == 10
    assert list(frame.columns) == ["timestamp", "rate"]
    assert frame["rate"].iloc[0] == pytest.approx(-0.0002)
    assert frame["timestamp"].iloc[1] == pd.Timestamp(
        START_MS + FUNDING_MS + 3, unit="ms", tz="UTC"
    )


def test_rate_limit_then_success_is_retried(fake: FakeBinance) -> None:
    client = _client(fake.port)
    client.list_symbols()  # load markets first so the forced 429 hits the klines call
    fake.fail_next = [429]
    frame = client.fetch_ohlcv("BTC", "1h", START_MS, START_MS + 5 * HOUR_MS)
    assert len(frame) == 5
    assert fake.requests.count("/fapi/v1/klines") == 2


def test_persistent_server_error_becomes_transient_error(fake: FakeBinance) -> None:
    client = _client(fake.port, max_retries=2)
    client.list_symbols()
    fake.fail_next = [503, 503, 503, 503]
    with pytest.raises(TransientExchangeError):
        client.fetch_ohlcv("BTC", "1h", START_MS, START_MS + 5 * HOUR_MS)
    assert fake.requests.count("/fapi/v1/klines") == 3  # first attempt + 2 retries


def test_unknown_symbol_is_a_data_error(fake: FakeBinance) -> None:
    with pytest.raises(DataError):
        _client(fake.port).fetch_ohlcv("NOPE", "1h", START_MS, START_MS + HOUR_MS)


def test_probe_succeeds_against_live_fake(fake: FakeBinance) -> None:
    _client(fake.port).probe(timeout_s=2.0)
    assert "/fapi/v1/time" in fake.requests


def test_probe_on_refused_port_raises_network_unavailable_quickly() -> None:
    client = _client(_closed_port())
    started = time.monotonic()
    with pytest.raises(NetworkUnavailable):
        client.probe(timeout_s=2.0)
    assert time.monotonic() - started < 4.0


def test_fetch_on_refused_port_raises_network_unavailable() -> None:
    client = _client(_closed_port(), max_retries=1)
    with pytest.raises(NetworkUnavailable):
        client.fetch_ohlcv("BTC", "1h", START_MS, START_MS + HOUR_MS)


def test_probe_times_out_on_silent_server() -> None:
    with socket.socket() as listener:  # accepts TCP connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        client = _client(listener.getsockname()[1])
        started = time.monotonic()
        with pytest.raises(NetworkUnavailable):
            client.probe(timeout_s=1.0)
        assert time.monotonic() - started < 3.0


def test_funding_events_after_now_are_dropped(fake: FakeBinance) -> None:
    fake.extra_funding = [
        {"symbol": "BTCUSDT", "fundingTime": 1_893_456_000_000, "fundingRate": "0.0001",
         "markPrice": "40000.0"},  # 2030-01-01
    ]
    frame = _client(fake.port).fetch_funding_history("BTC", NOW_MS - 80 * HOUR_MS, 2_000_000_000_000)
    assert len(frame) == 9  # the settlements k = 491..499, not the one dated 2030
    assert frame["timestamp"].max() <= pd.Timestamp(NOW_MS, unit="ms", tz="UTC")
