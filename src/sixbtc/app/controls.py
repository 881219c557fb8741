"""Operator actions of the dashboard: emergency stop, pause/resume, retire, re-test request.

Each action is recorded as a strategy event of phase ``control`` whose detail starts with
``by {who}`` (the event's ``ts`` is when), in the same transaction as its effect
(:mod:`sixbtc.adapters.storage.control_repo`). What each one does in this version:

* **pause** (LIVE only): the executor runs the strategy halted (:func:`sixbtc.app.paper.live_set`
  passes it with ``active=False``): it enters nothing and its open positions are closed at
  market on their next bar (the executor flattens a halted strategy; it has no halt that keeps
  positions). The strategy stays LIVE with its sub-account; **resume** lets it trade again.
* **emergency stop**: records the trading halt (a global ``control:halt`` event) and pauses
  every LIVE strategy; while the halt holds, every strategy the executor runs is halted,
  including ones the rotator promotes afterwards. With ``close`` the LIVE strategies are also
  RETIRED (they leave LIVE for good; sub-accounts are freed once their positions are closed).
  :func:`clear_halt` ends the halt (paused strategies stay paused until resumed).
* **retire** (ACTIVE or LIVE): RETIRED now, claim fenced (a worker holding it loses its
  claim), sub-account freed when it holds nothing, else after the executor's wind-down.
* **re-test** (ACTIVE): its ``last_backtested_at`` is moved to just before the re-test cut-off
  (now − ``retest.interval_days``), so the next re-tester claims it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sixbtc.adapters.storage.control_repo import HALT, PAUSE, PHASE, RESUME, UNHALT
from sixbtc.adapters.storage.tables import StrategyRow
from sixbtc.app.container import Container
from sixbtc.app.retesting import retest_due_before
from sixbtc.core.errors import SixbtcError
from sixbtc.domain.strategy import StrategyRecord, StrategyStatus

T = StrategyRow.__table__


class UnknownStrategy(SixbtcError):
    """The strategy id names no stored strategy."""


class ActionRefused(SixbtcError):
    """The action does not apply to the strategy in its current status."""


def _get(c: Container, strategy_id: int, allowed: tuple[StrategyStatus, ...], action: str) -> StrategyRecord:
    rec = c.strategies.get(strategy_id)
    if rec is None:
        raise UnknownStrategy(f"strategy {strategy_id} does not exist")
    if rec.status not in allowed:
        names = " or ".join(str(s) for s in allowed)
        raise ActionRefused(f"{action}: strategy {strategy_id} ({rec.name}) is {rec.status}, not {names}")
    return rec


def pause(c: Container, strategy_id: int, who: str) -> dict[str, Any]:
    """Pause a LIVE strategy (module docstring). Raises UnknownStrategy, ActionRefused (not
    LIVE or already paused)."""
    rec = _get(c, strategy_id, (StrategyStatus.LIVE,), "pause")
    if strategy_id in c.controls.paused_ids():
        raise ActionRefused(f"pause: strategy {strategy_id} ({rec.name}) is paused already")
    with c.engine.begin() as conn:
        c.strategies.event_in(conn, strategy_id, phase=PHASE, reason=PAUSE, detail=f"by {who}")
    return {"strategy_id": strategy_id, "name": rec.name, "paused": True}


def resume(c: Container, strategy_id: int, who: str) -> dict[str, Any]:
    """Resume a paused LIVE strategy. Raises UnknownStrategy, ActionRefused (not LIVE, not paused)."""
    rec = _get(c, strategy_id, (StrategyStatus.LIVE,), "resume")
    if strategy_id not in c.controls.paused_ids():
        raise ActionRefused(f"resume: strategy {strategy_id} ({rec.name}) is not paused")
    with c.engine.begin() as conn:
        c.strategies.event_in(conn, strategy_id, phase=PHASE, reason=RESUME, detail=f"by {who}")
    return {"strategy_id": strategy_id, "name": rec.name, "paused": False}


def retire(c: Container, strategy_id: int, who: str, reason: str = "control:retire") -> dict[str, Any]:
    """Retire an ACTIVE or LIVE strategy (module docstring). Raises UnknownStrategy, ActionRefused."""
    rec = _get(c, strategy_id, (StrategyStatus.ACTIVE, StrategyStatus.LIVE), "retire")
    with c.engine.begin() as conn:
        c.strategies.transition_in(conn, strategy_id, None, StrategyStatus.RETIRED, phase=PHASE, reason=reason,
                                   detail=f"by {who}", claim_token=T.c.claim_token + 1)
        freed = c.trading.free_subaccount_in(conn, strategy_id)
    return {"strategy_id": strategy_id, "name": rec.name, "status": str(StrategyStatus.RETIRED),
            "subaccount_freed": freed}


def request_retest(c: Container, strategy_id: int, who: str) -> dict[str, Any]:
    """Make an ACTIVE strategy due for a re-test now. Raises UnknownStrategy, ActionRefused."""
    rec = _get(c, strategy_id, (StrategyStatus.ACTIVE,), "re-test")
    due = retest_due_before(c) - timedelta(seconds=1)
    with c.engine.begin() as conn:
        conn.execute(T.update().where(T.c.id == strategy_id).values(last_backtested_at=due))
        c.strategies.event_in(conn, strategy_id, phase=PHASE, reason="control:retest", detail=f"by {who}")
    return {"strategy_id": strategy_id, "name": rec.name, "due_since": due.isoformat()}


def emergency_stop(c: Container, who: str, close: bool = False) -> dict[str, Any]:
    """Halt trading and pause (with ``close``: retire) every LIVE strategy (module docstring).

    Returns
    -------
    dict
        ``halted`` (True), ``close``, ``paused`` and ``retired`` (names).
    """
    live = c.strategies.list_by_status(StrategyStatus.LIVE)
    paused_before = c.controls.paused_ids()
    with c.engine.begin() as conn:
        c.controls.global_event_in(conn, HALT, f"by {who}; close={'yes' if close else 'no'}; "
                                               f"{len(live)} LIVE strategies")
        for rec in live:
            if rec.id not in paused_before:
                c.strategies.event_in(conn, rec.id, phase=PHASE, reason=PAUSE, detail=f"by {who} (emergency stop)")
    retired = [retire(c, rec.id, who, reason="control:emergency_stop")["name"] for rec in live] if close else []
    return {"halted": True, "close": close, "paused": [r.name for r in live], "retired": retired}


def clear_halt(c: Container, who: str) -> dict[str, Any]:
    """End the trading halt (paused strategies stay paused). Raises ActionRefused when not halted."""
    if not c.controls.halt_state()["halted"]:
        raise ActionRefused("trading is not halted")
    with c.engine.begin() as conn:
        c.controls.global_event_in(conn, UNHALT, f"by {who}")
    return {"halted": False}


def trading_halted(c: Container) -> bool:
    """True while the emergency-stop halt holds."""
    return bool(c.controls.halt_state()["halted"])
