"""Hyperliquid order-boundary rules: client order id ↔ cloid, size and price precision.

Source: Hyperliquid docs, "Tick and lot size": sizes are rounded to the coin's ``szDecimals``;
perp prices have at most 5 significant figures (integer prices are always allowed) and at
most ``6 - szDecimals`` decimals; an order's value must be at least 10 USD.

Rounding directions (never a worse order than asked): sizes round down; a buy limit price
rounds down and a sell limit up; trigger prices round to the nearest tick.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from sixbtc.core.errors import OrderRejected
from sixbtc.domain.orders import Market, OrderSide

CLOID_TAG = "5c"
_OUR_ID = re.compile(r"^sx[0-9a-f]{30}$")
_CLOID = re.compile(r"^0x[0-9a-f]{32}$")
MIN_NOTIONAL_USD = 10.0
PRICE_SIG_FIGS = 5
PERP_MAX_DECIMALS = 6


def to_cloid(client_order_id: str) -> str:
    """Our client order id (``"sx"`` + 30 hex, :func:`sixbtc.core.ids.client_order_id`) as a
    Hyperliquid cloid (``0x`` + 32 hex): the tag byte ``5c`` then the 30 hex digits.

    Raises ``ValueError`` naming the id when it is not ours.
    """
    if not _OUR_ID.match(client_order_id):
        raise ValueError(f"client order id {client_order_id!r} is not 'sx' + 30 lower-case hex digits")
    return "0x" + CLOID_TAG + client_order_id[2:]


def from_cloid(cloid: str | None) -> str | None:
    """The inverse of :func:`to_cloid`; a cloid SixBTC did not make is returned unchanged
    (lower-case), None stays None."""
    if not cloid:
        return None
    cloid = cloid.lower()
    if _CLOID.match(cloid) and cloid[2:4] == CLOID_TAG:
        return "sx" + cloid[4:]
    return cloid


def market_from_meta(entry: dict) -> Market:
    """A :class:`~sixbtc.domain.orders.Market` from one ``meta`` universe entry."""
    sz_decimals = int(entry["szDecimals"])
    return Market(symbol=entry["name"], sz_decimals=sz_decimals, max_leverage=float(entry["maxLeverage"]),
                  min_notional_usd=MIN_NOTIONAL_USD, price_sig_figs=PRICE_SIG_FIGS,
                  max_price_decimals=PERP_MAX_DECIMALS - sz_decimals)


def round_size(qty: float, market: Market) -> float:
    """``qty`` rounded down to ``szDecimals``; ``OrderRejected`` when it becomes 0."""
    if not qty > 0:
        raise OrderRejected(f"{market.symbol}: size {qty} must be > 0")
    step = Decimal(1).scaleb(-market.sz_decimals)
    rounded = Decimal(repr(qty)).quantize(step, rounding=ROUND_FLOOR)
    if rounded <= 0:
        raise OrderRejected(f"{market.symbol}: size {qty} rounds to 0 at szDecimals={market.sz_decimals} "
                            "(Hyperliquid lot size)")
    return float(rounded)


def round_price(px: float, market: Market, mode: str) -> float:
    """``px`` on the venue's price grid (see the module docstring).

    ``mode`` is ``"down"``, ``"up"`` or ``"nearest"``. Raises ``OrderRejected`` when ``px`` is
    not > 0 or rounds to 0.
    """
    if not px > 0:
        raise OrderRejected(f"{market.symbol}: price {px} must be > 0")
    rounding = {"down": ROUND_FLOOR, "up": ROUND_CEILING, "nearest": ROUND_HALF_EVEN}[mode]
    value = Decimal(repr(px))
    if value != value.to_integral_value() or len(value.to_integral_value().as_tuple().digits) < PRICE_SIG_FIGS:
        exponent = value.adjusted() - (market.price_sig_figs - 1)
        exponent = max(exponent, -market.max_price_decimals)
        value = value.quantize(Decimal(1).scaleb(min(exponent, 0)), rounding=rounding)
    if value <= 0:
        raise OrderRejected(f"{market.symbol}: price {px} rounds to 0 on the Hyperliquid tick grid")
    return float(value)


def limit_rounding(side: OrderSide) -> str:
    """Rounding mode of a limit price: a buy never pays more, a sell never gets less."""
    return "down" if side is OrderSide.BUY else "up"


def check_min_notional(qty: float, px: float, market: Market, *, reduce_only: bool) -> None:
    """``OrderRejected`` naming the rule when an opening order is worth < 10 USD.

    Reduce-only orders are exempt (they close what is there; the fake venue applies the same).
    """
    if not reduce_only and qty * px < market.min_notional_usd:
        raise OrderRejected(f"{market.symbol}: order value {qty * px:.4f} USD < min_notional "
                            f"{market.min_notional_usd:g} USD (Hyperliquid minimum order value)")
