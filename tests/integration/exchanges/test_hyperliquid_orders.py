"""Orders through HyperliquidClient → hyperliquid-python-sdk → the fake venue on 127.0.0.1."""

from __future__ import annotations

import pytest

from sixbtc.adapters.exchanges.hyperliquid_precision import from_cloid, to_cloid
from sixbtc.core.errors import InsufficientFunds, OrderRejected
from sixbtc.core.ids import client_order_id
from sixbtc.domain.orders import OrderRequest, OrderSide, OrderStatus, OrderType

BUY, SELL = OrderSide.BUY, OrderSide.SELL


def cid(leg: str, bar: int = 0) -> str:
    return client_order_id(7, "BTC", bar, leg)


def market(leg: str, side: OrderSide, qty: float, symbol: str = "BTC", **kw: object) -> OrderRequest:
    return OrderRequest(client_order_id(7, symbol, 0, leg), symbol, side, OrderType.MARKET, qty, **kw)


def test_cloid_mapping_is_deterministic_and_reversible() -> None:
    ours = cid("entry")
    cloid = to_cloid(ours)
    assert cloid.startswith("0x") and len(cloid) == 34 and to_cloid(ours) == cloid
    assert from_cloid(cloid) == ours and from_cloid(cloid.upper().replace("0X", "0x")) == ours
    assert from_cloid("0x" + "ab" * 16) == "0x" + "ab" * 16  # a cloid we did not make stays raw
    with pytest.raises(ValueError, match="not 'sx'"):
        to_cloid("my-order-1")


def test_market_order_fills_at_mark_with_our_id_everywhere(client, hl, master) -> None:
    ack = client.place_order(master.address, market("entry", BUY, 0.0012345))
    assert ack.status is OrderStatus.FILLED and ack.filled_qty == pytest.approx(0.00123)  # rounded down
    assert ack.avg_fill_price == 100_000.0 and ack.price == 105_000.0  # IOC bound: mark + 5 %
    found = client.query_order(master.address, "BTC", ack.client_order_id)
    assert found is not None and found.client_order_id == ack.client_order_id
    assert found.status is OrderStatus.FILLED and found.avg_fill_price == 100_000.0
    [fill] = client.fills_since(master.address, 0)
    assert fill.client_order_id == ack.client_order_id and fill.trade_id and fill.venue_order_id == ack.venue_order_id
    assert fill.fee_usd == pytest.approx(0.00123 * 100_000 * 0.00045)
    [pos] = client.positions(master.address)
    assert (pos.symbol, pos.qty, pos.entry_price) == ("BTC", pytest.approx(0.00123), 100_000.0)
    bal = client.balance(master.address)
    assert bal.margin_used_usd == pytest.approx(pos.margin_usd) and bal.equity_usd < 10_000.0


def test_limit_rests_is_listed_and_cancelled_by_cloid(client, hl, master) -> None:
    request = OrderRequest(cid("entry"), "ETH", BUY, OrderType.LIMIT, 0.01, price=2_900.123)
    ack = client.place_order(master.address, request)
    assert ack.status is OrderStatus.OPEN and ack.price == 2_900.1  # 5 significant figures, buy rounds down
    [listed] = client.open_orders(master.address)
    assert listed.client_order_id == request.client_order_id and listed.order_type is OrderType.LIMIT
    assert client.cancel_order(master.address, "ETH", request.client_order_id) is True
    assert client.cancel_order(master.address, "ETH", request.client_order_id) is False
    assert client.open_orders(master.address) == []
    assert client.query_order(master.address, "ETH", request.client_order_id).status is OrderStatus.CANCELED
    assert client.query_order(master.address, "ETH", cid("never-sent")) is None


def test_resting_limit_fills_when_the_mark_crosses(client, hl, master) -> None:
    request = OrderRequest(cid("entry"), "SOL", BUY, OrderType.LIMIT, 1.0, price=140.0)
    client.place_order(master.address, request)
    hl.set_mark("SOL", 141.0)
    assert client.query_order(master.address, "SOL", request.client_order_id).status is OrderStatus.OPEN
    hl.set_mark("SOL", 139.5)
    done = client.query_order(master.address, "SOL", request.client_order_id)
    assert done.status is OrderStatus.FILLED and done.avg_fill_price == 140.0  # at its limit, never the gap


