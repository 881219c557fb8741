"""``sixbtc emergency-stop``: halt all trading, cancel every open order, optionally close.

Order of work: (1) the global trading state becomes HALTED in the database, so a running
service sends nothing from its next pass on (it reads the state each pass; this process needs
no lease and works while the service runs); (2) every open order of every sub-account is
cancelled through the venue port; (3) with ``close_positions``, every position is closed by a
reduce-only market order (:mod:`sixbtc.executor.emergency`); (4) a last sweep cancels any
order placed meanwhile and counts what is left. Idempotent: a second run finds the state
HALTED and nothing open, and says so (``EmergencyReport.nothing_done``).

Reads and cancels are retried on :class:`~sixbtc.core.errors.TransientExchangeError`
(cancelling twice is harmless); a close is never re-sent: an ambiguous outcome is resolved by
querying its client order id. An account the venue cannot serve is reported and the others
are still handled.

The same module holds the other operator decisions on trading states, shared by the command
line (``sixbtc resume``) and the dashboard's API: :func:`pause` (one strategy REDUCING: no new
entries, the executor winds its positions down) and :func:`resume` (a scope ACTIVE again).
Every decision is recorded as a strategy event of phase ``control`` whose detail starts with
``by WHO`` (its ``ts`` is when), in the transaction that changes the state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sixbtc.adapters.storage.risk_repo import TradingStateRepository
from sixbtc.adapters.storage.strategy_repo import StrategyRepository
from sixbtc.core.errors import AmbiguousOrderOutcome, SixbtcError, TransientExchangeError
from sixbtc.domain.orders import VenueOrder, VenuePosition
from sixbtc.domain.risk import (
    GLOBAL_SCOPE,
    Halt,
    TradingState,
    TradingStateRecord,
    scope_strategy_id,
    strategy_scope,
)
from sixbtc.executor.emergency import Cancel, Close, plan_emergency
from sixbtc.executor.venue import ExchangeClient

T = TypeVar("T")
ATTEMPTS, BACKOFF_S = 4, 0.5
REASON = "emergency_stop"
#: Reason of a strategy state set by :func:`pause`.
PAUSE_REASON = "pause"
#: Phase and reasons of the events recorded for the operator's decisions.
PHASE = "control"
STOP_EVENT, PAUSE_EVENT, RESUME_EVENT = "control:emergency_stop", "control:pause", "control:resume"


@dataclass
class EmergencyReport:
    """What the emergency stop did.

    ``newly_halted``: False when the state was HALTED already. ``cancelled``, ``closed``:
    (account, symbol, client order id[, status]). ``manual``: open orders without a client
    order id (cancel them by hand). ``failures``: (account, what, error). ``open_orders``,
    ``open_positions``: what the final sweep still saw, per account.
    """

    newly_halted: bool
    halted_since: datetime | None
    accounts: list[str] = field(default_factory=list)
    cancelled: list[tuple[str, str, str]] = field(default_factory=list)
    closed: list[tuple[str, str, str, str]] = field(default_factory=list)
    manual: list[tuple[str, str, str]] = field(default_factory=list)
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    open_orders: dict[str, int] = field(default_factory=dict)
    open_positions: dict[str, int] = field(default_factory=dict)

    @property
    def nothing_done(self) -> bool:
        """True when this run changed nothing (already halted, nothing to cancel or close)."""
        return not (self.newly_halted or self.cancelled or self.closed or self.failures)

    @property
    def complete(self) -> bool:
        """True when no failure occurred and no order is left open (positions: only if asked to close)."""
        return not self.failures and not any(self.open_orders.values())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (``sixbtc emergency-stop --json`` and ``POST /api/emergency-stop``):
        the fields plus ``nothing_done`` and ``complete``; ``halted_since`` ISO-8601 UTC."""
        out = asdict(self)
        out["halted_since"] = self.halted_since.isoformat() if self.halted_since else None
        return {**out, "nothing_done": self.nothing_done, "complete": self.complete}


