"""What the executor needs: a broker, a signal engine, a history source and a store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from sixbtc.domain.trading import ExitReason, Trade


@dataclass(frozen=True)
class Bar:
    """A closed candle of ``symbol``/``timeframe`` opened at ``ts`` (UTC)."""

    symbol: str
    timeframe: str
    ts: datetime
    open: float
    high: float
    low: float
    close: float


@dataclass(frozen=True)
class OrderIntent:
    """A market order to fill at the next bar's open of its stream.

    ``side`` is +1 (buy) or -1 (sell). Entries carry ``notional_usd`` (quantity is set at
    the fill price) and the protective ``sl_pct``/``tp_pct`` (fractions of the fill price);
    exits carry ``qty`` and ``reduce_only=True``.
    """

    client_order_id: str
    strategy_id: int
    symbol: str
    timeframe: str
    side: int
    leg: str
    notional_usd: float = 0.0
    qty: float = 0.0
    reduce_only: bool = False
    sl_pct: float = 0.0
    tp_pct: float = 0.0


@dataclass(frozen=True)
class Fill:
    """A broker fill. ``price`` includes slippage, ``fee_usd`` the fee; exits have a reason."""

    client_order_id: str
    strategy_id: int
    symbol: str
    timeframe: str
    side: int
    leg: str
    qty: float
    price: float
    fee_usd: float
    ts: datetime
    reason: ExitReason | None = None
    stop_price: float = 0.0
    target_price: float = 0.0


class Broker(Protocol):
    """Order execution venue (paper or real)."""

    mode: str

    def submit(self, intent: OrderIntent) -> None:
        """Queue a market order (and, for an entry, its protective stop and target)."""
        ...

    def on_bar(self, bar: Bar) -> list[Fill]:
        """Advance the market by one closed bar; return the fills it caused, in time order."""
        ...


class SignalEngine(Protocol):
    """Computes a strategy's signals on recent closed candles (sandboxed)."""

    def last_signal(self, strategy_id: int, data: dict[str, np.ndarray], params: dict[str, Any]) -> tuple[bool, bool]:
        """(entry, exit) on the last bar of ``data``."""
        ...


class HistorySource(Protocol):
    """The last ``bars`` closed candles of a stream as OHLCV arrays (oldest first)."""

    def recent(self, symbol: str, timeframe: str, upto_ts: datetime, bars: int) -> dict[str, np.ndarray]:
        """Candles opened at or before ``upto_ts``."""
        ...


class ExecutionStore(Protocol):
    """Persistence of orders, positions and trades (see ``TradingRepository``)."""

    def open_position(self, order: dict[str, Any], position: dict[str, Any]) -> int | None: ...

    def close_position(self, position_id: int, order: dict[str, Any], trade: Trade, balance_delta_usd: float) -> bool: ...

    def record_order(self, order: dict[str, Any]) -> bool: ...

    def open_positions(self, strategy_id: int | None = None) -> list[dict[str, Any]]: ...

    def last_exits(self) -> dict[tuple[int, str, str], datetime]:
        """(strategy_id, symbol, timeframe) -> time of its newest closed trade's exit."""
        ...
