"""A local fake Hyperliquid API (``/info`` and ``/exchange``) on 127.0.0.1, for tests.

The real ``hyperliquid-python-sdk`` talks to it unchanged (``Info(base_url, skip_ws=True)``,
``Exchange(wallet, base_url)``). State and rules: :mod:`sixbtc.testing.fake_hyperliquid_venue`
(actions, signatures, nonces), :mod:`sixbtc.testing.fake_hyperliquid_book` (accounts, matching,
precision rules) and :mod:`sixbtc.testing.fake_hyperliquid_info` (read shapes).

In-process::

    with FakeHyperliquidServer() as hl:          # free port, daemon thread
        hl.fund(master.address, 10_000)
        hl.set_mark("BTC", 100_000)
        hl.add_fault("timeout", action="order", delay_s=2.0)   # applied, answer too late
        client = HyperliquidClient(base_url=hl.base_url, ...)

Out of process (the venue outlives a ``kill -9`` of the executor; state optionally persisted
to a JSON file after every change and reloaded at start)::

    python -m sixbtc.testing.fake_hyperliquid --port 0 --state /tmp/hl.json
    # prints "READY http://127.0.0.1:PORT" once listening
    FakeHyperliquidControl("http://127.0.0.1:PORT").set_mark("BTC", 99_000)

Scripted faults (:meth:`FakeHyperliquidServer.add_fault`, or ``{"op": "add_fault", ...}`` on
``POST /_control``): ``timeout`` (hold the answer ``delay_s``: accept-then-timeout when applied), ``http_429``
(with a ``Retry-After: retry_after_s`` header when set), ``http_5xx`` (``status``), ``drop``
(close the connection after reading the request: a reset after send when applied); each
either applied to the venue first (``apply=True``, the default) or not, for ``count``
matching requests of ``path`` ``/exchange`` or ``/info`` and ``match`` (action or info type,
None = any). Read faults: :meth:`set_fill_faults` (duplicate / reordered fills),
:meth:`set_order_visibility_delay` ("order not found" from ``orderStatus`` for N seconds after
the ack). Market scenarios: a stop filling while the client is away is :meth:`set_mark`
through its trigger; :meth:`set_liquidity` caps the size each fill may take (partial fills of
limit orders, one more per crossing mark move); a mark through an isolated position's
liquidation price liquidates it (or :meth:`liquidate` at once).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import sys
import threading
import urllib.request
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from sixbtc.testing.fake_hyperliquid_book import new_state
from sixbtc.testing.fake_hyperliquid_venue import FakeVenue

FAULT_KINDS = ("timeout", "http_429", "http_5xx", "drop")


@dataclass
class Fault:
    """One scripted fault (see the module docstring)."""

    kind: str
    path: str = "/exchange"
    match: str | None = None
    apply: bool = True
    count: int = 1
    delay_s: float = 5.0
    status: int = 502
    retry_after_s: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind {self.kind!r} not in {FAULT_KINDS}")
        if self.path not in ("/exchange", "/info"):
            raise ValueError(f"fault path {self.path!r} must be /exchange or /info")


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet server
        return

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"null")
        except json.JSONDecodeError:
            self._send(422, "Failed to deserialize the JSON body into the target type")
            return
        owner = self.server.owner
        if self.path == "/_control":
            self._send(*owner.control(body))
            return
        if self.path not in ("/info", "/exchange"):
            self._send(404, "Not Found")
            return
        kind = None
        if isinstance(body, dict):
            kind = (body.get("action") or {}).get("type") if self.path == "/exchange" else body.get("type")
        fault = owner.take_fault(self.path, kind)
        result = owner.answer(self.path, body) if fault is None or fault.apply else None
        if fault is None:
            self._send(*result)
        else:
            self._fail(fault, result)

    def _fail(self, fault: Fault, result: tuple[int, Any] | None) -> None:
        if fault.kind == "drop":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        elif fault.kind == "http_429":
            headers = {} if fault.retry_after_s is None else {"Retry-After": str(fault.retry_after_s)}
            self._send(429, "Too many requests", headers)
        elif fault.kind == "http_5xx":
            self._send(fault.status, "Internal Server Error")
        else:  # timeout: hold the answer past the client's timeout
            self.server.owner.stopping.wait(fault.delay_s)
            self._send(*(result or (504, "Gateway Timeout")))

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if not isinstance(body, str) else "text/plain")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: FakeHyperliquidServer


class FakeHyperliquidServer:
    """The fake venue served over HTTP on ``127.0.0.1:port`` (0 = a free port).

    Parameters
    ----------
    port : int
        TCP port; 0 picks a free one (read :attr:`base_url` after :meth:`start`).
    state_file : str or Path, optional
        JSON file the state is loaded from at start (if it exists) and saved to after every
        change (written atomically).
    universe : list of dict, optional
        Perp meta entries (``name``, ``szDecimals``, ``maxLeverage``); default BTC, ETH, SOL.
    """

    def __init__(self, port: int = 0, state_file: str | Path | None = None,
                 universe: list[dict[str, Any]] | None = None) -> None:
        self.state_file = Path(state_file) if state_file else None
        state = None
        if self.state_file and self.state_file.exists() and self.state_file.stat().st_size:
            state = json.loads(self.state_file.read_text())
        self.venue = FakeVenue(state or new_state(universe))
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str | None]] = []
        self.stopping = threading.Event()
        self._port = port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeHyperliquidServer:
        """Listen and serve in a daemon thread; returns self."""
        self._httpd = _HTTPServer(("127.0.0.1", self._port), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-hyperliquid", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (held answers are released at once)."""
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeHyperliquidServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash, as the SDK wants)."""
        assert self._httpd is not None, "start() the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    # -- request path ----------------------------------------------------------------------
    def take_fault(self, path: str, kind: str | None) -> Fault | None:
        """The next scripted fault matching this request (its count is used up), or None."""
        with self.venue.lock:
            self.requests.append((path, kind))
            for fault in self.faults:
                if fault.path == path and fault.match in (None, kind) and fault.count > 0:
                    fault.count -= 1
                    self.faults = [f for f in self.faults if f.count > 0]
                    return fault
        return None

    def answer(self, path: str, body: Any) -> tuple[int, Any]:
        """The venue's answer to one request (state saved after an exchange action)."""
        with self.venue.lock:
            if path == "/info":
                return self.venue.info(body)
            result = self.venue.exchange(body)
            self.save()
            return result

    def save(self) -> None:
        """Write the state to :attr:`state_file` (atomic replace), if one is set."""
        if self.state_file is None:
            return
        with self.venue.lock:
            tmp = self.state_file.with_suffix(self.state_file.suffix + ".tmp")
            tmp.write_text(json.dumps(self.venue.state))
            os.replace(tmp, self.state_file)

    # -- test API --------------------------------------------------------------------------
    def add_fault(self, kind: str, **kwargs: Any) -> Fault:
        """Script a fault (fields of :class:`Fault`); returns it."""
        fault = Fault(kind, **kwargs)
        with self.venue.lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Forget every scripted fault and read fault."""
        with self.venue.lock:
            self.faults.clear()
            self.venue.duplicate_fills = self.venue.reorder_fills = False
            self.venue.order_visibility_delay_s = 0.0

    def set_fill_faults(self, *, duplicate: bool = False, reorder: bool = False) -> None:
        """``userFills``/``userFillsByTime`` return each fill twice and/or shuffled."""
        with self.venue.lock:
            self.venue.duplicate_fills, self.venue.reorder_fills = duplicate, reorder

    def set_order_visibility_delay(self, seconds: float) -> None:
        """``orderStatus`` answers ``unknownOid`` for ``seconds`` after each new order's ack."""
        with self.venue.lock:
            self.venue.order_visibility_delay_s = float(seconds)

    def new_master(self, usd: float = 10_000.0) -> LocalAccount:
        """A fresh master wallet (``eth_account``) funded with ``usd`` USDC."""
        wallet = Account.create()
        self.fund(wallet.address, usd)
        return wallet

    def new_agent(self, master: str, name: str = "bot", valid_until_ms: int | None = None) -> LocalAccount:
        """A fresh wallet approved as API wallet ``name`` of ``master`` (None = no expiry)."""
        wallet = Account.create()
        self.add_agent(master, wallet.address, name, valid_until_ms)
        return wallet

    def fund(self, user: str, usd: float) -> None:
        """Credit ``usd`` USDC to ``user`` (a master account exists once funded)."""
        self.venue.fund(user, usd)
        self.save()

    def set_mark(self, coin: str, px: float) -> list[dict[str, Any]]:
        """Set ``coin``'s mark and mid; fills resting orders and triggers it reaches."""
        fills = self.venue.set_mark(coin, px)
        self.save()
        return fills

    def set_liquidity(self, coin: str, size: float | None) -> None:
        """Cap each fill of ``coin`` at ``size`` base units (None = unlimited): partial fills."""
        self.venue.set_liquidity(coin, size)
        self.save()

    def liquidate(self, user: str, coin: str) -> dict[str, Any]:
        """Liquidate ``user``'s ``coin`` position at the mark now; returns the liquidation fill."""
        fill = self.venue.liquidate(user, coin)
        self.save()
        return fill

    def settle_funding(self, coin: str, rate: float) -> int:
        """Settle one funding period of ``rate`` (fraction, > 0 longs pay) on ``coin``."""
        count = self.venue.settle_funding(coin, rate)
        self.save()
        return count

    def add_agent(self, master: str, address: str, name: str = "", valid_until_ms: int | None = None) -> None:
        """Approve API wallet ``address`` for ``master`` without a signature."""
        self.venue.add_agent(master, address, name, valid_until_ms)
        self.save()

    def orders_with_cloid(self, user: str, cloid: str) -> list[dict[str, Any]]:
        """Every order ``user`` placed with ``cloid`` (duplicates included)."""
        return self.venue.orders_with_cloid(user, cloid)

    def exchange_requests(self, action: str | None = None) -> int:
        """How many ``/exchange`` requests (of ``action``) reached the server."""
        with self.venue.lock:
            return sum(1 for p, k in self.requests if p == "/exchange" and action in (None, k))

    def control(self, body: Any) -> tuple[int, Any]:
        """``POST /_control`` ``{"op": NAME, ...kwargs}``: the test API for another process."""
        ops = {"fund": self.fund, "set_mark": self.set_mark, "settle_funding": self.settle_funding,
               "set_liquidity": self.set_liquidity, "liquidate": self.liquidate,
               "add_agent": self.add_agent, "orders_with_cloid": self.orders_with_cloid,
               "set_fill_faults": self.set_fill_faults, "clear_faults": self.clear_faults,
               "set_order_visibility_delay": self.set_order_visibility_delay,
               "exchange_requests": self.exchange_requests,
               "add_fault": lambda **kw: asdict(self.add_fault(**kw)),
               "state": lambda: self.venue.state}
        if not isinstance(body, dict) or body.get("op") not in ops:
            return 400, {"error": f"op must be one of {sorted(ops)}"}
        args = {k: v for k, v in body.items() if k != "op"}
        try:
            with self.venue.lock:
                return 200, {"result": ops[body["op"]](**args)}
        except (TypeError, ValueError, KeyError) as exc:
            return 400, {"error": f"{body['op']}: {exc}"}


class FakeHyperliquidControl:
    """Drive an out-of-process fake through ``POST /_control`` (same method names)."""

    def __init__(self, base_url: str, timeout_s: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def call(self, op: str, **kwargs: Any) -> Any:
        """Run test-API method ``op`` on the server; returns its result (ValueError on refusal)."""
        request = urllib.request.Request(self.base_url + "/_control", data=json.dumps({"op": op, **kwargs}).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310 - 127.0.0.1
                return json.loads(response.read())["result"]
        except urllib.error.HTTPError as exc:
            raise ValueError(exc.read().decode()) from exc

    def __getattr__(self, op: str) -> Any:
        if op.startswith("_"):
            raise AttributeError(op)
        return lambda **kwargs: self.call(op, **kwargs)


def main(argv: list[str] | None = None) -> int:
    """``python -m sixbtc.testing.fake_hyperliquid --port N [--state FILE]``: serve until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m sixbtc.testing.fake_hyperliquid")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = free port)")
    parser.add_argument("--state", default=None, help="JSON state file (loaded if present, saved on change)")
    args = parser.parse_args(argv)
    server = FakeHyperliquidServer(port=args.port, state_file=args.state).start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print(f"READY {server.base_url}", flush=True)
    done.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
