"""The order-intent journal on SQLite and PostgreSQL: compare-and-set along the order state
machine, fills unique by venue trade id, one pass committed whole."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from sixbtc.adapters.storage.execution_repo import ExecutionRepository
from sixbtc.adapters.storage.order_journal import insert_intent
from sixbtc.adapters.storage.strategy_repo import StrategyRepository
from sixbtc.adapters.storage.tables import FillRow, OrderRow
from sixbtc.core.errors import OrderStateConflict
from sixbtc.core.ids import client_order_id
from sixbtc.domain.orders import OrderSide, OrderStatus, OrderType, VenueFill
from sixbtc.executor.ports import ENTRY, BarChanges, JournalOrder, Transition

S = OrderStatus


def intent(n: int = 0) -> JournalOrder:
    return JournalOrder(client_order_id(7, "BTC", n, ENTRY), 7, "sub-1", "BTC", "1h", ENTRY, OrderSide.BUY,
                        OrderType.MARKET, 0.01, n, notional_usd=500.0, sl_pct=0.02, tp_pct=0.04)


@pytest.fixture
def repo(engine: Engine, strategies: StrategyRepository, clock) -> ExecutionRepository:  # noqa: ANN001
    return ExecutionRepository(engine, strategies, clock)


def put(repo: ExecutionRepository, o: JournalOrder) -> None:
    with repo.engine.begin() as conn:
        insert_intent(conn, o, "paper", repo.clock.now())


def status(repo: ExecutionRepository, cid: str) -> str:
    with repo.engine.connect() as conn:
        return conn.execute(select(OrderRow.status).where(OrderRow.client_order_id == cid)).scalar_one()


def test_legal_transitions_move_the_row_and_carry_their_values(repo) -> None:
    o = intent()
    put(repo, o)
    assert repo.transition(o.client_order_id, S.INTENT, S.SENT)
    assert repo.transition(o.client_order_id, S.SENT, S.OPEN, venue_order_id="42", acked_ms=123)
    assert repo.transition(o.client_order_id, S.OPEN, S.PARTIALLY_FILLED, filled_qty=0.004)
    assert repo.transition(o.client_order_id, S.PARTIALLY_FILLED, S.FILLED, filled_qty=0.01)
    got = repo.order(o.client_order_id)
    assert (got.status, got.venue_order_id, got.acked_ms, got.filled_qty) == (S.FILLED, "42", 123, 0.01)


@pytest.mark.parametrize(("src", "dst"), [(S.INTENT, S.FILLED), (S.INTENT, S.OPEN), (S.FILLED, S.CANCELED),
                                          (S.OPEN, S.SENT), (S.REJECTED, S.OPEN), (S.CANCELED, S.INTENT)])
def test_an_illegal_transition_is_refused_and_writes_nothing(repo, src, dst) -> None:
    o = intent()
    put(repo, o)
    with pytest.raises(ValueError, match="illegal order transition"):
        repo.transition(o.client_order_id, src, dst)
    assert status(repo, o.client_order_id) == "intent"


def test_a_compare_and_set_from_a_stale_status_writes_nothing(repo) -> None:
    o = intent()
    put(repo, o)
    assert repo.transition(o.client_order_id, S.INTENT, S.SENT)
    assert not repo.transition(o.client_order_id, S.INTENT, S.SENT)  # someone moved it already
    assert not repo.transition(o.client_order_id, S.INTENT, S.CANCELED)  # legal from INTENT, but it is SENT
    assert repo.transition(o.client_order_id, S.SENT, S.UNKNOWN)
    assert not repo.transition(o.client_order_id, S.OPEN, S.FILLED)
    assert status(repo, o.client_order_id) == "unknown"


def test_concurrent_senders_of_one_intent_let_exactly_one_through(repo) -> None:
    o = intent()
    put(repo, o)
    wins: list[bool] = []
    barrier = threading.Barrier(4)

    def race() -> None:
        barrier.wait()
        wins.append(repo.transition(o.client_order_id, S.INTENT, S.SENT))

    threads = [threading.Thread(target=race) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False, False, False, True]


def test_a_pass_with_a_stale_transition_is_refused_whole(repo) -> None:
    o = intent()
    put(repo, o)
    fill = VenueFill("t-1", "9", o.client_order_id, "BTC", OrderSide.BUY, 0.01, 100.0, 0.05, 1_000)
    bad = BarChanges(fills=[("sub-1", fill, 7)], transitions=[Transition(o.client_order_id, S.OPEN, S.FILLED)])
    with pytest.raises(OrderStateConflict):
        repo.commit(bad)
    with repo.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(FillRow)).scalar_one() == 0


def test_a_fill_is_recorded_once_by_its_venue_trade_id(repo) -> None:
    fill = VenueFill("t-1", "9", None, "BTC", OrderSide.BUY, 0.01, 100.0, 0.05, 1_000)
    repo.commit(BarChanges(fills=[("sub-1", fill, 7)]))
    with pytest.raises(IntegrityError):
        repo.commit(BarChanges(fills=[("sub-1", fill, 7)]))
    repo.commit(BarChanges(fills=[("sub-1", fill, 7)], mode="live"))  # another venue's ids are another space
    state = repo.recover([])
    assert state.trade_ids == frozenset()
    with repo.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(FillRow)).scalar_one() == 2


@pytest.mark.parametrize("order_type", list(OrderType))
def test_every_order_type_is_journaled(repo, order_type: OrderType) -> None:
    """PostgreSQL enforces the column lengths: ``take_profit_market`` (18 characters) once did not fit."""
    o = JournalOrder(client_order_id(7, "BTC", 5, "tp"), 7, "sub-1", "BTC", "1h", "tp", OrderSide.SELL, order_type,
                     0.01, 5, reduce_only=True)
    put(repo, o)
    assert repo.order(o.client_order_id).order_type == order_type
