"""Live / paper page of the dashboard: positions with stops and PnL, sub-accounts, orders,
the kill-switch state and the trading halt.

Unrealised PnL is marked at the close of the newest stored candle of each position's symbol
and timeframe (the executor trades closed candles of the store, so that is the price it knows);
``mark_price`` None when the store has none.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sixbtc.app.container import Container
from sixbtc.core.errors import DataError
from sixbtc.domain.risk import GLOBAL_SCOPE, TradingState
from sixbtc.domain.trading import Direction


def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime) else v


def _mark(c: Container, symbol: str, timeframe: str) -> float | None:
    """Close of the newest stored candle, or None."""
    try:
        df = c.store.read_candles(symbol, timeframe)
    except (DataError, OSError, ValueError):
        return None
    return float(df["close"].iloc[-1]) if len(df) else None


def positions(c: Container) -> list[dict[str, Any]]:
    """Open positions with ``strategy`` (name), ``stop_price``, ``target_price``, ``mark_price``
    and ``unrealised_pnl_usd`` (direction × qty × (mark − entry), USD, before exit fees)."""
    rows = c.trading.open_positions()
    names = c.dashboard.names({p["strategy_id"] for p in rows})
    marks: dict[tuple[str, str], float | None] = {}
    out = []
    for p in rows:
        key = (p["symbol"], p["timeframe"])
        if key not in marks:
            marks[key] = _mark(c, *key)
        mark = marks[key]
        sign = Direction(p["direction"]).sign
        upnl = None if mark is None else round(sign * p["qty"] * (mark - p["entry_price"]), 6)
        out.append({**{k: _iso(v) for k, v in p.items()}, "strategy": names.get(p["strategy_id"]),
                    "mark_price": mark, "unrealised_pnl_usd": upnl})
    return out


def kill_switch(c: Container) -> dict[str, Any]:
    """The trading states (:mod:`sixbtc.domain.risk`, the table ``sixbtc status`` and
    ``sixbtc emergency-stop`` use) and the configured kill-switch thresholds (fractions).

    Keys: ``state`` (global ACTIVE / REDUCING / HALTED), ``halted`` (it is HALTED), ``since``
    (ISO-8601 UTC or None), ``reason``, ``detail``; ``paused``: the strategies whose own
    state is not ACTIVE (``id``, ``name``, ``state``, ``reason``, ``detail``, ``since``);
    ``strategy_session_loss``, ``global_drawdown_24h``, ``grace_minutes``."""
    ks = c.settings.kill_switch
    g = c.trading_states.get(GLOBAL_SCOPE)
    own = c.trading_states.strategy_states()
    names = c.dashboard.names(set(own))
    return {"state": str(g.state), "halted": g.state is TradingState.HALTED, "since": _iso(g.since),
            "reason": g.reason, "detail": g.detail,
            "paused": [{"id": i, "name": names.get(i), "state": str(r.state), "reason": r.reason,
                        "detail": r.detail, "since": _iso(r.since)} for i, r in sorted(own.items())],
            "strategy_session_loss": ks.strategy_session_loss, "global_drawdown_24h": ks.global_drawdown_24h,
            "grace_minutes": ks.grace_minutes}


def live_view(c: Container, orders: int = 100) -> dict[str, Any]:
    """Everything the Live / paper page shows.

    Returns
    -------
    dict
        ``mode`` (``paper`` while ``executor.dry_run``), ``positions`` (:func:`positions`),
        ``subaccounts`` (label, mode, strategy, capital, balance, realised and unrealised PnL
        in USD, open positions, trades), ``orders`` (newest ``orders``), ``kill_switch``
        (:func:`kill_switch`) and ``totals`` (capital, balance, realised and unrealised PnL, USD).
    """
    pos = positions(c)
    upnl: dict[str, float] = {}
    for p in pos:
        upnl[p["subaccount"]] = upnl.get(p["subaccount"], 0.0) + (p["unrealised_pnl_usd"] or 0.0)
    subs = c.dashboard.subaccounts()
    names = c.dashboard.names({s["strategy_id"] for s in subs if s["strategy_id"] is not None})
    for s in subs:
        s["strategy"] = names.get(s["strategy_id"])
        s["unrealised_pnl_usd"] = round(upnl.get(s["label"], 0.0), 6)
    totals = {k: round(sum(s[k] for s in subs), 6)
              for k in ("capital_usd", "balance_usd", "realised_pnl_usd", "unrealised_pnl_usd")}
    return {"mode": "paper" if c.settings.executor.dry_run else "live", "positions": pos,
            "subaccounts": [{k: _iso(v) for k, v in s.items()} for s in subs],
            "orders": [{k: _iso(v) for k, v in o.items()} for o in c.dashboard.orders(orders)],
            "kill_switch": kill_switch(c), "totals": totals}
