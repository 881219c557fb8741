"""Ports of the market-data stage: what it needs from storage, venues and feeds.

Adapters implement these Protocols (``sixbtc.adapters.storage.candle_store.ParquetCandleStore``,
``sixbtc.adapters.exchanges.ccxt_market.CcxtMarketData``); ``sixbtc.app`` wires them in.
Conventions: ``symbol`` is the base asset as listed by the venue (``"BTC"``, ``"1000PEPE"``),
``timeframe`` a :class:`~sixbtc.domain.timeframe.Timeframe` value (``"1h"``), candle frames
follow :mod:`sixbtc.domain.candles`, times are UTC, ``*_ms`` are epoch milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

import pandas as pd

from sixbtc.data.universe import Pair, PerpMarket


@dataclass(frozen=True)
class StoreEntry:
    """One stored candle series.

    Attributes
    ----------
    symbol : str
        Base asset, e.g. ``"BTC"``.
    timeframe : str
        Timeframe value, e.g. ``"1h"``.
    first, last : pandas.Timestamp
        Open time (UTC) of the first and last stored candle.
    rows : int
        Number of stored candles.
    is_full_history : bool
        True when the series is known to start at the venue's listing date.
    """

    symbol: str
    timeframe: str
    first: pd.Timestamp
    last: pd.Timestamp
    rows: int
    is_full_history: bool = False


@dataclass(frozen=True)
class ClosedCandle:
    """One closed candle as delivered by a :class:`CandleFeed`.

    Attributes
    ----------
    symbol, timeframe : str
        Series identity.
    ts : pandas.Timestamp
        Candle open time, UTC.
    close_ts : pandas.Timestamp
        Candle close time (``ts + timeframe``), UTC; the candle is usable from then on.
    open, high, low, close : float
        Prices in quote currency (USDT).
    volume : float
        Volume in base-asset units.
    """

    symbol: str
    timeframe: str
    ts: pd.Timestamp
    close_ts: pd.Timestamp
    open: float
    high: float
    low: float
    close: float
    volume: float


@runtime_checkable
class CandleStore(Protocol):
    """Persistent store of validated candle and funding frames."""

    def write_candles(
        self, symbol: str, timeframe: str, df: pd.DataFrame, *, is_full_history: bool | None = None
    ) -> int:
        """Validate ``df``, merge it into the stored series (new rows win); return rows stored."""
        ...

    def read_candles(
        self,
        symbol: str,
        timeframe: str,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
    ) -> pd.DataFrame:
        """Return candles with open time in ``[start, end)``; ``DataError`` if none stored."""
        ...

    def has(self, symbol: str, timeframe: str) -> bool:
        """True if a readable series is stored."""
        ...

    def entry(self, symbol: str, timeframe: str) -> StoreEntry | None:
        """Summary of the stored series, or None if absent."""
        ...

    def inventory(self) -> list[StoreEntry]:
        """Every stored candle series, sorted by symbol then timeframe."""
        ...

    def symbols(self, timeframe: str) -> list[str]:
        """Sorted symbols stored for ``timeframe``."""
        ...

    def last_timestamp(self, symbol: str, timeframe: str) -> pd.Timestamp | None:
        """Open time of the last stored candle, or None if absent."""
        ...

    def write_funding(self, symbol: str, df: pd.DataFrame) -> int:
        """Validate and merge funding events; return rows stored."""
        ...

    def read_funding(
        self, symbol: str, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
    ) -> pd.DataFrame:
        """Funding events in ``[start, end)``; an empty frame if none stored."""
        ...


@runtime_checkable
class MarketDataClient(Protocol):
    """Read-only market data from a venue (REST)."""

    def fetch_ohlcv(
        self, symbol: str, timeframe: str, since_ms: int, until_ms: int
    ) -> pd.DataFrame:
        """Closed candles with open time in ``[since_ms, until_ms)`` as a candle frame."""
        ...

    def fetch_funding_history(self, symbol: str, since_ms: int, until_ms: int) -> pd.DataFrame:
        """Funding events with settlement time in ``[since_ms, until_ms)``."""
        ...

    def list_symbols(self) -> list[str]:
        """Base assets of the venue's active USDT-margined linear perpetuals."""
        ...

    def listing_ms(self, symbol: str) -> int | None:
        """Listing date of ``symbol`` (epoch ms), or None if the venue does not say."""
        ...


@runtime_checkable
class CandleArchive(Protocol):
    """Bulk monthly candle files of a venue (Binance public archives)."""

    def monthly_candles(self, symbol: str, timeframe: str, year: int, month: int) -> pd.DataFrame | None:
        """The month's candles (unvalidated candle frame), None if not published; ``DataError``
        if the file fails its checksum."""
        ...


@runtime_checkable
class CandleFeed(Protocol):
    """Closed candles in time order, live or replayed (SPEC §3.1 live/replay feed)."""

    def __iter__(self) -> Iterator[ClosedCandle]:
        """Yield closed candles ordered by close time, then symbol."""
        ...

    def history(
        self, symbol: str, timeframe: str, upto_close_ts: pd.Timestamp, bars: int
    ) -> pd.DataFrame:
        """The last ``bars`` candles closed at or before ``upto_close_ts`` (candle frame)."""
        ...


