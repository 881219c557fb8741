"""The executor's store and lease on SQLite and PostgreSQL: one bar = one transaction, fenced by
the executor lease; the open-position cap checked in the database; leases refused, expired,
taken over from dead holders; claims of dead workers released."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from storage_support import add_generated, lease_worker, run_processes

from sixbtc.adapters.storage.execution_repo import ExecutionRepository
from sixbtc.adapters.storage.lease_repo import LeaseRepository
from sixbtc.adapters.storage.strategy_repo import StrategyRepository
from sixbtc.adapters.storage.tables import OrderRow, StrategyRow, TradeRow
from sixbtc.adapters.storage.trading_repo import TradingRepository
from sixbtc.core.clock import SimClock
from sixbtc.core.errors import LeaseHeld, LeaseLost, RiskLimitBreached, StaleClaim
from sixbtc.domain.claims import WorkerId
from sixbtc.domain.orders import OrderSide, OrderStatus, OrderType, VenueFill
from sixbtc.domain.strategy import StrategyStatus
from sixbtc.domain.trading import Direction, ExitReason, Trade, TradeMode
from sixbtc.executor.ports import BarChanges, BarCursor, JournalOrder, StrategyFault

BAR = datetime(2026, 1, 1, 12, tzinfo=UTC)
TTL = timedelta(seconds=60)
_BAR_MS = int(BAR.timestamp() * 1000)


def _order(cid: str, sid: int, sym: str = "BTC", leg: str = "entry", **kw: Any) -> JournalOrder:
    side = OrderSide.BUY if leg == "entry" else OrderSide.SELL
    return JournalOrder(cid, sid, "paper-001", sym, "1h", leg, side, OrderType.MARKET, kw.pop("qty", 0.01), _BAR_MS,
                        reduce_only=leg != "entry", notional_usd=500.0 if leg == "entry" else None, sl_pct=0.02,
                        tp_pct=0.04, **kw)


def _position(cid: str, sid: int, sym: str = "BTC") -> dict[str, Any]:
    return {"strategy_id": sid, "subaccount": "paper-001", "symbol": sym, "timeframe": "1h", "direction": "long",
            "qty": 0.01, "entry_price": 50_000.0, "entry_ts": BAR, "entry_fee_usd": 0.25, "stop_price": 49_000.0,
            "target_price": 52_000.0, "mode": "paper", "entry_client_order_id": cid}


def _fill(tid: str, cid: str, side: OrderSide = OrderSide.BUY) -> VenueFill:
    return VenueFill(tid, "1", cid, "BTC", side, 0.01, 50_000.0, 0.25, _BAR_MS)


def _trade(sid: int, pnl: float) -> Trade:
    return Trade(sid, "BTC", "1h", Direction.LONG, BAR, 50_000.0, BAR + timedelta(hours=2), 51_000.0, 0.01, 500.0,
                 0.5, pnl, pnl / 500.0, ExitReason.TAKE_PROFIT, TradeMode.PAPER)


def _live(strategies: StrategyRepository, trading: TradingRepository, i: int = 0) -> int:
    [sid] = add_generated(strategies, 1, first=i)
    with strategies.engine.begin() as conn:
        for dst in (StrategyStatus.VALIDATED, StrategyStatus.ACTIVE, StrategyStatus.LIVE):
            strategies.transition_in(conn, sid, None, dst, phase="setup", reason="setup")
    trading.assign_subaccount(sid, "paper", 1_000.0)
    return sid


def _count(engine: Engine, table: type, *where: Any) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


@pytest.fixture
def world(engine: Engine, clock: SimClock, strategies: StrategyRepository):
    trading = TradingRepository(engine, clock)
    leases = LeaseRepository(engine, clock)
    return engine, clock, strategies, trading, leases


def test_a_bar_is_committed_whole_and_recovered(world) -> None:
    engine, clock, strategies, trading, _ = world
    sid = _live(strategies, trading)
    repo = ExecutionRepository(engine, strategies, clock, max_open_positions=3)
    cursor = BarCursor(BAR, "BTC", "1h")
    repo.commit(BarChanges(intents=[_order("e-eth", sid, "ETH"), _order("e-btc", sid)], cursors={sid: cursor}))
    # next pass: the BTC entry fills and its target inside the bar: fills, position, trade at once
    repo.commit(BarChanges(fills=[("paper-001", _fill("t1", "e-btc"), sid),
                                  ("paper-001", _fill("t2", "x-btc", OrderSide.SELL), sid)],
                           opened=[_position("e-btc", sid)], closed=[(_trade(sid, 9.5), "e-btc", "x-btc", 0.0, True)],
                           cursors={sid: BarCursor(BAR + timedelta(hours=1), "BTC", "1h")}))
    state = repo.recover([sid])
    assert state.balances == {sid: pytest.approx(1_009.5)}
    assert state.positions == [] and len(trading.trades(sid)) == 1
    assert sorted(o.client_order_id for o in state.orders) == ["e-btc", "e-eth"]  # both still INTENT
    pending = next(o for o in state.orders if o.client_order_id == "e-eth")
    assert (pending.symbol, pending.leg, pending.notional_usd, pending.sl_pct) == ("ETH", "entry", 500.0, 0.02)
    assert pending.status is OrderStatus.INTENT and pending.signal_ms == _BAR_MS
    assert state.cursors == {sid: BarCursor(BAR + timedelta(hours=1), "BTC", "1h")}
    assert state.trade_ids == {"t1", "t2"} and state.last_fill_ms == {"paper-001": _BAR_MS}


def test_a_commit_that_breaks_the_position_cap_writes_nothing(world) -> None:
    engine, clock, strategies, trading, _ = world
    sid = _live(strategies, trading)
    repo = ExecutionRepository(engine, strategies, clock, max_open_positions=2)
    repo.commit(BarChanges(intents=[_order("e-1", sid, "BTC"), _order("e-2", sid, "ETH")],
                           cursors={sid: BarCursor(BAR, "ETH", "1h")}))
    with pytest.raises(RiskLimitBreached, match="max_open_positions 2"):
        repo.commit(BarChanges(intents=[_order("e-3", sid, "SOL")], cursors={sid: BarCursor(BAR, "SOL", "1h")}))
    assert _count(engine, OrderRow) == 2
    assert repo.recover([sid]).cursors[sid].symbol == "ETH"


def test_an_order_written_twice_is_refused_whole(world) -> None:
    engine, clock, strategies, trading, _ = world
    sid = _live(strategies, trading)
    repo = ExecutionRepository(engine, strategies, clock)
    repo.commit(BarChanges(intents=[_order("e-1", sid)], cursors={sid: BarCursor(BAR, "BTC", "1h")}))
    with pytest.raises(IntegrityError):
        repo.commit(BarChanges(intents=[_order("e-2", sid, "ETH"), _order("e-1", sid)],
                               cursors={sid: BarCursor(BAR, "ETH", "1h")}))
    assert _count(engine, OrderRow) == 1 and repo.recover([sid]).cursors[sid].symbol == "BTC"


def test_a_fault_retires_the_strategy_and_frees_its_sub_account_once_flat(world) -> None:
    engine, clock, strategies, trading, _ = world
    sid = _live(strategies, trading)
    repo = ExecutionRepository(engine, strategies, clock)
    repo.commit(BarChanges(fills=[("paper-001", _fill("t1", "e-1"), sid)], opened=[_position("e-1", sid)],
                           cursors={sid: BarCursor(BAR, "BTC", "1h")}))
    repo.commit(BarChanges(faults=[StrategyFault(sid, "executor:error", "RuntimeError: boom")],
                           intents=[_order("f-1", sid, leg="flatten")],
                           cursors={sid: BarCursor(BAR + timedelta(hours=1), "BTC", "1h")}))
    assert strategies.get(sid).status is StrategyStatus.RETIRED
    [event] = [e for e in strategies.events(5) if e["phase"] == "executor"]
    assert (event["reason"], event["detail"], event["to_status"]) == ("executor:error", "RuntimeError: boom", "RETIRED")
    assert trading.subaccount_of(sid) is not None, "kept while a position is open"
    assert trading.free_subaccount(sid) is False
    for dst in (OrderStatus.SENT, OrderStatus.FILLED):
        assert repo.transition("f-1", OrderStatus.INTENT if dst is OrderStatus.SENT else OrderStatus.SENT, dst)
    repo.commit(BarChanges(closed=[(_trade(sid, 0.5), "e-1", "f-1", 0.0, True)],
                           cursors={sid: BarCursor(BAR + timedelta(hours=2), "BTC", "1h")}))
    assert trading.subaccount_of(sid) is None and _count(engine, TradeRow) == 1


def test_rows_from_before_migration_3_resume_after_the_newest_fill(world) -> None:
    engine, clock, strategies, trading, _ = world
    sid = _live(strategies, trading)
    old = {"client_order_id": "old-e", "strategy_id": sid, "subaccount": "paper-001", "symbol": "BTC", "side": "buy",
           "order_type": "market", "qty": 0.01, "price": None, "reduce_only": False, "mode": "paper"}
    pos = trading.open_position(dict(old, filled_price=50_000.0, filled_ts=BAR),
                                dict(_position("old-e", sid), entry_ts=BAR + timedelta(hours=5)))
    assert pos is not None
    assert trading.record_order(dict(old, client_order_id="old-x")) is True  # unsendable: no leg
    state = ExecutionRepository(engine, strategies, clock).recover([sid])
    assert state.cursors == {sid: BarCursor(BAR + timedelta(hours=5), "BTC", "1h")}
    assert state.orders == [] and [p["entry_client_order_id"] for p in state.positions] == ["old-e"]
    with engine.connect() as conn:
        assert conn.execute(select(OrderRow.status).where(OrderRow.client_order_id == "old-x")).scalar() == "canceled"


# -- the lease ---------------------------------------------------------------------------------
def _alive(host: str, pid: int) -> bool:
    return False  # "holder is dead" callback that never says so


def test_a_second_holder_is_refused_naming_the_first(world) -> None:
    _, clock, _, _, leases = world
    first = leases.acquire("box-a", 101, "sixbtc run --once", TTL, _alive)
    assert first.token == 1
    with pytest.raises(LeaseHeld, match=r"pid 101 on host box-a \(sixbtc run --once\).*renewed 0 s ago"):
        leases.acquire("box-b", 202, "sixbtc run", TTL, _alive)
    assert leases.current().pid == 101


def test_an_expired_lease_is_taken_over_and_the_old_holder_is_fenced_out(world) -> None:
    engine, clock, strategies, trading, leases = world
    sid = _live(strategies, trading)
    old = leases.acquire("box-a", 101, "old", TTL, _alive)
    old_store = ExecutionRepository(engine, strategies, clock, lease=leases, fence=old.token)
    old_store.commit(BarChanges(intents=[_order("e-1", sid)], cursors={sid: BarCursor(BAR, "BTC", "1h")}))
    clock.advance_to(clock.now() + TTL / 2)
    assert leases.renew(old.token, TTL) is True
    clock.advance_to(clock.now() + TTL + timedelta(seconds=1))  # the old holder hangs: no renewal
    new = leases.acquire("box-b", 202, "new", TTL, _alive)
    assert new.token == old.token + 1
    assert leases.renew(old.token, TTL) is False
    with pytest.raises(LeaseLost, match="pid 202 on host box-b"):
        old_store.commit(BarChanges(intents=[_order("e-2", sid, "ETH")], cursors={sid: BarCursor(BAR, "ETH", "1h")}))
    assert _count(engine, OrderRow) == 1
    ExecutionRepository(engine, strategies, clock, lease=leases, fence=new.token).commit(
        BarChanges(intents=[_order("e-2", sid, "ETH")], cursors={sid: BarCursor(BAR, "ETH", "1h")}))
    assert _count(engine, OrderRow) == 2


def test_a_dead_holder_is_taken_over_at_once_and_a_released_lease_is_free(world) -> None:
    _, _, _, _, leases = world
    leases.acquire("box-a", 101, "killed", TTL, _alive)
    taken = leases.acquire("box-a", 102, "next", TTL, lambda host, pid: (host, pid) == ("box-a", 101))
    assert (taken.pid, taken.token) == (102, 2)
    leases.release(taken.token)
    assert leases.current().holder is None
    assert leases.acquire("box-c", 7, "third", TTL, _alive).token == 3


def test_concurrent_acquisitions_give_the_lease_to_exactly_one(db_url: str, engine: Engine) -> None:
    results = run_processes(lease_worker, [(db_url, str(1000 + i)) for i in range(4)])
    tokens = [payload for _, payload in results if isinstance(payload, int)]
    refused = [payload for _, payload in results if isinstance(payload, str)]
    assert tokens == [1] and len(refused) == 3
    assert all("another executor is trading this database" in msg for msg in refused)


# -- dead workers' claims --------------------------------------------------------------------------
def test_claims_of_dead_workers_of_this_host_are_released(strategies: StrategyRepository) -> None:
    ids = add_generated(strategies, 5)
    dead_pid = _dead_pid()
    owners = [str(WorkerId("validator", "box-a", dead_pid)),        # dead, this host: released
              str(WorkerId("validator", "box-a", os.getpid())),     # alive: kept
              str(WorkerId("validator", "box-b", dead_pid)),        # other host: left to the age rule
              "validator-123-0",                                     # old format: left to the age rule
              None]
    for sid, owner in zip(ids, owners, strict=True):
        if owner is not None:
            assert strategies.claim(StrategyStatus.GENERATED, owner).id == sid
    n = strategies.release_dead("box-a", lambda worker: worker.pid == dead_pid)
    assert n == 1
    with strategies.engine.connect() as conn:
        left = dict(conn.execute(select(StrategyRow.id, StrategyRow.processing_by)).all())
    assert left == dict(zip(ids, [None, owners[1], owners[2], owners[3], None], strict=True))


def _dead_pid() -> int:
    import subprocess
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_an_entry_of_a_strategy_retired_meanwhile_is_refused_whole(world) -> None:
    # the monitor (another thread of the service) retired it after the executor decided
    engine, clock, strategies, trading, _ = world
    sid = _live(strategies, trading)
    other = _live(strategies, trading, 1)
    repo = ExecutionRepository(engine, strategies, clock)
    strategies.transition(sid, None, StrategyStatus.RETIRED, phase="monitor", reason="monitor:test")
    assert trading.free_subaccount(sid) is True
    with pytest.raises(StaleClaim, match="no longer LIVE"):
        repo.commit(BarChanges(intents=[_order("e-1", sid), _order("e-2", other, "ETH")],
                               cursors={sid: BarCursor(BAR, "BTC", "1h"), other: BarCursor(BAR, "ETH", "1h")}))
    assert _count(engine, OrderRow) == 0 and repo.recover([sid, other]).cursors == {}


def test_a_retirement_in_flight_on_postgresql_waits_for_the_bar_or_the_bar_for_it(world) -> None:
    # the monitor retires the strategy and frees its sub-account (it holds nothing) in one
    # transaction; meanwhile the executor commits an entry of it. Before the fix, under READ
    # COMMITTED, the entry saw LIVE and was written: an order (then a position) of a retired
    # strategy without a sub-account, which nobody would ever close
    engine, clock, strategies, trading, _ = world
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): the two transactions cannot interleave")
    sid = _live(strategies, trading)
    repo = ExecutionRepository(engine, strategies, clock)
    outcome: dict[str, Any] = {}

    def bar() -> None:
        try:
            repo.commit(BarChanges(intents=[_order("e-1", sid)], cursors={sid: BarCursor(BAR, "BTC", "1h")}))
            outcome["bar"] = "committed"
        except StaleClaim as exc:
            outcome["bar"] = f"refused: {exc}"

    with engine.begin() as monitor:
        strategies.transition_in(monitor, sid, None, StrategyStatus.RETIRED, phase="monitor", reason="monitor:test")
        assert trading.free_subaccount_in(monitor, sid) is True
        executor = threading.Thread(target=bar)
        executor.start()
        deadline = time.monotonic() + 30
        while executor.is_alive() and not _waits_on_a_lock(engine) and time.monotonic() < deadline:
            time.sleep(0.01)
    executor.join(timeout=30)
    assert outcome["bar"].startswith("refused") and "no longer LIVE" in outcome["bar"]
    assert _count(engine, OrderRow) == 0 and trading.subaccount_of(sid) is None


def _waits_on_a_lock(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        ).scalar())
