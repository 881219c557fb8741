"""Orders as a venue sees them: types, the order state machine and the venue's records.

These are the words of the :class:`~sixbtc.executor.venue.ExchangeClient` port, shared by the
executor, the paper venue and the Hyperliquid adapter. Quantities are in base units (coins),
prices in USD (USDC/USDT), times in ms since the epoch (UTC), money in USD.

Order state machine (one table, enforced in code and by compare-and-set on the ``orders``
row's status)::

    INTENT ──► SENT ──► OPEN ──► PARTIALLY_FILLED ──► FILLED
       │         │  └─────────────┴──► FILLED / CANCELED
       │         └──► REJECTED / FILLED / CANCELED / UNKNOWN
       └──► CANCELED (never sent)             UNKNOWN ──► any venue-observed state

``INTENT``: stored with its deterministic client order id, not yet sent. ``SENT``: the request
left the process, no answer yet (a crash or an ambiguous outcome leaves it here; the executor
resolves it by querying the id). ``UNKNOWN``: queried and not found within the resolution window
(the venue may still show it later).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class OrderSide(StrEnum):
    """Buy or sell."""

    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell."""
        return 1 if self is OrderSide.BUY else -1

    @classmethod
    def of(cls, sign: int) -> OrderSide:
        """The side of a signed quantity or direction (+1 buy, -1 sell)."""
        return cls.BUY if sign > 0 else cls.SELL


class OrderType(StrEnum):
    """What the venue does with the order.

    ``STOP_MARKET`` and ``TAKE_PROFIT_MARKET`` rest on the venue until the market trades at or
    through ``trigger_price``, then execute at market (Hyperliquid ``trigger`` orders with
    ``tpsl`` ``"sl"``/``"tp"``, ``isMarket`` true).
    """

    MARKET = "market"
    LIMIT = "limit"
    STOP_MARKET = "stop_market"
    TAKE_PROFIT_MARKET = "take_profit_market"

    @property
    def is_trigger(self) -> bool:
        """True for stop and take-profit triggers."""
        return self in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET)


class OrderStatus(StrEnum):
    """Lifecycle of one order (see the module docstring)."""

    INTENT = "intent"
    SENT = "sent"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        """True when nothing can happen to the order any more."""
        return self in (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED)


_S = OrderStatus
ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    _S.INTENT: frozenset({_S.SENT, _S.CANCELED}),
    _S.SENT: frozenset({_S.OPEN, _S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELED, _S.REJECTED, _S.UNKNOWN}),
    _S.OPEN: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELED}),
    _S.PARTIALLY_FILLED: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELED}),
    _S.UNKNOWN: frozenset({_S.OPEN, _S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELED, _S.REJECTED}),
    _S.FILLED: frozenset(),
    _S.CANCELED: frozenset(),
    _S.REJECTED: frozenset(),
}


def check_order_transition(src: OrderStatus, dst: OrderStatus) -> None:
    """Raise ``ValueError`` naming both states if ``src → dst`` is not in :data:`ORDER_TRANSITIONS`."""
    if dst not in ORDER_TRANSITIONS[src]:
        raise ValueError(f"illegal order transition {src} -> {dst}")


@dataclass(frozen=True)
class Market:
    """A venue's trading rules for one perpetual (Hyperliquid ``meta`` universe entry).

    ``sz_decimals``: decimals allowed in a size. ``price_sig_figs``: significant figures of a
    price (Hyperliquid: 5, and at most ``6 - sz_decimals`` decimals for perps). ``min_notional_usd``:
    smallest order value (Hyperliquid: 10 USD). ``max_leverage``: the venue's cap for the coin.
    """

    symbol: str
    sz_decimals: int
    max_leverage: float
    min_notional_usd: float = 10.0
    price_sig_figs: int = 5
    max_price_decimals: int = 6


@dataclass(frozen=True)
class OrderRequest:
    """An order to place. ``qty`` > 0 in base units; ``side`` gives the direction.

    ``price`` is the limit price (LIMIT) or the worst acceptable price of a MARKET order (a
    venue without true market orders, as Hyperliquid, sends an aggressive IOC limit at it;
    None = the adapter picks its slippage bound). ``trigger_price`` is required for triggers.

    ``notional_usd`` (MARKET entries only, optional): size the order in USD at its fill,
    ``qty = notional_usd / fill price`` (the backtest's sizing, so paper trades equal backtest
    trades); ``qty`` is then the caller's estimate at its reference price. The paper venue
    honours it exactly; a venue without quote-sized orders sends ``qty``.
    """

    client_order_id: str
    symbol: str
    side: OrderSide
    order_type: OrderType
    qty: float
    price: float | None = None
    trigger_price: float | None = None
    reduce_only: bool = False
    notional_usd: float | None = None


@dataclass(frozen=True)
class VenueOrder:
    """An order as the venue reports it (``status`` is never INTENT or SENT)."""

    client_order_id: str | None
    venue_order_id: str
    symbol: str
    side: OrderSide
    order_type: OrderType
    qty: float
    filled_qty: float
    avg_fill_price: float | None
    price: float | None
    trigger_price: float | None
    reduce_only: bool
    status: OrderStatus
    ts_ms: int


@dataclass(frozen=True)
class VenueFill:
    """One execution. ``trade_id`` is the venue's unique id (fills are de-duplicated by it).

    ``fee_usd`` > 0 is paid; ``liquidation`` is true for a fill of the venue's liquidation engine.
    """

    trade_id: str
    venue_order_id: str
    client_order_id: str | None
    symbol: str
    side: OrderSide
    qty: float
    price: float
    fee_usd: float
    ts_ms: int
    reduce_only: bool = False
    liquidation: bool = False


@dataclass(frozen=True)
class FundingPayment:
    """Funding settled on a position. ``amount_usd`` > 0 received, < 0 paid; ``rate`` per period."""

    symbol: str
    ts_ms: int
    rate: float
    amount_usd: float
    position_qty: float


@dataclass(frozen=True)
class VenuePosition:
    """An open position. ``qty`` signed (> 0 long); isolated margin in USD."""

    symbol: str
    qty: float
    entry_price: float
    leverage: float
    margin_usd: float
    liquidation_price: float | None
    unrealized_pnl_usd: float


@dataclass(frozen=True)
class Balance:
    """An account's money in USD: ``equity_usd`` = cash + unrealised PnL; ``available_usd`` =
    what new margin may use; ``margin_used_usd`` = margin held by positions."""

    account: str
    equity_usd: float
    available_usd: float
    margin_used_usd: float


@dataclass(frozen=True)
class SubAccount:
    """A sub-account of the master account (``address`` on Hyperliquid, the name on paper)."""

    name: str
    address: str


@dataclass(frozen=True)
class AgentWallet:
    """An API (agent) wallet allowed to sign orders for the master and its sub-accounts until
    ``valid_until_ms`` (None = no expiry)."""

    name: str
    address: str
    valid_until_ms: int | None
