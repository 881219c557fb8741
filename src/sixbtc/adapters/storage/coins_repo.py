"""The ``coins`` table: the tradable universe and what the store holds for each coin.

Implements :class:`sixbtc.data.ports.CoinTable` (read by the coin registry, written by the
pairs updater) and keeps the stored timeframes of each coin (written after imports and
downloads).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from sixbtc.adapters.storage.mapping import utc
from sixbtc.adapters.storage.tables import CoinRow
from sixbtc.core.clock import Clock, LiveClock
from sixbtc.data.ports import CoinInfo
from sixbtc.data.universe import Pair

C = CoinRow.__table__


class CoinRepository:
    """The ``coins`` table (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or LiveClock()

    def upsert(self, symbol: str, *, timeframes: list[str] | None = None, is_active: bool | None = None,
               volume_24h_usd: float | None = None, max_leverage: float | None = None,
               price: float | None = None) -> None:
        """Insert or update one coin; ``timeframes`` are merged with the stored ones.

        ``is_active`` None keeps the stored flag (a new row is active): recording the stored
        timeframes after an import never re-activates a coin the pairs updater dropped.
        Other None values keep the stored value.
        """
        with self.engine.begin() as conn:
            self._upsert_in(conn, symbol, timeframes=timeframes, is_active=is_active,
                            volume_24h_usd=volume_24h_usd, max_leverage=max_leverage, price=price)

    def _upsert_in(self, conn: Any, symbol: str, *, timeframes: list[str] | None, is_active: bool | None,
                   volume_24h_usd: float | None, max_leverage: float | None, price: float | None) -> None:
        now: datetime = self.clock.now()
        row = conn.execute(select(C).where(C.c.symbol == symbol)).first()
        tfs = sorted(set((row.timeframes or []) if row else []) | set(timeframes or []))
        values: dict[str, Any] = {"timeframes": tfs, "updated_at": now}
        optional = {"is_active": is_active, "volume_24h_usd": volume_24h_usd,
                    "max_leverage": max_leverage, "price": price}
        values.update({k: v for k, v in optional.items() if v is not None})
        if row is None:
            conn.execute(insert(C).values(symbol=symbol, **{"is_active": True, **values}))
        else:
            conn.execute(update(C).where(C.c.symbol == symbol).values(**values))

    def apply_universe(self, pairs: list[Pair], deactivate: list[str]) -> None:
        """In one transaction: ``pairs`` active with volume (USD), mark price (USD) and max
        leverage; ``deactivate`` set inactive (their other columns are kept)."""
        with self.engine.begin() as conn:
            for p in pairs:
                self._upsert_in(conn, p.symbol, timeframes=None, is_active=True, volume_24h_usd=p.volume_24h_usd,
                                max_leverage=p.max_leverage, price=p.mark_price)
            if deactivate:
                conn.execute(update(C).where(C.c.symbol.in_(deactivate))
                             .values(is_active=False, updated_at=self.clock.now()))

    def active(self) -> list[dict[str, Any]]:
        """Active coins, by 24h volume (desc, unknown last) then symbol."""
        q = select(C).where(C.c.is_active.is_(True)).order_by(C.c.volume_24h_usd.desc().nulls_last(), C.c.symbol)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def all_coins(self) -> list[CoinInfo]:
        """Every coin as :class:`~sixbtc.data.ports.CoinInfo`, by symbol."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(C).order_by(C.c.symbol)).all()
        return [CoinInfo(r.symbol, bool(r.is_active), r.volume_24h_usd, r.price, r.max_leverage,
                         tuple(r.timeframes or ()), utc(r.updated_at)) for r in rows]

    def version(self) -> str:
        """Change marker: row count, newest ``updated_at``, active count and volume sum."""
        q = select(func.count(), func.max(C.c.updated_at),
                   func.sum(func.coalesce(C.c.volume_24h_usd, 0.0)),
                   func.count().filter(C.c.is_active.is_(True)))
        with self.engine.connect() as conn:
            n, newest, vol, active = conn.execute(q).one()
        return f"{n}|{newest}|{active}|{vol}"
