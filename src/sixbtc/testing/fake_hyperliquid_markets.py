"""A fake Hyperliquid ``POST /info`` responder on 127.0.0.1 answering ``metaAndAssetCtxs``.

The answer has Hyperliquid's shape (API docs, "Info endpoint / Perpetuals"): ``[meta, ctxs]``
with ``meta = {"universe": [{"name", "szDecimals", "maxLeverage", ("isDelisted")}, ...],
"marginTables": []}`` and one context per market, numbers as strings (``dayNtlVlm``,
``markPx``, ``funding``, ``openInterest``, ``prevDayPx``, ``oraclePx``, ``midPx``,
``premium``, ``impactPxs``, ``dayBaseVlm``). Markets are set with :meth:`set_markets`;
``statuses`` scripts HTTP errors (``(429, "2")`` answers 429 with ``Retry-After: 2``), and
``body`` replaces the answer (malformed-body tests). Other ``type`` values get HTTP 422.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sixbtc.testing.fake_hyperliquid_info import meta_and_asset_ctxs


@dataclass(frozen=True)
class HlMarket:
    """One fake market: coin name, 24 h notional volume (USD), mark price (USD), max leverage."""

    name: str
    volume_usd: float
    mark_px: float
    max_leverage: int = 20
    delisted: bool = False


class FakeHyperliquidInfo:
    """The fake ``/info`` endpoint; a context manager. ``url`` is the base URL to configure."""

    def __init__(self, markets: list[HlMarket] | None = None) -> None:
        self.markets: list[HlMarket] = list(markets or [])
        self.statuses: list[tuple[int, str | None]] = []
        self.body: Any = None
        self.requests: list[dict[str, Any]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (the info endpoint is ``{url}/info``)."""
        return f"http://127.0.0.1:{self.port}"

    def set_markets(self, markets: list[HlMarket]) -> None:
        """Replace the served markets."""
        self.markets = list(markets)

    def __enter__(self) -> FakeHyperliquidInfo:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def meta_and_asset_ctxs(self) -> list[Any]:
        """The ``metaAndAssetCtxs`` answer for the current markets."""
        universe = []
        for m in self.markets:
            meta: dict[str, Any] = {"name": m.name, "szDecimals": 2, "maxLeverage": m.max_leverage,
                                    "marginTableId": m.max_leverage}
            if m.delisted:
                meta["isDelisted"] = True
            universe.append(meta)
        return meta_and_asset_ctxs(universe, [m.mark_px for m in self.markets],
                                   {m.name: m.volume_usd for m in self.markets})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length", "0"))
                try:
                    req = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    req = {}
                fake.requests.append(req)
                headers: dict[str, str] = {}
                if fake.statuses:
                    status, retry = fake.statuses.pop(0)
                    body: Any = {"error": "scripted"}
                    if retry is not None:
                        headers["Retry-After"] = retry
                elif self.path != "/info" or req.get("type") != "metaAndAssetCtxs":
                    status, body = 422, {"error": f"unsupported request {req!r} on {self.path}"}
                else:
                    status = 200
                    body = fake.body if fake.body is not None else fake.meta_and_asset_ctxs()
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        return Handler