def _retry(call: Callable[[], T], sleep: Callable[[float], None]) -> T:
    for attempt in range(ATTEMPTS):
        try:
            return call()
        except TransientExchangeError:
            if attempt == ATTEMPTS - 1:
                raise
            sleep(BACKOFF_S * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def emergency_stop(states: TradingStateRepository, events: StrategyRepository,
                   open_venue: Callable[[], ExchangeClient], *, close_positions: bool, who: str,
                   sleep: Callable[[float], None] = time.sleep) -> EmergencyReport:
    """Halt, cancel, optionally close (see the module docstring).

    The global state becomes HALTED (reason ``emergency_stop``, detail ``by WHO; close_positions=…``)
    and a global event ``control:emergency_stop`` is recorded in the same transaction (also
    when it was HALTED already: every stop is recorded). ``open_venue`` builds the venue client
    only after that: a venue that cannot be opened or listed (a configuration error, the
    network) is a failure of the report, and trading stays halted.
    """
    detail = f"by {who}; close_positions={'yes' if close_positions else 'no'}"
    with states.engine.begin() as conn:
        newly = states.escalate_in(conn, Halt(GLOBAL_SCOPE, TradingState.HALTED, REASON, detail))
        events.global_event_in(conn, phase=PHASE, reason=STOP_EVENT,
                               detail=detail if newly else f"{detail} (already HALTED)")
    since = states.get(GLOBAL_SCOPE).since
    report = EmergencyReport(newly, since)
    try:
        venue = open_venue()
        report.accounts = [s.address for s in _retry(venue.subaccounts, sleep)]
    except SixbtcError as exc:
        report.failures.append(("venue", "open the venue and list the sub-accounts", f"{type(exc).__name__}: {exc}"))
        return report
    since_ms = int(since.timestamp() * 1000) if since else 0
    orders, positions = _read(venue, report, sleep, with_positions=close_positions)
    plan = plan_emergency(orders, positions, close_positions=close_positions, halted_since_ms=since_ms)
    report.manual = plan.manual
    _cancel(venue, plan.cancels, report, sleep)
    for close in plan.closes:
        _close(venue, close, report, sleep)
    late, _ = _read(venue, report, sleep, with_positions=False)  # orders a running pass placed meanwhile
    _cancel(venue, plan_emergency(late, {}, close_positions=False, halted_since_ms=since_ms).cancels, report, sleep)
    final_orders, final_positions = _read(venue, report, sleep, with_positions=True)
    report.open_orders = {a: len(o) for a, o in final_orders.items()}
    report.open_positions = {a: len(p) for a, p in final_positions.items()}
    return report


def _read(venue: ExchangeClient, report: EmergencyReport, sleep: Callable[[float], None], *,
          with_positions: bool) -> tuple[dict[str, list[VenueOrder]], dict[str, list[VenuePosition]]]:
    orders: dict[str, list[VenueOrder]] = {}
    positions: dict[str, list[VenuePosition]] = {}
    for account in report.accounts:
        try:
            orders[account] = _retry(lambda a=account: venue.open_orders(a), sleep)
            if with_positions:
                positions[account] = _retry(lambda a=account: venue.positions(a), sleep)
        except SixbtcError as exc:
            report.failures.append((account, "read open orders and positions", f"{type(exc).__name__}: {exc}"))
    return orders, positions


def _cancel(venue: ExchangeClient, cancels: list[Cancel], report: EmergencyReport, sleep: Callable[[float], None]) -> None:
    for c in cancels:
        try:
            if _retry(lambda c=c: venue.cancel_order(c.account, c.symbol, c.client_order_id), sleep):
                report.cancelled.append((c.account, c.symbol, c.client_order_id))
        except SixbtcError as exc:
            report.failures.append((c.account, f"cancel {c.symbol} {c.client_order_id}", f"{type(exc).__name__}: {exc}"))


def _close(venue: ExchangeClient, close: Close, report: EmergencyReport, sleep: Callable[[float], None]) -> None:
    req = close.request
    try:
        try:
            status = str(venue.place_order(close.account, req).status)
        except AmbiguousOrderOutcome:  # never re-sent: ask the venue what became of this id
            found = _retry(lambda: venue.query_order(close.account, req.symbol, req.client_order_id), sleep)
            status = str(found.status) if found is not None else "unknown (not found on the venue)"
        report.closed.append((close.account, req.symbol, req.client_order_id, status))
    except SixbtcError as exc:
        report.failures.append((close.account, f"close {req.symbol} {req.qty:g}", f"{type(exc).__name__}: {exc}"))


def pause(states: TradingStateRepository, events: StrategyRepository, strategy_id: int, who: str) -> bool:
    """Pause one strategy: its state becomes REDUCING (reason ``pause``): no new entries, the
    executor winds its positions down with reduce-only orders; it keeps its status and
    sub-account. Returns True when the state changed (an event ``control:pause`` is then
    recorded); False when it was REDUCING or HALTED already (nothing recorded)."""
    detail = f"by {who}"
    with states.engine.begin() as conn:
        changed = states.escalate_in(conn, Halt(strategy_scope(strategy_id), TradingState.REDUCING,
                                                PAUSE_REASON, detail))
        if changed:
            events.event_in(conn, strategy_id, phase=PHASE, reason=PAUSE_EVENT, detail=detail)
    return changed


def resume(states: TradingStateRepository, events: StrategyRepository, scope: str,
           who: str) -> TradingStateRecord | None:
    """Set ``scope`` (``"global"`` or ``"strategy:<id>"``) ACTIVE again: a person's decision
    (``sixbtc resume``, the dashboard). The kill switches' windows start again from now.

    Returns
    -------
    TradingStateRecord or None
        The state it had, when it changed (an event ``control:resume`` is then recorded: global,
        or the strategy's); None when it was ACTIVE already (nothing recorded).
    """
    before = states.get(scope)
    with states.engine.begin() as conn:
        if not states.resume_in(conn, scope, f"by {who}"):
            return None
        detail = f"by {who}; was {before.state} ({before.reason or '-'})"
        sid = scope_strategy_id(scope)
        if sid is None:
            events.global_event_in(conn, phase=PHASE, reason=RESUME_EVENT, detail=detail)
        else:
            events.event_in(conn, sid, phase=PHASE, reason=RESUME_EVENT, detail=detail)
    return before
