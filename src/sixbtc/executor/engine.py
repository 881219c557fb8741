"""The executor: LIVE strategies on closed candles → orders → fills → positions and trades.

One :meth:`Executor.on_bar` call per closed candle, in processing order (close time, symbol,
timeframe length; :func:`~sixbtc.executor.ports.bar_key`). For each bar: the broker fills
what was queued (entries and exits at this bar's open, then stops/targets inside the bar);
then every strategy trading this stream computes its signals on the recent closed candles
and decides. Everything the bar changed — fills, positions, trades, balances, new orders
(status NEW, with a deterministic client order id), cancellations, stopped strategies and
the resume point of every strategy it touched — is committed in **one transaction**; only
then are the new orders sent to the broker. A crash loses a whole bar or nothing.

Restart: the book of each strategy is rebuilt from the store (balance, open positions,
NEW orders, resume point). Bars up to a strategy's resume point were processed: it makes no
decision on them, and its recovered stops/targets and NEW orders are handed to the broker
only from its first bar after the resume point. A resumed run therefore makes exactly the
decisions of an uninterrupted one.

Faults: a strategy whose signal computation fails in any way (an exception in its code, a
sandbox timeout or crash, output of the wrong shape, a strategy that would not load) is
stopped — ``executor:error`` with the error and the bar (the store retires it) — its NEW
entries are cancelled and its open positions closed at the next bar's open (exit reason
``WIND_DOWN``); the other strategies trade on. A :class:`~sixbtc.core.errors.ConfigError`
(the sandbox cannot run at all) and a failure to read the history (``DataError``, I/O) are
not a strategy's fault: they propagate and the bar is not committed. A strategy given
with ``active=False`` is wound down the same way from its first bar.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sixbtc.config.sections import RiskSection
from sixbtc.core.errors import ConfigError, DataError
from sixbtc.core.ids import client_order_id
from sixbtc.domain.trading import Direction, ExitReason, Trade, TradeMode
from sixbtc.executor.book import Book, LiveStrategy, Stream, entry_notional
from sixbtc.executor.ports import (
    Bar,
    BarChanges,
    BarCursor,
    Broker,
    ExecutionStore,
    Fill,
    HistorySource,
    OrderIntent,
    SignalEngine,
    StrategyFault,
)

__all__ = ["Executor", "LiveStrategy", "entry_notional"]
FAULT_REASON = "executor:error"


class Executor:
    """Runs LIVE strategies through ``broker``; persists through ``store`` (see module docstring)."""

    def __init__(self, strategies: list[LiveStrategy], broker: Broker, signals: SignalEngine,
                 history: HistorySource, store: ExecutionStore, risk: RiskSection, *, history_bars: int) -> None:
        self.broker, self.signals, self.history, self.store, self.risk = broker, signals, history, store, risk
        self.history_bars = history_bars
        self.mode = TradeMode(broker.mode)
        self._books: dict[int, Book] = {}
        self._deferred: dict[Stream, list[tuple[Book, Any]]] = defaultdict(list)
        self._recover(strategies)
        self._streams: dict[Stream, list[Book]] = defaultdict(list)
        for book in self._books.values():
            for stream in sorted(book.streams()):
                self._streams[stream].append(book)

    def streams(self) -> list[tuple[str, str]]:
        """The (symbol, timeframe) streams the executor needs."""
        return sorted(self._streams)

    def book(self, strategy_id: int) -> Book:
        """The trading state of one strategy (read-only use)."""
        return self._books[strategy_id]

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
            cursor = state.cursors.get(s.id)
            self._books[s.id] = Book(s, state.balances.get(s.id, s.capital_usd),
                                     cursor, halted=not s.active)
        for pos in state.positions:
            if (book := self._books.get(pos["strategy_id"])) is not None:
                stream = (pos["symbol"], pos["timeframe"])
                book.open[stream] = pos
                self._deferred[stream].append((book, pos))
        for intent in state.pending:
            if (book := self._books.get(intent.strategy_id)) is not None:
                stream = (intent.symbol, intent.timeframe)
                book.pending[stream] = intent
                if intent.reduce_only or not book.halted:  # a stopped strategy's entries are cancelled
                    self._deferred[stream].append((book, intent))

    def _activate(self, bar: Bar) -> None:
        """Hand recovered stops/targets and NEW orders to the broker from the first bar after
        their strategy's resume point."""
        waiting = self._deferred.get((bar.symbol, bar.timeframe))
        if not waiting:
            return
        keep = []
        for book, item in waiting:
            if book.done(bar.key):
                keep.append((book, item))
            elif isinstance(item, OrderIntent):
                self.broker.submit(item)
            else:
                self.broker.restore_protection(book.strategy.id, item["symbol"], item["timeframe"],
                                               Direction(item["direction"]).sign, item["qty"],
                                               item["stop_price"], item["target_price"])
        self._deferred[(bar.symbol, bar.timeframe)] = keep

    # -- the bar -----------------------------------------------------------------------
    def on_bar(self, bar: Bar) -> None:
        """Process one closed candle (see module docstring)."""
        self._activate(bar)
        changes, send, cancel = BarChanges(), [], []
        for fill in self.broker.on_bar(bar):
            self._apply(fill, changes, bar)
        for book in self._streams.get((bar.symbol, bar.timeframe), ()):
            if book.done(bar.key):
                continue
            if book.halted:
                if not book.flattened:
                    self._flatten(book, bar, changes, send, cancel)
                continue
            intent = self._decide_safely(book, bar, changes)
            if intent is not None:
                self._order(book, intent, bar, changes)
                send.append(intent)
            elif book.halted:  # it failed on this bar
                self._flatten(book, bar, changes, send, cancel)
        if changes:
            self.store.commit(changes)
            for sid, cursor in changes.cursors.items():
                self._books[sid].cursor = cursor
        for cid in cancel:
            self.broker.cancel(cid)
        for intent in send:
            self.broker.submit(intent)

    def _touch(self, book: Book, bar: Bar, changes: BarChanges) -> None:
        """Record that ``bar`` changed ``book``; its resume point never moves back (a candle that
        arrives after later ones — a stream that lagged — only fills stops and targets)."""
        resume = book.cursor if book.cursor is not None and book.done(bar.key) else None
        changes.cursors[book.strategy.id] = resume or BarCursor(bar.ts, bar.symbol, bar.timeframe)

    # -- fills -------------------------------------------------------------------------
    def _apply(self, fill: Fill, changes: BarChanges, bar: Bar) -> None:
        book = self._books[fill.strategy_id]
        strat, stream = book.strategy, (fill.symbol, fill.timeframe)
        book.pending.pop(stream, None)
        self._touch(book, bar, changes)
        order = self._filled_order(fill, strat)
        if fill.reason is None:
            position = {
                "strategy_id": strat.id, "subaccount": strat.subaccount, "symbol": fill.symbol,
                "timeframe": fill.timeframe, "direction": str(strat.direction), "qty": fill.qty,
                "entry_price": fill.price, "entry_ts": fill.ts, "entry_fee_usd": fill.fee_usd,
                "stop_price": fill.stop_price, "target_price": fill.target_price, "mode": str(self.mode),
                "entry_client_order_id": fill.client_order_id,
            }
            book.open[stream] = position
            changes.entries.append((order, position))
            return
        pos = book.open.pop(stream, None)
        if pos is None:
            return
        trade = self._trade(strat, pos, fill)
        book.equity_usd += trade.pnl_usd
        changes.exits.append((order, trade, pos["entry_client_order_id"]))

    def _trade(self, strat: LiveStrategy, pos: dict[str, Any], fill: Fill) -> Trade:
        direction = Direction(pos["direction"])  # the position's own (a wound-down record may have none)
        notional = pos["qty"] * pos["entry_price"]
        fees = pos["entry_fee_usd"] + fill.fee_usd
        pnl = direction.sign * pos["qty"] * (fill.price - pos["entry_price"]) - fees
        return Trade(strat.id, fill.symbol, fill.timeframe, direction, pos["entry_ts"], pos["entry_price"],
                     fill.ts, fill.price, pos["qty"], notional, fees, pnl, pnl / notional,
                     fill.reason or ExitReason.SIGNAL, self.mode)

    def _filled_order(self, fill: Fill, strat: LiveStrategy) -> dict[str, Any]:
        return {
            "client_order_id": fill.client_order_id, "strategy_id": strat.id, "subaccount": strat.subaccount,
            "symbol": fill.symbol, "timeframe": fill.timeframe, "leg": fill.leg, "side": "buy" if fill.side > 0 else "sell",
            "order_type": {"sl": "stop_market", "tp": "take_profit_market"}.get(fill.leg, "market"),
            "qty": fill.qty, "price": None, "reduce_only": fill.reason is not None, "mode": str(self.mode),
            "filled_price": fill.price, "filled_ts": fill.ts,
        }

    # -- decisions ---------------------------------------------------------------------
    def _decide_safely(self, book: Book, bar: Bar, changes: BarChanges) -> OrderIntent | None:
        """The strategy's decision on ``bar``; a failure of the strategy stops it (a fault).

        The history is read first, outside the strategy's responsibility: a store that cannot
        deliver it (``DataError``, an I/O error) fails the bar — nothing is committed and the
        caller retries it — instead of retiring healthy strategies; so does a ``ConfigError``
        (no sandbox can run) or a ``DataError`` about the arrays sent to the sandbox.
        """
        if (bar.symbol, bar.timeframe) in book.pending:
            return None
        inputs = book.strategy.inputs
        data = (self.history.recent(bar.symbol, bar.timeframe, bar.ts, self.history_bars, inputs=inputs) if inputs
                else self.history.recent(bar.symbol, bar.timeframe, bar.ts, self.history_bars))
        if len(data["close"]) < self.history_bars:
            return None
        try:
            return self._decide(book, bar, data)
        except (ConfigError, DataError):
            raise
        except Exception as exc:  # noqa: BLE001 — a failing strategy stops itself, not the executor
            book.halted = True
            detail = f"{type(exc).__name__}: {exc} (on {bar.symbol} {bar.timeframe} bar {bar.ts.isoformat()})"
            changes.faults.append(StrategyFault(book.strategy.id, FAULT_REASON, detail[:2000]))
            self._touch(book, bar, changes)
            return None

    def _decide(self, book: Book, bar: Bar, data: dict[str, Any]) -> OrderIntent | None:
        strat, stream = book.strategy, (bar.symbol, bar.timeframe)
        entry, exit_ = self.signals.last_signal(strat.id, data, strat.params)
        sign, bar_ms = strat.direction.sign, int(bar.ts.timestamp() * 1000)
        if stream in book.open:
            if not exit_:
                return None
            return OrderIntent(client_order_id(strat.id, bar.symbol, bar_ms, "exit"), strat.id, bar.symbol,
                               bar.timeframe, -sign, "exit", qty=book.open[stream]["qty"], reduce_only=True,
                               not_before=bar.key[0])
        if not entry or exit_ or book.n_exposed() >= self.risk.max_open_positions:
            return None
        sl_pct, tp_pct = float(strat.params["sl_pct"]), float(strat.params["tp_pct"])
        notional = entry_notional(book.equity_usd, sl_pct, self.risk)
        if notional <= 0:
            return None
        return OrderIntent(client_order_id(strat.id, bar.symbol, bar_ms, "entry"), strat.id, bar.symbol,
                           bar.timeframe, sign, "entry", notional_usd=notional, sl_pct=sl_pct, tp_pct=tp_pct,
                           not_before=bar.key[0])

    def _order(self, book: Book, intent: OrderIntent, bar: Bar, changes: BarChanges) -> None:
        strat = book.strategy
        book.pending[(intent.symbol, intent.timeframe)] = intent
        self._touch(book, bar, changes)
        changes.orders.append({
            "client_order_id": intent.client_order_id, "strategy_id": strat.id, "subaccount": strat.subaccount,
            "symbol": intent.symbol, "timeframe": intent.timeframe, "leg": intent.leg,
            "side": "buy" if intent.side > 0 else "sell", "order_type": "market", "qty": intent.qty,
            "price": None, "reduce_only": intent.reduce_only, "mode": str(self.mode),
            "notional_usd": intent.notional_usd, "sl_pct": intent.sl_pct, "tp_pct": intent.tp_pct,
            "not_before": intent.not_before,
        })

    def _flatten(self, book: Book, bar: Bar, changes: BarChanges, send: list[OrderIntent], cancel: list[str]) -> None:
        """Cancel a stopped strategy's NEW entries and order its open positions closed."""
        book.flattened = True
        self._touch(book, bar, changes)
        strat, bar_ms = book.strategy, int(bar.ts.timestamp() * 1000)
        for stream, intent in list(book.pending.items()):
            if not intent.reduce_only:
                del book.pending[stream]
                changes.cancels.append(intent.client_order_id)
                cancel.append(intent.client_order_id)
                self._deferred[stream] = [(b, i) for b, i in self._deferred.get(stream, []) if i is not intent]
        for (symbol, tf), pos in sorted(book.open.items()):
            if (symbol, tf) in book.pending:  # an exit is already on its way
                continue
            intent = OrderIntent(client_order_id(strat.id, symbol, bar_ms, "flatten"), strat.id, symbol, tf,
                                 -Direction(pos["direction"]).sign, "flatten", qty=pos["qty"], reduce_only=True,
                                 not_before=bar.key[0])
            self._order(book, intent, bar, changes)
            send.append(intent)
