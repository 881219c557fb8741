"""A LIVE strategy that fails (raises, times out, returns bad output, does not load) is retired
with an ``executor:error`` event, its positions are closed at the next bar (``WIND_DOWN``) and
its sub-account freed; the other LIVE strategies trade exactly as they would alone.

Real strategies through the real sandbox, on the synthetic world of ``executor_world``.
"""

from __future__ import annotations

import pandas as pd
import pytest
from executor_world import add_live, strategy_code, write_candles

from sixbtc.app.trading import paper_replay
from sixbtc.app.window import plan_window
from sixbtc.domain.strategy import StrategyStatus

GOOD, BAD = "Strategy_MOM_00000001", "Strategy_MOM_00000002"
#: The replay bars have volume 352..399 (the last 48 of 400 bars): these traps fire mid-replay,
#: at bar 370, after the strategy has traded.
TRAPS = {
    "raises": ('if data["volume"][-1] >= 370: raise RuntimeError("boom at bar 370")', "execution:error"),
    "times_out": ('if data["volume"][-1] >= 370:\n            while True: pass', "sandbox:timeout"),
    "bad_output": ('if data["volume"][-1] >= 370: return close[:-3] > 0, close[:-3] > 0', "execution:bad_output"),
    "eats_memory": ('if data["volume"][-1] >= 370: np.ones(10**10)', "sandbox:memory"),
}
TRADE_KEY = ("symbol", "entry_ts", "exit_ts", "entry_price", "exit_price", "qty", "pnl_usd", "exit_reason")


def _trades(c, sid: int) -> list[tuple]:
    return [tuple(t[k] for k in TRADE_KEY) for t in c.trading.trades(sid)]


@pytest.mark.parametrize("kind", sorted(TRAPS))
def test_a_failing_live_strategy_is_retired_and_the_others_trade_on(make_world, kind: str) -> None:
    trap, error = TRAPS[kind]
    c = make_world()
    good = add_live(c, GOOD, strategy_code(GOOD), ("BTC", "ETH"))
    bad = add_live(c, BAD, strategy_code(BAD, trap=trap), ("BTC", "ETH"))
    alone = make_world(root=c.home.root.parent / "alone")
    alone_id = add_live(alone, GOOD, strategy_code(GOOD), ("BTC", "ETH"))
    window = plan_window(c.store, c.settings)

    stats = paper_replay(c, window)  # before the fix: the strategy's error ended the replay
    paper_replay(alone, window)

    assert stats.bars == 96
    assert c.strategies.get(bad).status is StrategyStatus.RETIRED
    [event] = [e for e in c.strategies.events(50) if e["strategy_id"] == bad and e["phase"] == "executor"]
    assert event["reason"] == "executor:error" and event["to_status"] == "RETIRED"
    assert error in event["detail"] and "BTC 1h bar" in event["detail"]
    fault_close = window.replay_start + pd.Timedelta(hours=370 - 352 + 1)
    bad_trades = c.trading.trades(bad)
    assert len(bad_trades) >= 2, "the strategy traded before it failed"
    assert all(t["entry_ts"] < fault_close for t in bad_trades), "no entry after the failure"
    wind_down = [t for t in bad_trades if t["exit_reason"] == "WIND_DOWN"]
    assert all(t["exit_ts"] >= fault_close for t in wind_down), "closed at a bar after the failure"
    assert c.trading.open_positions(bad) == [] and c.trading.holdings(bad) == 0
    assert c.trading.subaccount_of(bad) is None, "its sub-account is freed once flat"
    assert _trades(c, good) == _trades(alone, alone_id) and len(_trades(c, good)) > 3


def test_a_live_strategy_that_does_not_load_is_retired_and_the_others_trade(make_world) -> None:
    c = make_world()
    good = add_live(c, GOOD, strategy_code(GOOD), ("BTC",))
    broken = add_live(c, BAD, strategy_code(BAD).replace("def signals", "def signals(:"), ("BTC",))

    stats = paper_replay(c, plan_window(c.store, c.settings))

    assert stats.bars == 48
    assert c.strategies.get(broken).status is StrategyStatus.RETIRED
    [event] = [e for e in c.strategies.events(50) if e["strategy_id"] == broken and e["phase"] == "executor"]
    assert "execution:error" in event["detail"]
    assert c.trading.trades(good) and not c.trading.trades(broken)


def test_a_live_record_that_cannot_run_is_retired_and_the_others_trade(make_world) -> None:
    c = make_world()
    good = add_live(c, GOOD, strategy_code(GOOD), ("BTC",))
    odd = add_live(c, BAD, strategy_code(BAD), ("BTC",))
    with c.engine.begin() as conn:  # a record damaged by hand / an older version
        conn.exec_driver_sql(f"UPDATE strategies SET metrics = '{{\"direction\": \"sideways\"}}' WHERE id = {odd}")

    paper_replay(c, plan_window(c.store, c.settings))

    assert c.strategies.get(odd).status is StrategyStatus.RETIRED
    assert c.trading.trades(good)


def test_a_record_that_cannot_run_while_it_holds_positions_is_retired_and_wound_down(make_world) -> None:
    c = make_world()
    write_candles(c, ("BTC", "ETH"), extra=24, upto=400)
    odd = add_live(c, BAD, strategy_code(BAD), ("BTC", "ETH"))
    first = plan_window(c.store, c.settings)
    paper_replay(c, first)
    assert c.trading.open_positions(odd) and c.trading.holdings(odd) > 1, "holds a position and NEW orders"
    with c.engine.begin() as conn:  # then the record is damaged (by hand, an older version)
        conn.exec_driver_sql(f"UPDATE strategies SET metrics = '{{\"direction\": \"sideways\"}}' WHERE id = {odd}")
    write_candles(c, ("BTC", "ETH"), extra=24)

    paper_replay(c, plan_window(c.store, c.settings))

    assert c.strategies.get(odd).status is StrategyStatus.RETIRED
    # before the fix its positions stayed open and its sub-account taken for ever (not run, not freed)
    assert c.trading.open_positions(odd) == [] and c.trading.holdings(odd) == 0
    assert all(t["entry_ts"] < first.replay_end for t in c.trading.trades(odd)), "no entry once it could not run"
    assert c.trading.subaccount_of(odd) is None


def test_a_sub_account_left_attached_to_a_retired_strategy_that_holds_nothing_is_freed(make_world) -> None:
    c = make_world()
    good = add_live(c, GOOD, strategy_code(GOOD), ("BTC",))
    gone = add_live(c, BAD, strategy_code(BAD), ("BTC",))
    # retired by a version that freed the sub-account in a second transaction, killed in between
    c.strategies.transition(gone, None, StrategyStatus.RETIRED, phase="monitor", reason="monitor:test")

    paper_replay(c, plan_window(c.store, c.settings))

    assert c.trading.subaccount_of(gone) is None, "before the fix: attached for ever, never reused"
    assert c.trading.subaccount_of(good) is not None and c.trading.trades(good)
