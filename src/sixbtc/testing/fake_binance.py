"""A fake Binance USDⓈ-M REST server on 127.0.0.1, serving real candles from Parquet files.

For tests and benchmarks that drive the REAL ccxt client (``ccxt.binanceusdm``) without the
network. It serves, in Binance's own response formats (Binance USDⓈ-M API docs, "Market
Data Endpoints"):

* ``GET /fapi/v1/time`` -> ``{"serverTime": now_ms}``;
* ``GET /fapi/v1/exchangeInfo`` -> one ``PERPETUAL`` ``TRADING`` USDT market per symbol
  found in ``data_dir`` (``{SYMBOL}_{TF}.parquet``) plus ``extra_symbols``;
* ``GET /fapi/v1/klines`` (``symbol``, ``interval``, ``startTime``, ``endTime``, ``limit``)
  -> the stored candles with open time in ``[startTime, endTime]`` and ``<= now_ms`` (so the
  still-forming candle is served, as Binance does), at most ``min(limit, page_limit)``;
* ``GET /fapi/v1/fundingRate`` -> the stored funding events, at most ``min(limit,
  funding_page_limit)``;
* ``GET /fapi/v1/openInterest`` (``symbol``) -> ``open_interest_by_symbol[base]`` (default 1000, base units)
  stamped ``now_ms``; the kline websocket is :mod:`sixbtc.testing.fake_binance_ws`;
* ``GET /data/futures/um/monthly/klines/{PAIR}/{TF}/{PAIR}-{TF}-{YYYY}-{MM}.zip`` and its
  ``.CHECKSUM`` -> Binance's public monthly archive of a month that is over (404 otherwise),
  a zipped CSV with the header line and ``"<sha256>  <name>"``; serve it by passing this
  server's ``url`` as the archive root.

Scripted faults (:class:`Fault`, consumed in order by the requests whose path contains
``fault.path``): an HTTP status with an optional ``Retry-After`` header, a ``short`` page
(half of what is due), an ``empty`` page, a ``repeat`` of the previous answer on that
path, or a ``corrupt`` body (one byte changed: an archive zip then fails its checksum).
A 429 / 418 carries Binance's rate-limit error body (code -1003), a 5xx an HTML error page
(as a proxy in front of the venue sends). ``gaps`` hides ranges of candles (a venue maintenance gap). ``requests`` logs every
request (path and query) for assertions.

Example::

    with FakeBinance(Path("shared/data/binance_usdm"), now_ms=...) as fake:
        exchange = fake.ccxt_exchange()
        exchange.fetch_ohlcv("BTC/USDT:USDT", "1h", since=..., limit=1500)
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np
import pandas as pd


@dataclass
class Fault:
    """One scripted misbehaviour.

    Attributes
    ----------
    kind : str
        ``"status"`` (answer ``status`` with an error body), ``"short"``, ``"empty"``,
        ``"repeat"`` or ``"corrupt"``.
    status : int
        HTTP status of a ``"status"`` fault (429, 418, 500, 503...).
    retry_after : str or None
        ``Retry-After`` header value sent with it (seconds, e.g. ``"1"``).
    path : str
        Applies to the first request whose path contains this (default: klines).
    """

    kind: str = "status"
    status: int = 429
    retry_after: str | None = None
    path: str = "/fapi/v1/klines"


def _zipped_csv(name: str, rows: list[Any]) -> bytes:
    """One zip holding ``name``: the archive header line and the kline rows as CSV."""
    lines = ["open_time,open,high,low,close,volume,close_time,quote_volume,count,"
             "taker_buy_volume,taker_buy_quote_volume,ignore"]
    lines += [",".join(str(v) for v in row) for row in rows]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), "\n".join(lines) + "\n")
    return buffer.getvalue()


def _market(base: str, onboard_ms: int = 1569398400000) -> dict[str, Any]:
    return {
        "symbol": f"{base}USDT", "pair": f"{base}USDT", "contractType": "PERPETUAL",
        "deliveryDate": 4133404800000, "onboardDate": onboard_ms, "status": "TRADING",
        "baseAsset": base, "quoteAsset": "USDT", "marginAsset": "USDT", "pricePrecision": 6,
        "quantityPrecision": 3, "baseAssetPrecision": 8, "quotePrecision": 8, "underlyingType": "COIN",
        "triggerProtect": "0.0500",
        "filters": [{"filterType": "PRICE_FILTER", "minPrice": "0.000001", "maxPrice": "1000000",
                     "tickSize": "0.000001"},
                    {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "1000000", "stepSize": "0.001"}],
        "orderTypes": ["LIMIT", "MARKET"], "timeInForce": ["GTC"],
    }


class _Series:
    """One stored series as int64 ms times plus the formatted rows of the venue's answer."""

    def __init__(self, times: np.ndarray, rows: list[Any]) -> None:
        self.times, self.rows = times, rows

    def page(self, start: int, end: int, limit: int) -> list[Any]:
        lo = int(np.searchsorted(self.times, start, side="left"))
        hi = int(np.searchsorted(self.times, end, side="right"))
        return self.rows[lo:min(hi, lo + limit)]


