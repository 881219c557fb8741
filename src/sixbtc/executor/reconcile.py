"""Recovery at start: reconcile the journal, fills and positions with the venue (the truth).

:func:`reconcile` runs once, before the executor's first order (:meth:`Executor.reconcile`,
called by the first :meth:`~Executor.sync` or :meth:`~Executor.on_bar`). In this order:

1. orders left SENT or UNKNOWN (a crash or an ambiguous outcome after the request left) are
   resolved by querying their client order id with back-off; those still unknown stay
   UNKNOWN (never re-sent: a late fill is adopted by the trade sync). On a venue that refuses
   a reused client order id (the paper venue) they are instead sent again with the same id
   (:meth:`~sixbtc.executor.submitter.OrderSubmitter.resend`): a crash between the SENT
   commit and the request then leaves no intent unsent, and none is placed twice. OPEN and
   partially filled orders are read back (a stop that filled, an order cancelled by ``emergency-stop``);
2. a trade sync of **every** strategy's account adopts every fill the store did not record
   (de-duplicated by venue trade id): positions opened while the executor was down, trades
   whose stop or target filled meanwhile, entry fills that grew a position (its stop and
   target are replaced by whole-size ones), and the fills of an order whose FILLED state was
   stored by a pass that a crash cut before it stored the fills (the account then holds
   nothing the store knows of, and the ordinary sync would not read it);
3. orders left INTENT were never sent (the submitter moves a row to SENT before it sends): the
   venue is asked once whether it knows the client order id — adopted if so, else sent once.
   The entries of a strategy no longer trading, and entries decided on a candle older than the
   data-freshness limit, are cancelled instead; when any was sent or adopted, a second trade
   sync books their fills (a market order fills at once on Hyperliquid);
4. the venue's positions are compared with the open positions of the store, per account and
   symbol: an unexplained difference stops the executor from trading that symbol on that
   account and raises an alert (strategy event ``executor:mismatch``);
5. every open position without a resting stop (and target) on the venue gets them again, under
   new deterministic client order ids (leg ``sl#1``, ``sl#2`` …); the time without a stop is
   measured from the entry fill to the new stop's acknowledgement.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sixbtc.core.errors import OrderRejected
from sixbtc.domain.orders import OrderStatus
from sixbtc.domain.timeframe import Timeframe
from sixbtc.executor.book import Book
from sixbtc.executor.fill_sync import MAX_STOP_ATTEMPTS
from sixbtc.executor.ports import ENTRY, STOP, BarChanges, JournalOrder
from sixbtc.executor.positions import QTY_EPS

if TYPE_CHECKING:
    from sixbtc.executor.engine import Executor


@dataclass
class ReconcileReport:
    """What :func:`reconcile` did. ``resolved``: client order id → status found for orders left
    SENT/UNKNOWN/OPEN; ``sent``/``adopted``/``canceled``: INTENT orders; ``fills``: fills adopted;
    ``stops``: protective orders placed again; ``mismatches``: (account, symbol, detail);
    ``seconds``: wall time taken."""

    resolved: dict[str, str] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    canceled: list[str] = field(default_factory=list)
    fills: int = 0
    stops: list[str] = field(default_factory=list)
    mismatches: list[tuple[str, str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        """One line for the log."""
        return (f"reconciled in {self.seconds:.2f} s: {len(self.resolved)} orders read back, {self.fills} fills "
                f"adopted, {len(self.sent)} intents sent, {len(self.adopted)} adopted, {len(self.canceled)} "
                f"cancelled, {len(self.stops)} protective orders re-placed, {len(self.mismatches)} mismatches")


def reconcile(ex: Executor, now_ms: int) -> ReconcileReport:
    """Reconcile ``ex`` with its venue (see the module docstring); returns the report.

    Raises what the venue's reads raise after their retries (``TransientExchangeError``) and
    ``LeaseLost``: the executor must then not trade (nothing new was sent).
    """
    t0, report = time.monotonic(), ReconcileReport()
    ex.reconciled = True
    for o in sorted(ex.orders.values(), key=lambda o: o.client_order_id):
        if o.status in (OrderStatus.SENT, OrderStatus.UNKNOWN):
            report.resolved[o.client_order_id] = str(ex.submitter.resend(o))
        elif o.status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED):
            report.resolved[o.client_order_id] = str(ex.submitter.refresh(o))
    report.fills = ex.sync(now_ms, every_account=True)
    _prune(ex)
    _intents(ex, report, now_ms)
    if report.sent or report.adopted:  # a market order fills at once on a live venue: see it before comparing
        report.fills += ex.sync(now_ms)
    _positions(ex, report)
    _stops(ex, report, now_ms)
    report.seconds = time.monotonic() - t0
    ex.alert(report.summary())
    return report


def _prune(ex: Executor) -> None:
    """Forget orders that ended: pending market orders without fill, protective orders done."""
    for book in ex.books():
        for stream, o in list(book.pending.items()):
            if not o.is_live and o.filled_qty <= 0:
                del book.pending[stream]
        for stream, orders in list(book.protect.items()):
            book.protect[stream] = [o for o in orders if o.is_live]


def _intents(ex: Executor, report: ReconcileReport, now_ms: int) -> None:
    for o in sorted((o for o in ex.orders.values() if o.status is OrderStatus.INTENT),
                    key=lambda o: o.client_order_id):
        book = ex.book(o.strategy_id)
        if o.leg == ENTRY and (book.halted or _stale(ex, o, now_ms)):
            ex.submitter.cancel(o)
            report.canceled.append(o.client_order_id)
            book.pending.pop((o.symbol, o.timeframe), None)
            continue
        if ex.submitter.adopt_if_known(o):  # cannot happen through the submitter: another process sent it
            report.adopted.append(o.client_order_id)
        else:
            ex.send(o, now_ms)
            report.sent.append(o.client_order_id)


def _stale(ex: Executor, o: JournalOrder, now_ms: int) -> bool:
    """True when an entry's decision candle is older than the data-freshness limit."""
    risk = ex.risk
    limit = risk.stale_data_bars * Timeframe.parse(o.timeframe).ms + risk.stale_data_grace_minutes * 60_000
    return now_ms - o.signal_ms > limit


