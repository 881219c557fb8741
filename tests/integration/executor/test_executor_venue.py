"""The executor on the paper venue (venue port), driven bar by bar with scripted signals.

Costs (``executor_world.CONFIG``): fee 0.05 % per fill, slippage 2 bps; a 1000 USD sub-account
risking 1 % per trade with a 2 % stop, so entries are 1000 × 0.01 / 0.02 = 500 USD of notional.
Positions, trades and the order journal are read back from the database.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from venue_world import (
    FEE,
    SLIP,
    Gate,
    LateFills,
    RejectStops,
    flat_bars,
    journal,
    make,
    ms,
    run,
    ts,
    venue_like,
)

from sixbtc.adapters.storage.tables import FillRow, PaperOrderRow
from sixbtc.core.ids import client_order_id
from sixbtc.executor.ports import Bar


@pytest.fixture
def world(make_world):  # noqa: ANN001, ANN201
    return make_world(symbols=("BTC",))


def test_a_long_round_trip_is_built_from_the_venue_fills(world) -> None:
    bars = flat_bars(7)
    bars[5] = Bar("BTC", "1h", ts(5), 102.0, 102.5, 101.5, 102.0)
    ex = make(world, bars, {2: (True, False), 4: (False, True)})
    run(ex, bars[:3])
    entry = client_order_id(1, "BTC", ms(2), "entry")
    assert journal(world)[entry] == ("entry", "open")  # stored, sent, resting until the next open
    run(ex, bars[3:4])
    (pos,) = world.trading.open_positions()
    e = 100.0 * (1 + SLIP)
    assert pos["entry_price"] == pytest.approx(e) and pos["qty"] * e == pytest.approx(500.0)
    assert pos["stop_price"] == pytest.approx(e * 0.98) and pos["target_price"] == pytest.approx(e * 1.04)
    assert pos["no_stop_ms"] == 0 and pos["stop_ack_ms"] == ms(3)  # stop live from the fill's open
    orders = journal(world)
    assert orders[client_order_id(1, "BTC", ms(2), "sl")] == ("sl", "open")
    assert orders[client_order_id(1, "BTC", ms(2), "tp")] == ("tp", "open")
    run(ex, bars[4:])
    (trade,) = world.trading.trades()
    qty, x = 500.0 / e, 102.0 * (1 - SLIP)
    fees = 500.0 * FEE + qty * x * FEE
    assert trade["exit_reason"] == "SIGNAL" and trade["exit_price"] == pytest.approx(x)
    assert trade["fees_usd"] == pytest.approx(fees)
    assert trade["pnl_usd"] == pytest.approx(qty * (x - e) - fees) and trade["funding_usd"] == 0.0
    assert world.trading.subaccount_of(1)["balance_usd"] == pytest.approx(1000.0 + trade["pnl_usd"])
    orders = journal(world)
    assert orders[client_order_id(1, "BTC", ms(4), "exit")] == ("exit", "filled")
    assert orders[client_order_id(1, "BTC", ms(2), "sl")][1] == "canceled"
    assert orders[client_order_id(1, "BTC", ms(2), "tp")][1] == "canceled"
    with world.engine.connect() as conn:
        assert conn.execute(select(FillRow.trade_id)).scalars().all() and len(
            conn.execute(select(FillRow)).all()) == 2


def test_a_short_stopped_out_inside_a_bar_books_a_stop_loss(world) -> None:
    bars = flat_bars(6)
    bars[4] = Bar("BTC", "1h", ts(4), 100.0, 103.0, 99.5, 102.5)
    ex = make(world, bars, {2: (True, False)}, direction="short")
    run(ex, bars)
    (trade,) = world.trading.trades()
    e = 100.0 * (1 - SLIP)
    assert trade["direction"] == "short" and trade["exit_reason"] == "STOP_LOSS"
    assert trade["exit_price"] == pytest.approx(e * 1.02 * (1 + SLIP))
    assert trade["pnl_usd"] < -10.0
    assert journal(world)[client_order_id(1, "BTC", ms(2), "tp")][1] == "canceled"
    assert world.trading.open_positions() == []


def test_a_refused_entry_is_an_event_with_its_reason_and_nothing_is_sent(world) -> None:
    bars = flat_bars(5)
    late = ms(4) + 10 * 3_600_000  # the wall clock is 10 h past the candles
    ex = make(world, bars, {2: (True, False)}, clock_ms=lambda: late)
    run(ex, bars)
    assert journal(world) == {}
    events = [e for e in world.strategies.events(50) if e["reason"] == "risk:stale_data"]
    assert len(events) == 1 and "refused" in events[0]["detail"]


def test_halted_trading_sends_no_entry_and_reducing_still_closes(world) -> None:
    bars = flat_bars(10)
    gate = Gate()
    ex = make(world, bars, {2: (True, False), 5: (False, True), 7: (True, False)}, gate=gate)
    run(ex, bars[:4])
    assert len(world.trading.open_positions()) == 1
    gate.entries = False  # REDUCING: reduce-only orders only
    run(ex, bars[4:])
    (trade,) = world.trading.trades()
    assert trade["exit_reason"] == "SIGNAL" and world.trading.open_positions() == []
    assert client_order_id(1, "BTC", ms(7), "entry") not in journal(world)


def test_halted_sends_nothing_at_all(world) -> None:
    bars = flat_bars(6)
    run(make(world, bars, {2: (True, False)}, gate=Gate(entries=False, reduce=False)), bars)
    assert journal(world) == {}


def test_a_stop_the_venue_refuses_closes_the_position_at_market(world) -> None:
    bars = flat_bars(6)
    venue = venue_like(world, RejectStops)
    ex = make(world, bars, {2: (True, False)}, venue=venue)
    run(ex, bars)
    (trade,) = world.trading.trades()
    assert trade["exit_reason"] == "UNPROTECTED" and trade["exit_ts"] == ts(4)
    orders = journal(world)
    assert orders[client_order_id(1, "BTC", ms(2), "sl")] == ("sl", "rejected")
    assert orders[client_order_id(1, "BTC", ms(2), "protect")] == ("protect", "filled")
    assert [e for e in world.strategies.events(50) if e["reason"] == "executor:no_stop"]


def test_a_failing_strategy_is_stopped_and_its_position_wound_down(world) -> None:
    bars = flat_bars(7)
    ex = make(world, bars, {2: (True, False)}, fail_at=4)
    run(ex, bars)
    (trade,) = world.trading.trades()
    assert trade["exit_reason"] == "WIND_DOWN" and trade["exit_ts"] == ts(5)
    assert world.strategies.get(1).status.value == "RETIRED"


@pytest.mark.parametrize("point", ["intent_stored", "sent", "acked"])
def test_a_crash_at_a_checkpoint_then_a_restart_never_duplicates_the_entry(world, make_world, tmp_path,
                                                                          point) -> None:
    bars = flat_bars(8)
    bars[6] = Bar("BTC", "1h", ts(6), 101.0, 101.5, 100.5, 101.0)
    script = {2: (True, False), 5: (False, True)}

    def crash(name: str, order) -> None:  # noqa: ANN001
        if name == point and order is not None and order.leg == "entry":
            raise KeyboardInterrupt(f"killed at {name}")

    ex1 = make(world, bars, script, checkpoint=crash)
    with pytest.raises(KeyboardInterrupt):
        run(ex1, bars[:3])
    ex2 = make(world, bars, script)  # restart: rebuilt from the store, reconciled before trading
    run(ex2, bars)
    entry = client_order_id(1, "BTC", ms(2), "entry")
    with world.engine.connect() as conn:
        on_venue = conn.execute(select(func.count()).select_from(PaperOrderRow)
                                .where(PaperOrderRow.client_order_id == entry)).scalar_one()
    # exactly one order per intent: an order left SENT and never placed is sent again with the same
    # client order id (the paper venue refuses a reused one); before the fix it stayed UNKNOWN, unsent
    assert on_venue == 1
    trades = world.trading.trades()
    clean = make_world(symbols=("BTC",), root=tmp_path / "clean")
    run(make(clean, bars, script), bars)
    assert [(t["entry_ts"], t["exit_ts"], t["pnl_usd"]) for t in trades] == \
        [(t["entry_ts"], t["exit_ts"], t["pnl_usd"]) for t in clean.trading.trades()]
    assert journal(world)[entry] == ("entry", "filled")


def test_a_restarted_run_makes_the_trades_of_an_uninterrupted_one(world, make_world, tmp_path) -> None:
    bars = flat_bars(12)
    bars[5] = Bar("BTC", "1h", ts(5), 102.0, 102.5, 101.5, 102.0)
    bars[9] = Bar("BTC", "1h", ts(9), 100.0, 100.2, 96.0, 97.0)  # through the stop
    script = {2: (True, False), 4: (False, True), 6: (True, False)}
    for cut in (3, 4, 7, 9):
        c = make_world(symbols=("BTC",), root=tmp_path / f"cut{cut}")
        run(make(c, bars, script), bars[:cut])
        run(make(c, bars, script), bars)  # the feed restarts from the first bar
        got = [(t["entry_ts"], t["exit_ts"], t["exit_reason"], round(t["pnl_usd"], 9)) for t in c.trading.trades()]
        if cut == 3:
            want = got
            assert [reason for _, _, reason, _ in got] == ["SIGNAL", "STOP_LOSS"]
        assert got == want, f"cut at bar {cut}"


def test_a_position_grown_by_a_late_entry_fill_gets_a_stop_for_its_whole_quantity(world) -> None:
    venue = venue_like(world, LateFills, late_cid=client_order_id(1, "BTC", ms(2), "entry"))
    bars = flat_bars(7)
    ex = make(world, bars, {2: (True, False)}, venue=venue)
    run(ex, bars[:4])
    (pos,) = world.trading.open_positions()
    half = pos["qty"]
    sl, tp = client_order_id(1, "BTC", ms(2), "sl"), client_order_id(1, "BTC", ms(2), "tp")
    assert journal(world)[sl] == ("sl", "open") and journal(world)[tp] == ("tp", "open")

    venue.released = True  # the second half of the entry's fill is reported
    run(ex, bars[4:5])
    (pos,) = world.trading.open_positions()
    assert pos["qty"] == pytest.approx(2 * half)
    orders = journal(world)
    sl1, tp1 = client_order_id(1, "BTC", ms(2), "sl#1"), client_order_id(1, "BTC", ms(2), "tp#1")
    assert orders[sl1] == ("sl", "open") and orders[tp1] == ("tp", "open")
    assert orders[sl] == ("sl", "canceled") and orders[tp] == ("tp", "canceled")
    resting = {o.client_order_id: o.qty for o in venue.open_orders(world.trading.subaccount_of(1)["label"])}
    assert resting == {sl1: pytest.approx(2 * half), tp1: pytest.approx(2 * half)}, \
        "the venue holds one stop and one target, each for the whole position"
