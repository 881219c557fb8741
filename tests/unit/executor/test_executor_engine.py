"""The executor driven bar by bar with in-memory fakes and the paper broker (SPEC §3.7, §4).

Costs: fee 0.1 % per fill, slippage 10 bps; a 1000 USD sub-account risking 1 % per trade
with a 2 % stop, so entries are 1000 × 0.01 / 0.02 = 500 USD of notional.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from sixbtc.adapters.exchanges.paper import PaperBroker
from sixbtc.config.sections import RiskSection
from sixbtc.core.errors import DataError
from sixbtc.core.ids import client_order_id
from sixbtc.domain.trading import Direction, ExitReason, Trade, TradeMode
from sixbtc.executor.engine import Executor, LiveStrategy, entry_notional
from sixbtc.executor.ports import (
    Bar,
    BarChanges,
    BarCursor,
    Fill,
    OrderIntent,
    RecoveredState,
    StrategyFault,
)

FEE, SLIP = 0.001, 0.001
T0 = datetime(2025, 3, 1, tzinfo=UTC)
PARAMS = {"sl_pct": 0.02, "tp_pct": 0.04}


def ts(i: int) -> datetime:
    return T0 + timedelta(hours=i)


def ms(i: int) -> int:
    return int(ts(i).timestamp() * 1000)


# -- fakes -----------------------------------------------------------------------------------
class MemoryStore:
    """In-memory ExecutionStore with the rules of ``ExecutionRepository`` (one commit per bar)."""

    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.positions: dict[int, dict[str, Any]] = {}
        self.trades: list[Trade] = []
        self.balances: dict[int, float] = {}
        self.cursors: dict[int, BarCursor] = {}
        self.faults: list[StrategyFault] = []
        self.balance_delta = 0.0
        self.commits: list[BarChanges] = []

    def recover(self, strategy_ids: list[int]) -> RecoveredState:
        ids = set(strategy_ids)
        pending = [OrderIntent(o["client_order_id"], o["strategy_id"], o["symbol"], o["timeframe"],
                               1 if o["side"] == "buy" else -1, o["leg"], o["notional_usd"], o["qty"],
                               o["reduce_only"], o["sl_pct"], o["tp_pct"], o["not_before"])
                   for o in self.orders.values() if o["status"] == "NEW" and o["strategy_id"] in ids]
        return RecoveredState({k: v for k, v in self.balances.items() if k in ids},
                              [dict(p) for p in self.open_positions() if p["strategy_id"] in ids], pending,
                              {k: v for k, v in self.cursors.items() if k in ids})

    def commit(self, ch: BarChanges) -> None:
        self.commits.append(ch)
        for o in ch.orders:
            assert self.orders.get(o["client_order_id"], {}).get("status") in (None, "CANCELLED"), "order twice"
            self.orders[o["client_order_id"]] = dict(o, status="NEW")
        for cid in ch.cancels:
            self.orders[cid]["status"] = "CANCELLED"
        for order, position in ch.entries:
            self._fill(order)
            pos_id = len(self.positions) + 1
            self.positions[pos_id] = dict(position, id=pos_id, is_open=True)
        for order, trade, entry_cid in ch.exits:
            self._fill(order)
            [pos] = [p for p in self.positions.values() if p["entry_client_order_id"] == entry_cid and p["is_open"]]
            pos["is_open"] = False
            self.trades.append(trade)
            self.balance_delta += trade.pnl_usd
            if trade.strategy_id in self.balances:
                self.balances[trade.strategy_id] += trade.pnl_usd
        self.faults += ch.faults
        self.cursors.update(ch.cursors)

    def _fill(self, order: dict[str, Any]) -> None:
        assert self.orders.get(order["client_order_id"], {}).get("status") != "FILLED", "filled twice"
        self.orders[order["client_order_id"]] = dict(self.orders.get(order["client_order_id"], {}), **order,
                                                     status="FILLED")

    def open_positions(self, strategy_id: int | None = None) -> list[dict[str, Any]]:
        return [dict(p) for p in self.positions.values()
                if p["is_open"] and strategy_id in (None, p["strategy_id"])]


class ScriptedSignals:
    """SignalEngine returning a scripted (entry, exit) keyed by the last bar's index."""

    def __init__(self, script: dict[int, tuple[bool, bool]]) -> None:
        self.script = script
        self.calls: list[int] = []

    def last_signal(self, strategy_id: int, data: dict[str, np.ndarray], params: dict[str, Any]) -> tuple[bool, bool]:
        i = int(data["bar_index"][-1])
        self.calls.append(i)
        return self.script.get(i, (False, False))


