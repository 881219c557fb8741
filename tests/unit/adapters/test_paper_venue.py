"""Fill rules, funding, liquidation, balances and accounts of the paper venue (SQLite file)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sixbtc.adapters.exchanges.paper_venue import PaperVenue
from sixbtc.adapters.storage.db import make_engine, migrate
from sixbtc.core.clock import SimClock
from sixbtc.core.errors import DuplicateClientOrderId, InsufficientFunds, OrderRejected
from sixbtc.domain.orders import Market, OrderRequest, OrderSide, OrderStatus, OrderType
from sixbtc.domain.sizing import MAINTENANCE_MARGIN
from sixbtc.executor.ports import Bar

T0 = datetime(2026, 1, 1, tzinfo=UTC)
FEE = 0.00045
SLIP = 2.0e-4  # 2 bps
ACC = "s1"
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def bar(i: int, o: float, h: float, lo: float, c: float, symbol: str = "BTC") -> Bar:
    return Bar(symbol, "1h", T0 + timedelta(hours=i), o, h, lo, c)


@pytest.fixture
def venue(tmp_path: Path) -> PaperVenue:
    engine = make_engine(f"sqlite:///{tmp_path / 'venue.db'}")
    migrate(engine)
    v = PaperVenue(engine, fee_rate=FEE, slippage_bps=2.0, initial_master_usd=100_000.0,
                   clock=SimClock(T0))
    v.create_subaccount(ACC)
    v.transfer_usd(ACC, 10_000.0, to_subaccount=True)
    v.on_bar(bar(0, 100, 101, 99, 100))
    return v


def market(cid: str, side: OrderSide, qty: float, *, reduce_only: bool = False,
           notional: float | None = None) -> OrderRequest:
    return OrderRequest(cid, "BTC", side, OrderType.MARKET, qty, reduce_only=reduce_only, notional_usd=notional)


def trigger(cid: str, kind: OrderType, side: OrderSide, qty: float, level: float) -> OrderRequest:
    return OrderRequest(cid, "BTC", side, kind, qty, trigger_price=level, reduce_only=True)


def go_long(venue: PaperVenue, qty: float = 10.0, open_: float = 100.0) -> float:
    """Buy ``qty`` at the next open (bar 1, which opens at ``open_``); return the fill price."""
    venue.place_order(ACC, market("entry", BUY, qty))
    (fill,) = venue.open_bar(bar(1, open_, open_, open_, open_))
    return fill.price


# -- market orders -------------------------------------------------------------------------
def test_market_order_fills_at_the_next_open_with_slippage_and_fee(venue: PaperVenue) -> None:
    order = venue.place_order(ACC, market("m1", BUY, 5.0))
    assert order.status is OrderStatus.OPEN
    assert venue.on_bar(bar(0, 50, 50, 50, 50, symbol="ETH")) == []  # another symbol: nothing
    (fill,) = venue.on_bar(bar(1, 102, 103, 101, 102))
    assert fill.price == pytest.approx(102 * (1 + SLIP), rel=1e-15)
    assert fill.qty == 5.0 and fill.side is BUY and fill.ts_ms == int((T0 + timedelta(hours=1)).timestamp() * 1000)
    assert fill.fee_usd == pytest.approx(5.0 * fill.price * FEE, rel=1e-15)
    assert venue.query_order(ACC, "BTC", "m1").status is OrderStatus.FILLED


def test_sell_market_slips_down_and_notional_order_is_sized_at_the_fill(venue: PaperVenue) -> None:
    venue.place_order(ACC, market("m1", SELL, 1.0, notional=1_000.0))
    (fill,) = venue.on_bar(bar(1, 100, 100, 100, 100))
    assert fill.price == pytest.approx(100 * (1 - SLIP), rel=1e-15)
    assert fill.qty == pytest.approx(1_000.0 / fill.price, rel=1e-15)
    assert fill.fee_usd == pytest.approx(1_000.0 * FEE, rel=1e-15)


def test_a_bar_opened_before_the_order_never_fills_it(venue: PaperVenue) -> None:
    venue.place_order(ACC, market("m1", BUY, 1.0))
    assert venue.on_bar(bar(0, 90, 90, 90, 90)) == []  # the bar before placement, fed again
    assert venue.open_orders(ACC)[0].status is OrderStatus.OPEN


def test_feeding_a_bar_twice_changes_nothing(venue: PaperVenue) -> None:
    venue.place_order(ACC, market("m1", BUY, 1.0))
    assert len(venue.on_bar(bar(1, 100, 100, 100, 100))) == 1
    before = venue.balance(ACC)
    assert venue.on_bar(bar(1, 100, 100, 100, 100)) == []
    assert venue.balance(ACC) == before and len(venue.fills_since(ACC, 0)) == 1


# -- triggers --------------------------------------------------------------------------------
def test_stop_not_touched_does_not_fill_and_touched_fills_at_its_level(venue: PaperVenue) -> None:
    go_long(venue)
    venue.place_order(ACC, trigger("sl", OrderType.STOP_MARKET, SELL, 10.0, 96.0))
    assert venue.close_bar(bar(1, 100, 100, 100, 100)) == []
    assert venue.on_bar(bar(2, 99, 101, 96.01, 98)) == []  # low above the stop: no fill
    (fill,) = venue.on_bar(bar(3, 98, 99, 95, 97))
    assert fill.price == pytest.approx(96.0 * (1 - SLIP), rel=1e-15) and fill.reduce_only
    assert venue.positions(ACC) == []


def test_gap_beyond_the_stop_fills_at_the_open(venue: PaperVenue) -> None:
    go_long(venue)
    venue.place_order(ACC, trigger("sl", OrderType.STOP_MARKET, SELL, 10.0, 96.0))
    venue.close_bar(bar(1, 100, 100, 100, 100))
    (fill,) = venue.on_bar(bar(2, 94, 95, 90, 92))
    assert fill.price == pytest.approx(94.0 * (1 - SLIP), rel=1e-15)


def test_stop_fills_before_target_when_both_are_touched_and_target_is_cancelled(venue: PaperVenue) -> None:
    go_long(venue)
    venue.place_order(ACC, trigger("sl", OrderType.STOP_MARKET, SELL, 10.0, 96.0))
    venue.place_order(ACC, trigger("tp", OrderType.TAKE_PROFIT_MARKET, SELL, 10.0, 104.0))
    (fill,) = venue.close_bar(bar(1, 100, 105, 95, 100))  # entry bar: both levels touched
    assert fill.client_order_id == "sl" and fill.price == pytest.approx(96.0 * (1 - SLIP))
    assert venue.query_order(ACC, "BTC", "tp").status is OrderStatus.CANCELED
    assert venue.query_order(ACC, "BTC", "sl").status is OrderStatus.FILLED


def test_short_target_fills_at_its_level_and_gap_through_target_at_the_open(venue: PaperVenue) -> None:
    venue.place_order(ACC, market("entry", SELL, 10.0))
    venue.open_bar(bar(1, 100, 100, 100, 100))
    venue.place_order(ACC, trigger("sl", OrderType.STOP_MARKET, BUY, 10.0, 104.0))
    venue.place_order(ACC, trigger("tp", OrderType.TAKE_PROFIT_MARKET, BUY, 5.0, 96.0))
    (fill,) = venue.close_bar(bar(1, 100, 103, 95.5, 97))
    assert fill.client_order_id == "tp" and fill.price == pytest.approx(96.0 * (1 + SLIP))
    venue.place_order(ACC, trigger("tp2", OrderType.TAKE_PROFIT_MARKET, BUY, 5.0, 95.0))
    (fill2,) = venue.on_bar(bar(2, 93, 94, 92, 93))  # opens below the target: at the open
    assert fill2.client_order_id == "tp2" and fill2.price == pytest.approx(93.0 * (1 + SLIP))
    assert venue.query_order(ACC, "BTC", "sl").status is OrderStatus.CANCELED


def test_limit_fills_at_its_price_when_touched_at_the_open_on_a_gap_never_untouched(venue: PaperVenue) -> None:
    venue.place_order(ACC, OrderRequest("l1", "BTC", BUY, OrderType.LIMIT, 1.0, price=98.0))
    venue.place_order(ACC, OrderRequest("l2", "BTC", BUY, OrderType.LIMIT, 1.0, price=90.0))
    (fill,) = venue.on_bar(bar(1, 100, 101, 97, 99))
    assert fill.client_order_id == "l1" and fill.price == pytest.approx(98.0 * (1 + SLIP))
    (fill2,) = venue.on_bar(bar(2, 89, 92, 88, 91))
    assert fill2.client_order_id == "l2" and fill2.price == pytest.approx(89.0 * (1 + SLIP))


# -- reduce-only and client order ids --------------------------------------------------------
def test_reduce_only_is_refused_without_a_position_or_on_its_side(venue: PaperVenue) -> None:
    with pytest.raises(OrderRejected, match="reduce-only"):
        venue.place_order(ACC, market("x", SELL, 1.0, reduce_only=True))
    go_long(venue)
    with pytest.raises(OrderRejected, match="reduce-only"):
        venue.place_order(ACC, market("y", BUY, 1.0, reduce_only=True))


def test_reduce_only_exit_is_cancelled_when_the_stop_closed_the_position_first(venue: PaperVenue) -> None:
    go_long(venue)
    venue.place_order(ACC, trigger("sl", OrderType.STOP_MARKET, SELL, 10.0, 96.0))
    venue.close_bar(bar(1, 100, 100, 100, 100))
    venue.place_order(ACC, market("exit", SELL, 10.0, reduce_only=True))
    (fill,) = venue.on_bar(bar(2, 94, 95, 90, 92))  # exit at the open, stop gapped too
    assert fill.client_order_id == "exit"
    assert venue.query_order(ACC, "BTC", "sl").status is OrderStatus.CANCELED


def test_reduce_only_orders_shrink_with_the_position(venue: PaperVenue) -> None:
    go_long(venue)
    venue.place_order(ACC, trigger("sl", OrderType.STOP_MARKET, SELL, 10.0, 90.0))
    venue.close_bar(bar(1, 100, 100, 100, 100))
    venue.place_order(ACC, market("half", SELL, 4.0, reduce_only=True))
    venue.on_bar(bar(2, 100, 100, 100, 100))
    assert venue.query_order(ACC, "BTC", "sl").qty == pytest.approx(6.0)
    (fill,) = venue.on_bar(bar(3, 95, 95, 89, 90))
    assert fill.qty == pytest.approx(6.0) and venue.positions(ACC) == []


def test_duplicate_client_order_id_is_refused_even_after_the_order_filled(venue: PaperVenue) -> None:
    venue.place_order(ACC, market("dup", BUY, 1.0))
    with pytest.raises(OrderRejected, match="duplicate client order id"):
        venue.place_order(ACC, market("dup", BUY, 1.0))
    venue.on_bar(bar(1, 100, 100, 100, 100))
    with pytest.raises(DuplicateClientOrderId, match="duplicate client order id"):
        venue.place_order(ACC, market("dup", SELL, 1.0))
    assert len(venue.fills_since(ACC, 0)) == 1


def test_cancel_by_client_order_id(venue: PaperVenue) -> None:
    venue.place_order(ACC, market("m", BUY, 1.0))
    assert venue.cancel_order(ACC, "BTC", "m") is True
    assert venue.cancel_order(ACC, "BTC", "m") is False and venue.cancel_order(ACC, "BTC", "nope") is False
    assert venue.on_bar(bar(1, 100, 100, 100, 100)) == []
    assert venue.query_order(ACC, "BTC", "m").status is OrderStatus.CANCELED


# -- funding -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("side", "sign"), [(BUY, -1.0), (SELL, 1.0)])
def test_funding_long_pays_short_receives_a_positive_rate_at_the_open(venue: PaperVenue, side, sign) -> None:
    venue.place_order(ACC, market("entry", side, 10.0))
    venue.on_bar(bar(1, 100, 100, 100, 100), funding_rate=0.001)  # opened at this open: no funding
    assert venue.funding_since(ACC, 0) == []
    cash = venue.balance(ACC).equity_usd - sum(p.unrealized_pnl_usd for p in venue.positions(ACC))
    venue.on_bar(bar(2, 110, 111, 109, 110), funding_rate=0.001)
    (pay,) = venue.funding_since(ACC, 0)
    assert pay.amount_usd == pytest.approx(sign * 10.0 * 110 * 0.001, rel=1e-15)
    assert pay.position_qty == pytest.approx(side.sign * 10.0) and pay.rate == 0.001
    cash2 = venue.balance(ACC).equity_usd - sum(p.unrealized_pnl_usd for p in venue.positions(ACC))
    assert cash2 - cash == pytest.approx(pay.amount_usd, rel=1e-12)
    assert venue.settle_funding("BTC", pay.ts_ms, 0.001, 110) == []  # already settled


def test_settle_funding_at_a_given_time_and_price(venue: PaperVenue) -> None:
    go_long(venue)
    (pay,) = venue.settle_funding("BTC", venue.now_ms + 1, -0.0005, 101.0)
    assert pay.amount_usd == pytest.approx(10.0 * 101.0 * 0.0005)


# -- liquidation and balances ---------------------------------------------------------------------
def test_isolated_liquidation_price_and_fill(venue: PaperVenue) -> None:
    venue.set_leverage(ACC, "BTC", 10)
    entry = go_long(venue)
    (pos,) = venue.positions(ACC)
    liq = entry * (1 - (1 / 10 - MAINTENANCE_MARGIN))
    assert pos.liquidation_price == pytest.approx(liq, rel=1e-15) and pos.leverage == 10
    assert pos.margin_usd == pytest.approx(10.0 * entry / 10)
    venue.place_order(ACC, trigger("sl", OrderType.STOP_MARKET, SELL, 10.0, 80.0))  # farther than liq
    (fill,) = venue.close_bar(bar(1, 100, 100, 85, 90))
    assert fill.liquidation and fill.client_order_id is None and fill.price == pytest.approx(liq * (1 - SLIP))
    assert venue.positions(ACC) == [] and venue.query_order(ACC, "BTC", "sl").status is OrderStatus.CANCELED


def test_stop_at_the_liquidation_price_fills_as_a_stop(venue: PaperVenue) -> None:
    venue.set_leverage(ACC, "BTC", 10)
    entry = go_long(venue)
    liq = entry * (1 - (1 / 10 - MAINTENANCE_MARGIN))
    venue.place_order(ACC, trigger("sl", OrderType.STOP_MARKET, SELL, 10.0, liq))
    (fill,) = venue.close_bar(bar(1, 100, 100, 85, 90))
    assert not fill.liquidation and fill.client_order_id == "sl"


def test_balance_equity_margin_and_available(venue: PaperVenue) -> None:
    venue.set_leverage(ACC, "BTC", 5)
    entry = go_long(venue)
    venue.close_bar(bar(1, 100, 102, 99, 101))
    bal = venue.balance(ACC)
    fee = 10.0 * entry * FEE
    assert bal.equity_usd == pytest.approx(10_000.0 - fee + 10.0 * (101 - entry), rel=1e-12)
    assert bal.margin_used_usd == pytest.approx(10.0 * entry / 5)
    assert bal.available_usd == pytest.approx(bal.equity_usd - bal.margin_used_usd)


def test_orders_beyond_available_margin_are_refused(venue: PaperVenue) -> None:
    with pytest.raises(InsufficientFunds):
        venue.place_order(ACC, market("big", BUY, 101.0))  # 10 100 USD at the last close, 1x
    with pytest.raises(InsufficientFunds):
        venue.place_order(ACC, market("big2", BUY, 1.0, notional=10_001.0))
    venue.place_order(ACC, market("ok", BUY, 1.0, notional=10_000.0))  # all-in 1x, as the backtest


# -- accounts and agents ---------------------------------------------------------------------------
def test_a_funded_sub_account_is_opened_in_one_step_and_only_once(venue: PaperVenue) -> None:
    assert venue.open_funded_subaccount("s3", 250.0).name == "s3"
    assert venue.open_funded_subaccount("s3", 999.0).name == "s3"  # exists: unchanged
    assert venue.balance("s3").equity_usd == pytest.approx(250.0)
    assert venue.balance("master").equity_usd == pytest.approx(100_000.0 - 10_000.0)  # faucet + transfer
    with pytest.raises(ValueError, match="positive"):
        venue.open_funded_subaccount("s4", 0.0)


def test_transfers_between_master_and_sub_only(venue: PaperVenue) -> None:
    venue.create_subaccount("s2")
    assert [s.name for s in venue.subaccounts()] == ["s1", "s2"]
    assert venue.create_subaccount("s2").name == "s2" and len(venue.subaccounts()) == 2
    venue.transfer_usd("s2", 100.0, to_subaccount=True)
    venue.transfer_usd("s2", 40.0, to_subaccount=False)
    assert venue.balance("s2").equity_usd == pytest.approx(60.0)
    assert venue.balance("master").equity_usd == pytest.approx(100_000.0 - 10_000.0 - 60.0)
    with pytest.raises(InsufficientFunds):
        venue.transfer_usd("s2", 61.0, to_subaccount=False)
    with pytest.raises(OrderRejected, match="master"):
        venue.transfer_usd("master", 1.0, to_subaccount=True)
    with pytest.raises(OrderRejected, match="unknown paper account"):
        venue.transfer_usd("nope", 1.0, to_subaccount=True)
    with pytest.raises(ValueError, match="positive"):
        venue.transfer_usd("s2", -1.0, to_subaccount=True)


def test_agents_are_records_with_expiry(venue: PaperVenue) -> None:
    agent = venue.approve_agent("bot", 90)
    assert agent.valid_until_ms == int((T0 + timedelta(days=90)).timestamp() * 1000)
    venue.approve_agent("bot", 180)
    (renewed,) = venue.agents()
    assert renewed.valid_until_ms == int((T0 + timedelta(days=180)).timestamp() * 1000)
    with pytest.raises(ValueError, match="valid_days"):
        venue.approve_agent("bot", 0)


def test_leverage_rules_and_markets(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'v.db'}")
    migrate(engine)
    v = PaperVenue(engine, fee_rate=FEE, slippage_bps=0.0, markets={"BTC": Market("BTC", 5, 40.0)})
    with pytest.raises(OrderRejected, match="isolated"):
        v.set_leverage("master", "BTC", 3, isolated=False)
    with pytest.raises(OrderRejected, match=r"\[1, 40.0\]"):
        v.set_leverage("master", "BTC", 41)
    with pytest.raises(OrderRejected, match="unknown symbol"):
        v.place_order("master", OrderRequest("a", "DOGE", BUY, OrderType.MARKET, 1.0))
    with pytest.raises(OrderRejected, match="trigger_price"):
        v.place_order("master", OrderRequest("b", "BTC", BUY, OrderType.STOP_MARKET, 1.0))
    with pytest.raises(OrderRejected, match="unknown paper account"):
        v.place_order("ghost", OrderRequest("c", "BTC", BUY, OrderType.MARKET, 1.0))
    assert set(v.markets()) == {"BTC"}
