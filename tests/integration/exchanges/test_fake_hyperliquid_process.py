"""The fake venue as a separate process: control endpoint, persisted state across restarts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import eth_account
import pytest
from pydantic import SecretStr

from sixbtc.adapters.exchanges.hyperliquid import HyperliquidClient
from sixbtc.core.errors import AmbiguousOrderOutcome
from sixbtc.core.ids import client_order_id
from sixbtc.domain.orders import OrderRequest, OrderSide, OrderStatus, OrderType
from sixbtc.testing.fake_hyperliquid import FakeHyperliquidControl
from sixbtc.testing.fake_hyperliquid_process import (
    VenueProcess,
    duplicate_cloids,
    orders_by_cloid,
    venue_positions,
)


@contextmanager
def venue_process(state: Path) -> Iterator[str]:
    """Run the venue in a child process and yield its base URL."""
    with VenueProcess(state) as venue:
        yield venue.url


def test_out_of_process_venue_keeps_orders_across_restarts(tmp_path: Path) -> None:
    state = tmp_path / "hl.json"
    master, agent = eth_account.Account.create(), eth_account.Account.create()
    stop = OrderRequest(client_order_id(9, "BTC", 0, "sl"), "BTC", OrderSide.SELL, OrderType.STOP_MARKET, 0.001,
                        trigger_price=95_000.0, reduce_only=True)
    with venue_process(state) as url:
        control = FakeHyperliquidControl(url)
        control.fund(user=master.address, usd=1_000.0)
        control.set_mark(coin="BTC", px=100_000.0)
        control.add_agent(master=master.address, address=agent.address, name="bot")
        client = HyperliquidClient(base_url=url, master_address=master.address, agent_key=SecretStr(agent.key.hex()),
                                   timeout_s=0.5, retry_backoff_s=0.0)
        control.add_fault(kind="timeout", match="order", delay_s=1.0)
        with pytest.raises(AmbiguousOrderOutcome):
            client.place_order(master.address, OrderRequest(client_order_id(9, "BTC", 0, "entry"), "BTC",
                                                            OrderSide.BUY, OrderType.MARKET, 0.001))
        client.place_order(master.address, stop)
        with pytest.raises(ValueError, match="op must be one of"):
            control.call("nope")
    with venue_process(state) as url:  # restarted venue, same state file
        control = FakeHyperliquidControl(url)
        control.set_mark(coin="BTC", px=94_000.0)  # the stop fills while no client is connected
        client = HyperliquidClient(base_url=url, master_address=master.address, timeout_s=1.0)
        assert client.query_order(master.address, "BTC", stop.client_order_id).status is OrderStatus.FILLED
        assert client.positions(master.address) == [] and len(client.fills_since(master.address, 0)) == 2
        assert control.exchange_requests(action="order") == 0
        state = control.state()
        assert sum(orders_by_cloid(state, master.address).values()) == 2 and duplicate_cloids(state, master.address) == {}
        assert venue_positions(state, master.address) == {}
        control.set_liquidity(coin="BTC", size=0.0005)  # market scenarios are reachable out of process too
        assert control.state()["liquidity"] == {"BTC": 0.0005}
        with pytest.raises(ValueError, match="liquidate"):
            control.liquidate(user=master.address, coin="BTC")  # no position left to liquidate
