"""Backtest results (the ``coins`` table moved to :mod:`~sixbtc.adapters.storage.coins_repo`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, insert, select

from sixbtc.adapters.storage.coins_repo import CoinRepository
from sixbtc.adapters.storage.tables import BacktestResultRow
from sixbtc.core.clock import Clock, LiveClock

R = BacktestResultRow.__table__
__all__ = ["CoinRepository", "ResultRepository"]


class ResultRepository:
    """Stores one row per (strategy, kind, timeframe, symbol) backtest outcome."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or LiveClock()

    def add_many(self, strategy_id: int, kind: str, rows: Iterable[dict[str, Any]]) -> int:
        """Insert result rows (keys: timeframe, symbol, params, is_metrics, oos_metrics, score,
        equity_curve, data_start, data_end); return how many."""
        now = self.clock.now()
        values = [dict(r, strategy_id=strategy_id, kind=kind, created_at=now) for r in rows]
        if not values:
            return 0
        with self.engine.begin() as conn:
            conn.execute(insert(R), values)
        return len(values)

    def for_strategy(self, strategy_id: int) -> list[dict[str, Any]]:
        """All stored results of a strategy, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(R).where(R.c.strategy_id == strategy_id).order_by(R.c.id))
            return [dict(r._mapping) for r in rows]
