"""Hyperliquid ``/info`` JSON → the venue port's records (:mod:`sixbtc.domain.orders`).

Shapes: the venue's info endpoint docs and the SDK docstrings (``frontendOpenOrders``,
``orderStatus``, ``userFills``, ``userFunding``, ``clearinghouseState``). Client order ids come
back in our ``"sx…"`` form (:func:`~sixbtc.adapters.exchanges.hyperliquid_precision.from_cloid`).

Fill de-duplication: :func:`fills` drops repeated ``tid`` within one answer and sorts by
(time, tid); across calls the executor's journal de-duplicates by ``trade_id``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sixbtc.adapters.exchanges.hyperliquid_precision import from_cloid
from sixbtc.domain.orders import (
    Balance,
    FundingPayment,
    OrderSide,
    OrderStatus,
    OrderType,
    VenueFill,
    VenueOrder,
    VenuePosition,
)

_TYPES = {"Limit": OrderType.LIMIT, "Market": OrderType.MARKET, "Stop Market": OrderType.STOP_MARKET,
          "Stop Limit": OrderType.STOP_MARKET, "Take Profit Market": OrderType.TAKE_PROFIT_MARKET,
          "Take Profit Limit": OrderType.TAKE_PROFIT_MARKET}


def side(code: str) -> OrderSide:
    """``"B"`` → BUY, ``"A"`` → SELL."""
    return OrderSide.BUY if code == "B" else OrderSide.SELL


def order_status(venue_status: str, filled: float) -> OrderStatus:
    """Our status for an ``orderStatus`` status string (``open``, ``filled``, ``canceled``,
    ``triggered``, ``…Canceled``, ``…Rejected``)."""
    if venue_status in ("open", "triggered"):
        return OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.OPEN
    if venue_status == "filled":
        return OrderStatus.FILLED
    if venue_status == "rejected" or venue_status.endswith("Rejected"):
        return OrderStatus.REJECTED
    return OrderStatus.CANCELED


def order(raw: dict[str, Any], venue_status: str = "open", avg_px: float | None = None,
          ts_ms: int | None = None) -> VenueOrder:
    """A :class:`VenueOrder` from a frontend order dict (and its ``orderStatus`` status)."""
    orig, remaining = float(raw["origSz"]), float(raw["sz"])
    filled = max(0.0, orig - remaining) if venue_status != "filled" else orig
    kind = _TYPES.get(raw.get("orderType", "Limit"), OrderType.LIMIT)
    if kind is OrderType.LIMIT and raw.get("tif") in ("Ioc", "FrontendMarket"):
        kind = OrderType.MARKET  # SixBTC sends market orders as aggressive IOC limits
    trigger = float(raw["triggerPx"]) if raw.get("isTrigger") else None
    return VenueOrder(
        client_order_id=from_cloid(raw.get("cloid")), venue_order_id=str(raw["oid"]), symbol=raw["coin"],
        side=side(raw["side"]), order_type=kind, qty=orig, filled_qty=filled, avg_fill_price=avg_px,
        price=float(raw["limitPx"]), trigger_price=trigger, reduce_only=bool(raw.get("reduceOnly", False)),
        status=order_status(venue_status, filled), ts_ms=int(ts_ms or raw["timestamp"]))


def fill(raw: dict[str, Any]) -> VenueFill:
    """A :class:`VenueFill` from one ``userFills`` entry (``tid`` is the trade id).

    A fill of the liquidation engine carries ``liquidation`` (``liquidatedUser``, ``markPx``,
    ``method``) and no cloid; it closes (part of) the position, so it counts as reduce-only.
    """
    liquidation = bool(raw.get("liquidation"))
    return VenueFill(
        trade_id=str(raw["tid"]), venue_order_id=str(raw["oid"]), client_order_id=from_cloid(raw.get("cloid")),
        symbol=raw["coin"], side=side(raw["side"]), qty=float(raw["sz"]), price=float(raw["px"]),
        fee_usd=float(raw.get("fee", 0.0)), ts_ms=int(raw["time"]),
        reduce_only=liquidation or str(raw.get("dir", "")).startswith("Close"), liquidation=liquidation)


def with_average(found: VenueOrder, own_fills: list[VenueFill]) -> VenueOrder:
    """``found`` with ``avg_fill_price`` = the size-weighted price of its fills (same venue
    order id; unchanged when it has none)."""
    mine = [f for f in own_fills if f.venue_order_id == found.venue_order_id]
    qty = sum(f.qty for f in mine)
    if qty <= 0:
        return found
    return replace(found, avg_fill_price=sum(f.qty * f.price for f in mine) / qty)


def fills(rows: list[dict[str, Any]]) -> list[VenueFill]:
    """Fills de-duplicated by ``tid``, oldest first (see the module docstring)."""
    unique = {str(r["tid"]): r for r in rows}
    return sorted((fill(r) for r in unique.values()), key=lambda f: (f.ts_ms, int(f.trade_id)))


def fill_page(rows: Any) -> list[dict[str, Any]]:
    """One ``userFillsByTime`` answer checked to be a list of fills with ``tid`` and ``time``."""
    if not isinstance(rows, list):
        raise TypeError(f"userFillsByTime answered {type(rows).__name__}, not a list")
    for row in rows:
        int(row["tid"]), int(row["time"])
    return rows


def order_status_body(answer: dict[str, Any]) -> dict[str, Any] | None:
    """``answer["order"]`` of an ``orderStatus`` answer; None for ``unknownOid``."""
    if answer.get("status") != "order":
        return None
    body = answer["order"]
    order(body["order"], body["status"])  # readable, or KeyError/ValueError now (inside the read)
    return body


def positions(state: dict[str, Any]) -> list[VenuePosition]:
    """Non-zero positions of a ``clearinghouseState`` answer."""
    return [position(r["position"]) for r in state["assetPositions"] if float(r["position"]["szi"]) != 0]


def fundings(rows: list[dict[str, Any]], since_ms: int) -> list[FundingPayment]:
    """``userFunding`` entries at or after ``since_ms``, oldest first."""
    return sorted((funding(r) for r in rows if int(r["time"]) >= since_ms), key=lambda f: f.ts_ms)


def funding(raw: dict[str, Any]) -> FundingPayment:
    """A :class:`FundingPayment` from one ``userFunding`` entry (``delta.usdc`` > 0 received)."""
    delta = raw["delta"]
    return FundingPayment(symbol=delta["coin"], ts_ms=int(raw["time"]), rate=float(delta["fundingRate"]),
                          amount_usd=float(delta["usdc"]), position_qty=float(delta["szi"]))


def position(raw: dict[str, Any]) -> VenuePosition:
    """A :class:`VenuePosition` from one ``assetPositions[i].position``."""
    liq = raw.get("liquidationPx")
    return VenuePosition(symbol=raw["coin"], qty=float(raw["szi"]), entry_price=float(raw["entryPx"] or 0.0),
                         leverage=float(raw["leverage"]["value"]), margin_usd=float(raw["marginUsed"]),
                         liquidation_price=float(liq) if liq else None,
                         unrealized_pnl_usd=float(raw["unrealizedPnl"]))


def balance(account: str, state: dict[str, Any]) -> Balance:
    """A :class:`Balance` from a ``clearinghouseState`` answer."""
    summary = state["marginSummary"]
    return Balance(account=account, equity_usd=float(summary["accountValue"]),
                   available_usd=float(state["withdrawable"]), margin_used_usd=float(summary["totalMarginUsed"]))
