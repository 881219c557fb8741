"""The paper venue's cached book: validated by the revision counter, dropped on rollback.

Two :class:`PaperVenue` instances on one database stand for the service and another process
(``sixbtc emergency-stop``): whatever one writes between two calls of the other is seen by
the other's next call, never hidden by its cache.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from sixbtc.adapters.exchanges.paper_venue import PaperVenue
from sixbtc.adapters.storage.db import make_engine, migrate
from sixbtc.adapters.storage.tables import PaperClockRow
from sixbtc.core.clock import SimClock
from sixbtc.core.errors import InsufficientFunds
from sixbtc.domain.orders import OrderRequest, OrderSide, OrderType
from sixbtc.executor.ports import Bar

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ACC = "s1"


def bar(i: int, price: float) -> Bar:
    return Bar("BTC", "1h", T0 + timedelta(hours=i), price, price + 1, price - 1, price)


def make(engine: Engine) -> PaperVenue:
    return PaperVenue(engine, fee_rate=0.00045, slippage_bps=2.0, initial_master_usd=100_000.0, clock=SimClock(T0))


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'venue.db'}")
    migrate(engine)
    return engine


def revision(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(PaperClockRow.revision).where(PaperClockRow.id == 1)).scalar_one()


def snapshot(v: PaperVenue) -> tuple:
    return v.balance(ACC), v.positions(ACC), v.open_orders(ACC), v.balance("master")


def test_a_change_by_a_second_instance_between_calls_is_seen_by_the_first(engine: Engine) -> None:
    service = make(engine)
    service.create_subaccount(ACC)
    service.transfer_usd(ACC, 10_000.0, to_subaccount=True)
    service.on_bar(bar(0, 100.0))
    service.place_order(ACC, OrderRequest("entry", "BTC", OrderSide.BUY, OrderType.MARKET, 10.0))
    service.open_bar(bar(1, 100.0))
    service.place_order(ACC, OrderRequest("stop", "BTC", OrderSide.SELL, OrderType.STOP_MARKET, 10.0,
                                          trigger_price=90.0, reduce_only=True))
    service.close_bar(bar(1, 100.0))
    assert [p.qty for p in service.positions(ACC)] == [10.0]  # the service's book is now cached

    stop = make(engine)  # e.g. `sixbtc emergency-stop` in another process
    assert stop.cancel_order(ACC, "BTC", "stop")
    stop.place_order(ACC, OrderRequest("flat", "BTC", OrderSide.SELL, OrderType.MARKET, 10.0, reduce_only=True))
    stop.deposit_usd(5.0)

    assert service.open_orders(ACC)[0].client_order_id == "flat"
    assert len(service.open_orders(ACC)) == 1
    (fill,) = service.open_bar(bar(2, 95.0))  # the service fills the order it never placed
    assert fill.client_order_id == "flat"
    assert service.positions(ACC) == []
    assert snapshot(service) == snapshot(make(engine))  # its book equals a fresh read of the tables
    assert service.balance("master").equity_usd == pytest.approx(90_005.0)


def test_every_write_bumps_the_revision_and_reads_do_not(engine: Engine) -> None:
    v = make(engine)
    v.create_subaccount(ACC)
    before = revision(engine)
    snapshot(v)
    assert revision(engine) == before
    v.transfer_usd(ACC, 1_000.0, to_subaccount=True)
    assert revision(engine) == before + 1
    v.set_leverage(ACC, "BTC", 3)
    v.on_bar(bar(0, 100.0))
    assert revision(engine) == before + 4  # leverage, open, close


def test_a_rolled_back_call_leaves_nothing_in_the_cache(engine: Engine) -> None:
    v = make(engine)
    v.create_subaccount(ACC)
    v.transfer_usd(ACC, 1_000.0, to_subaccount=True)
    v.on_bar(bar(0, 100.0))
    with pytest.raises(InsufficientFunds):  # refused after the order was built in the book
        v.place_order(ACC, OrderRequest("big", "BTC", OrderSide.BUY, OrderType.MARKET, 1_000.0))
    assert v.open_orders(ACC) == []
    v.place_order(ACC, OrderRequest("ok", "BTC", OrderSide.BUY, OrderType.MARKET, 1.0))
    (fill,) = v.open_bar(bar(1, 100.0))
    assert (fill.client_order_id, fill.venue_order_id, fill.trade_id) == ("ok", "1", "paper-1")
    assert snapshot(v) == snapshot(make(engine))
