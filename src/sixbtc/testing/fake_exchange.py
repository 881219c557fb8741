"""An in-memory :class:`~sixbtc.executor.venue.ExchangeClient` for tests of the operations
built on the port (emergency stop, sub-account funds, agents, status).

Not a market simulator (that is the paper venue): a market order fills at once at
``prices[symbol]``, a limit or trigger order rests until cancelled. Every mutating call is
appended to ``calls`` as ``(method, account, detail)`` so a test can assert exactly what was
sent. ``fail_cancels`` makes :meth:`FakeExchange.cancel_order` raise
:class:`~sixbtc.core.errors.TransientExchangeError` that many times.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Any

from sixbtc.core.errors import InsufficientFunds, OrderRejected, TransientExchangeError
from sixbtc.domain.orders import (
    AgentWallet,
    Balance,
    FundingPayment,
    Market,
    OrderRequest,
    OrderStatus,
    OrderType,
    SubAccount,
    VenueFill,
    VenueOrder,
    VenuePosition,
)

MASTER = "master"


@dataclass
class _Account:
    cash_usd: float = 0.0
    orders: dict[str, VenueOrder] = field(default_factory=dict)  # by client order id
    positions: dict[str, VenuePosition] = field(default_factory=dict)
    fills: list[VenueFill] = field(default_factory=list)


class FakeExchange:
    """In-memory venue (see the module docstring).

    Parameters
    ----------
    markets : dict
        Symbol → :class:`Market`.
    prices : dict
        Symbol → current price (USD), used for fills and unrealised PnL.
    master_usd : float
        Cash of the master account (``"master"``).
    now_ms : int
        The venue's clock (UTC ms); tests move it by assigning.
    """

    def __init__(self, markets: dict[str, Market], prices: dict[str, float], master_usd: float = 0.0,
                 now_ms: int = 1_750_000_000_000, mode: str = "paper", venue: str = "fake") -> None:
        self.mode, self.venue = mode, venue
        self._markets, self.prices, self.now_ms = markets, prices, now_ms
        self.accounts: dict[str, _Account] = {MASTER: _Account(master_usd)}
        self.subs: dict[str, SubAccount] = {}
        self.agent_wallets: dict[str, AgentWallet] = {}
        self.calls: list[tuple[str, str, Any]] = []
        self.fail_cancels = 0
        self._ids = itertools.count(1)

    # -- test set-up -------------------------------------------------------------------
    def add_subaccount(self, name: str, cash_usd: float = 0.0) -> SubAccount:
        """Create a sub-account holding ``cash_usd`` (no call recorded)."""
        sub = self.subs.setdefault(name, SubAccount(name, name))
        self.accounts.setdefault(sub.address, _Account()).cash_usd += cash_usd
        return sub

    def _acct(self, account: str) -> _Account:
        if account not in self.accounts:
            raise OrderRejected(f"unknown account {account}")
        return self.accounts[account]

    # -- reference data ----------------------------------------------------------------
    def markets(self) -> dict[str, Market]:
        return dict(self._markets)

    # -- orders ------------------------------------------------------------------------
    def place_order(self, account: str, request: OrderRequest) -> VenueOrder:
        acct = self._acct(account)
        self.calls.append(("place_order", account, request))
        if request.client_order_id in acct.orders:
            raise OrderRejected(f"duplicate client order id {request.client_order_id}")
        pos = acct.positions.get(request.symbol)
        if request.reduce_only and (pos is None or pos.qty * request.side.sign >= 0):
            raise OrderRejected(f"reduce-only {request.side} {request.symbol}: no position to reduce")
        order = VenueOrder(request.client_order_id, str(next(self._ids)), request.symbol, request.side,
                           request.order_type, request.qty, 0.0, None, request.price, request.trigger_price,
                           request.reduce_only, OrderStatus.OPEN, self.now_ms)
        if request.order_type is OrderType.MARKET:
            order = self._fill(acct, order)
        acct.orders[request.client_order_id] = order
        return order

    def _fill(self, acct: _Account, order: VenueOrder) -> VenueOrder:
        px = self.prices[order.symbol]
        pos = acct.positions.get(order.symbol)
        qty = min(order.qty, abs(pos.qty)) if order.reduce_only and pos else order.qty
        signed = (pos.qty if pos else 0.0) + order.side.sign * qty
        if pos is not None and pos.qty * order.side.sign < 0:  # reducing: realise the PnL
            acct.cash_usd += (px - pos.entry_price) * min(qty, abs(pos.qty)) * (1 if pos.qty > 0 else -1)
        if abs(signed) < 1e-12:
            acct.positions.pop(order.symbol, None)
        else:
            entry = pos.entry_price if pos else px
            acct.positions[order.symbol] = VenuePosition(order.symbol, signed, entry, 1.0, abs(signed) * entry, None, 0.0)
        acct.fills.append(VenueFill(f"t{next(self._ids)}", order.venue_order_id, order.client_order_id, order.symbol,
                                    order.side, qty, px, 0.0, self.now_ms, order.reduce_only))
        return replace(order, filled_qty=qty, avg_fill_price=px, status=OrderStatus.FILLED)

    def cancel_order(self, account: str, symbol: str, client_order_id: str) -> bool:
        acct = self._acct(account)
        if self.fail_cancels > 0:
            self.fail_cancels -= 1
            raise TransientExchangeError("fake: 503 on cancel")
        self.calls.append(("cancel_order", account, client_order_id))
        order = acct.orders.get(client_order_id)
        if order is None or order.status is not OrderStatus.OPEN or order.symbol != symbol:
            return False
        acct.orders[client_order_id] = replace(order, status=OrderStatus.CANCELED)
        return True

    def query_order(self, account: str, symbol: str, client_order_id: str) -> VenueOrder | None:
        order = self._acct(account).orders.get(client_order_id)
        return order if order is not None and order.symbol == symbol else None

    def open_orders(self, account: str) -> list[VenueOrder]:
        return [o for o in self._acct(account).orders.values() if o.status is OrderStatus.OPEN]

    # -- account state -----------------------------------------------------------------
    def positions(self, account: str) -> list[VenuePosition]:
        acct = self._acct(account)
        return [replace(p, unrealized_pnl_usd=(self.prices[p.symbol] - p.entry_price) * p.qty)
                for p in acct.positions.values()]

    def fills_since(self, account: str, since_ms: int) -> list[VenueFill]:
        return [f for f in self._acct(account).fills if f.ts_ms >= since_ms]

    def funding_since(self, account: str, since_ms: int) -> list[FundingPayment]:
        self._acct(account)
        return []

    def balance(self, account: str) -> Balance:
        acct = self._acct(account)
        upnl = sum(p.unrealized_pnl_usd for p in self.positions(account))
        margin = sum(p.margin_usd for p in acct.positions.values())
        equity = acct.cash_usd + upnl
        return Balance(account, equity, max(equity - margin, 0.0), margin)

    def set_leverage(self, account: str, symbol: str, leverage: int, *, isolated: bool = True) -> None:
        self._acct(account)
        self.calls.append(("set_leverage", account, (symbol, leverage, isolated)))

    # -- master operations -------------------------------------------------------------
    def subaccounts(self) -> list[SubAccount]:
        return list(self.subs.values())

    def create_subaccount(self, name: str) -> SubAccount:
        self.calls.append(("create_subaccount", MASTER, name))
        return self.add_subaccount(name)

    def transfer_usd(self, subaccount: str, amount_usd: float, *, to_subaccount: bool) -> None:
        if not amount_usd > 0:
            raise OrderRejected(f"transfer amount must be > 0, got {amount_usd}")
        src, dst = (MASTER, subaccount) if to_subaccount else (subaccount, MASTER)
        if self.balance(src).available_usd < amount_usd:
            raise InsufficientFunds(f"{src} has {self.balance(src).available_usd:.2f} USD available")
        self._acct(dst)
        self.calls.append(("transfer_usd", subaccount, (amount_usd, to_subaccount)))
        self.accounts[src].cash_usd -= amount_usd
        self.accounts[dst].cash_usd += amount_usd

    def agents(self) -> list[AgentWallet]:
        return list(self.agent_wallets.values())

    def approve_agent(self, name: str, valid_days: int) -> AgentWallet:
        self.calls.append(("approve_agent", MASTER, (name, valid_days)))
        agent = AgentWallet(name, f"0x{next(self._ids):040x}", self.now_ms + valid_days * 86_400_000)
        self.agent_wallets[name] = agent
        return agent
