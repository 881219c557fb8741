"""The executor's trade sync: venue fills → positions, trades and protective orders.

A mixin of :class:`~sixbtc.executor.engine.Executor` (it uses the executor's venue, submitter,
store, books and journal orders). Per account holding a position or an order on its way:
the venue's fills of the look-back window not yet recorded (venue trade ids), oldest first;
each entry fill opens (or extends) its position, each closing fill books a trade
(:mod:`sixbtc.executor.positions`); a fill that matches no journal order or position is a
mismatch (the symbol is no longer traded on that account, alert event). The orders that
filled, and the market orders still on their way, are read back from the venue; every
position opened in the pass gets its stop and target as new journal orders. A position that an
entry's later partial fill grew after its stop and target were placed gets a new stop and
target for its whole quantity (under the next attempt number), sent before the smaller ones are
cancelled, so no part of the position is ever left without a stop. A close order (signal exit,
wind-down, unprotected exit) that ended short of its quantity — a market order is IOC: the venue
cancels what the book could not fill at once — while its position is still open is followed, in
the pass that books its fills, by a reduce-only market order for the rest (client order id leg
``exit#1``, ``exit#2`` …), until the position is closed: a decided exit never leaves part of the
position open. The follow-up is decided from what the journal and the fills say (the order's
final state, its new fills), so a restart that books those fills decides the same one.
"""

from __future__ import annotations

from typing import Any

from sixbtc.domain.orders import FundingPayment, OrderStatus, VenueFill
from sixbtc.domain.trading import ExitReason
from sixbtc.executor.book import Book, Stream
from sixbtc.executor.ports import ENTRY, EXIT, FLATTEN, PROTECT, BarChanges, JournalOrder
from sixbtc.executor.positions import (
    EXIT_REASONS,
    QTY_EPS,
    close_part,
    close_rest,
    exit_key,
    extend_position,
    funding_between,
    new_position,
    protective_orders,
)
from sixbtc.executor.submitter import FILL_SEEN

MISMATCH_REASON = "executor:mismatch"
#: Re-placements of a position's stop and target (client order id legs ``sl#1`` … ``sl#50``):
#: after a refused or missing stop, or a position grown by a later partial fill of its entry.
MAX_STOP_ATTEMPTS = 50
#: Follow-ups of a close order that ended short (client order id legs ``exit#1`` … ``exit#50``).
MAX_CLOSE_ATTEMPTS = 50
#: Market orders that close a whole position (their rest is followed up, see the module docstring).
MARKET_CLOSES = frozenset({EXIT, FLATTEN, PROTECT})


def undersized(orders: list[JournalOrder], qty: float) -> list[JournalOrder]:
    """The live protective orders among ``orders`` whose quantity is below ``qty`` (the
    position's, units of the coin) by more than a rounding error."""
    return [o for o in orders if o.is_live and o.qty < qty - max(QTY_EPS, 1e-9 * qty)]


class _Funding:
    """An account's funding payments of the sync window, read once on first use."""

    def __init__(self, ex: Any, account: str, since_ms: int) -> None:
        self.ex, self.account, self.since_ms = ex, account, since_ms
        self._payments: list[FundingPayment] | None = None

    def payments(self) -> list[FundingPayment]:
        if self._payments is None:
            self._payments = self.ex.submitter.read(lambda: self.ex.venue.funding_since(self.account, self.since_ms))
        return self._payments