class MemoryHistory:
    """HistorySource over a list of bars of one stream (``bar_index`` added for the script)."""

    def __init__(self, bars: list[Bar]) -> None:
        self.bars = bars

    def recent(self, symbol: str, timeframe: str, upto_ts: datetime, bars: int) -> dict[str, np.ndarray]:
        rows = [(i, b) for i, b in enumerate(self.bars)
                if b.symbol == symbol and b.timeframe == timeframe and b.ts <= upto_ts][-bars:]
        out = {k: np.array([getattr(b, k) for _, b in rows], dtype=float) for k in ("open", "high", "low", "close")}
        out["bar_index"] = np.array([i for i, _ in rows])
        return out


class SpyBroker:
    """Wraps a broker; checks every intent was recorded as NEW before the broker sees it."""

    def __init__(self, inner: Any, store: MemoryStore) -> None:
        self.inner, self.store, self.mode = inner, store, inner.mode
        self.submitted: list[OrderIntent] = []
        self.cancelled: list[str] = []

    def submit(self, intent: OrderIntent) -> None:
        stored = self.store.orders.get(intent.client_order_id)
        assert stored is not None and stored["status"] == "NEW", "order sent before it was recorded"
        self.submitted.append(intent)
        self.inner.submit(intent)

    def cancel(self, client_order_id: str) -> None:
        self.cancelled.append(client_order_id)
        self.inner.cancel(client_order_id)

    def on_bar(self, bar: Bar) -> list[Fill]:
        return self.inner.on_bar(bar)

    def __getattr__(self, name: str) -> Any:  # restore_protection and friends
        return getattr(self.inner, name)


class SilentBroker:
    """A broker that accepts orders and never fills them."""

    mode = "paper"

    def __init__(self) -> None:
        self.submitted: list[OrderIntent] = []

    def submit(self, intent: OrderIntent) -> None:
        self.submitted.append(intent)

    def cancel(self, client_order_id: str) -> None: ...

    def restore_protection(self, *args: Any) -> None: ...

    def on_bar(self, bar: Bar) -> list[Fill]:
        return []


def flat_bars(n: int, price: float = 100.0) -> list[Bar]:
    """``n`` quiet BTC 1h bars (range ±0.5 %, never near a 2 % stop or 4 % target)."""
    return [Bar("BTC", "1h", ts(i), price, price * 1.005, price * 0.995, price) for i in range(n)]


def strat(direction: Direction = Direction.LONG, sid: int = 1, capital: float = 1000.0) -> LiveStrategy:
    return LiveStrategy(sid, f"Strategy_MOM_{sid}", "1h", ("BTC",), direction, dict(PARAMS), "paper-001", capital)


def make(bars: list[Bar], script: dict[int, tuple[bool, bool]], store: MemoryStore | None = None,
         direction: Direction = Direction.LONG, risk: RiskSection | None = None):
    store = store or MemoryStore()
    broker = SpyBroker(PaperBroker(FEE, SLIP * 10_000), store)
    ex = Executor([strat(direction)], broker, ScriptedSignals(script), MemoryHistory(bars), store,
                  risk or RiskSection(), history_bars=3)
    return ex, broker, store


# -- sizing ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("equity", "sl_pct", "expected"),
    [
        (1000.0, 0.02, 500.0),          # 1000 × 0.01 / 0.02
        (1000.0, 0.001, 5000.0),        # 10 000 capped by 5× leverage
        (100_000.0, 0.02, 10_000.0),    # 50 000 capped by max_notional_usd
        (0.0, 0.02, 0.0),
        (-50.0, 0.02, 0.0),
        (1000.0, 0.0, 0.0),
    ],
)
def test_entry_notional_risk_sizing_and_caps(equity: float, sl_pct: float, expected: float) -> None:
    assert entry_notional(equity, sl_pct, RiskSection()) == pytest.approx(expected)


def test_entry_notional_uses_the_configured_caps() -> None:
    risk = RiskSection(risk_per_trade=0.02, max_leverage=2.0, max_notional_usd=700.0)
    assert entry_notional(1000.0, 0.05, risk) == pytest.approx(400.0)
    assert entry_notional(1000.0, 0.01, risk) == pytest.approx(700.0)   # 2000, 2000 → 700
    assert entry_notional(200.0, 0.01, risk) == pytest.approx(400.0)    # 800 → 2× leverage


