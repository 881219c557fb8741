"""The trading part of ``sixbtc status``: mode, venue, trading states (kill switches, emergency
stop), sub-accounts with their balances, open positions with their stops, last reconciliation.

Read from the database only (``status`` never contacts the venue): balances are the
executor's records (capital + realised PnL). Reconciliation: the newest record of the
executor's reconciliations with its venue (``reconciliations``, written at each executor start:
:mod:`sixbtc.app.reconciliation`); before the first one it reads ``"not yet reconciled"`` with
``ts`` null.
"""

from __future__ import annotations

from typing import Any

from sixbtc.app.container import Container
from sixbtc.domain.risk import GLOBAL_SCOPE, TradingStateRecord

NOT_RECONCILED = "not yet reconciled"


def _state(rec: TradingStateRecord) -> dict[str, Any]:
    return {"scope": rec.scope, "state": str(rec.state), "reason": rec.reason or None, "detail": rec.detail or None,
            "since": rec.since.isoformat() if rec.since else None}


def trading_status(c: Container) -> dict[str, Any]:
    """The ``trading`` object of the status report.

    Keys: ``mode`` (``paper``/``live``), ``venue``, ``global_state`` and ``strategy_states``
    (non-ACTIVE strategy scopes; each ``{scope, state, reason, detail, since}``), ``subaccounts``
    (``{label, mode, strategy, capital_usd, balance_usd}``), ``positions`` (``{strategy,
    subaccount, symbol, timeframe, direction, qty, entry_price, entry_ts, stop_price,
    target_price}``) and ``reconciliation`` (``{ts, status, mode, venue, summary, mismatches,
    seconds}``: ``status`` is ``ok``, ``mismatch``, ``failed`` or :data:`NOT_RECONCILED`).
    """
    live = not c.settings.executor.dry_run
    states = c.trading_states.all()
    rows, open_positions = c.trading.subaccounts(), c.trading.open_positions()
    names = _names(c, {r["strategy_id"] for r in rows + open_positions if r["strategy_id"] is not None})
    subs = [{"label": s["label"], "mode": s["mode"], "strategy": _name(names, s["strategy_id"]),
             "capital_usd": s["capital_usd"], "balance_usd": s["balance_usd"]} for s in rows]
    positions = [{"strategy": _name(names, p["strategy_id"]), "subaccount": p["subaccount"], "symbol": p["symbol"],
                  "timeframe": p["timeframe"], "direction": p["direction"], "qty": p["qty"],
                  "entry_price": p["entry_price"], "entry_ts": p["entry_ts"].isoformat() if p["entry_ts"] else None,
                  "stop_price": p["stop_price"], "target_price": p["target_price"]} for p in open_positions]
    return {
        "mode": "live" if live else "paper",
        "venue": c.settings.exchange.execution_venue if live else "paper",
        "global_state": _state(c.trading_states.get(GLOBAL_SCOPE)),
        "strategy_states": [_state(r) for s, r in sorted(states.items()) if s != GLOBAL_SCOPE and r.state != "ACTIVE"],
        "subaccounts": subs,
        "positions": positions,
        "reconciliation": _reconciliation(c),
    }


def _reconciliation(c: Container) -> dict[str, Any]:
    last = c.reconciliations.last()
    if last is None:
        return {"ts": None, "status": NOT_RECONCILED, "mode": None, "venue": None, "summary": None, "mismatches": [],
                "seconds": None}
    return {"ts": last["ts"].isoformat(), "status": last["outcome"], "mode": last["mode"], "venue": last["venue"],
            "summary": last["summary"], "mismatches": last["mismatches"], "seconds": last["seconds"]}


def _names(c: Container, ids: set[int]) -> dict[int, str]:
    """Strategy id → name (a record that cannot be read keeps its id)."""
    out = {}
    for sid in ids:
        try:
            rec = c.strategies.get(sid)
        except (KeyError, TypeError, ValueError):
            continue
        if rec is not None:
            out[sid] = rec.name
    return out


def _name(names: dict[int, str], sid: int | None) -> str | None:
    if sid is None:
        return None
    return names.get(sid, f"strategy {sid}")