class FakeBinance:
    """The fake venue (see the module docstring); use as a context manager or call start/stop.

    Parameters
    ----------
    data_dir : pathlib.Path or None
        Folder of ``{SYMBOL}_{TF}.parquet`` / ``{SYMBOL}_funding.parquet`` (None: no data).
    now_ms : int
        The venue's clock, epoch ms (candles opening later are never served).
    page_limit, funding_page_limit : int
        Most rows per klines / fundingRate answer (Binance: 1500 and 1000).
    extra_symbols : iterable of str
        Base assets listed in exchangeInfo without data.
    frames : dict or None
        ``{(symbol, timeframe): candle frame}`` served in addition to (or instead of) files.
    listings : dict or None
        ``{symbol: onboardDate ms}`` announced in exchangeInfo (default 2019-09-25).
    """

    def __init__(self, data_dir: Path | None = None, *, now_ms: int, page_limit: int = 1500,
                 funding_page_limit: int = 1000, extra_symbols: tuple[str, ...] = (),
                 frames: dict[tuple[str, str], pd.DataFrame] | None = None,
                 listings: dict[str, int] | None = None) -> None:
        self.listings = dict(listings or {})
        self.data_dir, self.now_ms = data_dir, now_ms
        self.page_limit, self.funding_page_limit = page_limit, funding_page_limit
        self.faults: list[Fault] = []
        self.open_interest_by_symbol: dict[str, float] = {}  # served by /fapi/v1/openInterest (default 1000)
        self.gaps: dict[tuple[str, str], list[tuple[int, int]]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._frames = dict(frames or {})
        self._cache: dict[tuple[str, str], _Series | None] = {}
        self._last: dict[str, bytes] = {}
        self._lock = threading.Lock()
        files = sorted(data_dir.glob("*_*.parquet")) if data_dir else []
        self.symbols = sorted({f.stem.rpartition("_")[0] for f in files}
                              | {s for s, _ in self._frames} | set(extra_symbols))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeBinance:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeBinance:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def ccxt_exchange(self, **options: Any) -> Any:
        """A real ``ccxt.binanceusdm`` whose public futures URLs point at this server."""
        import ccxt

        exchange = ccxt.binanceusdm({"timeout": 5000, "enableRateLimit": False,
                                     "options": {"fetchCurrencies": False, "fetchMarkets": {"types": ["linear"]}},
                                     **options})
        for key, version in (("fapiPublic", "v1"), ("fapiPublicV2", "v2"), ("fapiPublicV3", "v3")):
            exchange.urls["api"][key] = f"{self.url}/fapi/{version}"
        return exchange

    # ------------------------------------------------------------ data
    def series(self, symbol: str, kind: str) -> _Series | None:
        """The served series ``kind`` (a timeframe or ``"funding"``) of ``symbol``, or None."""
        return self._series(symbol, kind)

    def _series(self, symbol: str, kind: str) -> _Series | None:
        key = (symbol, kind)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = self._load(symbol, kind)
            return self._cache[key]

    def _load(self, symbol: str, kind: str) -> _Series | None:
        frame = self._frames.get((symbol, kind))
        path = self.data_dir / f"{symbol}_{kind}.parquet" if self.data_dir else None
        if frame is None and path is not None and path.exists():
            frame = pd.read_parquet(path)
        if frame is None:
            return None
        stamps = pd.to_datetime(frame["timestamp"], utc=True).dt.as_unit("ns")  # any resolution
        times = (stamps.astype("int64") // 1_000_000).to_numpy(dtype=np.int64)
        if kind == "funding":
            rows: list[Any] = [{"symbol": f"{symbol}USDT", "fundingTime": int(t), "fundingRate": f"{r:.8f}",
                                "markPrice": "0"} for t, r in zip(times, frame["rate"], strict=True)]
        else:
            step = int(times[1] - times[0]) if len(times) > 1 else 60_000
            values = frame[["open", "high", "low", "close", "volume"]].to_numpy(dtype=np.float64)
            rows = [[int(t), *(repr(float(v)) for v in vals), int(t) + step - 1, "0", 1, "0", "0", "0"]
                    for t, vals in zip(times, values, strict=True)]
        return _Series(times, rows)

    def klines(self, q: dict[str, str]) -> tuple[int, Any]:
        """Answer of ``/fapi/v1/klines`` for query ``q``: (status, body)."""
        base = q.get("symbol", "").removesuffix("USDT")
        series = self._series(base, q.get("interval", ""))
        if series is None:
            return 400, {"code": -1121, "msg": "Invalid symbol."}
        start = int(q.get("startTime", 0))
        end = min(int(q.get("endTime", self.now_ms)), self.now_ms)
        limit = min(int(q.get("limit", 500)), self.page_limit)
        rows = series.page(start, end, limit + 64)
        hidden = self.gaps.get((base, q.get("interval", "")), [])
        rows = [r for r in rows if not any(lo <= r[0] < hi for lo, hi in hidden)][:limit]
        return 200, rows

    def funding(self, q: dict[str, str]) -> tuple[int, Any]:
        """Answer of ``/fapi/v1/fundingRate``: (status, body)."""
        base = q.get("symbol", "").removesuffix("USDT")
        series = self._series(base, "funding")
        if series is None:
            return (400, {"code": -1121, "msg": "Invalid symbol."}) if base not in self.symbols else (200, [])
        end = min(int(q.get("endTime", self.now_ms)), self.now_ms)
        limit = min(int(q.get("limit", 100)), self.funding_page_limit)
        return 200, series.page(int(q.get("startTime", 0)), end, limit)

    def open_interest(self, q: dict[str, str]) -> tuple[int, Any]:
        """Answer of ``/fapi/v1/openInterest``: ``open_interest[symbol]`` (base units) at now."""
        base = q.get("symbol", "").removesuffix("USDT")
        if base not in self.symbols:
            return 400, {"code": -1121, "msg": "Invalid symbol."}
        value = self.open_interest_by_symbol.get(base, 1000.0)
        return 200, {"symbol": f"{base}USDT", "openInterest": f"{value:.3f}", "time": self.now_ms}

    def archive(self, path: str) -> tuple[int, Any]:
        """Answer of a monthly-archive path (zip or ``.CHECKSUM``): (status, bytes body)."""
        name = path.rsplit("/", 1)[-1]
        checksum = name.endswith(".CHECKSUM")
        stem = name.removesuffix(".CHECKSUM").removesuffix(".zip")
        pair, tf, year, month = (stem.split("-") + ["", "", "", ""])[:4]
        series = self._series(pair.removesuffix("USDT"), tf)
        if series is None or not (year.isdigit() and month.isdigit()):
            return 404, b"Not Found"
        start = pd.Timestamp(year=int(year), month=int(month), day=1, tz="UTC")
        end = start + pd.offsets.MonthBegin(1)
        if int(end.value // 1_000_000) > self.now_ms:
            return 404, b"Not Found"  # published only once the month is over
        rows = series.page(int(start.value // 1_000_000), int(end.value // 1_000_000) - 1, 1 << 30)
        if not rows:
            return 404, b"Not Found"  # no file for a month before the listing
        blob = _zipped_csv(stem + ".csv", rows)
        if checksum:
            return 200, f"{hashlib.sha256(blob).hexdigest()}  {stem}.zip\n".encode()
        return 200, blob

    # ------------------------------------------------------------ http
    def _answer(self, path: str, q: dict[str, str]) -> tuple[int, Any]:
        if path.startswith("/data/futures/um/monthly/klines/"):
            return self.archive(path)
        routes = {
            "/fapi/v1/time": lambda: (200, {"serverTime": self.now_ms}),
            "/fapi/v1/exchangeInfo": lambda: (200, {"timezone": "UTC", "serverTime": self.now_ms,
                                                    "symbols": [_market(s, self.listings.get(s, 1569398400000))
                                                                for s in self.symbols]}),
            "/fapi/v1/klines": lambda: self.klines(q),
            "/fapi/v1/fundingRate": lambda: self.funding(q),
            "/fapi/v1/openInterest": lambda: self.open_interest(q),
        }
        if path not in routes:
            return 404, {"code": -1, "msg": f"no route {path}"}
        return routes[path]()

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self.faults):
                if fault.path in path:
                    return self.faults.pop(i)
        return None

    def respond(self, path: str, q: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        """(status, body bytes, extra headers) for one request, faults applied."""
        self.requests.append((path, q))
        fault = self._take_fault(path)
        if fault is not None and fault.kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            if fault.status in (418, 429):
                return fault.status, json.dumps({"code": -1003, "msg": "Too many requests."}).encode(), headers
            return fault.status, b"<html><body><h1>502 Bad Gateway</h1></body></html>", headers
        if fault is not None and fault.kind == "repeat" and path in self._last:
            return 200, self._last[path], {}
        status, body = self._answer(path, q)
        if fault is not None and fault.kind in ("short", "empty") and isinstance(body, list):
            body = [] if fault.kind == "empty" else body[: len(body) // 2]
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        if fault is not None and fault.kind == "corrupt" and data:
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        if status == 200 and fault is None:
            self._last[path] = data  # what a "repeat" fault sends again
        return status, data, {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                status, data, headers = fake.respond(url.path, query)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        return Handler
