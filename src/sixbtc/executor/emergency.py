"""What an emergency stop sends: cancel every open order, optionally close every position.

Pure planning over what the venue reports (:func:`plan_emergency`); the use case
(:mod:`sixbtc.app.emergency`) sets the global state HALTED first, then executes the plan
through the :class:`~sixbtc.executor.venue.ExchangeClient` port.

A close is a reduce-only MARKET order for the whole position, with a client order id
derived from (account, symbol, signed quantity, the HALTED state's ``since``): a second run
while the first close is still in flight sends the same id, which the venue refuses as a
duplicate, so a position is never closed twice (and a reduce-only order can never open
one). An order without a client order id (placed by hand) cannot be cancelled through the
port: it is reported, never guessed at.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sixbtc.domain.orders import OrderRequest, OrderSide, OrderType, VenueOrder, VenuePosition


@dataclass(frozen=True)
class Cancel:
    """Cancel ``client_order_id`` on ``account``."""

    account: str
    symbol: str
    client_order_id: str


@dataclass(frozen=True)
class Close:
    """Close a position of ``account`` with ``request`` (reduce-only market)."""

    account: str
    request: OrderRequest


@dataclass(frozen=True)
class EmergencyPlan:
    """Cancels and closes to send; ``manual``: open orders without a client order id
    (account, symbol, venue order id) that the port cannot cancel."""

    cancels: list[Cancel] = field(default_factory=list)
    closes: list[Close] = field(default_factory=list)
    manual: list[tuple[str, str, str]] = field(default_factory=list)


def close_order_id(account: str, symbol: str, qty: float, halted_since_ms: int) -> str:
    """Deterministic client order id of an emergency close: ``"sx"`` + 30 lower-case hex digits
    like every SixBTC id (:func:`sixbtc.core.ids.client_order_id`; Hyperliquid takes no other
    cloid), the first two ``e5`` ("emergency stop") so a close is recognisable on the venue."""
    raw = f"emergency|{account}|{symbol}|{qty!r}|{halted_since_ms}"
    return "sxe5" + hashlib.sha256(raw.encode()).hexdigest()[:28]


def plan_emergency(orders: Mapping[str, Sequence[VenueOrder]], positions: Mapping[str, Sequence[VenuePosition]],
                   *, close_positions: bool, halted_since_ms: int) -> EmergencyPlan:
    """The plan for open ``orders`` and ``positions`` by account.

    Parameters
    ----------
    orders, positions : mapping
        Account → its open orders / positions as the venue reports them.
    close_positions : bool
        Also close every position (reduce-only market, full size).
    halted_since_ms : int
        ``since`` of the global HALTED state (UTC ms), part of each close's client order id.

    Returns
    -------
    EmergencyPlan
        Accounts and symbols in sorted order.
    """
    plan = EmergencyPlan()
    for account in sorted(orders):
        for o in sorted(orders[account], key=lambda o: (o.symbol, o.venue_order_id)):
            if o.client_order_id:
                plan.cancels.append(Cancel(account, o.symbol, o.client_order_id))
            else:
                plan.manual.append((account, o.symbol, o.venue_order_id))
    if close_positions:
        for account in sorted(positions):
            for p in sorted(positions[account], key=lambda p: p.symbol):
                if p.qty == 0:
                    continue
                cid = close_order_id(account, p.symbol, p.qty, halted_since_ms)
                plan.closes.append(Close(account, OrderRequest(cid, p.symbol, OrderSide.of(-1 if p.qty > 0 else 1),
                                                               OrderType.MARKET, abs(p.qty), reduce_only=True)))
    return plan
