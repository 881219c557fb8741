"""The executor's order flow after a pass commits: permissions, leverage, the submitter, and
the follow-up of a stop (time without a stop, or the market exit when it cannot be placed).

A mixin of :class:`~sixbtc.executor.engine.Executor`.
"""

from __future__ import annotations

from typing import Any

from sixbtc.core.errors import OrderRejected, TransientExchangeError
from sixbtc.core.ids import client_order_id
from sixbtc.domain.orders import OrderSide, OrderStatus, OrderType
from sixbtc.domain.trading import Direction
from sixbtc.executor.book import Book, Stream
from sixbtc.executor.ports import ENTRY, PROTECT, STOP, BarChanges, JournalOrder, TradingGate

_ACKED = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED)


class OrderFlow:
    """Sending methods of the executor (see the module docstring)."""

    venue: Any
    store: Any
    submitter: Any
    orders: dict[str, JournalOrder]
    submit_log: Any
    no_stop_ms: list[int]
    mode: Any
    alert: Any
    _gate: TradingGate
    _books: dict[int, Book]
    _leverage: dict[tuple[str, str], int]

    def _commit_and_send(self, changes: BarChanges, now: int) -> None:  # pragma: no cover — the executor's
        raise NotImplementedError

    def send(self, o: JournalOrder, now: int) -> OrderStatus:
        """Send one stored INTENT through the submitter (permissions, leverage, stop follow-up)."""
        if not self._gate.allows(o.strategy_id, reduce_only=o.reduce_only) or not self._set_leverage(o):
            return self.submitter.cancel(o)
        status = self.submitter.submit(o)
        self.submit_log.record(o.strategy_id, now)
        if status is OrderStatus.REJECTED:
            self.alert(f"order {o.client_order_id} ({o.leg} {o.side} {o.symbol}) rejected by the venue")
        book = self._books[o.strategy_id]
        stream = (o.symbol, o.timeframe)
        if not o.is_live and book.pending.get(stream) is o and o.filled_qty <= 0:
            del book.pending[stream]  # refused or cancelled before any fill: nothing is on its way
        if o.leg == STOP and (pos := book.open.get(stream)) is not None:
            self._after_stop(book, stream, pos, o, now)
        return status

    def _set_leverage(self, o: JournalOrder) -> bool:
        key = (o.account, o.symbol)
        if o.leg != ENTRY or not o.leverage or self._leverage.get(key) == o.leverage:
            return True
        try:
            self.submitter.read(lambda: self.venue.set_leverage(o.account, o.symbol, o.leverage, isolated=True))
        except (OrderRejected, TransientExchangeError) as exc:
            self.alert(f"leverage {o.leverage}x on {o.symbol} refused, entry {o.client_order_id} not sent: {exc}")
            return False
        self._leverage[key] = o.leverage
        return True

    def _after_stop(self, book: Book, stream: Stream, pos: dict[str, Any], o: JournalOrder, now: int) -> None:
        if o.status in _ACKED and o.acked_ms is not None:
            no_stop = max(int(o.acked_ms) - int(pos["entry_fill_ms"] or o.acked_ms), 0)
            pos["stop_ack_ms"], pos["no_stop_ms"] = o.acked_ms, no_stop
            self.no_stop_ms.append(no_stop)
            self.store.update_position(pos["entry_client_order_id"], stop_ack_ms=o.acked_ms, no_stop_ms=no_stop)
        elif o.status in (OrderStatus.REJECTED, OrderStatus.UNKNOWN, OrderStatus.CANCELED):
            self.protect_exit(book, stream, pos, f"stop {o.client_order_id} is {o.status}", now)

    def protect_exit(self, book: Book, stream: Stream, pos: dict[str, Any], why: str, now: int) -> None:
        """Close an unprotected position with a reduce-only market order (stored, then sent)."""
        strat = book.strategy
        cid = client_order_id(strat.id, stream[0], int(pos["signal_ms"] or 0), PROTECT)
        if cid in self.orders:
            return
        o = JournalOrder(cid, strat.id, strat.subaccount, stream[0], stream[1], PROTECT,
                         OrderSide.of(-Direction(pos["direction"]).sign), OrderType.MARKET, pos["qty"],
                         int(pos["signal_ms"] or 0), reduce_only=True)
        detail = f"{why}: position {pos['entry_client_order_id']} closed at market (reduce-only)"
        changes = BarChanges(intents=[o], mode=str(self.mode), events=[{
            "strategy_id": strat.id, "phase": "executor", "reason": "executor:no_stop", "detail": detail}])
        book.pending[stream] = o
        self.alert(f"strategy {strat.id} {stream[0]}: {detail}")
        self._commit_and_send(changes, now)
