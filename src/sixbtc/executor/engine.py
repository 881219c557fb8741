"""The executor: LIVE strategies on closed candles → journal orders → venue → fills → trades.

Runs against any :class:`~sixbtc.executor.venue.ExchangeClient` (the paper venue or
Hyperliquid); ``app/`` wires one. Two public passes, each committed in **one transaction**
(:class:`~sixbtc.executor.ports.BarChanges`) *before* any order it creates is sent:

- :meth:`Executor.sync` — trade sync: the venue's fills (``fills_since``, a look-back window,
  de-duplicated by venue trade id) open positions and book trades (price, fee and funding from
  the venue, :mod:`sixbtc.executor.positions`); every new position gets its reduce-only
  STOP_MARKET / TAKE_PROFIT_MARKET orders on the venue right after the commit. The time from
  the entry fill to the stop's acknowledgement is stored per position (``no_stop_ms``); a stop
  the venue refuses (or that cannot be confirmed) triggers a reduce-only market exit
  (``protect``, exit reason ``UNPROTECTED``). When a position is closed, its remaining
  stop/target are cancelled.
- :meth:`Executor.on_bar` — one closed candle: a trade sync, then every strategy trading the
  stream decides on the recent closed candles: entries as MARKET orders after the trading
  permissions (:class:`~sixbtc.executor.ports.TradingGate`: HALTED / REDUCING block entries)
  and the pre-trade checks (:func:`sixbtc.executor.risk.check_entry`: a refusal is a strategy
  event with its reason code), exits as reduce-only MARKET orders.

Orders go out through the :class:`~sixbtc.executor.submitter.OrderSubmitter` (INTENT → SENT →
venue state, ambiguous outcomes resolved by querying the client order id, never sent twice).
Before its first order the executor reconciles with the venue (:mod:`sixbtc.executor.reconcile`).

Restart: the books are rebuilt from the store (balances, open positions, journal orders,
resume points, recorded trade ids). Bars up to a strategy's resume point were decided: it
makes no decision on them again, so a replayed run makes the decisions of an uninterrupted one.

Faults: a strategy whose signal computation fails in any way is stopped — ``executor:error``
with the error and the bar (the store retires it) — its unfilled entries are cancelled and its
open positions closed by reduce-only market orders (``WIND_DOWN``); the others trade on. A
:class:`~sixbtc.core.errors.ConfigError` and a failure to read the history are not a
strategy's fault: they propagate and the pass is not committed. After any exception the
caller drops the executor and builds a new one from the store (its memory may be ahead).
A strategy given with ``active=False`` is wound down the same way from its first bar.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sixbtc.config.sections import RiskSection
from sixbtc.core.errors import ConfigError, DataError, OrderRejected, TransientExchangeError
from sixbtc.core.ids import client_order_id
from sixbtc.domain.orders import (
    FundingPayment,
    Market,
    OrderSide,
    OrderStatus,
    OrderType,
    VenueFill,
)
from sixbtc.domain.trading import Direction, ExitReason, TradeMode
from sixbtc.executor.book import Book, LiveStrategy, Stream, entry_notional
from sixbtc.executor.ports import (
    ENTRY,
    EXIT,
    FLATTEN,
    PROTECT,
    STOP,
    TARGET,
    Bar,
    BarChanges,
    BarCursor,
    ExecutionStore,
    HistorySource,
    JournalOrder,
    SignalEngine,
    StrategyFault,
    TradingGate,
)
from sixbtc.executor.positions import (
    EXIT_REASONS,
    close_part,
    exit_key,
    extend_position,
    funding_between,
    new_position,
    protective_orders,
)
from sixbtc.executor.risk import EntryContext, SubmitLog, check_entry, refusal_event
from sixbtc.executor.submitter import FILL_SEEN, OrderSubmitter
from sixbtc.executor.venue import ExchangeClient

__all__ = ["ALLOW_ALL", "Executor", "LiveStrategy", "entry_notional"]
FAULT_REASON = "executor:error"
MISMATCH_REASON = "executor:mismatch"
DAY_MS = 86_400_000
_ACKED = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED)


class _AllowAll:
    def allows(self, strategy_id: int, *, reduce_only: bool) -> bool:
        return True


#: The gate of a run without trading states (tests, tools): every order allowed.
ALLOW_ALL: TradingGate = _AllowAll()


def _ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


class _Funding:
    """An account's funding payments of the sync window, read once on first use."""

    def __init__(self, ex: Executor, account: str, since_ms: int) -> None:
        self.ex, self.account, self.since_ms = ex, account, since_ms
        self._payments: list[FundingPayment] | None = None

    def payments(self) -> list[FundingPayment]:
        if self._payments is None:
            self._payments = self.ex.submitter.read(lambda: self.ex.venue.funding_since(self.account, self.since_ms))
        return self._payments


