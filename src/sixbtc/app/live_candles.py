"""The service's live candles: the websocket feed or REST polling (``data.live_feed``), plus the
funding / open-interest poller.

* ``websocket`` (default): :class:`~sixbtc.data.live_feed.StreamingCandleFeed` on
  :class:`~sixbtc.adapters.exchanges.ccxt_klines.CcxtKlineStream`, for the LIVE streams and the
  stored universe's forward updates (active coins of the registry, else ``data.coins``, ×
  ``data.timeframes``); a stale stream raises a ``stale_feed`` alert.
* ``rest``: :class:`RestPolling`, the executor step downloads the LIVE streams' new candles.

``run --once`` never uses these: it replays the store (:class:`~sixbtc.data.replay.ReplayFeed`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from sixbtc.adapters.exchanges.ccxt_klines import CcxtKlineStream
from sixbtc.adapters.exchanges.ccxt_market import CcxtMarketData
from sixbtc.app.alerts import alert
from sixbtc.app.container import Container
from sixbtc.app.market import market_client
from sixbtc.core.errors import ConfigError, NetworkUnavailable, TransientExchangeError
from sixbtc.data.derivatives import DerivativesPoller
from sixbtc.data.downloader import download
from sixbtc.data.live_feed import StreamingCandleFeed

Stream = tuple[str, str]


class LiveCandles(Protocol):
    """What the executor step needs: bring the store up to date for its streams."""

    def refresh(self, streams: Iterable[Stream]) -> int:
        """Store the new closed candles of ``streams``; return how many were stored."""
        ...

    def streams(self) -> list[Stream]:
        """The streams kept up to date."""
        ...

    def close(self) -> None:
        """Release connections and threads."""
        ...


class RestPolling:
    """``data.live_feed: rest``: each refresh downloads the streams' new candles (REST)."""

    def __init__(self, c: Container, client: CcxtMarketData | None, log: Callable[[str], None]) -> None:
        self.c, self._client, self.log = c, client, log
        self._streams: list[Stream] = []

    def refresh(self, streams: Iterable[Stream]) -> int:
        """Download each stream's candles since its last stored one; a venue error on one
        stream is logged and does not keep the others from their candles."""
        self._streams = list(streams)
        now_ms = int(self.c.clock.now().timestamp() * 1000)
        client = self._client = self._client or market_client(self.c)  # one ccxt client, markets loaded once
        stored = 0
        for sym, tf in self._streams:
            try:
                results = download(client, self.c.store, [sym], [tf], history_days=self.c.settings.data.history_days,
                                   now_ms=now_ms, funding=False)
                stored += sum(r.stored for r in results)
            except NetworkUnavailable as exc:
                self.log(f"candle polling failed, will retry: {exc}")
                break
            except TransientExchangeError as exc:
                self.log(f"candle polling of {sym} {tf} failed, will retry: {exc}")
        return stored

    def streams(self) -> list[Stream]:
        """The streams of the last refresh."""
        return list(self._streams)

    def close(self) -> None:
        """Nothing to release."""


def universe_streams(c: Container) -> list[Stream]:
    """The backtest universe's streams: active coins (most liquid first, else ``data.coins``) ×
    ``data.timeframes``."""
    coins = c.registry.get_active_pairs() or list(c.settings.data.coins)
    return [(sym, tf) for sym in coins for tf in c.settings.data.timeframes]


def websocket_feed(c: Container, client: CcxtMarketData | None, log: Callable[[str], None]) -> StreamingCandleFeed:
    """The started websocket feed of the settings (see the module docstring).

    Raises
    ------
    ConfigError
        When ``data.exchange_api_url`` is set without ``data.exchange_ws_url``.
    """
    d = c.settings.data
    if d.exchange_api_url is not None and d.exchange_ws_url is None:
        raise ConfigError("data.exchange_ws_url: required when data.exchange_api_url is set (the live feed would mix "
                          "Binance's own websocket with another REST source); or set data.live_feed: rest")
    source = CcxtKlineStream(api_url=str(d.exchange_api_url) if d.exchange_api_url else None,
                             ws_url=str(d.exchange_ws_url) if d.exchange_ws_url else None,
                             batch_size=d.feed_batch_size, stagger_s=d.feed_stagger_s, backoff_s=d.feed_backoff_s,
                             idle_timeout_s=d.feed_idle_timeout_s,
                             timeout_ms=int(d.network_probe_timeout_s * 1000))

    def stale(sym: str, tf: str, overdue_s: float) -> None:
        text = f"live feed: {sym} {tf} is stale, its next candle is {overdue_s:.0f} s overdue; polling it over REST"
        log(text)
        alert(c, "stale_feed", f"{sym} {tf}", "warning", text)

    return StreamingCandleFeed(source, c.store, client or market_client(c), c.clock, stale_grace_s=d.feed_stale_grace_s,
                               on_stale=stale, on_recovered=lambda s, t: log(f"live feed: {s} {t} fresh again"),
                               universe=lambda: universe_streams(c)).start()


def live_candles(c: Container, client: CcxtMarketData | None, log: Callable[[str], None]) -> LiveCandles:
    """The live candles of ``data.live_feed`` (the websocket feed is started)."""
    if c.settings.data.live_feed == "rest":
        return RestPolling(c, client, log)
    return websocket_feed(c, client, log)


def derivatives_poller(c: Container, feed: LiveCandles, client: CcxtMarketData | None = None) -> DerivativesPoller:
    """Funding (5 min) and open interest (60 s) of the feed's symbols (step it every minute)."""
    return DerivativesPoller(client or market_client(c), c.store, c.clock,
                             lambda: {sym for sym, _ in feed.streams()}, history_days=c.settings.data.history_days)