# -- a round trip ------------------------------------------------------------------------------
def test_long_round_trip_with_signal_exit() -> None:
    bars = flat_bars(7)
    bars[5] = Bar("BTC", "1h", ts(5), 102.0, 102.5, 101.5, 102.0)
    ex, broker, store = make(bars, {2: (True, False), 4: (False, True)})
    for bar in bars[:3]:
        ex.on_bar(bar)
    # entry signal on bar 2: recorded as NEW (checked by the spy) and queued, not yet filled
    (intent,) = broker.submitted
    assert intent.client_order_id == client_order_id(1, "BTC", ms(2), "entry")
    assert intent.notional_usd == pytest.approx(500.0) and intent.side == +1
    assert store.orders[intent.client_order_id]["status"] == "NEW"
    assert store.open_positions() == []

    ex.on_bar(bars[3])  # fills at bar 3's open + slippage
    (pos,) = store.open_positions()
    assert pos["entry_price"] == pytest.approx(100.1) and pos["entry_ts"] == ts(3)
    assert pos["qty"] * pos["entry_price"] == pytest.approx(500.0)
    assert pos["stop_price"] == pytest.approx(100.1 * 0.98)
    assert store.orders[intent.client_order_id]["status"] == "FILLED"

    ex.on_bar(bars[4])  # exit signal → reduce-only exit queued
    exit_intent = broker.submitted[-1]
    assert exit_intent.reduce_only and exit_intent.side == -1
    assert exit_intent.client_order_id == client_order_id(1, "BTC", ms(4), "exit")
    ex.on_bar(bars[5])  # exit fills at bar 5's open − slippage

    (trade,) = store.trades
    qty = 500.0 / 100.1
    exit_price = 102.0 * 0.999
    fees = 500.0 * FEE + qty * exit_price * FEE
    assert trade.exit_price == pytest.approx(exit_price) and trade.exit_ts == ts(5)
    assert trade.fees_usd == pytest.approx(fees)
    assert trade.pnl_usd == pytest.approx(qty * (exit_price - 100.1) - fees)
    assert trade.pnl_usd > 0
    assert trade.return_frac == pytest.approx(trade.pnl_usd / 500.0)
    assert trade.exit_reason is ExitReason.SIGNAL and trade.mode is TradeMode.PAPER
    assert store.balance_delta == pytest.approx(trade.pnl_usd)
    assert store.open_positions() == []


def test_equity_after_a_trade_sizes_the_next_entry() -> None:
    bars = flat_bars(9)
    bars[5] = Bar("BTC", "1h", ts(5), 102.0, 102.5, 101.5, 102.0)
    ex, broker, store = make(bars, {2: (True, False), 4: (False, True), 6: (True, False)})
    for bar in bars[:7]:
        ex.on_bar(bar)
    pnl = store.trades[0].pnl_usd
    assert broker.submitted[-1].notional_usd == pytest.approx((1000.0 + pnl) * 0.01 / 0.02)


def test_short_stopped_out_books_a_loss_with_fees() -> None:
    bars = flat_bars(6)
    bars[4] = Bar("BTC", "1h", ts(4), 100.0, 103.0, 99.5, 102.5)  # through the 101.898 stop
    ex, broker, store = make(bars, {2: (True, False)}, direction=Direction.SHORT)
    for bar in bars[:5]:
        ex.on_bar(bar)
    (trade,) = store.trades
    qty = 500.0 / 99.9
    stop_fill = 99.9 * 1.02 * 1.001
    fees = 500.0 * FEE + qty * stop_fill * FEE
    assert trade.direction is Direction.SHORT
    assert trade.exit_reason is ExitReason.STOP_LOSS
    assert trade.exit_price == pytest.approx(stop_fill)
    assert trade.pnl_usd == pytest.approx(-qty * (stop_fill - 99.9) - fees)
    assert trade.pnl_usd < -10.0  # ~2 % of 500 USD plus costs
    assert broker.submitted[0].side == -1


def test_no_decision_before_history_bars_are_available() -> None:
    bars = flat_bars(3)
    ex, broker, _ = make(bars, {0: (True, False), 1: (True, False)})
    ex.on_bar(bars[0])
    ex.on_bar(bars[1])
    assert broker.submitted == [] and ex.signals.calls == []


def test_entry_and_exit_on_the_same_bar_is_no_entry() -> None:
    bars = flat_bars(4)
    ex, broker, _ = make(bars, {2: (True, True)})
    for bar in bars:
        ex.on_bar(bar)
    assert broker.submitted == []