def _positions(ex: Executor, report: ReconcileReport) -> None:
    for book in ex.books():
        account = book.strategy.subaccount
        try:
            venue = {p.symbol: p.qty for p in ex.submitter.read(lambda a=account: ex.venue.positions(a))}
        except OrderRejected as exc:  # the venue does not know the account
            venue = {}
            if book.open:
                _mismatch(ex, book, next(iter(book.open))[0], f"the venue refuses the account: {exc}", report)
            continue
        ours: dict[str, float] = {}
        for (symbol, _), pos in book.open.items():
            sign = 1.0 if pos["direction"] == "long" else -1.0
            ours[symbol] = ours.get(symbol, 0.0) + sign * pos["qty"]
        for symbol in sorted(set(venue) | set(ours)):
            a, b = venue.get(symbol, 0.0), ours.get(symbol, 0.0)
            if abs(a - b) > max(QTY_EPS, 1e-9 * max(abs(a), abs(b))):
                _mismatch(ex, book, symbol, f"venue position {a:g}, recorded {b:g}", report)


def _mismatch(ex: Executor, book: Book, symbol: str, detail: str, report: ReconcileReport) -> None:
    changes = BarChanges(mode=str(ex.mode))
    ex.mismatch(book, symbol, detail, changes)
    ex.store.commit(changes)
    report.mismatches.append((book.strategy.subaccount, symbol, detail))


def _stops(ex: Executor, report: ReconcileReport, now_ms: int) -> None:
    changes = BarChanges(mode=str(ex.mode))
    for book in ex.books():
        for stream, pos in sorted(book.open.items()):
            if (book.strategy.subaccount, stream[0]) in ex.blocked or stream in book.pending:
                continue
            resting = {o.leg for o in book.protect.get(stream, []) if o.is_live}
            missing = [o for o in ex.next_protection(book, pos) if o.leg not in resting]
            if missing:
                book.protect.setdefault(stream, []).extend(missing)
                changes.intents += missing
                report.stops += [o.client_order_id for o in missing]
    if changes:
        ex.store.commit(changes)
        for o in changes.intents:
            ex.orders[o.client_order_id] = o
        for o in changes.intents:
            ex.send(o, now_ms)


__all__ = ["MAX_STOP_ATTEMPTS", "STOP", "ReconcileReport", "reconcile"]