class Executor:
    """Runs LIVE strategies on ``venue``; persists through ``store`` (see the module docstring).

    Parameters
    ----------
    strategies : list of LiveStrategy
    venue : ExchangeClient
    signals, history, store
        The ports of :mod:`sixbtc.executor.ports`.
    risk : RiskSection
        Sizing and pre-trade checks.
    history_bars : int
        Closed candles a decision needs (fewer: no decision).
    gate : callable, optional
        Returns the :class:`TradingGate` of a pass (default: everything allowed).
    submitter : OrderSubmitter, optional
        Default: one on ``venue`` and ``store`` with the default back-off.
    clock_ms : callable, optional
        Wall clock (UTC ms) of live trading; None = the pass time is the bar's close (replay).
    lookback_ms : int
        Trade sync window: fills at or after ``now - lookback_ms`` are read (7 days).
    alert : callable, optional
        Called with the text of each alert (mismatch, unprotected position).
    """

    def __init__(self, strategies: list[LiveStrategy], venue: ExchangeClient, signals: SignalEngine,
                 history: HistorySource, store: ExecutionStore, risk: RiskSection, *, history_bars: int,
                 gate: Callable[[], TradingGate] | None = None, submitter: OrderSubmitter | None = None,
                 clock_ms: Callable[[], int] | None = None, lookback_ms: int = 7 * DAY_MS,
                 alert: Callable[[str], None] | None = None) -> None:
        self.venue, self.signals, self.history, self.store, self.risk = venue, signals, history, store, risk
        self.history_bars, self.lookback_ms, self.clock_ms = history_bars, lookback_ms, clock_ms
        self.mode = TradeMode(venue.mode)
        self.submitter = submitter or OrderSubmitter(venue, store)
        self.gate_of_pass = gate or (lambda: ALLOW_ALL)
        self.alert = alert or (lambda text: None)
        self.submit_log = SubmitLog()
        self.orders: dict[str, JournalOrder] = {}
        self.blocked: set[tuple[str, str]] = set()  # (account, symbol) refused after a mismatch
        self.no_stop_ms: list[int] = []  # per stop placed by this run: entry fill → stop ack (ms)
        self.reconciled = False
        self._gate: TradingGate = ALLOW_ALL
        self._markets: dict[str, Market] = {}
        self._leverage: dict[tuple[str, str], int] = {}
        self._cancels: list[JournalOrder] = []
        self._books: dict[int, Book] = {}
        self._recover(strategies)
        self._streams: dict[Stream, list[Book]] = defaultdict(list)
        for book in self._books.values():
            for stream in sorted(book.streams()):
                self._streams[stream].append(book)

    # -- what the app asks ---------------------------------------------------------------
    def streams(self) -> list[tuple[str, str]]:
        """The (symbol, timeframe) streams the executor needs."""
        return sorted(self._streams)

    def book(self, strategy_id: int) -> Book:
        """The trading state of one strategy (read-only use)."""
        return self._books[strategy_id]

    def books(self) -> list[Book]:
        """Every strategy's book, by strategy id."""
        return [self._books[k] for k in sorted(self._books)]

    def resume_ts(self, stream: Stream) -> datetime | None:
        """Open time of the oldest resume point among the strategies on ``stream`` (None when none
        has one): a feed that restarts must deliver this stream's bars from there on."""
        points = [b.cursor.ts for b in self._streams.get(stream, ()) if b.cursor is not None]
        return min(points) if points else None

    def start_fresh_after(self, bar: BarCursor) -> None:
        """Strategies with no resume point treat every bar up to ``bar`` as already processed
        (live trading: a strategy that never traded starts with the next new candle)."""
        for book in self._books.values():
            if book.cursor is None:
                book.cursor = bar

    # -- recovery ----------------------------------------------------------------------
    def _recover(self, strategies: list[LiveStrategy]) -> None:
        state = self.store.recover([s.id for s in strategies])
        for s in strategies:
            self._books[s.id] = Book(s, state.balances.get(s.id, s.capital_usd), state.cursors.get(s.id),
                                     halted=not s.active)
        for pos in state.positions:
            if (book := self._books.get(pos["strategy_id"])) is not None:
                book.open[(pos["symbol"], pos["timeframe"])] = pos
        for o in state.orders:
            if (book := self._books.get(o.strategy_id)) is not None:
                self.orders[o.client_order_id] = o
                stream = (o.symbol, o.timeframe)
                if o.leg in (STOP, TARGET):
                    book.protect.setdefault(stream, []).append(o)
                else:
                    book.pending[stream] = o
        self._trade_ids = set(state.trade_ids)

    def reconcile(self, now_ms: int | None = None) -> Any:
        """Reconcile with the venue now (:func:`sixbtc.executor.reconcile.reconcile`); done
        automatically before the first pass. Returns its report."""
        from sixbtc.executor.reconcile import reconcile  # noqa: PLC0415 — reconcile uses this module

        self.reconciled = True
        return reconcile(self, self._now(None) if now_ms is None else now_ms)

    # -- passes --------------------------------------------------------------------------
    def sync(self, now_ms: int | None = None) -> int:
        """One trade sync pass (see the module docstring); returns the number of new fills.

        ``now_ms``: the pass time (UTC ms; default the wall clock, or the venue's bar time a
        paper feed passes). Raises what the venue's reads raise after their retries.
        """
        now = self._now(None) if now_ms is None else now_ms
        if not self.reconciled:
            self.reconcile(now)
        changes = BarChanges(mode=str(self.mode))
        self._sync_fills(changes, now)
        self._commit_and_send(changes, now)
        return len(changes.fills)

    def on_bar(self, bar: Bar) -> None:
        """Process one closed candle (see the module docstring)."""
        now = self._now(bar)
        if not self.reconciled:
            self.reconcile(now)
        changes = BarChanges(mode=str(self.mode))
        for sid in self._sync_fills(changes, now):
            self._touch(self._books[sid], bar, changes)
        self._gate = self.gate_of_pass()
        for book in self._streams.get((bar.symbol, bar.timeframe), ()):
            if book.done(bar.key):
                continue
            if book.halted:
                if not book.flattened:
                    self._flatten(book, bar, changes)
                continue
            order = self._decide_safely(book, bar, changes, now)
            if order is not None:
                self._order(book, order, bar, changes)
            elif book.halted:  # it failed on this bar
                self._flatten(book, bar, changes)
        self._commit_and_send(changes, now)

    def _now(self, bar: Bar | None) -> int:
        if self.clock_ms is not None:
            return self.clock_ms()
        return _ms(bar.key[0]) if bar is not None else 0

    def _touch(self, book: Book, bar: Bar, changes: BarChanges) -> None:
        """Record that ``bar`` changed ``book``; its resume point never moves back (a candle that
        arrives after later ones — a stream that lagged — changes no decision)."""
        resume = book.cursor if book.cursor is not None and book.done(bar.key) else None
        changes.cursors[book.strategy.id] = resume or BarCursor(bar.ts, bar.symbol, bar.timeframe)

    def _commit_and_send(self, changes: BarChanges, now: int) -> None:
        if changes:
            self.store.commit(changes)
        self._trade_ids.update(f.trade_id for _, f, _ in changes.fills)
        for sid, cursor in changes.cursors.items():
            self._books[sid].cursor = cursor
        for o in changes.intents:
            self.orders[o.client_order_id] = o
        for o in changes.intents:
            self.send(o, now)
        cancels, self._cancels = self._cancels, []
        for o in cancels:
            self.submitter.cancel(o)
        if cancels:  # a strategy that stopped trading may now hold nothing: free its sub-account
            self.store.commit(BarChanges(mode=str(self.mode), release={o.strategy_id for o in cancels}))

    # -- fills ---------------------------------------------------------------------------
    def active_accounts(self) -> dict[str, Book]:
        """Accounts holding a position or an order that may still fill, with their book."""
        live = {o.account for o in self.orders.values() if o.is_live}
        return {b.strategy.subaccount: b for b in self.books()
                if b.open or b.strategy.subaccount in live}

    def _sync_fills(self, changes: BarChanges, now: int) -> set[int]:
        touched: set[int] = set()
        opened: list[tuple[Book, Stream]] = []
        for account, book in self.active_accounts().items():
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
        for book, stream in opened:
            if (pos := book.open.get(stream)) is not None:
                orders = protective_orders(pos, book.strategy)
                book.protect[stream] = orders
                changes.intents += orders
        return touched

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
        fund = funding_between(funding.payments(), f.symbol, int(pos["entry_fill_ms"] or _ms(pos["entry_ts"])), f.ts_ms)
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

    # -- sending -------------------------------------------------------------------------
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

    # -- decisions ---------------------------------------------------------------------
    def _decide_safely(self, book: Book, bar: Bar, changes: BarChanges, now: int) -> JournalOrder | None:
        """The strategy's decision on ``bar``; a failure of the strategy stops it (a fault).

        The history is read first, outside the strategy's responsibility: a store that cannot
        deliver it (``DataError``, an I/O error) fails the bar — nothing is committed and the
        caller retries it — instead of retiring healthy strategies; so does a ``ConfigError``.
        """
        stream = (bar.symbol, bar.timeframe)
        if stream in book.pending or (book.strategy.subaccount, bar.symbol) in self.blocked:
            return None
        inputs = book.strategy.inputs
        data = (self.history.recent(bar.symbol, bar.timeframe, bar.ts, self.history_bars, inputs=inputs) if inputs
                else self.history.recent(bar.symbol, bar.timeframe, bar.ts, self.history_bars))
        if len(data["close"]) < self.history_bars:
            return None
        try:
            entry, exit_ = self.signals.last_signal(book.strategy.id, data, book.strategy.params)
        except (ConfigError, DataError):
            raise
        except Exception as exc:  # noqa: BLE001 — a failing strategy stops itself, not the executor
            book.halted = True
            detail = f"{type(exc).__name__}: {exc} (on {bar.symbol} {bar.timeframe} bar {bar.ts.isoformat()})"
            changes.faults.append(StrategyFault(book.strategy.id, FAULT_REASON, detail[:2000]))
            self._touch(book, bar, changes)
            return None
        if stream in book.open:
            return self._closing(book, stream, bar, EXIT) if exit_ else None
        if not entry or exit_:
            return None
        return self._entry(book, bar, changes, now)

    def _closing(self, book: Book, stream: Stream, bar: Bar, leg: str) -> JournalOrder:
        strat, pos = book.strategy, book.open[stream]
        cid = client_order_id(strat.id, stream[0], _ms(bar.ts), leg)
        return JournalOrder(cid, strat.id, strat.subaccount, stream[0], stream[1], leg,
                            OrderSide.of(-Direction(pos["direction"]).sign), OrderType.MARKET, pos["qty"], _ms(bar.ts),
                            reduce_only=True)

    def _entry(self, book: Book, bar: Bar, changes: BarChanges, now: int) -> JournalOrder | None:
        strat = book.strategy
        if not self._gate.allows(strat.id, reduce_only=False):
            return None
        sl_pct, tp_pct = float(strat.params["sl_pct"]), float(strat.params["tp_pct"])
        side = OrderSide.of(strat.direction.sign)
        balance = self.submitter.read(lambda: self.venue.balance(strat.subaccount))
        ctx = EntryContext(strat.id, bar.symbol, bar.timeframe, side, book.equity_usd, sl_pct, bar.close,
                           self._market(bar.symbol), balance, book.n_exposed(), _ms(bar.ts), now,
                           self.submit_log.recent(strat.id, now))
        verdict = check_entry(ctx, self.risk)
        if not verdict.ok:
            changes.events.append(refusal_event(ctx, verdict))
            self._touch(book, bar, changes)
            return None
        notional = min(entry_notional(book.equity_usd, sl_pct, self.risk), verdict.leverage * book.equity_usd)
        return JournalOrder(client_order_id(strat.id, bar.symbol, _ms(bar.ts), ENTRY), strat.id, strat.subaccount,
                            bar.symbol, bar.timeframe, ENTRY, side, OrderType.MARKET, verdict.qty, _ms(bar.ts),
                            notional_usd=notional, sl_pct=sl_pct, tp_pct=tp_pct, leverage=verdict.leverage)

    def _market(self, symbol: str) -> Market | None:
        if symbol not in self._markets:
            self._markets = self.submitter.read(self.venue.markets)
        return self._markets.get(symbol)

    def _order(self, book: Book, o: JournalOrder, bar: Bar, changes: BarChanges) -> None:
        book.pending[(o.symbol, o.timeframe)] = o
        self._touch(book, bar, changes)
        changes.intents.append(o)

    def _flatten(self, book: Book, bar: Bar, changes: BarChanges) -> None:
        """Cancel a stopped strategy's unfilled entries and order its open positions closed."""
        book.flattened = True
        self._touch(book, bar, changes)
        for stream, o in list(book.pending.items()):
            if not o.reduce_only:
                del book.pending[stream]
                self._cancels.append(o)
        for stream in sorted(book.open):
            if stream not in book.pending:  # an exit is already on its way otherwise
                self._order(book, self._closing(book, stream, bar, FLATTEN), bar, changes)
