"""The LIVE set: the strategies the executor runs, read from the store (and the wind-down of
those that stopped trading while holding something)."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Any

from sixbtc.app.container import Container
from sixbtc.core.errors import StaleClaim
from sixbtc.domain.risk import GLOBAL_SCOPE, TradingState, effective_state
from sixbtc.domain.strategy import StrategyRecord, StrategyStatus
from sixbtc.domain.timeframe import Timeframe
from sixbtc.domain.trading import Direction
from sixbtc.executor.engine import FAULT_REASON, LiveStrategy


def live_set(c: Container) -> list[LiveStrategy]:
    """The strategies the executor runs, by id: every LIVE strategy with a sub-account, plus
    (``active=False``) every other strategy that still holds a position or an order on its
    sub-account (wind-down: a retired strategy, or a record that cannot be read or run). A LIVE
    record that cannot be run (no parameters, unknown direction) is retired with
    ``executor:error`` and wound down; the others are run. The sub-account of a strategy that
    stopped trading and holds nothing is freed (a retirement interrupted before it freed it).

    Trading states (:mod:`sixbtc.domain.risk`; the stricter of the global one and the
    strategy's own): ACTIVE runs as above; REDUCING (a pause, a kill switch) runs with
    ``active=False``: no entries, positions wound down; HALTED (an emergency stop) leaves the
    strategy out: the executor sends nothing for it until a person resumes trading, and then
    picks it up from its resume point, as after a restart."""
    out = []
    live = {r.id: r for r in c.strategies.list_by_status(StrategyStatus.LIVE)}  # damaged rows left out
    states = c.trading_states
    global_state, own = states.get(GLOBAL_SCOPE).state, states.strategy_states()
    for sid, sub in c.trading.attached().items():
        state = effective_state(global_state, own[sid].state if sid in own else TradingState.ACTIVE)
        if state is TradingState.HALTED:  # sends nothing at all: not run (as if the executor were down for it)
            continue
        rec = live.get(sid)
        if rec is not None:
            try:
                out.append(replace(_live_strategy(rec, sub), active=state is TradingState.ACTIVE))
                continue
            except (KeyError, TypeError, ValueError) as exc:
                _retire_unrunnable(c, rec, f"cannot run the stored record: {type(exc).__name__}: {exc}")
        if c.trading.holdings(sid):  # only its positions and orders are needed to close them
            out.append(LiveStrategy(sid, rec.name if rec else f"strategy {sid}", "", (), Direction.LONG, {},
                                    sub["label"], sub["capital_usd"], active=False))
        elif rec is None and _stopped(c, sid):  # retired holding nothing, its sub-account left attached
            c.trading.free_subaccount(sid)
    return out


def _stopped(c: Container, sid: int) -> bool:
    """True when strategy ``sid`` is readable and not LIVE, or gone."""
    try:
        rec = c.strategies.get(sid)
    except (KeyError, TypeError, ValueError):  # a damaged record: its status is not known for sure
        return False
    return rec is None or rec.status is not StrategyStatus.LIVE


def _live_strategy(rec: StrategyRecord, sub: dict[str, Any]) -> LiveStrategy:
    if not rec.params or not rec.timeframe:
        raise ValueError("no parameters or timeframe stored")
    Timeframe.parse(rec.timeframe)
    direction = Direction((rec.metrics or {}).get("direction", "long"))
    return LiveStrategy(rec.id, rec.name, rec.timeframe, rec.symbols, direction, rec.params, sub["label"],
                        sub["capital_usd"])


def _retire_unrunnable(c: Container, rec: StrategyRecord, detail: str) -> None:
    if rec.status is StrategyStatus.LIVE:
        with contextlib.suppress(StaleClaim), c.engine.begin() as conn:
            c.strategies.transition_in(conn, rec.id, None, StrategyStatus.RETIRED, phase="executor",
                                       reason=FAULT_REASON, detail=detail)
            c.trading.free_subaccount_in(conn, rec.id)
