"""Partial fills on the fake Hyperliquid venue (real SDK), the executor's side: the venue caps
each fill (:meth:`FakeHyperliquidServer.set_liquidity`), so a market order (IOC) fills part and
the venue cancels the rest, and a triggered stop takes one slice per crossing mark move.

What the executor must do: a position is the filled part of its entry, with stop and target
sized to it; a signal exit that fills part is followed by reduce-only market orders for the
rest (``exit#1``, ``exit#2`` …) until the position is closed (without the follow-up the rest
stayed open and the strategy never traded the symbol again); a stop or target that fills in slices books
one trade per slice and the other is cancelled once the position is closed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from executor_world import add_live, strategy_code
from pydantic import SecretStr
from venue_world import NAME, MemoryHistory, ScriptedSignals, journal

from sixbtc.adapters.exchanges.hyperliquid import HyperliquidClient
from sixbtc.app.live_set import live_set
from sixbtc.app.paper import feed_bar
from sixbtc.core.ids import client_order_id
from sixbtc.executor.engine import Executor
from sixbtc.executor.ports import Bar
from sixbtc.executor.submitter import OrderSubmitter, RetryPolicy
from sixbtc.testing.fake_hyperliquid import FakeHyperliquidServer

PX = 3_000.0


@pytest.fixture
def hl_world(make_world, tmp_path):  # noqa: ANN001, ANN201
    """(container, fake venue, executor factory, bars): one long ETH strategy on the master."""
    world = make_world(symbols=("ETH",))
    with FakeHyperliquidServer() as hl:
        hl.set_mark("ETH", PX)
        master = hl.new_master(10_000.0)
        agent = hl.new_agent(master.address, "bot")
        venue = HyperliquidClient(base_url=hl.base_url, master_address=master.address,
                                  agent_key=SecretStr(agent.key.hex()), timeout_s=2.0)
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        bars = [Bar("ETH", "1h", now - timedelta(hours=10 - i), PX, PX, PX, PX) for i in range(10)]
        add_live(world, NAME, strategy_code(NAME), ("ETH",), "long", params={"sl_pct": 0.02, "tp_pct": 0.04})
        strategies = [replace(s, subaccount=master.address) for s in live_set(world)]

        def executor(script: dict[int, tuple[bool, bool]]) -> Executor:
            store = world.execution_store(None)
            return Executor(strategies, venue, ScriptedSignals(script), MemoryHistory(bars), store,
                            world.settings.risk, history_bars=3,
                            submitter=OrderSubmitter(venue, store, RetryPolicy(attempts=3, base_delay_s=0.05)))

        yield world, hl, venue, master.address, executor, bars


def cid(bars: list[Bar], i: int, leg: str) -> str:
    return client_order_id(1, "ETH", int(bars[i].ts.timestamp() * 1000), leg)


def test_a_partly_filled_exit_is_followed_until_the_position_is_closed(hl_world) -> None:
    world, hl, venue, master, executor, bars = hl_world
    now = int(bars[-1].ts.timestamp() * 1000) + 3_600_000
    ex = executor({2: (True, False), 4: (False, True)})
    for bar in bars[:4]:
        feed_bar(ex, bar)
    (pos,) = world.trading.open_positions()
    qty = pos["qty"]
    hl.set_liquidity("ETH", round(qty * 0.4, 4))  # the exit fills in three slices: 0.4, 0.4, 0.2
    for bar in bars[4:]:
        feed_bar(ex, bar)
    ex.sync(now)
    got = journal(world)
    assert [got.get(cid(bars, 4, leg)) for leg in ("exit", "exit#1", "exit#2")] == [
        ("exit", "canceled"), ("exit", "canceled"), ("exit", "filled")]
    assert cid(bars, 4, "exit#3") not in got
    assert world.trading.open_positions() == [] and venue.positions(master) == []
    trades = world.trading.trades()
    assert len(trades) == 3 and sum(t["qty"] for t in trades) == pytest.approx(qty)
    assert {t["exit_reason"] for t in trades} == {"SIGNAL"}
    assert got[cid(bars, 2, "sl")] == ("sl", "canceled") and got[cid(bars, 2, "tp")] == ("tp", "canceled")
    assert venue.open_orders(master) == []


@pytest.mark.parametrize(("leg", "other", "reason", "marks"), [
    ("sl", "tp", "STOP_LOSS", (0.97, 0.969, 0.968)), ("tp", "sl", "TAKE_PROFIT", (1.05, 1.051, 1.052))])
def test_a_partly_filled_entry_is_a_position_of_the_filled_size_and_its_stop_or_target_fills_in_slices(
        hl_world, leg: str, other: str, reason: str, marks: tuple[float, ...]) -> None:
    world, hl, venue, master, executor, bars = hl_world
    now = int(bars[-1].ts.timestamp() * 1000) + 3_600_000
    ex = executor({2: (True, False)})
    hl.set_liquidity("ETH", 0.1)
    for bar in bars[:4]:
        feed_bar(ex, bar)
    got = journal(world)
    assert got[cid(bars, 2, "entry")] == ("entry", "canceled")  # IOC: the rest was cancelled
    (pos,) = world.trading.open_positions()
    assert pos["qty"] == pytest.approx(0.1) and venue.positions(master)[0].qty == pytest.approx(0.1)
    resting = {o.client_order_id: o.qty for o in venue.open_orders(master)}
    assert resting == {cid(bars, 2, "sl"): pytest.approx(0.1), cid(bars, 2, "tp"): pytest.approx(0.1)}
    hl.set_liquidity("ETH", 0.04)
    for k, x in enumerate(marks):  # each crossing move: one slice of the triggered order
        hl.set_mark("ETH", PX * x)
        ex.sync(now)
        if k == 0:
            (pos,) = world.trading.open_positions()
            assert pos["qty"] == pytest.approx(0.06) and journal(world)[cid(bars, 2, leg)][1] == "partially_filled"
    assert world.trading.open_positions() == [] and venue.positions(master) == []
    trades = world.trading.trades()
    assert [t["qty"] for t in trades] == pytest.approx([0.04, 0.04, 0.02])
    assert {t["exit_reason"] for t in trades} == {reason}
    got = journal(world)
    assert got[cid(bars, 2, leg)] == (leg, "filled") and got[cid(bars, 2, other)] == (other, "canceled")
    assert venue.open_orders(master) == []
