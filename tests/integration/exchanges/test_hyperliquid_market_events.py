"""Partial fills and liquidations on the fake venue, read back through HyperliquidClient (real SDK)."""

from __future__ import annotations

import pytest

from sixbtc.core.ids import client_order_id
from sixbtc.domain.orders import OrderRequest, OrderSide, OrderStatus, OrderType

BUY, SELL = OrderSide.BUY, OrderSide.SELL


def limit(leg: str, side: OrderSide, qty: float, price: float, symbol: str = "SOL") -> OrderRequest:
    return OrderRequest(client_order_id(11, symbol, 0, leg), symbol, side, OrderType.LIMIT, qty, price=price)


def test_resting_limit_fills_in_slices_with_filled_qty_and_average(client, hl, master) -> None:
    request = limit("entry", BUY, 1.0, 140.0)
    assert client.place_order(master.address, request).status is OrderStatus.OPEN
    hl.set_liquidity("SOL", 0.4)
    hl.set_mark("SOL", 139.9)  # crosses: one slice of 0.4
    part = client.query_order(master.address, "SOL", request.client_order_id)
    assert part.status is OrderStatus.PARTIALLY_FILLED and part.filled_qty == pytest.approx(0.4)
    assert part.avg_fill_price == pytest.approx(140.0) and part.qty == pytest.approx(1.0)
    [resting] = client.open_orders(master.address)
    assert resting.status is OrderStatus.PARTIALLY_FILLED and resting.filled_qty == pytest.approx(0.4)
    assert resting.avg_fill_price == pytest.approx(140.0)
    assert client.positions(master.address)[0].qty == pytest.approx(0.4)
    hl.set_mark("SOL", 139.8)
    hl.set_mark("SOL", 139.7)  # the last 0.2
    done = client.query_order(master.address, "SOL", request.client_order_id)
    assert done.status is OrderStatus.FILLED and done.filled_qty == pytest.approx(1.0)
    fills = client.fills_since(master.address, 0)
    assert [f.qty for f in fills] == pytest.approx([0.4, 0.4, 0.2]) and len({f.trade_id for f in fills}) == 3
    assert client.open_orders(master.address) == []


def test_crossing_orders_fill_partly_at_once(client, hl, master) -> None:
    hl.set_liquidity("SOL", 0.3)
    market = OrderRequest(client_order_id(11, "SOL", 0, "entry"), "SOL", BUY, OrderType.MARKET, 1.0)
    ack = client.place_order(master.address, market)  # IOC: the rest is cancelled
    assert ack.status is OrderStatus.CANCELED and ack.filled_qty == pytest.approx(0.3)
    seen = client.query_order(master.address, "SOL", market.client_order_id)
    assert seen.status is OrderStatus.CANCELED and seen.filled_qty == pytest.approx(0.3)
    assert seen.avg_fill_price == pytest.approx(150.0)
    gtc = limit("entry2", BUY, 1.0, 151.0)  # marketable GTC: a slice now, the rest rests
    ack = client.place_order(master.address, gtc)
    assert ack.status is OrderStatus.PARTIALLY_FILLED and ack.filled_qty == pytest.approx(0.3)
    assert client.query_order(master.address, "SOL", gtc.client_order_id).status is OrderStatus.PARTIALLY_FILLED
    assert client.positions(master.address)[0].qty == pytest.approx(0.6)


def test_isolated_position_is_liquidated_through_its_liquidation_price(client, hl, master) -> None:
    client.set_leverage(master.address, "SOL", 10, isolated=True)
    entry = OrderRequest(client_order_id(11, "SOL", 0, "entry"), "SOL", BUY, OrderType.MARKET, 1.0)
    client.place_order(master.address, entry)
    tp = OrderRequest(client_order_id(11, "SOL", 0, "tp"), "SOL", SELL, OrderType.TAKE_PROFIT_MARKET, 1.0,
                      trigger_price=170.0, reduce_only=True)
    client.place_order(master.address, tp)
    [pos] = client.positions(master.address)
    assert pos.liquidation_price == pytest.approx(150.0 * (1 - 0.9 / 10))
    hl.set_mark("SOL", 137.0)  # above 136.5: still open
    assert client.positions(master.address)[0].qty == pytest.approx(1.0)
    before = client.balance(master.address).equity_usd
    hl.set_mark("SOL", 136.0)
    assert client.positions(master.address) == []
    entry_fill, liq = client.fills_since(master.address, 0)
    assert not entry_fill.liquidation and liq.liquidation and liq.reduce_only and liq.client_order_id is None
    assert (liq.side, liq.qty, liq.price) == (SELL, pytest.approx(1.0), pytest.approx(136.0))
    assert client.query_order(master.address, "SOL", tp.client_order_id).status is OrderStatus.CANCELED
    assert client.open_orders(master.address) == []
    # equity at 137 already held the unrealised loss; the last 1 USD move and the fee are new
    assert client.balance(master.address).equity_usd == pytest.approx(before - 1.0 - liq.fee_usd)


def test_cross_position_is_not_auto_liquidated_but_can_be_on_demand(client, hl, master) -> None:
    client.place_order(master.address, OrderRequest(client_order_id(11, "SOL", 0, "entry"), "SOL", SELL,
                                                    OrderType.MARKET, 1.0))
    hl.set_mark("SOL", 200.0)
    assert client.positions(master.address)[0].qty == pytest.approx(-1.0)
    record = hl.liquidate(master.address, "SOL")
    assert record["liquidation"]["liquidatedUser"] == master.address.lower()
    assert client.positions(master.address) == []
    assert [f.liquidation for f in client.fills_since(master.address, 0)] == [False, True]
