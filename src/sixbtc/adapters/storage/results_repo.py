"""Backtest results and the coin registry table."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from sixbtc.adapters.storage.tables import BacktestResultRow, CoinRow
from sixbtc.core.clock import Clock, LiveClock

R = BacktestResultRow.__table__
C = CoinRow.__table__


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


class CoinRepository:
    """The ``coins`` table: tradable symbols and what the store holds for them."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or LiveClock()

    def upsert(self, symbol: str, *, timeframes: list[str] | None = None, is_active: bool = True,
               volume_24h_usd: float | None = None, max_leverage: float | None = None) -> None:
        """Insert or update one coin; ``timeframes`` are merged with the stored ones."""
        now: datetime = self.clock.now()
        with self.engine.begin() as conn:
            row = conn.execute(select(C).where(C.c.symbol == symbol)).first()
            tfs = sorted(set((row.timeframes or []) if row else []) | set(timeframes or []))
            values = {"is_active": is_active, "timeframes": tfs, "updated_at": now}
            if volume_24h_usd is not None:
                values["volume_24h_usd"] = volume_24h_usd
            if max_leverage is not None:
                values["max_leverage"] = max_leverage
            if row is None:
                conn.execute(insert(C).values(symbol=symbol, **values))
            else:
                conn.execute(update(C).where(C.c.symbol == symbol).values(**values))

    def active(self) -> list[dict[str, Any]]:
        """Active coins, by 24h volume (desc, unknown last) then symbol."""
        q = select(C).where(C.c.is_active.is_(True)).order_by(C.c.volume_24h_usd.desc().nulls_last(), C.c.symbol)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]
