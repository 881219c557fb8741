"""Data page of the dashboard: coins, coverage per timeframe, gaps and freshness of the store."""

from __future__ import annotations

from typing import Any

from sixbtc.adapters.storage.mapping import utc
from sixbtc.app.container import Container
from sixbtc.domain.timeframe import Timeframe


def coverage(c: Container) -> list[dict[str, Any]]:
    """One row per stored candle series.

    Returns
    -------
    list of dict
        ``symbol``, ``timeframe``, ``first`` and ``last`` (open times, ISO-8601 UTC), ``rows``,
        ``expected`` (bars on the timeframe grid from first to last), ``missing`` (expected −
        rows: bars absent inside the span, i.e. gaps), ``coverage`` (rows / expected, fraction)
        and ``age_s`` (seconds from the close of the last candle to now; negative while it is
        still open), by symbol then timeframe.
    """
    now = c.clock.now()
    out = []
    for e in c.store.inventory():
        ms = Timeframe(e.timeframe).ms
        expected = int((e.last - e.first).total_seconds() * 1000 // ms) + 1
        close = e.last.to_pydatetime().timestamp() + ms / 1000
        out.append({"symbol": e.symbol, "timeframe": e.timeframe, "first": e.first.isoformat(),
                    "last": e.last.isoformat(), "rows": e.rows, "expected": expected,
                    "missing": max(0, expected - e.rows), "coverage": round(e.rows / expected, 6),
                    "age_s": round(now.timestamp() - close, 1), "full_history": e.is_full_history})
    return out


def data_view(c: Container) -> dict[str, Any]:
    """``coins`` (the coin registry: symbol, active, 24h volume USD, max leverage, timeframes),
    ``series`` (:func:`coverage`) and ``timeframes`` (``data.timeframes``)."""
    coins = [{"symbol": r["symbol"], "is_active": r["is_active"], "volume_24h_usd": r["volume_24h_usd"],
              "max_leverage": r["max_leverage"], "timeframes": r["timeframes"] or [],
              "updated_at": utc(r["updated_at"]).isoformat() if r["updated_at"] else None}
             for r in c.coins.active()]
    return {"coins": coins, "series": coverage(c), "timeframes": list(c.settings.data.timeframes)}