def test_bars_of_other_streams_are_ignored() -> None:
    bars = flat_bars(3)
    ex, broker, _ = make(bars, {2: (True, False)})
    ex.on_bar(Bar("ETH", "1h", ts(2), 10.0, 10.1, 9.9, 10.0))
    ex.on_bar(Bar("BTC", "4h", ts(2), 10.0, 10.1, 9.9, 10.0))
    assert broker.submitted == [] and ex.signals.calls == []
    assert ex.streams() == [("BTC", "1h")]


def test_max_open_positions_counts_open_positions_on_other_coins() -> None:
    bars = flat_bars(3)
    store = MemoryStore()
    store.positions[1] = {"id": 1, "strategy_id": 1, "symbol": "ETH", "timeframe": "1h", "direction": "long",
                          "qty": 1.0, "entry_price": 10.0, "entry_ts": ts(0), "entry_fee_usd": 0.01,
                          "stop_price": 9.0, "target_price": 12.0, "is_open": True}
    ex, broker, _ = make(bars, {2: (True, False)}, store=store, risk=RiskSection(max_open_positions=1))
    for bar in bars:
        ex.on_bar(bar)
    assert broker.submitted == []


# -- never twice -------------------------------------------------------------------------------
def test_same_bar_twice_sends_one_order() -> None:
    bars = flat_bars(3)
    store = MemoryStore()
    broker = SilentBroker()
    ex = Executor([strat()], broker, ScriptedSignals({2: (True, False)}), MemoryHistory(bars), store,
                  RiskSection(), history_bars=3)
    for bar in [*bars, bars[2]]:
        ex.on_bar(bar)
    assert len(broker.submitted) == 1
    assert len(store.orders) == 1


def test_one_commit_per_bar_holds_everything_the_bar_changed() -> None:
    bars = flat_bars(7)
    ex, _, store = make(bars, {2: (True, False), 4: (False, True)})
    for bar in bars:
        ex.on_bar(bar)
    # bar 2: entry ordered; bar 3: filled; bar 4: exit ordered; bar 5: exit filled + trade
    assert [(len(c.orders), len(c.entries), len(c.exits)) for c in store.commits] == \
        [(1, 0, 0), (0, 1, 0), (1, 0, 0), (0, 0, 1)]
    assert [c.cursors[1].ts for c in store.commits] == [ts(2), ts(3), ts(4), ts(5)]


# -- restart -----------------------------------------------------------------------------------
def test_restart_resends_a_recorded_order_once_and_it_fills_at_the_next_bar() -> None:
    # killed after the entry of bar 2 was recorded (NEW) and before it filled: before the fix the
    # restarted executor refused to record it again and never sent it — the entry was lost
    bars = flat_bars(5)
    store = MemoryStore()
    ex1 = Executor([strat()], SilentBroker(), ScriptedSignals({2: (True, False)}), MemoryHistory(bars), store,
                   RiskSection(), history_bars=3)
    for bar in bars[:3]:
        ex1.on_bar(bar)
    ex2, broker, _ = make(bars, {2: (True, False)}, store=store)
    for bar in bars:
        ex2.on_bar(bar)
    cid = client_order_id(1, "BTC", ms(2), "entry")
    assert [i.client_order_id for i in broker.submitted] == [cid]
    (pos,) = store.open_positions()
    assert pos["entry_client_order_id"] == cid and pos["entry_ts"] == ts(3)
    assert store.orders[cid]["status"] == "FILLED"


def test_restart_sizes_entries_on_the_sub_account_balance() -> None:
    # the sub-account made 500 USD before the restart: 1500 × 1 % / 2 % = 750 USD, not 500
    bars = flat_bars(3)
    store = MemoryStore()
    store.balances[1] = 1500.0
    ex, broker, _ = make(bars, {2: (True, False)}, store=store)
    assert ex.book(1).equity_usd == 1500.0
    for bar in bars:
        ex.on_bar(bar)
    assert broker.submitted[0].notional_usd == pytest.approx(750.0)


