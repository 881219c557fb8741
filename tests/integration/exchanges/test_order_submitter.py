"""The order submitter against the fake Hyperliquid venue (real SDK) with scripted faults.

Each intent is stored INTENT in a real journal (SQLite), then sent: an ambiguous outcome is
resolved by querying the cloid, never by a second order; a refusal is REJECTED with its
reason; every step is a compare-and-set in the journal.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from sixbtc.adapters.exchanges.hyperliquid_precision import to_cloid
from sixbtc.adapters.storage.db import make_engine, migrate
from sixbtc.adapters.storage.execution_repo import ExecutionRepository
from sixbtc.adapters.storage.order_journal import insert_intent
from sixbtc.adapters.storage.strategy_repo import StrategyRepository
from sixbtc.adapters.storage.tables import OrderRow
from sixbtc.core.ids import client_order_id
from sixbtc.domain.orders import OrderSide, OrderStatus, OrderType
from sixbtc.executor.ports import ENTRY, STOP, JournalOrder
from sixbtc.executor.submitter import CHECKPOINTS, OrderSubmitter, RetryPolicy

FAST = RetryPolicy(attempts=6, base_delay_s=0.1, max_delay_s=0.4)


@pytest.fixture
def repo(tmp_path: Path) -> ExecutionRepository:
    engine = make_engine(f"sqlite:///{tmp_path / 'journal.db'}")
    migrate(engine)
    return ExecutionRepository(engine, StrategyRepository(engine))


def stored(repo: ExecutionRepository, account: str, bar: int = 0, leg: str = ENTRY, **kw) -> JournalOrder:
    kind = kw.pop("order_type", OrderType.MARKET)
    o = JournalOrder(client_order_id(3, "BTC", bar, leg), 3, account, "BTC", "1h", leg, kw.pop("side", OrderSide.BUY),
                     kind, kw.pop("qty", 0.001), bar, **kw)
    with repo.engine.begin() as conn:  # the journal row alone (no strategy rows in this database)
        insert_intent(conn, o, "live", datetime.now(UTC))
    return o


def status_in_db(repo: ExecutionRepository, cid: str) -> str:
    with repo.engine.connect() as conn:
        return conn.execute(select(OrderRow.status).where(OrderRow.client_order_id == cid)).scalar_one()


def on_venue(hl, master, o: JournalOrder) -> int:
    return len(hl.orders_with_cloid(master.address, to_cloid(o.client_order_id)))


@pytest.mark.parametrize("kind", ["timeout", "http_5xx", "drop"])
def test_an_ambiguous_send_is_resolved_by_the_cloid_and_never_sent_twice(client, hl, master, repo, kind) -> None:
    hl.add_fault(kind, match="order", delay_s=1.0)
    seen: list[str] = []
    sub = OrderSubmitter(client, repo, FAST, checkpoint=lambda name, order: seen.append(name))
    o = stored(repo, master.address)
    assert sub.submit(o) is OrderStatus.FILLED
    assert sub.submit(o) is OrderStatus.FILLED  # a second call sends nothing
    assert sub.places == 1 and hl.exchange_requests("order") == 1
    assert on_venue(hl, master, o) == 1
    assert status_in_db(repo, o.client_order_id) == "filled"
    assert seen == ["intent_stored", "sent", "intent_stored"]  # no ack: resolved by the query
    assert set(seen) <= set(CHECKPOINTS)


def test_an_order_not_found_for_a_while_after_an_ambiguous_ack_is_found_with_back_off(client, hl, master,
                                                                                       repo) -> None:
    hl.set_order_visibility_delay(1.2)  # "order not found" for 1.2 s after the (lost) ack
    hl.add_fault("timeout", match="order", delay_s=0.6)
    sleeps: list[float] = []

    def sleep(s: float) -> None:
        sleeps.append(s)
        import time
        time.sleep(s)

    sub = OrderSubmitter(client, repo, RetryPolicy(attempts=10, base_delay_s=0.1, max_delay_s=0.4), sleep=sleep)
    o = stored(repo, master.address)
    assert sub.submit(o) is OrderStatus.FILLED
    assert on_venue(hl, master, o) == 1 and sub.places == 1
    assert len(sleeps) >= 2 and sleeps == sorted(sleeps)  # not found at first, backed off, growing


def test_a_send_that_never_reached_the_venue_ends_unknown_and_is_not_resent(client, hl, master, repo) -> None:
    hl.add_fault("timeout", match="order", apply=False, delay_s=1.0)
    sub = OrderSubmitter(client, repo, RetryPolicy(attempts=3, base_delay_s=0.05), sleep=lambda s: None)
    o = stored(repo, master.address)
    assert sub.submit(o) is OrderStatus.UNKNOWN
    assert status_in_db(repo, o.client_order_id) == "unknown"
    assert sub.submit(o) is OrderStatus.UNKNOWN and sub.resolve(o) is OrderStatus.UNKNOWN
    assert sub.places == 1 and on_venue(hl, master, o) == 0


def test_a_refused_order_is_rejected_with_its_reason(client, hl, master, repo) -> None:
    sub = OrderSubmitter(client, repo, FAST)
    o = stored(repo, master.address, leg=STOP, side=OrderSide.SELL, order_type=OrderType.STOP_MARKET,
               reduce_only=True, trigger_price=90_000.0)  # reduce-only with no position
    assert sub.submit(o) is OrderStatus.REJECTED
    with repo.engine.connect() as conn:
        row = conn.execute(select(OrderRow.status, OrderRow.detail).where(
            OrderRow.client_order_id == o.client_order_id)).one()
    assert row.status == "rejected" and "OrderRejected" in row.detail
    assert sub.submit(o) is OrderStatus.REJECTED and sub.places == 1


def test_a_resting_stop_is_acked_open_and_cancelled_by_its_cloid(client, hl, master, repo) -> None:
    sub = OrderSubmitter(client, repo, FAST)
    assert sub.submit(stored(repo, master.address)) is OrderStatus.FILLED  # a long 0.001 BTC
    stop = stored(repo, master.address, leg=STOP, side=OrderSide.SELL, order_type=OrderType.STOP_MARKET,
                  reduce_only=True, trigger_price=90_000.0)
    assert sub.submit(stop) is OrderStatus.OPEN and stop.acked_ms is not None and stop.venue_order_id
    hl.add_fault("timeout", match="cancelByCloid", delay_s=1.0)  # the cancel's answer is lost
    assert sub.cancel(stop) is OrderStatus.CANCELED
    assert status_in_db(repo, stop.client_order_id) == "canceled"


def test_an_intent_never_sent_is_canceled_without_a_request(client, hl, master, repo) -> None:
    sub = OrderSubmitter(client, repo, FAST)
    o = stored(repo, master.address)
    assert sub.cancel(o) is OrderStatus.CANCELED
    assert sub.submit(o) is OrderStatus.CANCELED and sub.places == 0 and on_venue(hl, master, o) == 0
