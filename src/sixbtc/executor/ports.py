"""What the executor needs besides the venue (:mod:`sixbtc.executor.venue`): a signal engine,
a history source, a store and the trading permissions of the pass.

The executor commits the effects of one pass (venue fills, positions and trades built from
them, new journal orders in status INTENT, order states seen on the venue, stopped strategies,
refusal and alert events, and each decided strategy's :class:`BarCursor`) as one
:class:`BarChanges`, in one transaction, and only then sends the new orders; a crash
therefore loses a whole pass or nothing, and a restart resumes every strategy right after the
newest bar whose decision it committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import numpy as np

from sixbtc.domain.orders import OrderRequest, OrderSide, OrderStatus, OrderType, VenueFill
from sixbtc.domain.timeframe import Timeframe
from sixbtc.domain.trading import Trade

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


#: Order legs (the ``leg`` of a journal order and of its client order id).
ENTRY, STOP, TARGET, EXIT, FLATTEN, PROTECT = "entry", "sl", "tp", "exit", "flatten", "protect"
#: Legs that close (part of) a position; ``PROTECT`` is the market exit sent when a stop could
#: not be placed, ``FLATTEN`` the exit of a strategy that stopped trading.
CLOSING_LEGS = frozenset({STOP, TARGET, EXIT, FLATTEN, PROTECT})


@dataclass
class JournalOrder:
    """One order of the order-intent journal (a row of ``orders``), as the executor tracks it.

    Written with ``status`` INTENT before it is sent; its state then only moves along
    :data:`sixbtc.domain.orders.ORDER_TRANSITIONS` (compare-and-set in the store).
    ``client_order_id`` is deterministic: :func:`sixbtc.core.ids.client_order_id` of
    (strategy, symbol, ``signal_ms``, leg) — ``signal_ms`` is the open time (UTC ms) of the
    candle the order was decided on (for a stop or target: the entry's candle). ``qty`` in
    coins (> 0); ``notional_usd`` sizes a MARKET entry in USD at its fill on a venue that can
    (the paper venue), ``qty`` is then the estimate at the decision's close. ``sl_pct`` and
    ``tp_pct`` (fractions of the fill price) of an entry set its stop and target levels.
    ``leverage`` (entries) is set on the venue before the entry is sent (not stored).
    """

    client_order_id: str
    strategy_id: int
    account: str
    symbol: str
    timeframe: str
    leg: str
    side: OrderSide
    order_type: OrderType
    qty: float
    signal_ms: int
    reduce_only: bool = False
    notional_usd: float | None = None
    trigger_price: float | None = None
    sl_pct: float = 0.0
    tp_pct: float = 0.0
    leverage: int = 0
    status: OrderStatus = OrderStatus.INTENT
    filled_qty: float = 0.0
    venue_order_id: str | None = None
    acked_ms: int | None = None

    def request(self) -> OrderRequest:
        """The venue request of this order (same client order id every time)."""
        return OrderRequest(self.client_order_id, self.symbol, self.side, self.order_type, self.qty,
                            trigger_price=self.trigger_price, reduce_only=self.reduce_only,
                            notional_usd=self.notional_usd)

    @property
    def is_live(self) -> bool:
        """Not final: it may still fill (INTENT, SENT, OPEN, PARTIALLY_FILLED, UNKNOWN)."""
        return not self.status.is_final


@dataclass(frozen=True)
class StrategyFault:
    """A LIVE strategy that failed (signals raised, sandbox timeout/crash, bad output).

    ``reason`` is ``"executor:error"``; ``detail`` names the error and the bar.
    """

    strategy_id: int
    reason: str
    detail: str


@dataclass(frozen=True)
class Transition:
    """A compare-and-set of one journal order's status (``src`` → ``dst``) with column values."""

    client_order_id: str
    src: OrderStatus
    dst: OrderStatus
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class BarChanges:
    """Everything one executor pass changed; the store writes it in one transaction.

    ``fills``: (account, venue fill, strategy id or None) to record (unique venue trade id).
    ``intents``: new journal orders (status INTENT, written before they are sent).
    ``transitions``: status changes observed on the venue (compare-and-set). ``opened``:
    positions opened (dicts of ``positions`` columns). ``updated``: (entry client order id,
    column values) of open positions. ``closed``: (trade, entry client order id, exit key,
    funding in USD received > 0, position closed whole). ``events``: strategy events
    (keyword arguments of ``StrategyRepository.event_in``: refusals, alerts). ``faults``:
    strategies to stop. ``cursors``: strategy id → this bar, for every strategy whose
    decision on the bar is committed. ``mode``: the venue's (``paper``/``live``), written on
    orders and fills. ``release``: strategies whose sub-account is to be detached if they no
    longer trade and hold nothing (after their last orders were cancelled).
    """

    fills: list[tuple[str, VenueFill, int | None]] = field(default_factory=list)
    intents: list[JournalOrder] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    opened: list[dict[str, Any]] = field(default_factory=list)
    updated: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    closed: list[tuple[Trade, str, str, float, bool]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    faults: list[StrategyFault] = field(default_factory=list)
    cursors: dict[int, BarCursor] = field(default_factory=dict)
    mode: str = "paper"
    release: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return any((self.fills, self.intents, self.transitions, self.opened, self.updated, self.closed,
                    self.events, self.faults, self.cursors, self.release))


@dataclass(frozen=True)
class RecoveredState:
    """The executor's state as committed: what a restart starts from.

    ``balances``: strategy id → sub-account balance (capital + realised PnL, USD).
    ``positions``: open positions (dicts of ``positions`` columns). ``orders``: journal
    orders not final (INTENT, SENT, OPEN, PARTIALLY_FILLED, UNKNOWN) plus the protective
    orders of open positions. ``cursors``: strategy id → resume point. ``trade_ids``: venue
    trade ids already recorded for the strategies' accounts. ``last_fill_ms``: account → time
    of its newest recorded fill (UTC ms).
    """

    balances: dict[int, float] = field(default_factory=dict)
    positions: list[dict[str, Any]] = field(default_factory=list)
    orders: list[JournalOrder] = field(default_factory=list)
    cursors: dict[int, BarCursor] = field(default_factory=dict)
    trade_ids: frozenset[str] = frozenset()
    last_fill_ms: dict[str, int] = field(default_factory=dict)


class TradingGate(Protocol):
    """Trading permissions of the current pass (:class:`sixbtc.app.safety.Permissions`)."""

    def allows(self, strategy_id: int, *, reduce_only: bool) -> bool:
        """May ``strategy_id`` send an order of this kind now?"""
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
    """Persistence of the executor's state (``ExecutionRepository``)."""

    def recover(self, strategy_ids: list[int]) -> RecoveredState:
        """The committed state of ``strategy_ids``."""
        ...

    def commit(self, changes: BarChanges) -> None:
        """Write one pass's changes atomically (all or nothing)."""
        ...

    def transition(self, client_order_id: str, src: OrderStatus, dst: OrderStatus, **values: Any) -> bool:
        """Compare-and-set one journal order's status; False when it is no longer ``src``.
        Raises ``ValueError`` for a transition not in ``ORDER_TRANSITIONS``."""
        ...

    def order(self, client_order_id: str) -> JournalOrder | None:
        """The journal order with this client order id (any status), or None."""
        ...

    def update_position(self, entry_client_order_id: str, **values: Any) -> None:
        """Set columns of the open position opened by ``entry_client_order_id``."""
        ...