def test_open_position_cap_counts_recovered_entry_orders() -> None:
    # two entries ordered before the restart (NEW, unfilled), cap 2: the third coin may not enter
    store = MemoryStore()
    for sym in ("BTC", "ETH"):
        store.orders[f"e-{sym}"] = {"client_order_id": f"e-{sym}", "strategy_id": 1, "symbol": sym, "timeframe": "1h",
                                    "side": "buy", "leg": "entry", "notional_usd": 500.0, "qty": 0.0,
                                    "reduce_only": False, "sl_pct": 0.02, "tp_pct": 0.04, "not_before": ts(1),
                                    "status": "NEW"}
    store.cursors[1] = BarCursor(ts(0), "SOL", "1h")
    bars = [Bar("SOL", "1h", ts(i), 10.0, 10.05, 9.95, 10.0) for i in range(3)]
    three = LiveStrategy(1, "Strategy_MOM_1", "1h", ("BTC", "ETH", "SOL"), Direction.LONG, dict(PARAMS),
                         "paper-001", 1000.0)
    broker = SilentBroker()
    ex = Executor([three], broker, ScriptedSignals({1: (True, False), 2: (True, False)}), MemoryHistory(bars),
                  store, RiskSection(max_open_positions=2), history_bars=2)
    for bar in bars:
        ex.on_bar(bar)
    assert ex.book(1).n_exposed() == 2
    assert broker.submitted == []


def _stored_long_position(store: MemoryStore, entry: int = 0) -> None:
    order = {"client_order_id": "sx-old-entry", "status": "FILLED"}
    store.orders[order["client_order_id"]] = order
    store.positions[1] = {
        "id": 1, "strategy_id": 1, "subaccount": "paper-001", "symbol": "BTC", "timeframe": "1h",
        "direction": "long", "qty": 5.0, "entry_price": 100.0, "entry_ts": ts(entry), "entry_fee_usd": 0.5,
        "stop_price": 98.0, "target_price": 104.0, "mode": "paper", "is_open": True,
        "entry_client_order_id": "sx-old-entry",
    }
    store.cursors[1] = BarCursor(ts(entry), "BTC", "1h")  # committed with the entry fill


def test_recovered_position_stop_is_rearmed_and_closes_it() -> None:
    store = MemoryStore()
    _stored_long_position(store)
    bars = flat_bars(12)[10:]
    bars[1] = Bar("BTC", "1h", ts(11), 99.0, 99.5, 97.0, 97.5)
    ex, broker, _ = make(bars, {}, store=store)
    ex.on_bar(bars[0])
    assert store.trades == []
    ex.on_bar(bars[1])
    (trade,) = store.trades
    exit_price = 98.0 * 0.999
    fees = 0.5 + 5.0 * exit_price * FEE
    assert trade.exit_reason is ExitReason.STOP_LOSS
    assert trade.entry_ts == ts(0) and trade.exit_ts == ts(11)
    assert trade.exit_price == pytest.approx(exit_price)
    assert trade.pnl_usd == pytest.approx(5.0 * (exit_price - 100.0) - fees)
    assert store.open_positions() == []
    assert broker.submitted == []


def test_recovered_position_is_not_entered_again() -> None:
    store = MemoryStore()
    _stored_long_position(store)
    bars = flat_bars(4)
    ex, broker, _ = make(bars, {2: (True, False), 3: (True, False)}, store=store)
    for bar in bars:
        ex.on_bar(bar)
    assert broker.submitted == []
    assert len(store.open_positions()) == 1


def test_positions_of_strategies_not_running_are_left_alone() -> None:
    store = MemoryStore()
    _stored_long_position(store)
    store.positions[1]["strategy_id"] = 99
    bars = [Bar("BTC", "1h", ts(1), 90.0, 91.0, 80.0, 85.0)]  # far through the stop
    ex, _, _ = make(bars, {}, store=store)
    ex.on_bar(bars[0])
    assert store.trades == [] and len(store.open_positions()) == 1


def test_replay_from_before_the_resume_point_skips_the_processed_bars() -> None:
    # `run --once` twice: the second replay starts before the position of the first one opened.
    store = MemoryStore()
    _stored_long_position(store, entry=10)
    bars = flat_bars(14)
    bars[1] = Bar("BTC", "1h", ts(1), 99.0, 99.5, 97.0, 97.5)      # under the stop, before entry
    bars[12] = Bar("BTC", "1h", ts(12), 99.0, 99.5, 97.0, 97.5)    # under the stop, after entry
    ex, broker, _ = make(bars, {3: (False, True), 5: (True, False)}, store=store)
    for bar in bars[:11]:
        ex.on_bar(bar)
    assert store.trades == [] and broker.submitted == []
    assert ex.signals.calls == []  # no decision on bars processed before the restart
    for bar in bars[11:]:
        ex.on_bar(bar)
    (trade,) = store.trades
    assert trade.exit_ts == ts(12) and trade.exit_reason is ExitReason.STOP_LOSS
    assert trade.exit_ts > trade.entry_ts


