"""A local Binance USDⓈ-M kline websocket for tests: the real ccxt pro client talks to it.

It serves the candles of a :class:`~sixbtc.testing.fake_binance.FakeBinance` (its frames or
``shared/data`` files) on ``ws://127.0.0.1:PORT/ws`` — point ccxt's ``urls["api"]["ws"]["linear"]``
at :attr:`FakeKlineServer.ws_url`; ccxt connects to ``…/market/ws/<n>`` (any path is accepted).
It answers ``{"method": "SUBSCRIBE", "params": ["btcusdt@kline_1h", ...], "id": n}`` with
``{"result": null, "id": n}`` and pushes Binance's kline events::

    {"e": "kline", "E": <send ms>, "s": "BTCUSDT",
     "k": {"t": open ms, "T": close ms - 1, "s": "BTCUSDT", "i": "1h", "o": "..", "h": "..",
           "l": "..", "c": "..", "v": "..", "x": false|true, ...}}

Market time is driven by the test: each :meth:`FakeKlineServer.advance` moves every subscribed
stream one of its own bars forward from ``start_ms``: it pushes the candle's forming update
(``x: false``, open price only) and then its final update (``x: true``), unless
``final_flags`` is False (then only forming updates: a candle is closed by the next one).

Scripted faults: :meth:`drop` closes every connection (a dropped websocket; candles advanced
while nobody is connected are never sent), :meth:`skip` makes a stream jump bars without
sending them (a maintenance gap; hide them from REST too with ``FakeBinance.gaps``), and
:meth:`silence` stops one stream's pushes while the connection stays up (a silent stream).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import numpy as np
from websockets.asyncio.server import ServerConnection, serve

from sixbtc.testing.fake_binance import FakeBinance

Stream = tuple[str, str]


def stream_name(symbol: str, timeframe: str) -> str:
    """Binance's stream name: ``("BTC", "1h")`` -> ``"btcusdt@kline_1h"``."""
    return f"{symbol.lower()}usdt@kline_{timeframe}"


def parse_stream(name: str) -> Stream | None:
    """``"btcusdt@kline_1h"`` -> ``("BTC", "1h")``; None for other streams."""
    pair, _, channel = name.partition("@kline_")
    if not channel or not pair.endswith("usdt"):
        return None
    return pair[: -len("usdt")].upper(), channel


