"""Strategy detail of the dashboard: code, parameters, results, equity, trades, lineage, events."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from sixbtc.app.container import Container
from sixbtc.app.pool_view import pool_row
from sixbtc.core.errors import DataError
from sixbtc.domain.risk import strategy_scope
from sixbtc.domain.timeframe import Timeframe

#: Most candles returned by :func:`candles`.
MAX_CANDLES = 2000
#: Metrics keys too large or too internal for the detail page (series, per-fold arrays).
HIDDEN_METRICS = ("daily_returns", "oos_daily", "series", "trade_returns")


def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime) else v


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: _iso(v) for k, v in d.items()}


def _results(c: Container, strategy_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any] | None]:
    """(per-timeframe aggregate rows, per-coin rows, equity) of the newest result of each key."""
    newest: dict[tuple[str, str, str | None], dict[str, Any]] = {}
    for r in c.results.for_strategy(strategy_id):
        newest[(r["kind"], r["timeframe"], r["symbol"])] = r
    per_tf, per_coin, equity = [], [], None
    for (kind, tf, sym), r in newest.items():
        row = {"kind": kind, "timeframe": tf, "symbol": sym, "score": r["score"], "params": r["params"],
               "is": r["is_metrics"], "oos": {k: v for k, v in (r["oos_metrics"] or {}).items()
                                              if not isinstance(v, (list, dict))}}
        (per_tf if sym is None else per_coin).append(row)
        if r["equity_curve"]:
            end = r["data_end"]
            oos = timedelta(days=c.settings.backtest.oos_days)
            equity = {"kind": kind, "timeframe": tf, "start": _iso(end - oos), "end": _iso(end),
                      "values": r["equity_curve"]}
    return per_tf, per_coin, equity


def _lineage(c: Container, genome: dict[str, Any] | None) -> dict[str, Any]:
    lin = (genome or {}).get("lineage") or {}
    parents = list(lin.get("parents") or [])
    ids = c.dashboard.strategy_ids(parents)
    return {"operation": lin.get("operation"), "generation": lin.get("generation", 0),
            "origins": list(lin.get("origins") or []),
            "parents": [{"name": p, "id": ids.get(p)} for p in parents],
            "template": (genome or {}).get("template") or (genome or {}).get("source")}


def strategy_detail(c: Container, strategy_id: int) -> dict[str, Any] | None:
    """One strategy as the detail page shows it, or None when it does not exist.

    Returns
    -------
    dict
        ``strategy`` (id, name, type, source, status, timeframe, symbols, score, live_score,
        code_hash, created_at, trading_state: its own ACTIVE / REDUCING / HALTED), ``code`` (Python source), ``params``, ``metrics``
        (scalar selection metrics), ``pool`` (:func:`~sixbtc.app.pool_view.pool_row`),
        ``results_by_timeframe`` and ``results_by_coin`` (newest row per kind/timeframe/coin:
        IS and OOS metrics), ``equity`` (normalised OOS equity curve, 1.0 = start, over
        ``start``..``end`` ISO-8601 UTC; None when none stored), ``trades`` (paper/live),
        ``positions`` (open), ``orders``, ``subaccount``, ``lineage`` and ``events``.
    """
    rec = c.strategies.get(strategy_id)
    if rec is None:
        return None
    per_tf, per_coin, equity = _results(c, strategy_id)
    metrics = {k: v for k, v in (rec.metrics or {}).items()
               if k not in HIDDEN_METRICS and not isinstance(v, (list, dict))}
    sub = c.trading.subaccount_of(strategy_id)
    return {
        "strategy": {"id": rec.id, "name": rec.name, "type": str(rec.type), "source": str(rec.source),
                     "status": str(rec.status), "timeframe": rec.timeframe, "symbols": list(rec.symbols),
                     "score": rec.score, "live_score": rec.live_score, "code_hash": rec.code_hash,
                     "created_at": _iso(rec.created_at),
                     "trading_state": str(c.trading_states.get(strategy_scope(rec.id)).state)},
        "code": rec.code, "params": rec.params or {}, "metrics": metrics, "pool": pool_row(rec),
        "results_by_timeframe": per_tf, "results_by_coin": per_coin, "equity": equity,
        "trades": [_jsonable(t) for t in c.trading.trades(strategy_id)],
        "positions": [_jsonable(p) for p in c.trading.open_positions(strategy_id)],
        "orders": [_jsonable(o) for o in c.dashboard.orders(100, strategy_id)],
        "subaccount": _jsonable(sub) if sub else None,
        "lineage": _lineage(c, c.dashboard.genome(strategy_id)),
        "events": [_jsonable(e) for e in c.dashboard.events_for(strategy_id)],
    }


def candles(c: Container, symbol: str, timeframe: str, start: datetime | None = None,
            end: datetime | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Stored candles of ``symbol``/``timeframe`` with open time in ``[start, end)``, the newest
    ``limit`` (at most :data:`MAX_CANDLES`; none when the series is not stored): ``time`` (open time, s since the epoch, UTC),
    ``open``, ``high``, ``low``, ``close``, ``volume``.

    Raises
    ------
    DataError
        If the timeframe or symbol is not a valid name.
    """
    try:
        Timeframe(timeframe)
    except ValueError as exc:
        raise DataError(f"unknown timeframe {timeframe!r}") from exc
    if not c.store.has(symbol, timeframe):
        return []
    df = c.store.read_candles(symbol, timeframe, pd.Timestamp(start) if start else None,
                              pd.Timestamp(end) if end else None)
    df = df.tail(max(1, min(limit, MAX_CANDLES)))
    secs = [int(ts.timestamp()) for ts in df["timestamp"]]
    return [{"time": int(t), "open": float(o), "high": float(h), "low": float(lo), "close": float(cl),
             "volume": float(v)}
            for t, o, h, lo, cl, v in zip(secs, df["open"], df["high"], df["low"], df["close"], df["volume"],
                                          strict=True)]