def test_replaying_a_traded_window_again_trades_nothing_new() -> None:
    bars = flat_bars(12)
    script = {2: (True, False), 3: (True, False), 6: (False, True)}  # bar 3: ignored, already long
    ex, _, store = make(bars, script)
    for bar in bars:
        ex.on_bar(bar)
    first = list(store.trades)
    assert len(first) == 1 and first[0].entry_ts == ts(3) and first[0].exit_ts == ts(7)
    again, broker2, _ = make(bars, script, store=store)
    for bar in bars:
        again.on_bar(bar)
    assert store.trades == first
    assert broker2.submitted == []


class CrashingStore(MemoryStore):
    """A store whose ``crash_at``-th commit never happens (the process died before it)."""

    def __init__(self, crash_at: int) -> None:
        super().__init__()
        self.crash_at, self.n = crash_at, 0

    def commit(self, ch: BarChanges) -> None:
        self.n += 1
        if self.n == self.crash_at:
            raise KeyboardInterrupt("killed")
        super().commit(ch)


def two_coin_bars(n: int) -> list[Bar]:
    """BTC and ETH 1h bars in processing order, moving enough to hit stops and targets."""
    rng = np.random.default_rng(5)
    out = []
    for i in range(n):
        for sym, base in (("BTC", 100.0), ("ETH", 10.0)):
            o = base * (1 + 0.03 * np.sin(i / 3.0 + (sym == "ETH")))
            c = o * (1 + rng.normal(0, 0.01))
            out.append(Bar(sym, "1h", ts(i), o, max(o, c) * 1.012, min(o, c) * 0.988, c))
    return out


def _run(bars: list[Bar], store: MemoryStore, script: dict[int, tuple[bool, bool]]) -> None:
    two = [LiveStrategy(1, "Strategy_MOM_1", "1h", ("BTC", "ETH"), Direction.LONG, dict(PARAMS), "paper-001", 1000.0),
           LiveStrategy(2, "Strategy_MOM_2", "1h", ("BTC", "ETH"), Direction.SHORT, dict(PARAMS), "paper-002", 1000.0)]
    store.balances.setdefault(1, 1000.0)
    store.balances.setdefault(2, 1000.0)
    ex = Executor(two, PaperBroker(FEE, SLIP * 10_000), ScriptedSignals(script), MemoryHistory(bars), store,
                  RiskSection(max_open_positions=1), history_bars=2)
    for bar in bars:
        ex.on_bar(bar)


def test_a_run_killed_before_any_commit_and_resumed_trades_as_an_uninterrupted_one() -> None:
    bars = two_coin_bars(40)
    rng = np.random.default_rng(1)
    script = {i: (bool(rng.random() < 0.35), bool(rng.random() < 0.2)) for i in range(len(bars))}
    whole = MemoryStore()
    _run(bars, whole, script)
    assert len(whole.trades) > 8
    for crash_at in range(1, len(whole.commits) + 1):
        store = CrashingStore(crash_at)
        with pytest.raises(KeyboardInterrupt):
            _run(bars, store, script)
        store.crash_at = 0
        _run(bars, store, script)  # restart: a new executor on the same store, the same replay
        assert store.trades == whole.trades, f"crash before commit {crash_at}"
        assert store.open_positions() == whole.open_positions()
        assert store.balances == pytest.approx(whole.balances)


# -- failing strategies ------------------------------------------------------------------------
class FailingSignals(ScriptedSignals):
    """Strategy ``bad`` raises from bar ``at`` on; the others follow the script."""

    def __init__(self, script: dict[int, tuple[bool, bool]], bad: int, at: int) -> None:
        super().__init__(script)
        self.bad, self.at = bad, at

    def last_signal(self, strategy_id: int, data: dict[str, np.ndarray], params: dict[str, Any]) -> tuple[bool, bool]:
        if strategy_id == self.bad and int(data["bar_index"][-1]) >= self.at:
            raise RuntimeError("strategy bug")
        return super().last_signal(strategy_id, data, params)


def test_a_failing_strategy_is_stopped_its_position_closed_and_the_other_trades_on() -> None:
    bars = flat_bars(10)
    store = MemoryStore()
    good = strat(sid=1)
    bad = LiveStrategy(2, "Strategy_MOM_2", "1h", ("BTC",), Direction.LONG, dict(PARAMS), "paper-002", 1000.0)
    broker = SpyBroker(PaperBroker(FEE, SLIP * 10_000), store)
    script = {2: (True, False), 6: (False, True)}
    ex = Executor([good, bad], broker, FailingSignals(script, bad=2, at=4), MemoryHistory(bars), store,
                  RiskSection(), history_bars=3)
    for bar in bars:
        ex.on_bar(bar)
    [fault] = store.faults
    assert fault.strategy_id == 2 and fault.reason == "executor:error"
    assert "RuntimeError: strategy bug" in fault.detail and ts(4).isoformat() in fault.detail
    by_sid = {t.strategy_id: t for t in store.trades}
    assert by_sid[1].exit_reason is ExitReason.SIGNAL and by_sid[1].exit_ts == ts(7)
    assert by_sid[2].exit_reason is ExitReason.WIND_DOWN and by_sid[2].exit_ts == ts(5)
    assert store.open_positions() == []
    assert ex.signals.calls.count(4) == 1  # asked once at bar 4 (the good one), the bad one raised


