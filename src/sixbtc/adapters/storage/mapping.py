"""Row ↔ domain translation for the storage adapter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sixbtc.domain.strategy import StrategyRecord, StrategySource, StrategyStatus, StrategyType


def utc(ts: datetime | None) -> datetime | None:
    """Attach UTC to naive datetimes read back from SQLite; pass aware ones through."""
    if ts is None:
        return None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def to_strategy(row: Any) -> StrategyRecord:
    """Map a ``strategies`` row (Core ``Row`` or mapping) to :class:`StrategyRecord`."""
    m = row._mapping if hasattr(row, "_mapping") else row
    return StrategyRecord(
        id=m["id"],
        name=m["name"],
        type=StrategyType(m["type"]),
        source=StrategySource(m["source"]),
        status=StrategyStatus(m["status"]),
        code=m["code"],
        code_hash=m["code_hash"],
        params=m["params"],
        timeframe=m["timeframe"],
        symbols=tuple(m["symbols"] or ()),
        score=m["score"],
        live_score=m["live_score"],
        metrics=m["metrics"],
        last_backtested_at=utc(m["last_backtested_at"]),
        created_at=utc(m["created_at"]),
        claim_token=m["claim_token"],
    )
