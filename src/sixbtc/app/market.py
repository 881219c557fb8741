"""Market-data use cases: first download, forward updates, and the coin registry."""

from __future__ import annotations

from collections import defaultdict

from sixbtc.adapters.exchanges.ccxt_market import CcxtMarketData
from sixbtc.app.container import Container
from sixbtc.data.downloader import DownloadResult, download

OFFLINE_HINT = ("cannot reach {venue}: the candle store is empty and the network is unreachable. "
                "Import candles offline with `sixbtc data import PATH` (Parquet files like "
                "BTC_1h.parquet / BTC_funding.parquet, or CryptoDataDownload CSV), then run again.")


def market_client(c: Container) -> CcxtMarketData:
    """The ccxt market-data client for ``data.exchange_id`` (read-only, no credentials)."""
    return CcxtMarketData(c.settings.data.exchange_id, timeout_ms=int(c.settings.data.network_probe_timeout_s * 1000),
                          api_url=c.settings.data.exchange_api_url)


def store_is_empty(c: Container) -> bool:
    """True when the store holds no candles of the configured backtest timeframes."""
    tfs = set(c.settings.backtest.timeframes)
    return not any(e.timeframe in tfs for e in c.store.inventory())


def download_missing(c: Container, client: CcxtMarketData | None = None,
                     coins: list[str] | None = None) -> list[DownloadResult]:
    """Probe the venue, then download/update ``coins`` (default ``data.coins``) × ``data.timeframes``.

    Raises
    ------
    NetworkUnavailable
        Within ``data.network_probe_timeout_s`` when the venue is unreachable.
    """
    client = client or market_client(c)
    client.probe(c.settings.data.network_probe_timeout_s)
    now_ms = int(c.clock.now().timestamp() * 1000)
    results = download(client, c.store, coins or c.settings.data.coins, c.settings.data.timeframes,
                       history_days=c.settings.data.history_days, now_ms=now_ms)
    sync_coins(c)
    return results


def sync_coins(c: Container) -> int:
    """Upsert one ``coins`` row per symbol in the store, with its stored timeframes."""
    tfs: dict[str, list[str]] = defaultdict(list)
    for entry in c.store.inventory():
        tfs[entry.symbol].append(entry.timeframe)
    for symbol, frames in tfs.items():
        c.coins.upsert(symbol, timeframes=frames)
    return len(tfs)