def test_a_stopped_strategy_cancels_its_entry_orders() -> None:
    bars = flat_bars(4)
    store = MemoryStore()
    two_coins = LiveStrategy(1, "Strategy_MOM_1", "1h", ("BTC", "ETH"), Direction.LONG, dict(PARAMS), "paper-001",
                             1000.0)
    eth = [Bar("ETH", "1h", b.ts, 10.0, 10.05, 9.95, 10.0) for b in bars]
    merged = [b for pair in zip(bars, eth, strict=True) for b in pair]
    broker = SpyBroker(PaperBroker(FEE, SLIP * 10_000), store)
    # index 4 = BTC bar 2 (entry on BTC), index 5 = ETH bar 2 (raises)
    ex = Executor([two_coins], broker, FailingSignals({4: (True, False)}, bad=1, at=5), MemoryHistory(merged),
                  store, RiskSection(), history_bars=3)
    for bar in merged[:6]:
        ex.on_bar(bar)
    cid = client_order_id(1, "BTC", ms(2), "entry")
    assert broker.cancelled == [cid] and store.orders[cid]["status"] == "CANCELLED"
    for bar in merged[6:]:
        ex.on_bar(bar)
    assert store.open_positions() == [] and store.trades == []


def test_a_flatten_order_on_another_coin_fills_at_its_next_bar_not_one_opened_before() -> None:
    # the failure is seen at BTC bar 3's close; ETH bar 3 (same close, processed after BTC) opened
    # before that moment: the ETH position closes at ETH bar 4's open
    eth_open = [10.0, 10.0, 10.0, 10.1, 10.2, 10.3]  # quiet bars, a distinct open each
    bars = [b for i in range(6) for b in (Bar("BTC", "1h", ts(i), 100.0, 100.5, 99.5, 100.0),
                                          Bar("ETH", "1h", ts(i), eth_open[i], eth_open[i] * 1.005,
                                              eth_open[i] * 0.995, eth_open[i]))]
    store = MemoryStore()
    two_coins = LiveStrategy(1, "Strategy_MOM_1", "1h", ("BTC", "ETH"), Direction.LONG, dict(PARAMS), "paper-001",
                             1000.0)
    broker = SpyBroker(PaperBroker(FEE, SLIP * 10_000), store)
    ex = Executor([two_coins], broker, FailingSignals({3: (True, False)}, bad=1, at=6), MemoryHistory(bars),
                  store, RiskSection(), history_bars=1)
    for bar in bars:
        ex.on_bar(bar)
    (trade,) = store.trades  # ETH entered at bar 2 (index 3 = ETH bar 1), BTC bar 3 (index 6) raised
    assert trade.symbol == "ETH" and trade.exit_reason is ExitReason.WIND_DOWN
    assert trade.exit_ts == ts(4) and trade.exit_price == pytest.approx(10.2 * (1 - SLIP))


def test_a_strategy_no_longer_live_is_wound_down_without_signals() -> None:
    store = MemoryStore()
    _stored_long_position(store)
    bars = flat_bars(4)[1:]
    retired = LiveStrategy(1, "Strategy_MOM_1", "1h", ("BTC",), Direction.LONG, dict(PARAMS), "paper-001", 1000.0,
                           active=False)
    broker = SpyBroker(PaperBroker(FEE, SLIP * 10_000), store)
    signals = ScriptedSignals({})
    ex = Executor([retired], broker, signals, MemoryHistory(bars), store, RiskSection(), history_bars=1)
    for bar in bars:
        ex.on_bar(bar)
    (trade,) = store.trades
    assert trade.exit_reason is ExitReason.WIND_DOWN and trade.exit_ts == ts(2)
    assert signals.calls == [] and store.faults == []


