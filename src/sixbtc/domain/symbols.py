"""Symbol names of one coin on the market-data venue and on the execution venue.

SixBTC names a coin by its **Binance USDⓈ-M base asset** (``"BTC"``, ``"1000PEPE"``): that is
the name of the candle files, of the ``coins`` table and of every strategy's symbols. The
execution venue, Hyperliquid, lists most coins under the same name, but a few low-priced
coins are quoted per 1,000 units under a ``k`` prefix (Hyperliquid docs, "Asset IDs" / the
``universe`` of ``metaAndAssetCtxs``), while Binance lists them with a ``1000`` prefix. Both
then quote the price of 1,000 coins, so prices and sizes are on the same scale.

:data:`VENUE_SYMBOLS` is the one table of these differences; every other coin has the same
name on both venues. Add a row when a venue lists a coin under another name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"^[A-Za-z0-9]{1,30}$")


@dataclass(frozen=True)
class VenueSymbol:
    """One coin whose names differ between venues.

    Attributes
    ----------
    binance : str
        Base asset of the Binance USDⓈ-M perpetual (``"1000PEPE"`` for ``1000PEPEUSDT``).
    hyperliquid : str
        Hyperliquid perpetual coin name (``"kPEPE"``).
    units : int
        Coins per quoted unit on both venues (1000: the price is that of 1,000 PEPE).
    """

    binance: str
    hyperliquid: str
    units: int = 1000


#: Coins listed under different names (Binance ``1000X`` <-> Hyperliquid ``kX``).
VENUE_SYMBOLS: tuple[VenueSymbol, ...] = (
    VenueSymbol("1000PEPE", "kPEPE"),
    VenueSymbol("1000SHIB", "kSHIB"),
    VenueSymbol("1000BONK", "kBONK"),
    VenueSymbol("1000FLOKI", "kFLOKI"),
    VenueSymbol("1000LUNC", "kLUNC"),
)

_TO_HL = {row.binance: row.hyperliquid for row in VENUE_SYMBOLS}
_FROM_HL = {row.hyperliquid: row.binance for row in VENUE_SYMBOLS}


def _checked(name: str, venue: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"{venue} symbol {name!r} is not a plain coin name like BTC or 1000PEPE")
    return name


def to_hyperliquid(symbol: str) -> str:
    """Hyperliquid coin name of a SixBTC (Binance base) symbol: ``"1000PEPE"`` -> ``"kPEPE"``.

    Raises
    ------
    ValueError
        If ``symbol`` is not a plain alphanumeric coin name.
    """
    name = _checked(symbol, "Binance")
    return _TO_HL.get(name, name)


def from_hyperliquid(coin: str) -> str:
    """SixBTC (Binance base) symbol of a Hyperliquid coin name: ``"kPEPE"`` -> ``"1000PEPE"``.

    Raises
    ------
    ValueError
        If ``coin`` is not a plain alphanumeric coin name.
    """
    name = _checked(coin, "Hyperliquid")
    return _FROM_HL.get(name, name)
