"""What the executor needs: a broker, a signal engine, a history source and a store.

The executor commits the effects of one bar (fills, new orders, cancellations, stopped
strategies and each touched strategy's :class:`BarCursor`) as one :class:`BarChanges`, in one
transaction; a crash therefore loses a whole bar or nothing, and a restart resumes every
strategy right after the newest bar whose effects it committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import numpy as np

from sixbtc.domain.timeframe import Timeframe
from sixbtc.domain.trading import ExitReason, Trade

#: Order of processing of closed bars: close time, then symbol, then timeframe length
#: (the replay feed's order, :mod:`sixbtc.data.replay`).
BarKey = tuple[datetime, str, int]


def bar_key(ts: datetime, symbol: str, timeframe: str) -> BarKey:
    """The processing-order key of the bar of ``symbol``/``timeframe`` opened at ``ts`` (UTC).

    Raises
    ------
    ValueError
        For an unknown timeframe.
    """
    ms = Timeframe.parse(timeframe).ms
    return ts + timedelta(milliseconds=ms), symbol, ms


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

    @property
    def key(self) -> BarKey:
        """Processing-order key (:func:`bar_key`)."""
        return bar_key(self.ts, self.symbol, self.timeframe)


@dataclass(frozen=True)
class BarCursor:
    """The newest bar whose effects were committed for a strategy (the resume point)."""

    ts: datetime
    symbol: str
    timeframe: str

    @property
    def key(self) -> BarKey:
        """Processing-order key (:func:`bar_key`)."""
        return bar_key(self.ts, self.symbol, self.timeframe)


@dataclass(frozen=True)
class OrderIntent:
    """A market order to fill at the next bar's open of its stream.

    ``side`` is +1 (buy) or -1 (sell). Entries carry ``notional_usd`` (quantity is set at
    the fill price) and the protective ``sl_pct``/``tp_pct`` (fractions of the fill price);
    exits carry ``qty`` and ``reduce_only=True``. ``leg`` is ``"entry"``, ``"exit"`` (signal
    exit) or ``"flatten"`` (the strategy stopped trading). ``not_before`` is the time of the
    decision (close of the bar it was made on): the order fills at the open of the first bar
    of its stream opened at or after it — the next bar for an order on the decision's own
    stream, never a bar of another stream that opened before the decision.
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
    not_before: datetime | None = None


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


@dataclass(frozen=True)
class StrategyFault:
    """A LIVE strategy that failed (signals raised, sandbox timeout/crash, bad output).

    ``reason`` is ``"executor:error"``; ``detail`` names the error and the bar.
    """

    strategy_id: int
    reason: str
    detail: str


@dataclass
class BarChanges:
    """Everything one bar changed; the store writes it in one transaction.

    ``entries``: (filled entry order, position opened). ``exits``: (filled exit order, trade,
    entry client order id of the position it closes). ``orders``: new orders, status NEW
    (written before they are sent). ``cancels``: client order ids of NEW orders cancelled.
    ``faults``: strategies to stop. ``cursors``: strategy id → this bar, for every strategy
    the bar touched. Order and position rows are dicts of ``orders``/``positions`` columns.
    """

    entries: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    exits: list[tuple[dict[str, Any], Trade, str]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    cancels: list[str] = field(default_factory=list)
    faults: list[StrategyFault] = field(default_factory=list)
    cursors: dict[int, BarCursor] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.cursors)


@dataclass(frozen=True)
class RecoveredState:
    """The executor's state as committed: what a restart starts from.

    ``balances``: strategy id → sub-account balance (capital + realised PnL, USD).
    ``positions``: open positions (dicts of ``positions`` columns). ``pending``: orders
    stored as NEW and never filled or cancelled. ``cursors``: strategy id → resume point.
    """

    balances: dict[int, float] = field(default_factory=dict)
    positions: list[dict[str, Any]] = field(default_factory=list)
    pending: list[OrderIntent] = field(default_factory=list)
    cursors: dict[int, BarCursor] = field(default_factory=dict)


class Broker(Protocol):
    """Order execution venue (paper or real)."""

    mode: str

    def submit(self, intent: OrderIntent) -> None:
        """Queue a market order (and, for an entry, its protective stop and target)."""
        ...

    def cancel(self, client_order_id: str) -> None:
        """Cancel a queued order (no-op when it is not queued)."""
        ...

    def restore_protection(self, strategy_id: int, symbol: str, timeframe: str, side: int, qty: float,
                           stop: float, target: float) -> None:
        """Re-arm the stop/target of a position recovered from the store."""
        ...

    def on_bar(self, bar: Bar) -> list[Fill]:
        """Advance the market by one closed bar; return the fills it caused, in time order."""
        ...


class SignalEngine(Protocol):
    """Computes a strategy's signals on recent closed candles (sandboxed)."""

    def last_signal(self, strategy_id: int, data: dict[str, np.ndarray], params: dict[str, Any]) -> tuple[bool, bool]:
        """(entry, exit) on the last bar of ``data``; raises when the strategy fails."""
        ...


class HistorySource(Protocol):
    """The last ``bars`` closed candles of a stream as OHLCV arrays (oldest first)."""

    def recent(self, symbol: str, timeframe: str, upto_ts: datetime, bars: int,
               inputs: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
        """Candles opened at or before ``upto_ts``, with the declared extra ``inputs``
        aligned on them (:func:`sixbtc.strategy.inputs.build_data`, as in the backtest)."""
        ...


class ExecutionStore(Protocol):
    """Persistence of the executor's state (see ``ExecutionRepository``)."""

    def recover(self, strategy_ids: list[int]) -> RecoveredState:
        """The committed state of ``strategy_ids``."""
        ...

    def commit(self, changes: BarChanges) -> None:
        """Write one bar's changes atomically (all or nothing)."""
        ...
