"""Pairs updater use case (SPEC §3.1, 01:45 and 13:45 UTC): choose the universe, write ``coins``."""

from __future__ import annotations

from sixbtc.adapters.exchanges.hl_info import HyperliquidInfo
from sixbtc.app.container import Container
from sixbtc.app.market import market_client
from sixbtc.core.errors import DataError
from sixbtc.data.ports import MarketDataClient, PerpMarketsClient
from sixbtc.data.universe import UniverseChange, select_universe, universe_change


def info_client(c: Container) -> HyperliquidInfo:
    """The Hyperliquid info reader for ``data.hyperliquid_info_url``."""
    return HyperliquidInfo(c.settings.data.hyperliquid_info_url, timeout_s=c.settings.data.network_probe_timeout_s)


def update_pairs(c: Container, *, dry_run: bool = False, venue: PerpMarketsClient | None = None,
                 binance: MarketDataClient | None = None) -> UniverseChange:
    """Read both venues, select the universe, and (unless ``dry_run``) write it to ``coins``.

    The new universe is ``data.top_pairs_count`` coins with ``volume >= data.min_volume_usd``
    (:func:`~sixbtc.data.universe.select_universe`); active coins not in it are set inactive.
    Nothing is written when either venue fails or the new universe is empty (an empty answer
    would otherwise deactivate every coin).

    Raises
    ------
    NetworkUnavailable, TransientExchangeError, DataError
        From the venue readers (nothing is written then); ``DataError`` also when no coin
        passes the filters.
    """
    markets = (venue or info_client(c)).perp_markets()
    symbols = (binance or market_client(c)).list_symbols()
    cfg = c.settings.data
    pairs = select_universe(markets, symbols, min_volume_usd=cfg.min_volume_usd, top_pairs_count=cfg.top_pairs_count)
    if not pairs:
        raise DataError(f"pairs updater: no coin of {len(markets)} Hyperliquid markets is on Binance USDⓈ-M "
                        f"({len(symbols)} symbols) with 24h volume >= data.min_volume_usd = {cfg.min_volume_usd:,.0f}; "
                        "coins left unchanged")
    change = universe_change(pairs, c.registry.get_active_pairs())
    if not dry_run:
        c.coins.apply_universe(pairs, change.removed)
        c.registry.invalidate()
    return change