class FillSync:
    """Trade sync methods of the executor (see the module docstring)."""

    venue: Any
    store: Any
    submitter: Any
    orders: dict[str, JournalOrder]
    blocked: set[tuple[str, str]]
    lookback_ms: int
    mode: Any
    alert: Any
    _trade_ids: set[str]
    _cancels: list[JournalOrder]

    def books(self) -> list[Book]:  # pragma: no cover — provided by the executor
        raise NotImplementedError

    def active_accounts(self, every: bool = False) -> dict[str, Book]:
        """Accounts holding a position, a market order whose fills are not all seen yet, or an
        order that may still fill, with their book; ``every``: all the strategies' accounts."""
        live = {o.account for o in self.orders.values() if o.is_live}
        return {b.strategy.subaccount: b for b in self.books()
                if every or b.open or b.pending or b.strategy.subaccount in live}

    def _sync_fills(self, changes: BarChanges, now: int, every: bool = False) -> set[int]:
        """``every``: read the fills of every account (the start-up sync: a crash between an
        order's FILLED state and the commit of its fills leaves an account that looks idle)."""
        touched: set[int] = set()
        opened: list[tuple[Book, Stream]] = []
        for account, book in self.active_accounts(every).items():
            fills = self.submitter.read(lambda a=account: self.venue.fills_since(a, now - self.lookback_ms))
            new = sorted((f for f in fills if f.trade_id not in self._trade_ids), key=lambda f: (f.ts_ms, f.trade_id))
            funding = _Funding(self, account, now - self.lookback_ms)
            for f in new:
                changes.fills.append((account, f, book.strategy.id))
                self.submitter.checkpoint(FILL_SEEN, self._order_of(f))
                self._apply(book, f, changes, funding, opened)
            if new:
                touched.add(book.strategy.id)
            self._refresh(book, {f.client_order_id for f in new})
            self._close_rest(book, {f.client_order_id for f in new}, changes)
        for book, stream in opened:
            if (pos := book.open.get(stream)) is not None:
                orders = protective_orders(pos, book.strategy)
                book.protect[stream] = orders
                changes.intents += orders
        self._resize_protection(changes)
        return touched

    def _resize_protection(self, changes: BarChanges) -> None:
        """Give each position whose live stop or target covers less than its quantity (an entry
        fill that grew it after they were placed) a new stop and target for the whole quantity;
        the undersized ones are cancelled after the new ones are sent."""
        for book in self.books():
            for stream, pos in sorted(book.open.items()):
                short = undersized(book.protect.get(stream, []), pos["qty"])
                if not short or stream in book.pending:
                    continue
                orders = self.next_protection(book, pos)
                if orders:
                    book.protect[stream] = [o for o in book.protect[stream] if o not in short] + orders
                    changes.intents += orders
                    self._cancels += short

    def next_protection(self, book: Book, pos: dict[str, Any]) -> list[JournalOrder]:
        """Stop and target of ``pos`` under the first attempt number none of whose client order
        ids the journal holds (``[]`` with an alert after :data:`MAX_STOP_ATTEMPTS`)."""
        for attempt in range(1, MAX_STOP_ATTEMPTS + 1):
            orders = protective_orders(pos, book.strategy, attempt)
            if all(o.client_order_id not in self.orders and self.store.order(o.client_order_id) is None
                   for o in orders):
                return orders
        self.alert(f"strategy {book.strategy.id} {pos['symbol']}: stop re-placed {MAX_STOP_ATTEMPTS} times already")
        return []

    def _order_of(self, f: VenueFill) -> JournalOrder | None:
        """The journal order of a fill (from memory, else from the store: one final already)."""
        cid = f.client_order_id
        if not cid:
            return None
        if cid not in self.orders and (stored := self.store.order(cid)) is not None:
            self.orders[cid] = stored
        return self.orders.get(cid)

    def _refresh(self, book: Book, filled: set[str | None]) -> None:
        """Read back the state of orders that filled and of the book's market orders still on
        their way (one that ended without a fill is no longer pending)."""
        waiting = {o.client_order_id for o in book.pending.values() if o.status is not OrderStatus.INTENT}
        for cid in sorted(c for c in filled | waiting if c in self.orders):
            o = self.orders[cid]
            if o.status is not OrderStatus.INTENT:
                self.submitter.refresh(o)
        for stream, o in list(book.pending.items()):
            if not o.is_live and o.filled_qty <= 0:
                del book.pending[stream]

    def _close_rest(self, book: Book, filled: set[str | None], changes: BarChanges) -> None:
        """Follow up each close order of ``book`` with new fills (``filled``: their client order
        ids) that ended short of its quantity while its position is still open (see the module
        docstring); a close order that ended when nothing is left to close is no longer pending."""
        for cid in sorted(c for c in filled if c in self.orders):
            o = self.orders[cid]
            stream = (o.symbol, o.timeframe)
            pending, pos = book.pending.get(stream), book.open.get(stream)
            if o.strategy_id != book.strategy.id or o.leg not in MARKET_CLOSES or o.is_live or (
                    pending is not None and pending is not o):
                continue
            if pos is None or o.filled_qty >= o.qty - max(QTY_EPS, 1e-9 * o.qty):
                if pending is o and pos is None:
                    del book.pending[stream]
                continue
            rest = self._next_close(book, o, pos)
            if rest is None:
                book.pending.pop(stream, None)
                continue
            book.pending[stream] = self.orders[rest.client_order_id] = rest
            changes.intents.append(rest)

    def _next_close(self, book: Book, o: JournalOrder, pos: dict[str, Any]) -> JournalOrder | None:
        """The follow-up of ``o`` under the first attempt number the journal does not hold (None
        with an alert after :data:`MAX_CLOSE_ATTEMPTS`)."""
        for attempt in range(1, MAX_CLOSE_ATTEMPTS + 1):
            rest = close_rest(o, pos, attempt)
            if rest.client_order_id not in self.orders and self.store.order(rest.client_order_id) is None:
                return rest
        self.alert(f"strategy {book.strategy.id} {pos['symbol']}: {MAX_CLOSE_ATTEMPTS} close orders ended short, "
                   f"{pos['qty']:g} left open")
        return None

    def _apply(self, book: Book, f: VenueFill, changes: BarChanges, funding: _Funding,
               opened: list[tuple[Book, Stream]]) -> None:
        order = self._order_of(f)
        stream = (order.symbol, order.timeframe) if order is not None else book.stream_of(f.symbol)
        pos = book.open.get(stream)
        if order is not None and order.leg == ENTRY:
            self._entry_fill(book, order, f, changes, opened)
            return
        if pos is None or (order is None and not f.liquidation):
            self.mismatch(book, f.symbol, f"fill {f.trade_id} ({f.side} {f.qty:g} {f.symbol} at {f.price:g}, "
                                          f"order {f.client_order_id}) matches no open position or journal order",
                          changes)
            return
        reason = ExitReason.LIQUIDATION if f.liquidation else EXIT_REASONS.get(order.leg, ExitReason.SIGNAL)
        fund = funding_between(funding.payments(), f.symbol, int(pos["entry_fill_ms"] or pos["entry_ts"].timestamp() * 1000), f.ts_ms)
        trade, whole, booked = close_part(book.strategy, pos, f, reason, fund, self.mode)
        book.equity_usd += trade.pnl_usd
        changes.closed.append((trade, pos["entry_client_order_id"], exit_key(f, whole), booked, whole))
        if whole:
            del book.open[stream]
            if order is not None and book.pending.get(stream) is order:
                del book.pending[stream]
            self._cancels += [o for o in book.protect.pop(stream, []) if o.is_live and o is not order]

    def _entry_fill(self, book: Book, order: JournalOrder, f: VenueFill, changes: BarChanges,
                    opened: list[tuple[Book, Stream]]) -> None:
        stream = (order.symbol, order.timeframe)
        pos = book.open.get(stream)
        if book.pending.get(stream) is order:
            del book.pending[stream]
        if pos is None:
            pos = book.open[stream] = new_position(book.strategy, order, f, self.mode)
            changes.opened.append(pos)
            opened.append((book, stream))
        elif pos["entry_client_order_id"] == order.client_order_id:
            extend_position(pos, f)
            if not any(p is pos for p in changes.opened):
                changes.updated.append((order.client_order_id, {k: pos[k] for k in ("qty", "entry_price",
                                                                                     "entry_fee_usd")}))
        else:
            self.mismatch(book, f.symbol, f"entry fill {f.trade_id} of {order.client_order_id} while position "
                                          f"{pos['entry_client_order_id']} is open", changes)

    def mismatch(self, book: Book, symbol: str, detail: str, changes: BarChanges) -> None:
        """Refuse to trade ``symbol`` on the book's account from now on and raise an alert event."""
        self.blocked.add((book.strategy.subaccount, symbol))
        changes.events.append({"strategy_id": book.strategy.id, "phase": "executor", "reason": MISMATCH_REASON,
                               "detail": f"{symbol} on {book.strategy.subaccount}: {detail}; the symbol is not "
                                         "traded until the mismatch is explained"[:2000]})
        self.alert(f"strategy {book.strategy.id} {symbol}: {detail}")
