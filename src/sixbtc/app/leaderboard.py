"""Pool leaderboard of the dashboard: ACTIVE and LIVE strategies with their selection figures."""

from __future__ import annotations

from typing import Any

from sixbtc.app.container import Container
from sixbtc.app.pool_view import pool_row
from sixbtc.domain.strategy import StrategyStatus


def leaderboard(c: Container, *, type_: str | None = None, timeframe: str | None = None,
                source: str | None = None) -> dict[str, Any]:
    """The ACTIVE pool and the LIVE set, best score first, optionally filtered.

    Parameters
    ----------
    c : Container
    type_, timeframe, source : str or None
        Keep only rows with this strategy type (``MOM``...), timeframe (``1h``...) or generator
        source (``template``...); None = all.

    Returns
    -------
    dict
        ``count`` (rows), ``max_size`` and ``min_score`` (``active_pool``), ``rows``: id,
        status, source, ``trading_state`` (the strategy's own: ACTIVE, or REDUCING / HALTED when
        paused or stopped by a kill switch) and the figures of
        :func:`~sixbtc.app.pool_view.pool_row` (score 0-100, DSR and PBO 0-1, trials, OOS
        Sharpe, confirmation return and percentile, last re-test).
    """
    stopped = c.trading_states.strategy_states()
    rows = []
    for status in (StrategyStatus.LIVE, StrategyStatus.ACTIVE):
        for rec in c.strategies.list_by_status(status, by_score=True):
            if ((type_ and str(rec.type) != type_) or (timeframe and rec.timeframe != timeframe)
                    or (source and str(rec.source) != source)):
                continue
            rows.append({"id": rec.id, "status": str(rec.status), "source": str(rec.source),
                         "trading_state": str(stopped[rec.id].state) if rec.id in stopped else "ACTIVE",
                         **pool_row(rec)})
    rows.sort(key=lambda r: (-(r["score"] if r["score"] is not None else -1.0), r["id"]))
    ap = c.settings.active_pool
    return {"count": len(rows), "max_size": ap.max_size, "min_score": ap.min_score, "rows": rows}
