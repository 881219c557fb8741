"""Recovery at start: the venue is the truth (paper venue; and the executor on the fake
Hyperliquid venue through the real SDK)."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from executor_world import add_live, strategy_code
from pydantic import SecretStr
from venue_world import (
    NAME,
    LateFills,
    MemoryHistory,
    ScriptedSignals,
    flat_bars,
    journal,
    make,
    ms,
    run,
    ts,
    venue_like,
)

from sixbtc.adapters.exchanges.hyperliquid import HyperliquidClient
from sixbtc.adapters.exchanges.hyperliquid_precision import to_cloid
from sixbtc.app.live_set import live_set
from sixbtc.app.paper import feed_bar
from sixbtc.core.ids import client_order_id
from sixbtc.domain.orders import OrderRequest, OrderSide, OrderType
from sixbtc.executor.engine import Executor
from sixbtc.executor.ports import Bar
from sixbtc.executor.submitter import OrderSubmitter, RetryPolicy
from sixbtc.testing.fake_hyperliquid import FakeHyperliquidServer


@pytest.fixture
def world(make_world):  # noqa: ANN001, ANN201
    return make_world(symbols=("BTC",))


def test_a_stop_that_filled_while_down_closes_the_trade_at_start(world) -> None:
    bars = flat_bars(8)
    bars[5] = Bar("BTC", "1h", ts(5), 100.0, 100.2, 97.0, 97.5)  # through the 98.0 stop
    ex = make(world, bars, {2: (True, False)})
    run(ex, bars[:4])
    assert len(world.trading.open_positions()) == 1
    for bar in bars[4:6]:  # the executor is down: the venue trades on
        ex.venue.on_bar(bar)
    ex2 = make(world, bars, {2: (True, False)})
    report = ex2.reconcile(ms(6))
    assert report.fills == 1 and report.mismatches == [] and report.stops == []
    (trade,) = world.trading.trades()
    assert trade["exit_reason"] == "STOP_LOSS" and trade["exit_ts"] == ts(5)
    assert world.trading.open_positions() == []
    assert journal(world)[client_order_id(1, "BTC", ms(2), "tp")][1] == "canceled"


def test_a_position_grown_by_a_fill_reported_while_down_gets_a_whole_stop_at_start(world) -> None:
    venue = venue_like(world, LateFills, late_cid=client_order_id(1, "BTC", ms(2), "entry"))
    bars = flat_bars(6)
    run(make(world, bars, {2: (True, False)}, venue=venue), bars[:4])
    (pos,) = world.trading.open_positions()
    venue.released = True  # the rest of the entry's fill is reported while the executor is down
    ex2 = make(world, bars, {2: (True, False)}, venue=venue)
    report = ex2.reconcile(ms(4))
    sl, sl1 = client_order_id(1, "BTC", ms(2), "sl"), client_order_id(1, "BTC", ms(2), "sl#1")
    assert report.fills == 1 and report.mismatches == []
    assert journal(world)[sl] == ("sl", "canceled")
    assert journal(world)[sl1] == ("sl", "open")
    (grown,) = world.trading.open_positions()
    resting = {o.client_order_id: o.qty for o in venue.open_orders("paper-001")}
    assert resting[sl1] == pytest.approx(grown["qty"]) == pytest.approx(2 * pos["qty"]) and sl not in resting


def test_a_stop_missing_on_the_venue_is_placed_again(world) -> None:
    bars = flat_bars(6)
    ex = make(world, bars, {2: (True, False)})
    run(ex, bars[:4])
    stop = client_order_id(1, "BTC", ms(2), "sl")
    assert ex.venue.cancel_order("paper-001", "BTC", stop)  # e.g. emergency-stop cancelled every order
    ex2 = make(world, bars, {2: (True, False)})
    report = ex2.reconcile(ms(4))
    again = client_order_id(1, "BTC", ms(2), "sl#1")
    assert report.stops == [again]
    orders = journal(world)
    assert orders[stop] == ("sl", "canceled") and orders[again] == ("sl", "open")
    assert orders[client_order_id(1, "BTC", ms(2), "tp")] == ("tp", "open")  # still resting: not doubled
    resting = {o.client_order_id for o in ex2.venue.open_orders("paper-001")}
    assert resting == {client_order_id(1, "BTC", ms(2), "tp"), again}


def test_an_unexplained_venue_position_blocks_the_symbol_and_raises_an_alert(world) -> None:
    bars = flat_bars(8)
    ex = make(world, bars, {})
    run(ex, bars[:3])
    ex.venue.place_order("paper-001", OrderRequest("manual-1", "BTC", OrderSide.BUY, OrderType.MARKET, 0.5))
    ex.venue.on_bar(bars[3])  # someone traded the sub-account by hand
    ex2 = make(world, bars, {5: (True, False)})
    report = ex2.reconcile(ms(4))
    assert report.mismatches and report.mismatches[0][:2] == ("paper-001", "BTC")
    events = [e for e in world.strategies.events(50) if e["reason"] == "executor:mismatch"]
    assert events and "not traded until the mismatch is explained" in events[0]["detail"]
    run(ex2, bars)
    assert client_order_id(1, "BTC", ms(5), "entry") not in journal(world)  # refused to trade BTC


def test_the_executor_trades_on_the_fake_hyperliquid_venue_through_the_real_sdk(world, tmp_path) -> None:
    with FakeHyperliquidServer() as hl:
        hl.set_mark("BTC", 100_000.0)
        master = hl.new_master(10_000.0)
        agent = hl.new_agent(master.address, "bot")
        venue = HyperliquidClient(base_url=hl.base_url, master_address=master.address,
                                  agent_key=SecretStr(agent.key.hex()), master_key=SecretStr(master.key.hex()),
                                  key_dir=str(tmp_path / "keys"), timeout_s=2.0)
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        bars = [Bar("BTC", "1h", now - timedelta(hours=4 - i), 100_000.0, 100_400.0, 99_700.0, 100_000.0)
                for i in range(4)]
        add_live(world, NAME, strategy_code(NAME), ("BTC",), "long", params={"sl_pct": 0.02, "tp_pct": 0.04})
        strategies = [replace(s, subaccount=master.address) for s in live_set(world)]  # the venue's account
        store = world.execution_store(None)
        ex = Executor(strategies, venue, ScriptedSignals({3: (True, False)}), MemoryHistory(bars), store,
                      world.settings.risk, history_bars=3,
                      submitter=OrderSubmitter(venue, store, RetryPolicy(attempts=4, base_delay_s=0.2)),
                      clock_ms=lambda: int(time.time() * 1000))
        for bar in bars:
            feed_bar(ex, bar)  # a live venue: only on_bar
        entry = client_order_id(1, "BTC", int(bars[3].ts.timestamp() * 1000), "entry")
        assert journal(world)[entry] == ("entry", "filled")  # an IOC market order fills at once on Hyperliquid
        assert ex.sync() >= 1  # the trade sync sees the fill: position, then the venue stop and target
        (pos,) = world.trading.open_positions()
        assert pos["qty"] > 0 and pos["no_stop_ms"] is not None and pos["no_stop_ms"] >= 0
        stop = client_order_id(1, "BTC", int(bars[3].ts.timestamp() * 1000), "sl")
        assert journal(world)[stop] == ("sl", "open")
        assert len(hl.orders_with_cloid(master.address, to_cloid(stop))) == 1
        hl.set_mark("BTC", pos["stop_price"] * 0.99)  # the market falls through the stop
        deadline = time.monotonic() + 10
        while not world.trading.trades() and time.monotonic() < deadline:
            ex.sync()
        (trade,) = world.trading.trades()
        assert trade["exit_reason"] == "STOP_LOSS" and trade["pnl_usd"] < 0
        assert journal(world)[client_order_id(1, "BTC", int(bars[3].ts.timestamp() * 1000), "tp")][1] in (
            "canceled", "filled") and world.trading.open_positions() == []
