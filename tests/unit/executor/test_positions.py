"""Positions built from fills: quantities keep no binary noise (an order for the rest of a
position must not come out one lot short when the venue floors sizes to its lot)."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from sixbtc.domain.orders import OrderSide, OrderType, VenueFill
from sixbtc.domain.trading import Direction, ExitReason, TradeMode
from sixbtc.executor.book import LiveStrategy
from sixbtc.executor.ports import EXIT, JournalOrder
from sixbtc.executor.positions import close_part, close_rest, extend_position

STRAT = LiveStrategy(1, "s", "1h", ("ETH",), Direction.LONG, {}, "acct", 1000.0)


def fill(qty: float, side: OrderSide = OrderSide.SELL, tid: str = "1") -> VenueFill:
    return VenueFill(tid, "9", "sxexit", "ETH", side, qty, 3000.0, 0.0, 0)


def position(qty: float) -> dict:
    return {"qty": qty, "entry_price": 3000.0, "entry_fee_usd": 0.0, "direction": "long", "timeframe": "1h",
            "entry_ts": None}


def test_the_rest_after_a_partial_close_is_the_exact_difference() -> None:
    pos = position(0.1666)
    trade, whole, _ = close_part(STRAT, pos, fill(0.1), ExitReason.SIGNAL, 0.0, TradeMode.LIVE)
    assert not whole and trade.qty == 0.1
    assert pos["qty"] == 0.0666  # 0.1666 - 0.1 is 0.06659999999999999 in floats: floored to 0.0665
    exit_ = JournalOrder("sxexit", 1, "acct", "ETH", "1h", EXIT, OrderSide.SELL, OrderType.MARKET, 0.1666, 0,
                         reduce_only=True)
    rest = close_rest(exit_, pos, 1)
    assert Decimal(repr(rest.qty)).quantize(Decimal("0.0001"), rounding=ROUND_FLOOR) == Decimal("0.0666")
    assert rest.reduce_only and rest.leg == EXIT and rest.client_order_id != exit_.client_order_id


def test_a_position_grown_by_fills_has_the_exact_sum() -> None:
    pos = position(0.1)
    extend_position(pos, fill(0.2, OrderSide.BUY))
    assert pos["qty"] == 0.3  # 0.1 + 0.2 is 0.30000000000000004 in floats
