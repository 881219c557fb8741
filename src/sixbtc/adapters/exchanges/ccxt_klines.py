"""Kline websocket of Binance USDⓈ-M through ccxt pro ``watch_ohlcv``; a ``KlineSource``.

ccxt pro subscribes ``<symbol>@kline_<interval>`` on ``{urls.api.ws.linear}`` (Binance:
``wss://fstream.binance.com/ws``, which ccxt rewrites to ``…/market/ws/<n>``) with one
``{"method": "SUBSCRIBE", "params": [...], "id": n}`` message per call, and parses the pushed
``{"e": "kline", "E": <send ms>, "k": {"t", "o", "h", "l", "c", "v", "i", "x", ...}}`` events
(Binance USDⓈ-M "Kline/Candlestick Streams"). ccxt keeps only OHLCV; the final-update flag
``k.x`` and the send time ``E`` are read from the same message by a one-method subclass
(:class:`_KlineCapture`) and handed to the sink as a :class:`~sixbtc.data.ports.KlineUpdate`
as soon as the message is parsed.

* **Staggered subscriptions**: new streams are split into batches of ``batch_size`` (one
  SUBSCRIBE message each: Binance accepts at most 10 incoming messages per second and 1024
  streams per connection); batch ``i`` subscribes ``i × stagger_s`` after the first.
* **Reconnect**: a batch whose watch fails (connection dropped or refused, an error answer)
  waits ``backoff_s × 2**attempt`` seconds, at most :data:`MAX_BACKOFF_S` = 60 s, and watches
  again (ccxt opens a new connection and re-sends the subscription); the first update after it
  resets the back-off.
* **Idle connection**: no update at all for a batch in ``idle_timeout_s`` (a half-open TCP
  connection) fails the connection, which then reconnects as above.

All I/O runs on one asyncio loop in a daemon thread; the sink runs on it too (keep it fast).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import ccxt
import ccxt.pro as ccxtpro

from sixbtc.adapters.exchanges.ccxt_market import from_ccxt_symbol, point_at, to_ccxt_symbol
from sixbtc.core.errors import DataError
from sixbtc.data.ports import KlineUpdate

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 60.0
"""Longest wait between two reconnect attempts, seconds."""
OHLCV_CACHE = 3
"""Candles ccxt keeps per stream (its default 1000 would hold ~100 KB per stream for nothing:
the updates are consumed from the sink as they arrive)."""


def backoff_delay(base_s: float, attempt: int) -> float:
    """Wait before reconnect ``attempt`` (0 = first): ``base_s × 2**attempt``, at most 60 s."""
    return min(base_s * 2.0 ** min(attempt, 32), MAX_BACKOFF_S)


class _KlineCapture(ccxtpro.binanceusdm):  # type: ignore[misc]
    """ccxt pro Binance USDⓈ-M that also hands every raw kline event to ``kline_sink``."""

    kline_sink: Callable[[dict[str, Any]], None] | None = None

    def handle_ohlcv(self, client: Any, message: dict[str, Any]) -> None:
        super().handle_ohlcv(client, message)
        if self.kline_sink is not None:
            self.kline_sink(message)


def parse_kline(message: dict[str, Any]) -> KlineUpdate:
    """A Binance kline event as a :class:`KlineUpdate`.

    Raises
    ------
    DataError
        If a field is missing or not a number, or the symbol is not a USDT perpetual.
    """
    try:
        k = message["k"]
        base = k["s"].removesuffix("USDT") if k["s"].endswith("USDT") else ""
        return KlineUpdate(from_ccxt_symbol(f"{base}/USDT:USDT"), str(k["i"]), int(k["t"]), float(k["o"]),
                           float(k["h"]), float(k["l"]), float(k["c"]), float(k["v"]), bool(k["x"]),
                           int(message["E"]))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"malformed kline event: {exc!r}") from None


class CcxtKlineStream:
    """Binance USDⓈ-M kline websocket (see the module docstring); implements ``KlineSource``.

    Parameters
    ----------
    api_url : str or None
        Replaces the public REST root (markets are loaded from it), as in
        :func:`~sixbtc.adapters.exchanges.ccxt_market.point_at`.
    ws_url : str or None
        Replaces ``urls["api"]["ws"]["linear"]`` (e.g. ``ws://127.0.0.1:PORT/ws``); None = Binance's.
    batch_size : int
        Streams per SUBSCRIBE message (1 to 200).
    stagger_s : float
        Seconds between two batches' subscriptions.
    backoff_s : float
        First reconnect wait, seconds (doubled per failed attempt, at most 60 s).
    idle_timeout_s : float
        A batch without any update this long forces a reconnect (seconds).
    timeout_ms : int
        REST timeout of the market load, milliseconds.

    Raises
    ------
    DataError
        If a numeric argument is out of range.
    """

    def __init__(self, *, api_url: str | None = None, ws_url: str | None = None, batch_size: int = 50,
                 stagger_s: float = 1.0, backoff_s: float = 1.0, idle_timeout_s: float = 120.0,
                 timeout_ms: int = 10_000) -> None:
        if not 1 <= batch_size <= 200 or stagger_s < 0 or backoff_s <= 0 or idle_timeout_s <= 0 or timeout_ms <= 0:
            raise DataError("batch_size must be 1..200, stagger_s >= 0, backoff_s, idle_timeout_s, timeout_ms > 0")
        self.api_url, self.ws_url, self.batch_size, self.stagger_s = api_url, ws_url, batch_size, stagger_s
        self.backoff_s, self.idle_timeout_s, self.timeout_ms = backoff_s, idle_timeout_s, timeout_ms
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="kline-ws", daemon=True)
        self._tasks: set[asyncio.Task[None]] = set()
        self._subscribed: set[tuple[str, str]] = set()
        self._batches = 0
        self._exchange: Any = None
        self._sink: Callable[[KlineUpdate], None] | None = None
        self._on_state: Callable[[str, str], None] = lambda state, detail: None
        self.waits: list[float] = []
        """Reconnect waits taken, seconds (newest last; for logs and tests)."""

    def _build(self) -> Any:
        exchange = _KlineCapture({"timeout": self.timeout_ms, "enableRateLimit": True,
                                  "options": {"fetchCurrencies": False, "fetchMarkets": {"types": ["linear"]},
                                              "OHLCVLimit": OHLCV_CACHE}})
        if self.api_url is not None:
            point_at(exchange, self.api_url)
        if self.ws_url is not None:
            exchange.urls["api"]["ws"]["linear"] = self.ws_url.rstrip("/")
        exchange.kline_sink = self._raw
        return exchange

    def _raw(self, message: dict[str, Any]) -> None:
        try:
            update = parse_kline(message)
        except DataError as exc:
            log.warning("kline websocket: %s", exc)
            return
        if self._sink is not None:
            try:
                self._sink(update)
            except Exception:  # noqa: BLE001 - a failing sink must not break ccxt's message handling
                log.exception("kline websocket: the sink failed on %s %s", update.symbol, update.timeframe)

    # ------------------------------------------------------------- KlineSource
    def start(self, sink: Callable[[KlineUpdate], None], on_state: Callable[[str, str], None]) -> None:
        """Start the loop thread; ``sink`` gets every kline update, ``on_state`` connection changes."""
        self._sink, self._on_state = sink, on_state
        self._exchange = self._build()
        self._thread.start()

    def subscribe(self, streams: list[tuple[str, str]]) -> None:
        """Subscribe new ``(symbol, timeframe)`` streams in staggered batches (non-blocking).

        Raises
        ------
        DataError
            Before :meth:`start`, or for an invalid symbol.
        """
        if self._exchange is None:
            raise DataError("CcxtKlineStream.subscribe() before start()")
        new = [s for s in dict.fromkeys(streams) if s not in self._subscribed]
        pairs = [[to_ccxt_symbol(sym), tf] for sym, tf in new]
        self._subscribed.update(new)
        for i in range(0, len(pairs), self.batch_size):
            delay = self._batches * self.stagger_s
            self._batches += 1
            self._loop.call_soon_threadsafe(self._spawn, pairs[i:i + self.batch_size], delay)

    def close(self) -> None:
        """Cancel the watches, close the connection and stop the thread (idempotent)."""
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    # ---------------------------------------------------------------- the loop
    def _spawn(self, pairs: list[list[str]], delay: float) -> None:
        task = self._loop.create_task(self._watch(pairs, delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _watch(self, pairs: list[list[str]], delay: float) -> None:
        await asyncio.sleep(delay)
        attempt, healthy = 0, False
        while True:
            try:
                await asyncio.wait_for(self._exchange.watch_ohlcv_for_symbols(pairs), self.idle_timeout_s)
                if not healthy:
                    self._on_state("connected", f"{len(pairs)} streams from {pairs[0][0]} {pairs[0][1]}")
                attempt, healthy = 0, True
            except asyncio.CancelledError:
                raise
            except (TimeoutError, ccxt.BaseError, OSError) as exc:
                if isinstance(exc, TimeoutError):
                    self._fail_connections(f"no update in {self.idle_timeout_s:g} s")
                wait = backoff_delay(self.backoff_s, attempt)
                attempt, healthy = attempt + 1, False
                self.waits.append(wait)
                self._on_state("disconnected", f"{type(exc).__name__}: {exc}; reconnecting in {wait:g} s")
                await asyncio.sleep(wait)

    def _fail_connections(self, why: str) -> None:
        """Fail the open connections (ccxt then drops them; the next watch reconnects)."""
        for client in list((self._exchange.clients or {}).values()):
            client.on_error(ccxt.NetworkError(f"kline websocket idle: {why}"))

    async def _shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            await self._exchange.close()
        except Exception as exc:  # noqa: BLE001 - closing a broken connection must not fail the stop
            log.debug("kline websocket: close: %s", exc)