@dataclass(frozen=True)
class CoinInfo:
    """One row of the coin table (SPEC §3.1 coin registry).

    Attributes
    ----------
    symbol : str
        SixBTC name (Binance base asset, ``"1000PEPE"``).
    is_active : bool
        In the current universe (False: no new entries; open positions are still managed).
    volume_24h_usd : float or None
        24 h notional volume on the execution venue, USD (None before the pairs updater ran).
    price : float or None
        Mark price on the execution venue, USD per quoted unit.
    max_leverage : float or None
        Venue's maximum leverage (×).
    timeframes : tuple of str
        Timeframes stored for the coin.
    updated_at : datetime
        Last change of the row (UTC).
    """

    symbol: str
    is_active: bool
    volume_24h_usd: float | None
    price: float | None
    max_leverage: float | None
    timeframes: tuple[str, ...]
    updated_at: datetime


@runtime_checkable
class CoinTable(Protocol):
    """The persistent coin table the registry caches and the pairs updater writes."""

    def all_coins(self) -> list[CoinInfo]:
        """Every coin, active or not, in any order."""
        ...

    def version(self) -> str:
        """A cheap marker that changes whenever the table changes (rows, newest ``updated_at``,
        active count, volume sum)."""
        ...

    def apply_universe(self, pairs: list[Pair], deactivate: list[str]) -> None:
        """In one transaction: upsert ``pairs`` as active with volume, price and max leverage,
        and set ``is_active = false`` on ``deactivate``."""
        ...


@runtime_checkable
class PerpMarketsClient(Protocol):
    """Read-only list of the execution venue's perpetual markets (Hyperliquid ``metaAndAssetCtxs``)."""

    def perp_markets(self) -> list[PerpMarket]:
        """Every perpetual market with its 24 h volume, mark price and max leverage."""
        ...


@runtime_checkable
class GapLedgerStore(CandleStore, Protocol):
    """A candle store that also records known venue gaps per series (in its metadata)."""

    def known_gaps(self, symbol: str, timeframe: str) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
        """Ranges ``[start, end)`` (UTC open times) the venue is known not to have."""
        ...

    def add_known_gaps(self, symbol: str, timeframe: str, ranges: list[tuple[pd.Timestamp, pd.Timestamp]]) -> None:
        """Record more known venue gaps (merged with the stored ones)."""
        ...


@dataclass(frozen=True)
class KlineUpdate:
    """One kline update pushed by a venue's websocket stream (the forming or the final candle).

    Attributes
    ----------
    symbol, timeframe : str
        Series identity (``"BTC"``, ``"1h"``).
    open_ms : int
        Candle open time, epoch ms (UTC).
    open, high, low, close : float
        Prices so far, quote currency (USDT).
    volume : float
        Volume so far, base-asset units.
    closed : bool
        The venue marks this update as the candle's final one (Binance ``k.x``).
    event_ms : int
        The venue's send time of the message, epoch ms (Binance ``E``); latency is measured from it.
    """

    symbol: str
    timeframe: str
    open_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    closed: bool
    event_ms: int


@runtime_checkable
class KlineSource(Protocol):
    """A venue's kline websocket (ccxt pro ``watch_ohlcv``) that pushes :class:`KlineUpdate`.

    The source owns the connection: staggered subscriptions, reconnects with back-off.
    ``sink`` and ``on_state`` are called from the source's own thread.
    """

    def start(self, sink: Callable[[KlineUpdate], None], on_state: Callable[[str, str], None]) -> None:
        """Start the connection thread; ``on_state(state, detail)`` reports ``"connected"`` /
        ``"disconnected"`` (with the reason and the back-off)."""
        ...

    def subscribe(self, streams: list[tuple[str, str]]) -> None:
        """Add ``(symbol, timeframe)`` streams (already subscribed ones are ignored)."""
        ...

    def close(self) -> None:
        """Stop the thread and close the connection."""
        ...


@runtime_checkable
class OpenInterestClient(Protocol):
    """The venue's current open interest of a perpetual (REST)."""

    def fetch_open_interest(self, symbol: str) -> tuple[int, float]:
        """``(time_ms, open_interest)``: epoch ms of the venue's reading and the open interest in
        base-asset units (contracts of 1 base unit on Binance USDⓈ-M)."""
        ...


@runtime_checkable
class OpenInterestStore(Protocol):
    """Persistent open-interest readings per symbol (frame ``timestamp``, ``value``)."""

    def write_open_interest(self, symbol: str, df: pd.DataFrame) -> int:
        """Validate and merge readings; return rows stored."""
        ...

    def read_open_interest(
        self, symbol: str, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
    ) -> pd.DataFrame:
        """Readings with time in ``[start, end)``; an empty frame if none stored."""
        ...
