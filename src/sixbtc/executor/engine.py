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

Entry points (any :class:`~sixbtc.executor.venue.ExchangeClient`; crash tests and benchmarks
drive these): ``Executor(strategies, venue, signals, history, store, risk, history_bars=…,
submitter=OrderSubmitter(venue, store, RetryPolicy(…), checkpoint=cb))`` — ``cb(name, order)``
is called at each crash checkpoint of :data:`sixbtc.executor.submitter.CHECKPOINTS`
(``intent_stored``, ``sent``, ``acked``, ``fill_seen``); :meth:`Executor.reconcile` (returns a
:class:`~sixbtc.executor.reconcile.ReconcileReport`), :meth:`Executor.sync`,
:meth:`Executor.on_bar`; ``Executor.no_stop_ms`` (entry fill → stop ack per stop placed) and
``Executor.submitter.places`` (``place_order`` calls). ``app`` builds it with
:func:`sixbtc.app.executor_build.build_executor` and feeds a paper venue with
:func:`sixbtc.app.paper.feed_bar`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sixbtc.config.sections import RiskSection
from sixbtc.core.errors import ConfigError, DataError
from sixbtc.core.ids import client_order_id
from sixbtc.domain.orders import (
    Market,
    OrderSide,
    OrderType,
)
from sixbtc.domain.trading import Direction, TradeMode
from sixbtc.executor.book import Book, LiveStrategy, Stream, entry_notional
from sixbtc.executor.fill_sync import MISMATCH_REASON, FillSync
from sixbtc.executor.ports import (
    ENTRY,
    EXIT,
    FLATTEN,
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
from sixbtc.executor.risk import EntryContext, SubmitLog, check_entry, refusal_event
from sixbtc.executor.sending import OrderFlow
from sixbtc.executor.submitter import OrderSubmitter
from sixbtc.executor.venue import ExchangeClient

__all__ = ["ALLOW_ALL", "MISMATCH_REASON", "Executor", "LiveStrategy", "entry_notional"]
FAULT_REASON = "executor:error"
DAY_MS = 86_400_000


class _AllowAll:
    def allows(self, strategy_id: int, *, reduce_only: bool) -> bool:
        return True


#: The gate of a run without trading states (tests, tools): every order allowed.
ALLOW_ALL: TradingGate = _AllowAll()


def _ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


class Executor(FillSync, OrderFlow):
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
    on_reconcile : callable, optional
        Called with each :class:`~sixbtc.executor.reconcile.ReconcileReport` once the
        reconciliation completed (the app stores it for ``sixbtc status``).
    """

    def __init__(self, strategies: list[LiveStrategy], venue: ExchangeClient, signals: SignalEngine,
                 history: HistorySource, store: ExecutionStore, risk: RiskSection, *, history_bars: int,
                 gate: Callable[[], TradingGate] | None = None, submitter: OrderSubmitter | None = None,
                 clock_ms: Callable[[], int] | None = None, lookback_ms: int = 7 * DAY_MS,
                 alert: Callable[[str], None] | None = None,
                 on_reconcile: Callable[[Any], None] | None = None) -> None:
        self.on_reconcile = on_reconcile or (lambda report: None)
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
        self._gate = self.gate_of_pass()
        report = reconcile(self, self._now(None) if now_ms is None else now_ms)
        self.on_reconcile(report)
        return report

    # -- passes --------------------------------------------------------------------------
    def sync(self, now_ms: int | None = None, *, every_account: bool = False) -> int:
        """One trade sync pass (see the module docstring); returns the number of new fills.

        ``now_ms``: the pass time (UTC ms; default the wall clock, or the venue's bar time a
        paper feed passes). ``every_account``: read the fills of every strategy's account, not
        only of those with something open (the reconciliation's sync). Raises what the venue's
        reads raise after their retries.
        """
        now = self._now(None) if now_ms is None else now_ms
        if not self.reconciled:
            self.reconcile(now)
        self._gate = self.gate_of_pass()
        changes = BarChanges(mode=str(self.mode))
        self._sync_fills(changes, now, every_account)
        self._commit_and_send(changes, now)
        return len(changes.fills)

    def on_bar(self, bar: Bar) -> None:
        """Process one closed candle (see the module docstring)."""
        now = self._now(bar)
        if not self.reconciled:
            self.reconcile(now)
        self._gate = self.gate_of_pass()
        changes = BarChanges(mode=str(self.mode))
        for sid in self._sync_fills(changes, now):
            self._touch(self._books[sid], bar, changes)
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
