"""The status report shared by ``sixbtc status`` and the end of ``sixbtc run --once``."""

from __future__ import annotations

from typing import Any

from sixbtc.app.candidates import closest_candidates
from sixbtc.app.container import Container
from sixbtc.app.trading_status import trading_status
from sixbtc.domain.strategy import StrategyStatus


def status_report(c: Container, top: int = 10) -> dict[str, Any]:
    """Counts per status, rejections by reason, pool statistics, the LIVE set, trades,
    ``trials`` (simulations recorded in the trial ledger) and, when the pool is empty,
    ``closest_candidates`` (refused strategies with the best DSR and the gate that stopped
    each, :func:`~sixbtc.app.candidates.closest_candidates`; an empty list otherwise).

    Statistics of empty sets are None (JSON null).
    """
    stats = c.pool.stats()
    trades = c.trading.trade_summary()
    live = []
    for rec in c.strategies.list_by_status(StrategyStatus.LIVE, by_score=True):
        n, pnl = trades.get(rec.id, (0, 0.0))
        live.append({"name": rec.name, "type": str(rec.type), "timeframe": rec.timeframe, "score": rec.score,
                     "live_score": rec.live_score, "symbols": list(rec.symbols), "trades": n,
                     "pnl_usd": round(pnl, 4)})
    pool_top = [{"name": r.name, "type": str(r.type), "timeframe": r.timeframe, "score": r.score,
                 "oos_sharpe": (r.metrics or {}).get("sharpe"), "oos_trades": (r.metrics or {}).get("n_trades"),
                 "oos_win_rate": (r.metrics or {}).get("win_rate"),
                 "oos_expectancy": (r.metrics or {}).get("expectancy"),
                 "confirm": (r.metrics or {}).get("confirm")} for r in c.pool.top(top)]
    by_mode = c.trading.count_by_mode()
    return {
        "strategies_by_status": c.strategies.counts_by_status(),
        "rejections_by_reason": c.strategies.rejections_by_reason(),
        "pool": {"count": stats.count, "min_score": stats.min_score, "max_score": stats.max_score},
        "pool_top": pool_top,
        "live": live,
        "trades": {"paper": by_mode.get("paper", 0), "live": by_mode.get("live", 0)},
        "trials": c.trials.count(),
        "closest_candidates": closest_candidates(c) if stats.count == 0 else [],
        "trading": trading_status(c),
        "last_events": [{"strategy": e["strategy_name"], "from": e["from_status"], "to": e["to_status"],
                         "reason": e["reason"], "ts": e["ts"].isoformat() if e["ts"] else None}
                        for e in c.strategies.events(10)],
    }
