"""Operator actions of the dashboard on one strategy: pause/resume, retire, re-test request.

Each action is recorded as a strategy event of phase ``control`` whose detail starts with
``by {who}`` (the event's ``ts`` is when), in the same transaction as its effect. Pause and
resume are the trading-state decisions of :mod:`sixbtc.app.emergency` (the same ones as
``sixbtc resume --strategy ID``); this module adds the checks of the API (the strategy exists,
a pause applies to a LIVE strategy only). The emergency stop itself is
:func:`sixbtc.app.emergency.emergency_stop`, called by the API as by ``sixbtc emergency-stop``.

* **pause** (LIVE only): the strategy's trading state becomes REDUCING: it enters nothing
  and the executor winds its open positions down (reduce-only); it stays LIVE with its
  sub-account. **resume** sets it ACTIVE again.
* **retire** (ACTIVE or LIVE): RETIRED now, claim fenced (a worker holding it loses its
  claim), sub-account freed when it holds nothing, else after the executor's wind-down.
* **re-test** (ACTIVE): its ``last_backtested_at`` is moved to just before the re-test cut-off
  (now − ``retest.interval_days``), so the next re-tester claims it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sixbtc.adapters.storage.tables import StrategyRow
from sixbtc.app import emergency
from sixbtc.app.container import Container
from sixbtc.app.retesting import retest_due_before
from sixbtc.core.errors import SixbtcError
from sixbtc.domain.risk import strategy_scope
from sixbtc.domain.strategy import StrategyRecord, StrategyStatus

T = StrategyRow.__table__
PHASE = emergency.PHASE


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


def pause(c: Container, strategy_id: int, who: str) -> dict[str, Any]:
    """Pause a LIVE strategy (:func:`sixbtc.app.emergency.pause`). Raises UnknownStrategy,
    ActionRefused (not LIVE, or its state is REDUCING or HALTED already)."""
    rec = _get(c, strategy_id, (StrategyStatus.LIVE,), "pause")
    if not emergency.pause(c.trading_states, c.strategies, strategy_id, who):
        state = c.trading_states.get(strategy_scope(strategy_id))
        raise ActionRefused(f"pause: strategy {strategy_id} ({rec.name}) is {state.state} already ({state.reason})")
    return {"strategy_id": strategy_id, "name": rec.name, "state": "REDUCING"}


def resume(c: Container, strategy_id: int, who: str) -> dict[str, Any]:
    """Set a strategy's own trading state ACTIVE (:func:`sixbtc.app.emergency.resume`; a global
    halt still applies). Raises UnknownStrategy, ActionRefused (its state is ACTIVE)."""
    rec = _get(c, strategy_id, tuple(StrategyStatus), "resume")
    before = emergency.resume(c.trading_states, c.strategies, strategy_scope(strategy_id), who)
    if before is None:
        raise ActionRefused(f"resume: strategy {strategy_id} ({rec.name}) is ACTIVE already")
    return {"strategy_id": strategy_id, "name": rec.name, "state": "ACTIVE", "was": str(before.state)}

