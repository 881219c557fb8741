"""The order submitter: journal order → venue, never twice for the same intent.

One order's life here (every status change is a compare-and-set in the store,
:meth:`~sixbtc.executor.ports.ExecutionStore.transition`, along
:data:`sixbtc.domain.orders.ORDER_TRANSITIONS`)::

    INTENT (stored by the executor's pass commit)   checkpoint "intent_stored"
      └─ CAS INTENT → SENT                           checkpoint "sent"
           └─ place_order(cloid)  ── ack ──►         checkpoint "acked"  → OPEN / FILLED / ...
                 │ OrderRejected ──► REJECTED (the caller records an event)
                 └ AmbiguousOrderOutcome / TransientExchangeError (timeout, 5xx, reset, 429):
                      query_order(cloid) with back-off (RetryPolicy) ──► the venue's state,
                      or UNKNOWN when the venue still does not know it (it may show it later:
                      the trade sync and the reconciliation adopt it then)

A write is never repeated blindly: after an ambiguous outcome the order is only *queried*;
no second ``place_order`` is ever made for a row that left INTENT — with one exception, on a
venue that refuses a reused client order id (``unique_client_order_ids``, the paper venue):
an order a crash left SENT or UNKNOWN is sent again with the **same** id
(:meth:`OrderSubmitter.resend`), so a request that never left the crashed process is made,
and one that arrived is refused as a duplicate and then read back; the venue holds at most
one order per intent either way. A crash between the SENT commit and the request is
otherwise indistinguishable from a request whose answer was lost. Reads (queries, fills,
balances) are retried with the same back-off (:meth:`OrderSubmitter.read`).

Crash checkpoints (for kill -9 tests, ``checkpoint`` callback; names in :data:`CHECKPOINTS`):
``intent_stored`` — the INTENT row is committed, nothing sent; ``sent`` — the row is SENT, the
request not yet made; ``acked`` — the venue answered, the answer not yet stored;
``fill_seen`` — the executor read a fill (e.g. a partial fill) it has not yet committed
(:class:`~sixbtc.executor.engine.Executor`). A restart resolves each of these states through
:mod:`sixbtc.executor.reconcile`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from sixbtc.core.errors import DuplicateClientOrderId, OrderRejected, TransientExchangeError
from sixbtc.domain.orders import ORDER_TRANSITIONS, OrderStatus, VenueOrder
from sixbtc.executor.ports import ExecutionStore, JournalOrder
from sixbtc.executor.venue import ExchangeClient

INTENT_STORED, SENT, ACKED, FILL_SEEN = "intent_stored", "sent", "acked", "fill_seen"
CHECKPOINTS = (INTENT_STORED, SENT, ACKED, FILL_SEEN)
T = TypeVar("T")
Checkpoint = Callable[[str, JournalOrder | None], None]


@dataclass(frozen=True)
class RetryPolicy:
    """Back-off of order queries and reads: ``attempts`` tries, the k-th waits
    ``min(base_delay_s × 2^(k-1), max_delay_s)`` seconds before it (the first waits nothing).

    Defaults (6 tries, 0.5 s base) wait 0.5 + 1 + 2 + 4 + 8 = 15.5 s in all: Hyperliquid may
    answer "order not found" for a few seconds after an ack.
    """

    attempts: int = 6
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0

    def delays(self) -> Iterator[float]:
        """Seconds to wait before each try (``attempts`` values, the first 0)."""
        for k in range(max(self.attempts, 1)):
            yield 0.0 if k == 0 else min(self.base_delay_s * 2 ** (k - 1), self.max_delay_s)


class OrderSubmitter:
    """Sends journal orders to ``venue`` (see the module docstring).

    Parameters
    ----------
    venue : ExchangeClient
    store : ExecutionStore
        Holds the journal (compare-and-set of each order's status).
    retry : RetryPolicy
    sleep : callable
        ``sleep(seconds)`` (tests pass a recorder).
    checkpoint : callable, optional
        ``checkpoint(name, order)`` at each of :data:`CHECKPOINTS` (crash tests).
    """

    def __init__(self, venue: ExchangeClient, store: ExecutionStore, retry: RetryPolicy | None = None, *,
                 sleep: Callable[[float], None] = time.sleep, checkpoint: Checkpoint | None = None) -> None:
        self.venue, self.store, self.retry, self.sleep = venue, store, retry or RetryPolicy(), sleep
        self.checkpoint: Checkpoint = checkpoint or (lambda name, order: None)
        self.places = 0  # place_order calls made (benchmarks count duplicates against it)

    # -- writes ----------------------------------------------------------------------------
    def submit(self, order: JournalOrder) -> OrderStatus:
        """Send an INTENT order once; returns its status afterwards.

        Returns the current status without sending when the row is no longer INTENT (another
        pass moved it). Raises ``LeaseLost`` from the store (nothing sent then).
        """
        self.checkpoint(INTENT_STORED, order)
        if order.status is not OrderStatus.INTENT or not self._move(order, OrderStatus.SENT):
            return order.status
        self.checkpoint(SENT, order)
        try:
            self.places += 1
            ack = self.venue.place_order(order.account, order.request())
        except OrderRejected as exc:
            self._move(order, OrderStatus.REJECTED, detail=f"{type(exc).__name__}: {exc}"[:2000])
            return order.status
        except TransientExchangeError:  # ambiguous: it may have reached the venue — query, never resend
            return self.resolve(order)
        self.checkpoint(ACKED, order)
        self.adopt(order, ack)
        return order.status

    def resend(self, order: JournalOrder) -> OrderStatus:
        """After a restart: send an order left SENT or UNKNOWN again with the same client order
        id, on a venue with ``unique_client_order_ids`` only (see the module docstring).

        An ack is adopted; a :class:`~sixbtc.core.errors.DuplicateClientOrderId` refusal (the
        first request arrived) or an ambiguous outcome is resolved by querying the id; any
        other refusal marks it REJECTED. Other venues: :meth:`resolve` (query only).
        """
        if order.status not in (OrderStatus.SENT, OrderStatus.UNKNOWN):
            return order.status
        if not getattr(self.venue, "unique_client_order_ids", False):
            return self.resolve(order)
        self.checkpoint(SENT, order)
        try:
            self.places += 1
            ack = self.venue.place_order(order.account, order.request())
        except (DuplicateClientOrderId, TransientExchangeError):
            return self.resolve(order)
        except OrderRejected as exc:
            self._move(order, OrderStatus.REJECTED, detail=f"{type(exc).__name__}: {exc}"[:2000])
            return order.status
        self.checkpoint(ACKED, order)
        self.adopt(order, ack)
        return order.status

    def adopt_if_known(self, order: JournalOrder) -> bool:
        """An INTENT found after a restart: True (and the venue's state adopted) when the venue
        knows its client order id. The submitter never sends a row still INTENT, so this only
        happens if another process sent it; one read (retried on transient errors) suffices."""
        known = self.read(lambda: self.venue.query_order(order.account, order.symbol, order.client_order_id))
        if known is None or order.status is not OrderStatus.INTENT or not self._move(order, OrderStatus.SENT):
            return False
        self.adopt(order, known)
        return True

    def cancel(self, order: JournalOrder) -> OrderStatus:
        """Cancel a resting order (an INTENT is canceled without sending); returns its status.

        The cancel request is one write; its outcome is then read back from the venue (a lost
        answer is resolved by the query, a cancel that lost the race to a fill shows FILLED).
        """
        if order.status is OrderStatus.INTENT:
            self._move(order, OrderStatus.CANCELED, detail="canceled before it was sent")
            return order.status
        with contextlib.suppress(OrderRejected, TransientExchangeError):  # the query below tells what happened
            self.venue.cancel_order(order.account, order.symbol, order.client_order_id)
        return self.refresh(order)

    # -- reads -------------------------------------------------------------------------------
    def resolve(self, order: JournalOrder) -> OrderStatus:
        """Query a SENT (or UNKNOWN) order with back-off until the venue shows it; UNKNOWN
        when it never does within the policy. Never places."""
        known = self._query(order)
        if known is not None:
            self.adopt(order, known)
        elif order.status is OrderStatus.SENT:
            self._move(order, OrderStatus.UNKNOWN, detail="not found on the venue after an ambiguous outcome")
        return order.status

    def refresh(self, order: JournalOrder) -> OrderStatus:
        """Read the order's state from the venue once (reads retried) and adopt it."""
        known = self.read(lambda: self.venue.query_order(order.account, order.symbol, order.client_order_id))
        if known is not None:
            self.adopt(order, known)
        return order.status

    def read(self, call: Callable[[], T]) -> T:
        """``call()`` retried on ``TransientExchangeError`` with the back-off; the last error is raised."""
        error: TransientExchangeError | None = None
        for delay in self.retry.delays():
            if delay:
                self.sleep(delay)
            try:
                return call()
            except TransientExchangeError as exc:
                error = exc
        assert error is not None
        raise error

    def _query(self, order: JournalOrder) -> VenueOrder | None:
        """The venue's order of this client order id, asked up to ``attempts`` times (None
        answers and transient errors both retried: "not found" is normal just after an ack)."""
        for delay in self.retry.delays():
            if delay:
                self.sleep(delay)
            try:
                known = self.venue.query_order(order.account, order.symbol, order.client_order_id)
            except TransientExchangeError:
                continue
            if known is not None:
                return known
        return None

    # -- the journal -------------------------------------------------------------------------
    def adopt(self, order: JournalOrder, known: VenueOrder) -> None:
        """Move ``order`` to the venue's status (when the table allows it) and store the venue's
        id, filled quantity, average price and, at the first answer, its time (``acked_ms``)."""
        values = {"venue_order_id": known.venue_order_id, "filled_qty": known.filled_qty,
                  "filled_price": known.avg_fill_price}
        if order.acked_ms is None:
            values["acked_ms"] = known.ts_ms
        dst = known.status
        if dst is order.status and dst not in ORDER_TRANSITIONS[dst]:
            return  # nothing new (OPEN stays OPEN)
        if dst in ORDER_TRANSITIONS[order.status] and self._move(order, dst, **values):
            order.venue_order_id, order.filled_qty = known.venue_order_id, known.filled_qty
            order.acked_ms = order.acked_ms if order.acked_ms is not None else known.ts_ms

    def _move(self, order: JournalOrder, dst: OrderStatus, **values: object) -> bool:
        if self.store.transition(order.client_order_id, order.status, dst, **values):
            order.status = dst
            return True
        return False
