"""The executor: LIVE strategies on closed candles → orders → fills → positions and trades.

One :meth:`Executor.on_bar` call per closed candle, in time order (from the replay feed or
the live feed). For each bar: the broker first fills what was queued (entries and signal
exits at this bar's open, then stops/targets inside the bar), and each fill is persisted in
its own transaction; then every strategy trading this stream computes its signals on the
recent closed candles and queues orders for the next bar. Every order gets a deterministic
client order id and is stored (status NEW) before it reaches the broker.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sixbtc.config.sections import RiskSection
from sixbtc.core.ids import client_order_id
from sixbtc.domain.trading import Direction, ExitReason, Trade, TradeMode
from sixbtc.executor.ports import (
    Bar,
    Broker,
    ExecutionStore,
    Fill,
    HistorySource,
    OrderIntent,
    SignalEngine,
)


@dataclass(frozen=True)
class LiveStrategy:
    """A LIVE strategy as the executor runs it (parameters fixed by its backtest)."""

    id: int
    name: str
    timeframe: str
    symbols: tuple[str, ...]
    direction: Direction
    params: dict[str, Any]
    subaccount: str
    capital_usd: float


def entry_notional(equity_usd: float, sl_pct: float, risk: RiskSection) -> float:
    """Notional (USD) of a new position: risk ``risk_per_trade`` of equity at the stop distance.

    ``equity × risk_per_trade / sl_pct``, capped by ``max_leverage × equity`` and
    ``max_notional_usd`` (SPEC §3.7 risk manager). Returns 0 when equity is not positive.
    """
    if equity_usd <= 0 or sl_pct <= 0:
        return 0.0
    return min(equity_usd * risk.risk_per_trade / sl_pct, equity_usd * risk.max_leverage, risk.max_notional_usd)


class Executor:
    """Runs LIVE strategies through ``broker``; persists through ``store``.

    Open positions are reloaded from ``store`` at construction (restart recovery) and their
    protective orders re-armed on a :class:`~sixbtc.adapters.exchanges.paper.PaperBroker`.
    For each (strategy, symbol, timeframe) the bars up to its last recorded fill (the newest
    trade exit or open position entry in ``store``) were processed before the restart:
    :meth:`on_bar` makes no decision for that strategy on them, and a recovered position's
    stop/target is armed only from the first bar after its entry — so replaying from an earlier
    start never trades the same period twice nor closes a position before it opened.
    """

    def __init__(self, strategies: list[LiveStrategy], broker: Broker, signals: SignalEngine,
                 history: HistorySource, store: ExecutionStore, risk: RiskSection, *, history_bars: int) -> None:
        self.broker, self.signals, self.history, self.store, self.risk = broker, signals, history, store, risk
        self.history_bars = history_bars
        self.mode = TradeMode(broker.mode)
        self._by_id = {s.id: s for s in strategies}
        self._streams: dict[tuple[str, str], list[LiveStrategy]] = defaultdict(list)
        for s in strategies:
            for sym in s.symbols:
                self._streams[(sym, s.timeframe)].append(s)
        self._equity = {s.id: s.capital_usd for s in strategies}
        self._open: dict[tuple[int, str, str], dict[str, Any]] = {}
        self._pending: set[tuple[int, str, str]] = set()
        self._resume: dict[tuple[int, str, str], datetime] = {}
        self._deferred: dict[tuple[int, str, str], dict[str, Any]] = {}
        self._recover()

    def streams(self) -> list[tuple[str, str]]:
        """The (symbol, timeframe) streams the LIVE set needs."""
        return sorted(self._streams)

    def _recover(self) -> None:
        for key, ts in self.store.last_exits().items():
            if key[0] in self._by_id:
                self._resume[key] = ts
        for pos in self.store.open_positions():
            if pos["strategy_id"] not in self._by_id:
                continue
            key = (pos["strategy_id"], pos["symbol"], pos["timeframe"])
            self._open[key] = pos
            self._deferred[key] = pos
            self._resume[key] = max(self._resume.get(key, pos["entry_ts"]), pos["entry_ts"])

    def _arm_recovered(self, bar: Bar) -> None:
        restore = getattr(self.broker, "restore_protection", None)
        for key, pos in list(self._deferred.items()):
            if key[1:] == (bar.symbol, bar.timeframe) and bar.ts > pos["entry_ts"]:
                del self._deferred[key]
                if restore is not None:
                    restore(key[0], key[1], key[2], Direction(pos["direction"]).sign, pos["qty"],
                            pos["stop_price"], pos["target_price"])

    def on_bar(self, bar: Bar) -> None:
        """Process one closed candle (see module docstring)."""
        if self._deferred:
            self._arm_recovered(bar)
        for fill in self.broker.on_bar(bar):
            self._apply(fill)
        for strat in self._streams.get((bar.symbol, bar.timeframe), ()):
            resume = self._resume.get((strat.id, bar.symbol, bar.timeframe))
            if resume is None or bar.ts > resume:
                self._decide(strat, bar)

    # -- fills -------------------------------------------------------------------------
    def _apply(self, fill: Fill) -> None:
        key = (fill.strategy_id, fill.symbol, fill.timeframe)
        self._pending.discard(key)
        strat = self._by_id[fill.strategy_id]
        order = self._order_values(fill, strat)
        if fill.reason is None:
            position = {
                "strategy_id": strat.id, "subaccount": strat.subaccount, "symbol": fill.symbol,
                "timeframe": fill.timeframe, "direction": str(strat.direction), "qty": fill.qty,
                "entry_price": fill.price, "entry_ts": fill.ts, "entry_fee_usd": fill.fee_usd,
                "stop_price": fill.stop_price, "target_price": fill.target_price, "mode": str(self.mode),
                "entry_client_order_id": fill.client_order_id,
            }
            pos_id = self.store.open_position(order, position)
            if pos_id is not None:
                self._open[key] = dict(position, id=pos_id)
            return
        pos = self._open.pop(key, None)
        if pos is None:
            return
        trade = self._trade(strat, pos, fill)
        if self.store.close_position(pos["id"], order, trade, trade.pnl_usd):
            self._equity[strat.id] += trade.pnl_usd

    def _trade(self, strat: LiveStrategy, pos: dict[str, Any], fill: Fill) -> Trade:
        sign = Direction(pos["direction"]).sign
        notional = pos["qty"] * pos["entry_price"]
        fees = pos["entry_fee_usd"] + fill.fee_usd
        pnl = sign * pos["qty"] * (fill.price - pos["entry_price"]) - fees
        return Trade(strat.id, fill.symbol, fill.timeframe, strat.direction, pos["entry_ts"], pos["entry_price"],
                     fill.ts, fill.price, pos["qty"], notional, fees, pnl, pnl / notional,
                     fill.reason or ExitReason.SIGNAL, self.mode)

    def _order_values(self, fill: Fill, strat: LiveStrategy) -> dict[str, Any]:
        return {
            "client_order_id": fill.client_order_id, "strategy_id": strat.id, "subaccount": strat.subaccount,
            "symbol": fill.symbol, "side": "buy" if fill.side > 0 else "sell",
            "order_type": {"sl": "stop_market", "tp": "take_profit_market"}.get(fill.leg, "market"),
            "qty": fill.qty, "price": None, "reduce_only": fill.reason is not None, "mode": str(self.mode),
            "filled_price": fill.price, "filled_ts": fill.ts,
        }

    # -- decisions ---------------------------------------------------------------------
    def _decide(self, strat: LiveStrategy, bar: Bar) -> None:
        key = (strat.id, bar.symbol, bar.timeframe)
        if key in self._pending:
            return
        data = self.history.recent(bar.symbol, bar.timeframe, bar.ts, self.history_bars)
        if len(data["close"]) < self.history_bars:
            return
        entry, exit_ = self.signals.last_signal(strat.id, data, strat.params)
        sign = strat.direction.sign
        bar_ms = int(bar.ts.timestamp() * 1000)
        if key in self._open and exit_:
            pos = self._open[key]
            intent = OrderIntent(client_order_id(strat.id, bar.symbol, bar_ms, "exit"), strat.id, bar.symbol,
                                 bar.timeframe, -sign, "exit", qty=pos["qty"], reduce_only=True)
        elif key not in self._open and entry and not exit_ and self._may_open(strat):
            notional = entry_notional(self._equity[strat.id], float(strat.params["sl_pct"]), self.risk)
            if notional <= 0:
                return
            intent = OrderIntent(client_order_id(strat.id, bar.symbol, bar_ms, "entry"), strat.id, bar.symbol,
                                 bar.timeframe, sign, "entry", notional_usd=notional,
                                 sl_pct=float(strat.params["sl_pct"]), tp_pct=float(strat.params["tp_pct"]))
        else:
            return
        self._send(intent, strat)

    def _may_open(self, strat: LiveStrategy) -> bool:
        n_open = sum(1 for k in self._open if k[0] == strat.id) + sum(1 for k in self._pending if k[0] == strat.id)
        return n_open < self.risk.max_open_positions

    def _send(self, intent: OrderIntent, strat: LiveStrategy) -> None:
        recorded = self.store.record_order({
            "client_order_id": intent.client_order_id, "strategy_id": strat.id, "subaccount": strat.subaccount,
            "symbol": intent.symbol, "side": "buy" if intent.side > 0 else "sell", "order_type": "market",
            "qty": intent.qty, "price": None, "reduce_only": intent.reduce_only, "mode": str(self.mode),
        })
        if recorded:  # an id seen before was already sent: never send it twice
            self._pending.add((strat.id, intent.symbol, intent.timeframe))
            self.broker.submit(intent)