def test_stop_rests_then_fills_on_a_mark_move_while_client_is_away(client, hl, master) -> None:
    client.place_order(master.address, market("entry", BUY, 0.001))
    stop = OrderRequest(cid("sl"), "BTC", SELL, OrderType.STOP_MARKET, 0.001, trigger_price=95_000.4, reduce_only=True)
    ack = client.place_order(master.address, stop)
    assert ack.status is OrderStatus.OPEN and ack.trigger_price == 95_000.0
    [resting] = client.open_orders(master.address)
    assert resting.order_type is OrderType.STOP_MARKET and resting.reduce_only and resting.trigger_price == 95_000.0
    hl.set_mark("BTC", 96_000.0)
    assert client.positions(master.address)[0].qty == pytest.approx(0.001)
    hl.set_mark("BTC", 94_000.0)  # through the trigger: fills at the mark
    assert client.positions(master.address) == []
    filled = client.query_order(master.address, "BTC", stop.client_order_id)
    assert filled.status is OrderStatus.FILLED and filled.avg_fill_price == 94_000.0
    fills = client.fills_since(master.address, 0)
    assert [f.client_order_id for f in fills] == [cid("entry"), stop.client_order_id]
    assert fills[1].reduce_only and len({f.trade_id for f in fills}) == 2


def test_take_profit_trigger(client, hl, master) -> None:
    client.place_order(master.address, market("entry", SELL, 0.01, symbol="ETH"))
    tp = OrderRequest(client_order_id(7, "ETH", 0, "tp"), "ETH", BUY, OrderType.TAKE_PROFIT_MARKET, 0.01,
                      trigger_price=2_800.0, reduce_only=True)
    client.place_order(master.address, tp)
    hl.set_mark("ETH", 2_850.0)
    assert client.query_order(master.address, "ETH", tp.client_order_id).status is OrderStatus.OPEN
    hl.set_mark("ETH", 2_790.0)
    assert client.query_order(master.address, "ETH", tp.client_order_id).status is OrderStatus.FILLED
    assert client.positions(master.address) == []


def test_precision_refusals_name_the_rule(client, master) -> None:
    with pytest.raises(OrderRejected, match="rounds to 0 at szDecimals=5"):
        client.place_order(master.address, market("entry", BUY, 0.000001))
    with pytest.raises(OrderRejected, match="min_notional"):
        client.place_order(master.address, market("entry", BUY, 0.00005))  # 5 USD
    with pytest.raises(OrderRejected, match="not a Hyperliquid perp"):
        client.place_order(master.address, market("entry", BUY, 1.0, symbol="NOPE"))
    with pytest.raises(OrderRejected, match="needs a trigger price"):
        client.place_order(master.address, OrderRequest(cid("sl"), "BTC", SELL, OrderType.STOP_MARKET, 0.001))


def test_venue_enforces_its_rules_with_its_own_messages(client, hl, master) -> None:
    with pytest.raises(OrderRejected, match="Reduce only order would increase position"):
        client.place_order(master.address, market("exit", SELL, 0.001, reduce_only=True))
    with pytest.raises(InsufficientFunds, match="Insufficient margin to place order"):
        client.place_order(master.address, market("entry", BUY, 3.0))  # 300 000 USD at 20x > 10 000
    with pytest.raises(OrderRejected, match="could not immediately match"):
        client.place_order(master.address, market("entry", BUY, 0.001, price=90_000.0))  # IOC below the mark


def test_reduce_only_close_is_exempt_from_min_notional_and_capped(client, hl, master) -> None:
    client.place_order(master.address, market("entry", BUY, 0.0002))  # 20 USD
    ack = client.place_order(master.address, market("exit", SELL, 0.0002, reduce_only=True))
    assert ack.status is OrderStatus.FILLED and client.positions(master.address) == []


def test_leverage_isolated_and_coin_max_from_meta(client, hl, master) -> None:
    assert client.markets()["SOL"].max_leverage == 20 and client.markets()["BTC"].sz_decimals == 5
    client.set_leverage(master.address, "BTC", 10, isolated=True)
    client.place_order(master.address, market("entry", BUY, 0.01))
    [pos] = client.positions(master.address)
    assert pos.leverage == 10 and pos.margin_usd == pytest.approx(0.01 * 100_000 / 10)
    with pytest.raises(OrderRejected, match="coin max leverage"):
        client.set_leverage(master.address, "SOL", 21)


def test_funding_is_reported_per_payment(client, hl, master) -> None:
    client.place_order(master.address, market("entry", BUY, 0.01))
    assert hl.settle_funding("BTC", 0.0001) == 1
    [payment] = client.funding_since(master.address, 0)
    assert payment.symbol == "BTC" and payment.rate == pytest.approx(0.0001)
    assert payment.amount_usd == pytest.approx(-0.01 * 100_000 * 0.0001) and payment.position_qty == pytest.approx(0.01)
