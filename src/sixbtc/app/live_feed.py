"""What the dashboard's WebSocket pushes: a small snapshot of what changes, and new events."""

from __future__ import annotations

from typing import Any

from sixbtc.app.container import Container
from sixbtc.domain.risk import GLOBAL_SCOPE, TradingState


def snapshot(c: Container) -> dict[str, Any]:
    """The pushed state: ``counts`` (status → strategies), ``pool`` (count), ``halted``,
    ``trading_state`` (global ACTIVE / REDUCING / HALTED), ``halted`` (it is HALTED),
    ``paused`` (ids of the strategies whose own state is not ACTIVE), ``positions`` (open: id, strategy id, symbol, direction, qty, entry and
    stop prices, subaccount), ``subaccounts`` (label → balance and realised PnL, USD), ``trades``
    (per mode) and ``last_event_id``.

    Cheap by design (counts and small tables; no candle reads): computed every
    ``api.push_interval_s`` per connected client.
    """
    subs = c.dashboard.subaccounts()
    state = c.trading_states.get(GLOBAL_SCOPE).state
    pos = [{"id": p["id"], "strategy_id": p["strategy_id"], "symbol": p["symbol"], "direction": p["direction"],
            "qty": p["qty"], "entry_price": p["entry_price"], "stop_price": p["stop_price"],
            "subaccount": p["subaccount"]} for p in c.trading.open_positions()]
    return {
        "counts": c.strategies.counts_by_status(), "pool": c.pool.stats().count,
        "trading_state": str(state), "halted": state is TradingState.HALTED,
        "paused": sorted(c.trading_states.strategy_states()),
        "positions": pos,
        "subaccounts": {s["label"]: {"balance_usd": s["balance_usd"], "realised_pnl_usd": s["realised_pnl_usd"]}
                        for s in subs},
        "trades": c.trading.count_by_mode(), "last_event_id": c.dashboard.last_event_id(),
    }


def new_events(c: Container, after: int, limit: int = 100) -> list[dict[str, Any]]:
    """Events with id above ``after``, oldest first, as JSON-ready dicts (``ts`` ISO-8601 UTC)."""
    return [{**e, "ts": e["ts"].isoformat() if e["ts"] else None} for e in c.dashboard.events_after(after, limit)]
