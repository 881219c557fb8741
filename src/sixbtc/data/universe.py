"""The tradable universe: Hyperliquid perpetuals ∩ Binance USDⓈ-M symbols (SPEC §3.1 "Pairs updater").

Rule (SPEC §3.1): take the execution venue's perpetual markets (name, 24 h notional volume
in USD, mark price, max leverage), keep those whose coin is also a Binance USDⓈ-M perpetual
(names translated by :mod:`sixbtc.domain.symbols`) and not delisted, whose volume is at least
``min_volume_usd``; sort by volume (descending, then symbol), keep the first
``top_pairs_count``. Coins of the previous universe that are not kept fall out (``is_active``
false: no new entries, open positions are still managed by the executor).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from sixbtc.core.errors import DataError
from sixbtc.domain.symbols import from_hyperliquid


@dataclass(frozen=True)
class PerpMarket:
    """One perpetual market of the execution venue, as read from it.

    Attributes
    ----------
    venue_symbol : str
        The venue's coin name (Hyperliquid ``"kPEPE"``).
    volume_24h_usd : float
        Notional volume of the last 24 h, USD (Hyperliquid ``dayNtlVlm``).
    mark_price : float
        Mark price, USD per quoted unit (per 1,000 coins for ``k`` names).
    max_leverage : float
        Largest leverage the venue allows (e.g. 50.0).
    delisted : bool
        True when the venue lists the market as delisted (no new positions).
    """

    venue_symbol: str
    volume_24h_usd: float
    mark_price: float
    max_leverage: float
    delisted: bool = False


@dataclass(frozen=True)
class Pair:
    """One coin of the selected universe.

    Attributes
    ----------
    symbol : str
        SixBTC name (Binance base asset, ``"1000PEPE"``).
    venue_symbol : str
        Execution-venue name (``"kPEPE"``).
    volume_24h_usd, mark_price, max_leverage : float
        As in :class:`PerpMarket` (USD, USD, ×).
    rank : int
        1 for the most traded coin.
    """

    symbol: str
    venue_symbol: str
    volume_24h_usd: float
    mark_price: float
    max_leverage: float
    rank: int


@dataclass(frozen=True)
class UniverseChange:
    """What a new universe changes against the coins active before.

    Attributes
    ----------
    pairs : list of Pair
        The new universe, most traded first.
    added : list of str
        Symbols active now that were not before (sorted).
    removed : list of str
        Symbols active before that fall out (sorted).
    kept : list of str
        Symbols active before and now (sorted).
    """

    pairs: list[Pair]
    added: list[str]
    removed: list[str]
    kept: list[str]


def select_universe(markets: Iterable[PerpMarket], binance_symbols: Iterable[str], *,
                    min_volume_usd: float, top_pairs_count: int) -> list[Pair]:
    """The universe of SPEC §3.1: venue markets on Binance too, liquid enough, top N by volume.

    Parameters
    ----------
    markets : iterable of PerpMarket
        The execution venue's perpetual markets.
    binance_symbols : iterable of str
        Base assets of Binance's active USDⓈ-M perpetuals (``"1000PEPE"``).
    min_volume_usd : float
        Smallest 24 h notional volume kept, USD (>= 0).
    top_pairs_count : int
        Most coins kept (>= 1).

    Returns
    -------
    list of Pair
        At most ``top_pairs_count`` pairs, by volume descending then symbol, ranked from 1.
        Markets with a non-finite or negative volume / price / leverage are left out.

    Raises
    ------
    DataError
        If ``min_volume_usd`` < 0 or ``top_pairs_count`` < 1, or two venue markets map to
        the same SixBTC symbol.
    """
    if not math.isfinite(min_volume_usd) or min_volume_usd < 0:
        raise DataError(f"data.min_volume_usd must be a finite number >= 0, got {min_volume_usd}")
    if top_pairs_count < 1:
        raise DataError(f"data.top_pairs_count must be >= 1, got {top_pairs_count}")
    on_binance = set(binance_symbols)
    picked: dict[str, PerpMarket] = {}
    for m in markets:
        if m.delisted or not _sane(m) or m.volume_24h_usd < min_volume_usd:
            continue
        try:
            symbol = from_hyperliquid(m.venue_symbol)
        except ValueError:
            continue  # a name that cannot be a candle file (e.g. "@107" spot aliases)
        if symbol not in on_binance:
            continue
        if symbol in picked:
            raise DataError(f"venue markets {picked[symbol].venue_symbol!r} and {m.venue_symbol!r} "
                            f"both map to {symbol!r}: fix sixbtc.domain.symbols.VENUE_SYMBOLS")
        picked[symbol] = m
    ordered = sorted(picked.items(), key=lambda kv: (-kv[1].volume_24h_usd, kv[0]))[:top_pairs_count]
    return [Pair(sym, m.venue_symbol, m.volume_24h_usd, m.mark_price, m.max_leverage, i)
            for i, (sym, m) in enumerate(ordered, start=1)]


def universe_change(pairs: list[Pair], active_before: Iterable[str]) -> UniverseChange:
    """Compare the new universe ``pairs`` with the symbols active before (see :class:`UniverseChange`)."""
    new, old = {p.symbol for p in pairs}, set(active_before)
    return UniverseChange(pairs, sorted(new - old), sorted(old - new), sorted(new & old))


def _sane(m: PerpMarket) -> bool:
    values = (m.volume_24h_usd, m.mark_price, m.max_leverage)
    return all(isinstance(v, int | float) and math.isfinite(v) and v >= 0 for v in values)
