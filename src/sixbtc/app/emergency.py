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
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sixbtc.adapters.storage.risk_repo import TradingStateRepository
from sixbtc.core.errors import AmbiguousOrderOutcome, SixbtcError, TransientExchangeError
from sixbtc.domain.orders import VenueOrder, VenuePosition
from sixbtc.domain.risk import GLOBAL_SCOPE, Halt, TradingState
from sixbtc.executor.emergency import Cancel, Close, plan_emergency
from sixbtc.executor.venue import ExchangeClient

T = TypeVar("T")
ATTEMPTS, BACKOFF_S = 4, 0.5
REASON = "emergency_stop"


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


def _retry(call: Callable[[], T], sleep: Callable[[float], None]) -> T:
    for attempt in range(ATTEMPTS):
        try:
            return call()
        except TransientExchangeError:
            if attempt == ATTEMPTS - 1:
                raise
            sleep(BACKOFF_S * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def emergency_stop(states: TradingStateRepository, open_venue: Callable[[], ExchangeClient], *, close_positions: bool,
                   detail: str = "sixbtc emergency-stop", sleep: Callable[[float], None] = time.sleep) -> EmergencyReport:
    """Halt, cancel, optionally close (see the module docstring).

    ``open_venue`` builds the venue client only after the state is HALTED: a venue that cannot
    be opened or listed (a configuration error, the network) is a failure of the report, and
    trading stays halted.
    """
    newly = states.escalate(Halt(GLOBAL_SCOPE, TradingState.HALTED, REASON, detail))
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
