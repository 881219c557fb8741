"""Fill rules of the paper broker (SPEC §3.7; same rules as the backtest engine).

Fee 0.1 % and slippage 10 bps (0.1 %) keep the hand-computed prices readable.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sixbtc.adapters.exchanges.paper import PaperBroker
from sixbtc.core.ids import client_order_id
from sixbtc.domain.trading import ExitReason
from sixbtc.executor.ports import Bar, OrderIntent

FEE, SLIP = 0.001, 0.001
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _bar(i: int, o: float, h: float, lo: float, c: float, symbol: str = "BTC", tf: str = "1h") -> Bar:
    return Bar(symbol, tf, T0 + timedelta(hours=i), o, h, lo, c)


def _entry(side: int, notional: float = 1000.0, sl: float = 0.02, tp: float = 0.04, symbol: str = "BTC",
           tf: str = "1h", sid: int = 7) -> OrderIntent:
    return OrderIntent(f"entry-{sid}-{symbol}-{side}", sid, symbol, tf, side, "entry", notional_usd=notional,
                       sl_pct=sl, tp_pct=tp)


def _exit(side: int, qty: float, symbol: str = "BTC", tf: str = "1h", sid: int = 7) -> OrderIntent:
    return OrderIntent(f"exit-{sid}-{symbol}", sid, symbol, tf, side, "exit", qty=qty, reduce_only=True)


@pytest.fixture
def broker() -> PaperBroker:
    return PaperBroker(fee_rate=FEE, slippage_bps=SLIP * 10_000)


def test_negative_fee_or_slippage_is_refused() -> None:
    with pytest.raises(ValueError, match="fee_rate"):
        PaperBroker(-0.001, 2.0)
    with pytest.raises(ValueError, match="slippage_bps"):
        PaperBroker(0.0004, -1.0)


def test_long_entry_fills_at_next_open_plus_slippage_with_fee(broker: PaperBroker) -> None:
    broker.submit(_entry(+1))
    (fill,) = broker.on_bar(_bar(1, 100.0, 101.0, 99.0, 100.5))
    assert fill.price == pytest.approx(100.1)           # buys 0.1 % above the open
    assert fill.qty == pytest.approx(1000.0 / 100.1)    # notional / fill price
    assert fill.fee_usd == pytest.approx(1.0)           # 0.1 % of 1000 USD
    assert fill.ts == T0 + timedelta(hours=1)
    assert fill.reason is None and fill.side == +1 and fill.leg == "entry"
    assert fill.client_order_id == "entry-7-BTC-1"
    assert fill.stop_price == pytest.approx(100.1 * 0.98)    # 98.098
    assert fill.target_price == pytest.approx(100.1 * 1.04)  # 104.104


def test_short_entry_sells_below_the_open(broker: PaperBroker) -> None:
    broker.submit(_entry(-1))
    (fill,) = broker.on_bar(_bar(1, 100.0, 101.0, 99.0, 100.5))
    assert fill.price == pytest.approx(99.9)
    assert fill.side == -1
    assert fill.stop_price == pytest.approx(99.9 * 1.02)    # above the entry for a short
    assert fill.target_price == pytest.approx(99.9 * 0.96)


def test_nothing_fills_before_a_bar_arrives_and_queue_is_consumed(broker: PaperBroker) -> None:
    broker.submit(_entry(+1))
    assert len(broker.on_bar(_bar(1, 100.0, 100.5, 99.5, 100.0))) == 1
    assert broker.on_bar(_bar(2, 100.0, 100.5, 99.5, 100.0)) == []  # filled once only


def test_stop_is_checked_on_the_entry_bar(broker: PaperBroker) -> None:
    broker.submit(_entry(+1))
    entry, stop = broker.on_bar(_bar(1, 100.0, 100.5, 97.0, 97.5))
    assert entry.reason is None
    assert stop.reason is ExitReason.STOP_LOSS and stop.leg == "sl" and stop.side == -1
    assert stop.qty == pytest.approx(entry.qty)
    assert stop.price == pytest.approx(100.1 * 0.98 * 0.999)  # stop level, sold 0.1 % lower
    assert stop.fee_usd == pytest.approx(stop.qty * stop.price * FEE)
    assert stop.client_order_id == client_order_id(7, "BTC", int(stop.ts.timestamp() * 1000), "sl")


def test_target_is_checked_on_the_entry_bar(broker: PaperBroker) -> None:
    broker.submit(_entry(+1))
    _, tp = broker.on_bar(_bar(1, 100.0, 105.0, 99.9, 104.0))
    assert tp.reason is ExitReason.TAKE_PROFIT and tp.leg == "tp"
    assert tp.price == pytest.approx(100.1 * 1.04 * 0.999)


def test_stop_wins_when_stop_and_target_are_touched_in_one_bar(broker: PaperBroker) -> None:
    broker.submit(_entry(+1))
    broker.on_bar(_bar(1, 100.0, 100.5, 99.5, 100.0))
    (fill,) = broker.on_bar(_bar(2, 100.0, 110.0, 90.0, 100.0))
    assert fill.reason is ExitReason.STOP_LOSS
    assert fill.price == pytest.approx(100.1 * 0.98 * 0.999)


def test_gap_through_the_stop_fills_at_the_open(broker: PaperBroker) -> None:
    broker.submit(_entry(+1))
    broker.on_bar(_bar(1, 100.0, 100.5, 99.5, 100.0))
    (fill,) = broker.on_bar(_bar(2, 95.0, 96.0, 94.0, 95.5))
    assert fill.reason is ExitReason.STOP_LOSS
    assert fill.price == pytest.approx(95.0 * 0.999)  # worse than the 98.098 stop


def test_gap_through_the_target_fills_at_the_open(broker: PaperBroker) -> None:
    broker.submit(_entry(+1))
    broker.on_bar(_bar(1, 100.0, 100.5, 99.5, 100.0))
    (fill,) = broker.on_bar(_bar(2, 106.0, 107.0, 105.5, 106.5))
    assert fill.reason is ExitReason.TAKE_PROFIT
    assert fill.price == pytest.approx(106.0 * 0.999)


def test_short_stop_triggers_on_the_high_and_buys_back_higher(broker: PaperBroker) -> None:
    broker.submit(_entry(-1))
    broker.on_bar(_bar(1, 100.0, 100.5, 99.5, 100.0))
    (fill,) = broker.on_bar(_bar(2, 100.0, 102.5, 99.0, 102.0))
    assert fill.reason is ExitReason.STOP_LOSS and fill.side == +1
    assert fill.price == pytest.approx(99.9 * 1.02 * 1.001)


def test_short_gap_up_through_the_stop_fills_at_the_open(broker: PaperBroker) -> None:
    broker.submit(_entry(-1))
    broker.on_bar(_bar(1, 100.0, 100.5, 99.5, 100.0))
    (fill,) = broker.on_bar(_bar(2, 104.0, 105.0, 103.0, 104.5))
    assert fill.price == pytest.approx(104.0 * 1.001)


def test_signal_exit_fills_at_next_open_and_cancels_protection(broker: PaperBroker) -> None:
    broker.submit(_entry(+1))
    (entry,) = broker.on_bar(_bar(1, 100.0, 100.5, 99.5, 100.0))
    broker.submit(_exit(-1, entry.qty))
    (exit_,) = broker.on_bar(_bar(2, 102.0, 102.5, 90.0, 91.0))  # would also hit the stop
    assert exit_.reason is ExitReason.SIGNAL and exit_.leg == "exit"
    assert exit_.price == pytest.approx(102.0 * 0.999)
    assert exit_.qty == pytest.approx(entry.qty)
    assert broker.on_bar(_bar(3, 90.0, 120.0, 80.0, 95.0)) == []  # stop and target cancelled


def test_reduce_only_exit_after_the_stop_closed_the_position_does_not_fill(broker: PaperBroker) -> None:
    broker.submit(_entry(+1))
    (entry,) = broker.on_bar(_bar(1, 100.0, 100.5, 99.5, 100.0))
    (stop,) = broker.on_bar(_bar(2, 99.0, 99.5, 97.0, 97.5))
    assert stop.reason is ExitReason.STOP_LOSS
    broker.submit(_exit(-1, entry.qty))
    assert broker.on_bar(_bar(3, 97.0, 98.0, 96.0, 97.0)) == []


def test_orders_of_another_stream_do_not_fill(broker: PaperBroker) -> None:
    broker.submit(_entry(+1, symbol="BTC", tf="1h"))
    assert broker.on_bar(_bar(1, 100.0, 100.5, 99.5, 100.0, symbol="ETH", tf="1h")) == []
    assert broker.on_bar(_bar(1, 100.0, 100.5, 99.5, 100.0, symbol="BTC", tf="4h")) == []
    (fill,) = broker.on_bar(_bar(1, 200.0, 200.5, 199.5, 200.0, symbol="BTC", tf="1h"))
    assert fill.symbol == "BTC" and fill.price == pytest.approx(200.2)


def test_protection_of_another_stream_is_not_triggered(broker: PaperBroker) -> None:
    broker.submit(_entry(+1, symbol="BTC"))
    broker.on_bar(_bar(1, 100.0, 100.5, 99.5, 100.0, symbol="BTC"))
    assert broker.on_bar(_bar(2, 50.0, 50.0, 10.0, 20.0, symbol="ETH")) == []  # an ETH crash
    (fill,) = broker.on_bar(_bar(2, 99.0, 99.5, 97.0, 97.5, symbol="BTC"))
    assert fill.reason is ExitReason.STOP_LOSS


def test_two_strategies_on_one_stream_are_tracked_apart(broker: PaperBroker) -> None:
    broker.submit(_entry(+1, sid=1, sl=0.01))
    broker.submit(_entry(+1, sid=2, sl=0.05))
    assert len(broker.on_bar(_bar(1, 100.0, 100.5, 99.5, 100.0))) == 2
    (fill,) = broker.on_bar(_bar(2, 99.0, 99.5, 97.0, 97.5))  # 1 % stop hit, 5 % stop not
    assert fill.strategy_id == 1


def test_restored_protection_closes_at_its_stop(broker: PaperBroker) -> None:
    broker.restore_protection(3, "BTC", "1h", +1, 2.0, stop=95.0, target=110.0)
    assert broker.on_bar(_bar(5, 100.0, 101.0, 96.0, 97.0)) == []
    (fill,) = broker.on_bar(_bar(6, 97.0, 97.5, 94.0, 94.5))
    assert fill.strategy_id == 3 and fill.qty == 2.0
    assert fill.reason is ExitReason.STOP_LOSS
    assert fill.price == pytest.approx(95.0 * 0.999)
    assert fill.fee_usd == pytest.approx(2.0 * 95.0 * 0.999 * FEE)


def test_zero_costs_fill_exactly_at_the_open() -> None:
    b = PaperBroker(0.0, 0.0)
    b.submit(_entry(+1, notional=500.0))
    (fill,) = b.on_bar(_bar(1, 250.0, 251.0, 249.0, 250.0))
    assert (fill.price, fill.qty, fill.fee_usd) == (250.0, 2.0, 0.0)


def test_open_beyond_the_target_fills_there_even_if_the_bar_later_hits_the_stop(broker: PaperBroker) -> None:
    # Same convention as the backtest engine: the open comes first in time.
    broker.submit(_entry(+1))
    broker.on_bar(_bar(1, 100.0, 100.2, 99.9, 100.0))    # entry at 100.1; stop 98.098, target 104.104
    (fill,) = broker.on_bar(_bar(2, 105.0, 105.5, 97.0, 98.0))
    assert fill.reason is ExitReason.TAKE_PROFIT
    assert fill.price == pytest.approx(105.0 * (1 - SLIP))