class FakeKlineServer:
    """The kline websocket (see the module docstring); a context manager.

    Parameters
    ----------
    venue : FakeBinance
        Source of the candles (the same data its REST klines serve).
    start_ms : int
        Open time of the first candle pushed (epoch ms); earlier candles are REST history.
    final_flags : bool
        Push the final ``x: true`` update of each candle (Binance does).
    """

    def __init__(self, venue: FakeBinance, *, start_ms: int, final_flags: bool = True) -> None:
        self.venue, self.start_ms, self.final_flags = venue, int(start_ms), final_flags
        self.position: dict[Stream, int] = {}  # next candle index per stream
        self.silent: set[Stream] = set()
        self.sent = 0
        self.connections_total = 0
        self.subscribe_log: list[tuple[float, list[str]]] = []  # (monotonic s, stream names) per SUBSCRIBE
        self._subs: dict[ServerConnection, set[Stream]] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-kline-ws", daemon=True)
        self._server: Any = None
        self.port = 0

    @property
    def ws_url(self) -> str:
        """``ws://127.0.0.1:PORT/ws`` (the value of ccxt's ``urls["api"]["ws"]["linear"]``)."""
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self) -> FakeKlineServer:
        """Listen on 127.0.0.1 (a free port) in a background thread."""
        self._thread.start()
        async def up() -> Any:
            return await serve(self._serve, "127.0.0.1", 0, ping_interval=None)
        self._server = self._run(up())
        self.port = int(next(iter(self._server.sockets)).getsockname()[1])
        return self

    def stop(self) -> None:
        """Close every connection and the listening socket."""
        async def down() -> None:
            self._server.close()
            await self._server.wait_closed()
        self._run(down())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeKlineServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    # ----------------------------------------------------------- test controls
    def subscribed(self) -> set[Stream]:
        """Streams some open connection is subscribed to."""
        return set().union(*self._subs.values()) if self._subs else set()

    def wait_subscribed(self, count: int, timeout_s: float = 10.0) -> None:
        """Block until ``count`` streams are subscribed; ``TimeoutError`` otherwise."""
        deadline = time.monotonic() + timeout_s
        while len(self.subscribed()) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.subscribed())} of {count} streams subscribed")
            time.sleep(0.01)

    def advance(self, bars: int = 1) -> int:
        """Move every stream known to the server ``bars`` bars on, pushing them; return messages sent."""
        return int(self._run(self._advance(bars)))

    def skip(self, symbol: str, timeframe: str, bars: int) -> None:
        """The stream's next ``bars`` candles are never pushed (a maintenance gap)."""
        key = (symbol, timeframe)
        self.position[key] = self._index(key) + bars

    def silence(self, symbol: str, timeframe: str) -> None:
        """Stop pushing this stream (its connection stays open)."""
        self.silent.add((symbol, timeframe))

    def drop(self) -> None:
        """Close every open connection abruptly (code 1011)."""
        async def close_all() -> None:
            for ws in list(self._subs):
                await ws.close(code=1011, reason="fake drop")
        self._run(close_all())

    def next_open_ms(self, symbol: str, timeframe: str) -> int | None:
        """Open time of the stream's next candle to push, or None past the data."""
        series = self.venue.series(symbol, timeframe)
        i = self._index((symbol, timeframe))
        return None if series is None or i >= len(series.times) else int(series.times[i])

    # ---------------------------------------------------------------- serving
    def _index(self, key: Stream) -> int:
        if key not in self.position:
            series = self.venue.series(*key)
            self.position[key] = 0 if series is None else int(np.searchsorted(series.times, self.start_ms))
        return self.position[key]

    async def _serve(self, ws: ServerConnection) -> None:
        self._subs[ws] = set()
        self.connections_total += 1
        try:
            async for raw in ws:
                msg = json.loads(raw)
                names = msg.get("params") or []
                keys = {k for k in map(parse_stream, names) if k is not None}
                if msg.get("method") == "SUBSCRIBE":
                    self.subscribe_log.append((time.monotonic(), list(names)))
                    self._subs[ws] |= keys
                    for key in keys:
                        self._index(key)
                elif msg.get("method") == "UNSUBSCRIBE":
                    self._subs[ws] -= keys
                await ws.send(json.dumps({"result": None, "id": msg.get("id")}))
        except Exception:  # noqa: BLE001, S110 - a client that vanishes just ends its connection
            pass
        finally:
            self._subs.pop(ws, None)

    async def _advance(self, bars: int) -> int:
        sent = 0
        for _ in range(bars):
            targets = self.subscribed()
            for key in sorted(set(self.position) | targets):
                i = self._index(key)
                row = self._row(key, i)
                self.position[key] = i + 1
                if row is None or key in self.silent:
                    continue
                for ws, subs in list(self._subs.items()):
                    if key in subs:
                        sent += await self._push(ws, key, row)
        self.sent += sent
        return sent

    def _row(self, key: Stream, i: int) -> list[Any] | None:
        series = self.venue.series(*key)
        return None if series is None or i >= len(series.rows) else series.rows[i]

    async def _push(self, ws: ServerConnection, key: Stream, row: list[Any]) -> int:
        t, o, h, lo, c, v, close_ms = row[:7]
        if self.final_flags:
            updates = [(o, o, o, o, "0", False), (o, h, lo, c, v, True)]
        else:  # its last update, never flagged final: closed only by the next candle's first update
            updates = [(o, h, lo, c, v, False)]
        pair = f"{key[0]}USDT"
        try:
            for uo, uh, ul, uc, uv, final in updates:
                await ws.send(json.dumps({"e": "kline", "E": int(time.time() * 1000), "s": pair, "k": {
                    "t": int(t), "T": int(close_ms), "s": pair, "i": key[1], "f": 1, "L": 2, "o": uo, "c": uc,
                    "h": uh, "l": ul, "v": uv, "n": 1, "x": final, "q": "0", "V": "0", "Q": "0", "B": "0"}}))
        except Exception:  # noqa: BLE001 - the connection went away mid-push
            return 0
        return len(updates)
