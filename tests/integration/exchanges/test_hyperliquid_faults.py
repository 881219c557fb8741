"""Scripted venue faults, each translated by the adapter into the port's error contract."""

from __future__ import annotations

import time

import pytest

from sixbtc.adapters.exchanges.hyperliquid_precision import to_cloid
from sixbtc.core.errors import AmbiguousOrderOutcome, TransientExchangeError
from sixbtc.core.ids import client_order_id
from sixbtc.domain.orders import OrderRequest, OrderSide, OrderStatus, OrderType


def entry(bar: int = 0) -> OrderRequest:
    return OrderRequest(client_order_id(3, "BTC", bar, "entry"), "BTC", OrderSide.BUY, OrderType.MARKET, 0.001)


def placed(hl, master, request: OrderRequest) -> int:
    """How many orders the venue holds for this intent's cloid."""
    return len(hl.orders_with_cloid(master.address, to_cloid(request.client_order_id)))


@pytest.mark.parametrize("kind", ["timeout", "http_429", "http_5xx", "drop"])
def test_applied_write_fault_is_ambiguous_then_found_exactly_once(client, hl, master, kind) -> None:
    hl.add_fault(kind, match="order", delay_s=1.5)
    request = entry()
    with pytest.raises(AmbiguousOrderOutcome, match="outcome unknown"):
        client.place_order(master.address, request)
    assert hl.exchange_requests("order") == 1  # the write was not retried
    found = client.query_order(master.address, "BTC", request.client_order_id)
    assert found is not None and found.status is OrderStatus.FILLED and found.client_order_id == request.client_order_id
    assert placed(hl, master, request) == 1


@pytest.mark.parametrize("kind", ["timeout", "http_429", "http_5xx", "drop"])
def test_unapplied_write_fault_is_ambiguous_and_the_order_is_unknown(client, hl, master, kind) -> None:
    hl.add_fault(kind, match="order", apply=False, delay_s=1.5)
    request = entry()
    with pytest.raises(AmbiguousOrderOutcome):
        client.place_order(master.address, request)
    assert client.query_order(master.address, "BTC", request.client_order_id) is None
    assert placed(hl, master, request) == 0
    assert client.place_order(master.address, entry(bar=1)).status is OrderStatus.FILLED  # the client still works


def test_cancel_that_times_out_is_ambiguous_and_resolvable(client, hl, master) -> None:
    request = OrderRequest(client_order_id(3, "BTC", 0, "entry"), "BTC", OrderSide.BUY, OrderType.LIMIT, 0.001,
                           price=90_000.0)
    client.place_order(master.address, request)
    hl.add_fault("timeout", match="cancelByCloid", delay_s=1.5)
    with pytest.raises(AmbiguousOrderOutcome):
        client.cancel_order(master.address, "BTC", request.client_order_id)
    assert client.query_order(master.address, "BTC", request.client_order_id).status is OrderStatus.CANCELED


@pytest.mark.parametrize("kind", ["http_429", "http_5xx", "timeout", "drop"])
def test_transient_read_faults_are_retried(client, hl, master, kind) -> None:
    client.markets()
    hl.add_fault(kind, path="/info", match="clearinghouseState", count=2, delay_s=1.0)
    assert client.balance(master.address).equity_usd == pytest.approx(10_000.0)


def test_persistent_read_faults_become_transient_errors(client, hl, master) -> None:
    hl.add_fault("http_5xx", path="/info", match="clearinghouseState", count=10)
    with pytest.raises(TransientExchangeError, match="clearinghouseState: HTTP 502") as info:
        client.positions(master.address)
    assert not isinstance(info.value, AmbiguousOrderOutcome)
    assert [k for p, k in hl.requests if k == "clearinghouseState"] == ["clearinghouseState"] * 3  # 1 + 2 retries


def test_order_not_found_for_a_while_after_the_ack(client, hl, master) -> None:
    hl.set_order_visibility_delay(0.4)
    request = OrderRequest(client_order_id(3, "ETH", 0, "entry"), "ETH", OrderSide.BUY, OrderType.LIMIT, 0.01,
                           price=2_500.0)
    ack = client.place_order(master.address, request)
    assert ack.status is OrderStatus.OPEN
    assert client.query_order(master.address, "ETH", request.client_order_id) is None  # not yet visible
    deadline = time.monotonic() + 5.0
    found = None
    while found is None and time.monotonic() < deadline:
        time.sleep(0.1)
        found = client.query_order(master.address, "ETH", request.client_order_id)
    assert found is not None and found.venue_order_id == ack.venue_order_id and placed(hl, master, request) == 1


def test_duplicate_and_reordered_fills_come_back_once_in_order(client, hl, master) -> None:
    for bar in range(4):
        client.place_order(master.address, entry(bar))
    clean = client.fills_since(master.address, 0)
    hl.set_fill_faults(duplicate=True, reorder=True)
    noisy = client.fills_since(master.address, 0)
    assert noisy == clean and len({f.trade_id for f in noisy}) == 4
    assert [f.ts_ms for f in noisy] == sorted(f.ts_ms for f in noisy)


def test_fills_since_filters_by_time(client, hl, master) -> None:
    client.place_order(master.address, entry(0))
    cut = client.fills_since(master.address, 0)[0].ts_ms + 1
    time.sleep(0.01)
    client.place_order(master.address, entry(1))
    later = client.fills_since(master.address, cut)
    assert [f.client_order_id for f in later] == [entry(1).client_order_id]


def test_read_429_waits_for_retry_after(make_client, agent, hl, master) -> None:
    waits: list[float] = []
    client = make_client(agent, sleep=waits.append)
    client.markets()
    hl.add_fault("http_429", path="/info", match="clearinghouseState", retry_after_s=2)
    hl.add_fault("http_429", path="/info", match="frontendOpenOrders")  # no Retry-After: plain back-off
    assert client.balance(master.address).equity_usd == pytest.approx(10_000.0)
    assert client.open_orders(master.address) == []
    assert waits == [2.0, 0.0]


def test_read_429_asking_too_long_fails_at_once(make_client, agent, hl, master) -> None:
    waits: list[float] = []
    client = make_client(agent, sleep=waits.append)
    client.markets()
    hl.add_fault("http_429", path="/info", match="clearinghouseState", retry_after_s=120)
    with pytest.raises(TransientExchangeError, match=r"HTTP 429.*retry after 120 s"):
        client.positions(master.address)
    assert waits == [] and [k for p, k in hl.requests if k == "clearinghouseState"] == ["clearinghouseState"]


def test_write_429_with_retry_after_is_still_ambiguous(client, hl, master) -> None:
    hl.add_fault("http_429", match="order", apply=False, retry_after_s=1)
    with pytest.raises(AmbiguousOrderOutcome, match="429"):
        client.place_order(master.address, entry())
    assert hl.exchange_requests("order") == 1 and placed(hl, master, entry()) == 0
