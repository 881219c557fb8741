"""`emergency-stop` use case against an ExchangeClient shipped in sixbtc.testing, on SQLite:
halts first, cancels every open order of every sub-account, closes reduce-only on request,
is idempotent, survives transient venue errors and a venue that cannot be opened."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sixbtc.adapters.storage.db import make_engine, migrate
from sixbtc.adapters.storage.risk_repo import TradingStateRepository
from sixbtc.adapters.storage.strategy_repo import StrategyRepository
from sixbtc.app.emergency import emergency_stop
from sixbtc.core.clock import SimClock
from sixbtc.core.errors import ConfigError
from sixbtc.domain.orders import Market, OrderRequest, OrderSide, OrderStatus, OrderType, VenueOrder
from sixbtc.domain.risk import GLOBAL_SCOPE, TradingState
from sixbtc.executor.emergency import close_order_id
from sixbtc.testing.fake_exchange import FakeExchange

MARKETS = {"BTC": Market("BTC", 5, 40), "ETH": Market("ETH", 4, 25)}


@pytest.fixture
def states(tmp_path: Path) -> Iterator[TradingStateRepository]:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    migrate(engine)
    yield TradingStateRepository(engine, SimClock(datetime(2026, 3, 1, tzinfo=UTC)))
    engine.dispose()


def events(states: TradingStateRepository) -> StrategyRepository:
    """The events writer over the same database and clock."""
    return StrategyRepository(states.engine, states.clock)


def _venue() -> FakeExchange:
    v = FakeExchange(MARKETS, {"BTC": 60_000.0, "ETH": 3_000.0}, master_usd=1_000.0)
    for sub in ("sub-a", "sub-b"):
        v.add_subaccount(sub, 500.0)
    v.place_order("sub-a", OrderRequest("sxentry1", "BTC", OrderSide.BUY, OrderType.MARKET, 0.01))
    v.place_order("sub-a", OrderRequest("sxsl1", "BTC", OrderSide.SELL, OrderType.STOP_MARKET, 0.01,
                                        trigger_price=58_000.0, reduce_only=True))
    v.place_order("sub-b", OrderRequest("sxentry2", "ETH", OrderSide.SELL, OrderType.MARKET, 0.1))
    v.place_order("sub-b", OrderRequest("sxtp2", "ETH", OrderSide.BUY, OrderType.TAKE_PROFIT_MARKET, 0.1,
                                        trigger_price=2_800.0, reduce_only=True))
    v.place_order("sub-b", OrderRequest("sxlim", "BTC", OrderSide.BUY, OrderType.LIMIT, 0.01, price=50_000.0))
    manual = VenueOrder(None, "999", "ETH", OrderSide.BUY, OrderType.LIMIT, 0.2, 0.0, None, 2_000.0, None, False,
                        OrderStatus.OPEN, v.now_ms)
    v.accounts["sub-b"].orders["manual-999"] = manual  # placed by hand on the venue: no client order id
    v.calls.clear()
    return v


def test_halts_then_cancels_every_order_and_a_second_run_does_nothing(states) -> None:
    v = _venue()
    report = emergency_stop(states, events(states), lambda: v, close_positions=False, who="test", sleep=lambda s: None)
    assert states.get(GLOBAL_SCOPE).state is TradingState.HALTED and report.newly_halted
    assert sorted(c[2] for c in report.cancelled) == ["sxlim", "sxsl1", "sxtp2"]
    assert report.manual == [("sub-b", "ETH", "999")]  # reported, not guessed at
    assert [c[0] for c in v.calls] == ["cancel_order"] * 3  # nothing placed
    assert report.open_positions == {"sub-a": 1, "sub-b": 1} and report.open_orders == {"sub-a": 0, "sub-b": 1}
    assert not report.complete and not report.nothing_done
    again = emergency_stop(states, events(states), lambda: v, close_positions=False, who="test", sleep=lambda s: None)
    assert again.nothing_done and not again.newly_halted and again.halted_since == report.halted_since


def test_close_positions_reduce_only_once(states) -> None:
    v = _venue()
    report = emergency_stop(states, events(states), lambda: v, close_positions=True, who="test", sleep=lambda s: None)
    placed = [c[2] for c in v.calls if c[0] == "place_order"]
    assert [(r.symbol, r.side, r.order_type, r.qty, r.reduce_only) for r in placed] == [
        ("BTC", OrderSide.SELL, OrderType.MARKET, 0.01, True), ("ETH", OrderSide.BUY, OrderType.MARKET, 0.1, True)]
    since_ms = int(report.halted_since.timestamp() * 1000)
    assert placed[0].client_order_id == close_order_id("sub-a", "BTC", 0.01, since_ms)
    assert [c[3] for c in report.closed] == ["filled", "filled"]
    assert report.open_positions == {"sub-a": 0, "sub-b": 0} and v.positions("sub-a") == []
    n_calls = len(v.calls)
    again = emergency_stop(states, events(states), lambda: v, close_positions=True, who="test", sleep=lambda s: None)
    assert again.nothing_done and len(v.calls) == n_calls


def test_transient_cancel_errors_are_retried_with_back_off(states) -> None:
    v = _venue()
    v.fail_cancels = 2
    slept: list[float] = []
    report = emergency_stop(states, events(states), lambda: v, close_positions=False, who="test", sleep=slept.append)
    assert slept == [0.5, 1.0] and len(report.cancelled) == 3 and not report.failures


def test_an_order_placed_meanwhile_is_cancelled_by_the_last_sweep(states) -> None:
    class RacingService(FakeExchange):
        """A running executor pass places an order right after the first cancel."""

        def cancel_order(self, account: str, symbol: str, client_order_id: str) -> bool:
            done = super().cancel_order(account, symbol, client_order_id)
            if client_order_id == "sxsl1":
                self.place_order("sub-a", OrderRequest("sxlate", "BTC", OrderSide.SELL, OrderType.STOP_MARKET, 0.01,
                                                       trigger_price=57_000.0, reduce_only=True))
            return done

    base = _venue()
    v = RacingService(MARKETS, base.prices)
    v.accounts, v.subs = base.accounts, base.subs
    report = emergency_stop(states, events(states), lambda: v, close_positions=False, who="test", sleep=lambda s: None)
    assert "sxlate" in [c[2] for c in report.cancelled] and report.open_orders["sub-a"] == 0


def test_a_venue_that_cannot_be_opened_still_leaves_trading_halted(states) -> None:
    def unavailable() -> FakeExchange:
        raise ConfigError("no paper execution venue is available in this build")

    report = emergency_stop(states, events(states), unavailable, close_positions=True, who="test", sleep=lambda s: None)
    assert states.get(GLOBAL_SCOPE).state is TradingState.HALTED
    assert report.failures and report.failures[0][0] == "venue" and "ConfigError" in report.failures[0][2]
    assert not report.complete


def test_ambiguous_close_is_resolved_by_query_not_resent(states) -> None:
    class Timeout(FakeExchange):
        def place_order(self, account: str, request: OrderRequest) -> VenueOrder:
            from sixbtc.core.errors import AmbiguousOrderOutcome

            super().place_order(account, request)  # it reached the venue ...
            raise AmbiguousOrderOutcome("timeout after send")  # ... but the answer was lost

    base = _venue()
    v = Timeout(MARKETS, base.prices)
    v.accounts, v.subs = base.accounts, base.subs
    report = emergency_stop(states, events(states), lambda: v, close_positions=True, who="test", sleep=lambda s: None)
    assert [c[3] for c in report.closed] == ["filled", "filled"]
    assert sum(1 for c in v.calls if c[0] == "place_order") == 2  # one per position, never re-sent
    assert replace(report, closed=[]).open_positions == {"sub-a": 0, "sub-b": 0}
