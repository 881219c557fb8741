"""Trading repository idempotence: replayed entries/exits are written once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from sixbtc.adapters.storage.tables import OrderRow, PositionRow, TradeRow
from sixbtc.adapters.storage.trading_repo import TradingRepository
from sixbtc.core.clock import SimClock
from sixbtc.domain.trading import Direction, ExitReason, Trade, TradeMode

ENTRY_TS = datetime(2026, 1, 1, 12, tzinfo=UTC)
EXIT_TS = datetime(2026, 1, 2, 12, tzinfo=UTC)


def _order(coid: str, side: str, price: float, reduce_only: bool = False) -> dict[str, Any]:
    return {"client_order_id": coid, "strategy_id": 7, "subaccount": "paper-001", "symbol": "BTC",
            "side": side, "order_type": "market", "qty": 0.01, "price": None,
            "reduce_only": reduce_only, "mode": "paper",
            "filled_price": price, "filled_ts": ENTRY_TS}


def _position(coid: str) -> dict[str, Any]:
    return {"strategy_id": 7, "subaccount": "paper-001", "symbol": "BTC", "timeframe": "1h",
            "direction": "long", "qty": 0.01, "entry_price": 50_000.0, "entry_ts": ENTRY_TS,
            "entry_fee_usd": 0.25, "stop_price": 49_000.0, "target_price": 52_000.0,
            "mode": "paper", "entry_client_order_id": coid}


def _trade() -> Trade:
    # long 0.01 BTC 50 000 -> 51 000: gross 10 USD, fees 0.25 + 0.255 USD
    return Trade(strategy_id=7, symbol="BTC", timeframe="1h", direction=Direction.LONG,
                 entry_ts=ENTRY_TS, entry_price=50_000.0, exit_ts=EXIT_TS, exit_price=51_000.0,
                 qty=0.01, notional_usd=500.0, fees_usd=0.505, pnl_usd=9.495,
                 return_frac=9.495 / 500.0, exit_reason=ExitReason.TAKE_PROFIT, mode=TradeMode.PAPER)


def _count(engine: Engine, table: type) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_open_position_twice_with_same_client_order_id_writes_once(engine: Engine,
                                                                   clock: SimClock) -> None:
    repo = TradingRepository(engine, clock)
    pos_id = repo.open_position(_order("e-1", "buy", 50_000.0), _position("e-1"))
    assert isinstance(pos_id, int)
    assert repo.open_position(_order("e-1", "buy", 50_000.0), _position("e-1")) is None
    assert (_count(engine, OrderRow), _count(engine, PositionRow)) == (1, 1)
    [pos] = repo.open_positions(7)
    assert pos["id"] == pos_id
    assert pos["entry_client_order_id"] == "e-1" and pos["entry_ts"] == ENTRY_TS


def test_order_recorded_before_sending_is_filled_once(engine: Engine, clock: SimClock) -> None:
    repo = TradingRepository(engine, clock)
    assert repo.record_order(_order("e-2", "buy", 50_000.0)) is True
    assert repo.record_order(_order("e-2", "buy", 50_000.0)) is False
    assert repo.open_position(_order("e-2", "buy", 50_000.0), _position("e-2")) is not None
    assert repo.open_position(_order("e-2", "buy", 50_000.0), _position("e-2")) is None
    with engine.connect() as conn:
        statuses = conn.execute(select(OrderRow.status)).scalars().all()
    assert statuses == ["filled"]
    assert _count(engine, PositionRow) == 1


def test_close_position_twice_writes_one_trade_and_books_pnl_once(engine: Engine,
                                                                  clock: SimClock) -> None:
    repo = TradingRepository(engine, clock)
    assert repo.assign_subaccount(7, "paper", 1_000.0) == "paper-001"
    pos_id = repo.open_position(_order("e-1", "buy", 50_000.0), _position("e-1"))
    exit_order = _order("x-1", "sell", 51_000.0, reduce_only=True)
    assert repo.close_position(pos_id, exit_order, _trade(), 9.495) is True
    assert repo.close_position(pos_id, exit_order, _trade(), 9.495) is False
    # a different exit id for the already-closed position is refused too, with no order row
    other = _order("x-2", "sell", 51_000.0, reduce_only=True)
    assert repo.close_position(pos_id, other, _trade(), 9.495) is False
    assert (_count(engine, TradeRow), _count(engine, OrderRow)) == (1, 2)
    assert repo.open_positions() == []
    [trade] = repo.trades(7)
    assert trade["exit_client_order_id"] == "x-1" and trade["exit_ts"] == EXIT_TS
    assert repo.subaccount_of(7)["balance_usd"] == 1_000.0 + 9.495
    assert repo.trade_summary() == {7: (1, 9.495)}
