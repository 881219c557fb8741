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
from sixbtc.core.ids import client_order_id
from sixbtc.domain.trading import Direction, ExitReason, Trade, TradeMode
from sixbtc.executor.engine import Executor, LiveStrategy, entry_notional
from sixbtc.executor.ports import Bar, Fill, OrderIntent

FEE, SLIP = 0.001, 0.001
T0 = datetime(2025, 3, 1, tzinfo=UTC)
PARAMS = {"sl_pct": 0.02, "tp_pct": 0.04}


def ts(i: int) -> datetime:
    return T0 + timedelta(hours=i)


def ms(i: int) -> int:
    return int(ts(i).timestamp() * 1000)


# -- fakes -----------------------------------------------------------------------------------
class MemoryStore:
    """In-memory ExecutionStore with the uniqueness rules of ``TradingRepository``."""

    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.positions: dict[int, dict[str, Any]] = {}
        self.trades: list[Trade] = []
        self.balance_delta = 0.0
        self.record_calls: list[str] = []

    def record_order(self, order: dict[str, Any]) -> bool:
        self.record_calls.append(order["client_order_id"])
        if order["client_order_id"] in self.orders:
            return False
        self.orders[order["client_order_id"]] = dict(order, status="NEW")
        return True

    def _fill(self, order: dict[str, Any]) -> bool:
        if self.orders.get(order["client_order_id"], {}).get("status") == "FILLED":
            return False
        self.orders[order["client_order_id"]] = dict(order, status="FILLED")
        return True

    def open_position(self, order: dict[str, Any], position: dict[str, Any]) -> int | None:
        if not self._fill(order):
            return None
        pos_id = len(self.positions) + 1
        self.positions[pos_id] = dict(position, id=pos_id, is_open=True)
        return pos_id

    def close_position(self, position_id: int, order: dict[str, Any], trade: Trade, balance_delta_usd: float) -> bool:
        if not self.positions[position_id]["is_open"] or not self._fill(order):
            return False
        self.positions[position_id]["is_open"] = False
        self.trades.append(trade)
        self.balance_delta += balance_delta_usd
        return True

    def open_positions(self, strategy_id: int | None = None) -> list[dict[str, Any]]:
        return [dict(p) for p in self.positions.values()
                if p["is_open"] and strategy_id in (None, p["strategy_id"])]

    def last_exits(self) -> dict[tuple[int, str, str], Any]:
        out: dict[tuple[int, str, str], Any] = {}
        for t in self.trades:
            key = (t.strategy_id, t.symbol, t.timeframe)
            out[key] = max(out.get(key, t.exit_ts), t.exit_ts)
        return out


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

    def submit(self, intent: OrderIntent) -> None:
        stored = self.store.orders.get(intent.client_order_id)
        assert stored is not None and stored["status"] == "NEW", "order sent before it was recorded"
        self.submitted.append(intent)
        self.inner.submit(intent)

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


def test_restart_replaying_a_bar_records_nothing_new_and_sends_nothing() -> None:
    bars = flat_bars(3)
    store = MemoryStore()
    first = SilentBroker()
    ex1 = Executor([strat()], first, ScriptedSignals({2: (True, False)}), MemoryHistory(bars), store,
                   RiskSection(), history_bars=3)
    for bar in bars:
        ex1.on_bar(bar)
    assert len(first.submitted) == 1
    # crash; a new executor on the same store sees bar 2 again
    second = SilentBroker()
    ex2 = Executor([strat()], second, ScriptedSignals({2: (True, False)}), MemoryHistory(bars), store,
                   RiskSection(), history_bars=3)
    ex2.on_bar(bars[2])
    cid = client_order_id(1, "BTC", ms(2), "entry")
    assert store.record_calls == [cid, cid]  # same deterministic id both times
    assert second.submitted == []             # record_order returned False: not sent again
    assert len(store.orders) == 1


# -- recovery ----------------------------------------------------------------------------------
def _stored_long_position(store: MemoryStore) -> None:
    order = {"client_order_id": "sx-old-entry", "status": "FILLED"}
    store.orders[order["client_order_id"]] = order
    store.positions[1] = {
        "id": 1, "strategy_id": 1, "subaccount": "paper-001", "symbol": "BTC", "timeframe": "1h",
        "direction": "long", "qty": 5.0, "entry_price": 100.0, "entry_ts": ts(0), "entry_fee_usd": 0.5,
        "stop_price": 98.0, "target_price": 104.0, "mode": "paper", "is_open": True,
        "entry_client_order_id": "sx-old-entry",
    }


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


def test_replay_from_before_a_recovered_entry_skips_the_processed_bars() -> None:
    # `run --once` twice: the second replay starts before the position of the first one opened.
    store = MemoryStore()
    _stored_long_position(store)
    store.positions[1]["entry_ts"] = ts(10)
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
    # A second replay of the same days (service restart, `run --once` twice): without the resume
    # point, the skipped first entry would leave the strategy flat and let it enter on a later
    # signal it never took the first time — trading the same period twice.
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