# -- what is not a strategy's fault ---------------------------------------------------------------
class BrokenHistory(MemoryHistory):
    """A candle store that cannot deliver ``symbol``'s history (an I/O error, a vanished file)."""

    def __init__(self, bars: list[Bar], symbol: str) -> None:
        super().__init__(bars)
        self.symbol = symbol

    def recent(self, symbol: str, timeframe: str, upto_ts: datetime, bars: int) -> dict[str, np.ndarray]:
        if symbol == self.symbol:
            raise DataError(f"cannot read {symbol}_{timeframe}.parquet: Input/output error")
        return super().recent(symbol, timeframe, upto_ts, bars)


def test_a_history_the_store_cannot_deliver_fails_the_bar_and_retires_no_strategy() -> None:
    # before the fix the store's error was taken for the strategy's: it was retired (executor:error)
    bars = flat_bars(4)
    store = MemoryStore()
    ex = Executor([strat()], SilentBroker(), ScriptedSignals({2: (True, False)}), BrokenHistory(bars, "BTC"), store,
                  RiskSection(), history_bars=3)
    with pytest.raises(DataError, match="Input/output error"):
        ex.on_bar(bars[0])
    assert store.commits == [] and not ex.book(1).halted
    ex.history = MemoryHistory(bars)  # the store is back: the same bars are traded
    for bar in bars:
        ex.on_bar(bar)
    assert [o["leg"] for o in store.orders.values()] == ["entry"] and store.faults == []


def test_a_candle_that_arrives_after_later_ones_fills_stops_but_never_moves_the_resume_point_back() -> None:
    # BTC bar 3 arrives (a lagging stream) after ETH bar 4 was committed; it goes through the
    # position's stop: the stop fills, the resume point stays at ETH bar 4
    store = MemoryStore()
    _stored_long_position(store)  # long 5 BTC from bar 0, stop 98
    store.cursors[1] = BarCursor(ts(1), "BTC", "1h")
    two_coins = LiveStrategy(1, "Strategy_MOM_1", "1h", ("BTC", "ETH"), Direction.LONG, dict(PARAMS), "paper-001",
                             1000.0)
    eth = [Bar("ETH", "1h", ts(i), 10.0, 10.05, 9.95, 10.0) for i in range(6)]
    late_btc = Bar("BTC", "1h", ts(3), 99.0, 99.5, 97.0, 97.5)
    ex = Executor([two_coins], PaperBroker(FEE, SLIP * 10_000), ScriptedSignals({3: (True, False)}),
                  MemoryHistory(eth), store, RiskSection(), history_bars=2)
    ex.on_bar(Bar("BTC", "1h", ts(2), 100.0, 100.5, 99.5, 100.0))  # re-arms the recovered stop
    for bar in eth[2:5]:
        ex.on_bar(bar)  # ETH bar 3: entry ordered; bar 4: filled
    assert store.cursors[1] == BarCursor(ts(4), "ETH", "1h")
    ex.on_bar(late_btc)
    (trade,) = store.trades
    assert trade.symbol == "BTC" and trade.exit_reason is ExitReason.STOP_LOSS and trade.exit_ts == ts(3)
    assert store.cursors[1] == BarCursor(ts(4), "ETH", "1h"), "before the fix: moved back to BTC bar 3"
    assert ex.book(1).cursor == BarCursor(ts(4), "ETH", "1h")


class InputHistory(MemoryHistory):
    """MemoryHistory that records the declared inputs it is asked for and adds them."""

    def __init__(self, bars: list[Bar]) -> None:
        super().__init__(bars)
        self.asked: list[tuple[str, ...]] = []

    def recent(self, symbol: str, timeframe: str, upto_ts: datetime, bars: int,
               inputs: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
        self.asked.append(inputs)
        out = super().recent(symbol, timeframe, upto_ts, bars)
        out["funding"] = np.full(len(out["close"]), 1e-4)
        return out


def test_a_strategy_declaring_inputs_gets_them_from_the_history_source() -> None:
    bars = flat_bars(4)
    history, store = InputHistory(bars), MemoryStore()
    with_inputs = LiveStrategy(1, "Strategy_MOM_1", "1h", ("BTC",), Direction.LONG, dict(PARAMS), "paper-001",
                               1000.0, inputs=("funding",))
    seen: list[dict[str, np.ndarray]] = []

    class Recording(ScriptedSignals):
        def last_signal(self, strategy_id, data, params):
            seen.append(data)
            return super().last_signal(strategy_id, data, params)

    ex = Executor([with_inputs], SilentBroker(), Recording({}), history, store, RiskSection(), history_bars=3)
    for bar in bars:
        ex.on_bar(bar)
    assert history.asked and set(history.asked) == {("funding",)}
    assert seen and all("funding" in d for d in seen)
