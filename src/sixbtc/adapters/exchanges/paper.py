"""The paper broker: simulated fills against the live or replayed market.

Fill rules are the backtest engine's, so paper results are comparable with backtests:

- a market order submitted after bar ``i`` closed fills at the open of bar ``i + 1`` of its
  stream (the first bar opened at or after its ``not_before``, the decision time), moved
  adversely by ``slippage_bps``; the fee is ``fee_rate`` × notional;
- an entry places a protective stop and target (``sl_pct``/``tp_pct`` from the fill
  price), checked on every later bar's high/low *and on the entry bar itself*; when both are
  touched in one bar the stop wins; a bar that opens beyond the level fills at the open;
- protective orders are reduce-only and are cancelled when the position closes;
- a reduce-only order of leg ``"flatten"`` (the strategy stopped trading) closes with exit
  reason ``WIND_DOWN``, other reduce-only market orders with ``SIGNAL``.

The broker's queue lives in memory: after a restart the executor hands it the recovered NEW
orders (:meth:`submit`) and the stops/targets of open positions (:meth:`restore_protection`).

Nothing here talks to a network: this class is the broker whenever ``executor.dry_run`` is
true, which is the default.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sixbtc.core.ids import client_order_id
from sixbtc.domain.trading import ExitReason
from sixbtc.executor.ports import Bar, Fill, OrderIntent


@dataclass
class _Protection:
    strategy_id: int
    side: int  # side of the *position* (+1 long, -1 short)
    qty: float
    stop: float
    target: float


class PaperBroker:
    """Simulated broker.

    Parameters
    ----------
    fee_rate : float
        Fee per fill as a fraction of notional (0.00045 = 0.045 %).
    slippage_bps : float
        Adverse slippage per fill in basis points.
    """

    mode = "paper"

    def __init__(self, fee_rate: float, slippage_bps: float) -> None:
        if fee_rate < 0 or slippage_bps < 0:
            raise ValueError("fee_rate and slippage_bps must be >= 0")
        self.fee_rate = fee_rate
        self.slip = slippage_bps / 10_000.0
        self._pending: dict[tuple[str, str], list[OrderIntent]] = defaultdict(list)
        self._protect: dict[tuple[int, str, str], _Protection] = {}

    def submit(self, intent: OrderIntent) -> None:
        """Queue ``intent`` for the next bar of its (symbol, timeframe) stream."""
        self._pending[(intent.symbol, intent.timeframe)].append(intent)

    def cancel(self, client_order_id: str) -> None:
        """Drop a queued order (no-op when it is not queued)."""
        for key, queue in self._pending.items():
            self._pending[key] = [i for i in queue if i.client_order_id != client_order_id]

    def restore_protection(self, strategy_id: int, symbol: str, timeframe: str, side: int, qty: float,
                           stop: float, target: float) -> None:
        """Re-arm the stop/target of a position loaded from the database after a restart."""
        self._protect[(strategy_id, symbol, timeframe)] = _Protection(strategy_id, side, qty, stop, target)

    def on_bar(self, bar: Bar) -> list[Fill]:
        """Fill queued orders at ``bar.open``, then trigger stops/targets within ``bar``."""
        queued = self._pending.pop((bar.symbol, bar.timeframe), [])
        due = [i for i in queued if i.not_before is None or i.not_before <= bar.ts]
        if len(due) < len(queued):
            self._pending[(bar.symbol, bar.timeframe)] = [i for i in queued if i not in due]
        fills = [f for f in (self._fill_market(intent, bar) for intent in due) if f is not None]
        for key, prot in list(self._protect.items()):
            if key[1:] == (bar.symbol, bar.timeframe):
                fill = self._check_protection(prot, bar)
                if fill is not None:
                    del self._protect[key]
                    fills.append(fill)
        return fills

    def _price(self, raw: float, side: int) -> float:
        return raw * (1.0 + side * self.slip)

    def _fill_market(self, intent: OrderIntent, bar: Bar) -> Fill | None:
        key = (intent.strategy_id, intent.symbol, intent.timeframe)
        price = self._price(bar.open, intent.side)
        if intent.reduce_only:
            prot = self._protect.pop(key, None)
            if prot is None:  # already closed by its stop/target
                return None
            qty = prot.qty
        else:
            qty = intent.notional_usd / price
        fill = Fill(intent.client_order_id, intent.strategy_id, intent.symbol, intent.timeframe, intent.side,
                    intent.leg, qty, price, qty * price * self.fee_rate, bar.ts,
                    _market_exit_reason(intent))
        if not intent.reduce_only:
            stop = price * (1.0 - intent.side * intent.sl_pct)
            target = price * (1.0 + intent.side * intent.tp_pct)
            self._protect[key] = _Protection(intent.strategy_id, intent.side, qty, stop, target)
            fill = Fill(**{**fill.__dict__, "stop_price": stop, "target_price": target})
        return fill

    def _check_protection(self, p: _Protection, bar: Bar) -> Fill | None:
        long = p.side > 0
        opened_past_stop = bar.open <= p.stop if long else bar.open >= p.stop
        opened_past_target = bar.open >= p.target if long else bar.open <= p.target
        stop_hit = bar.low <= p.stop if long else bar.high >= p.stop
        target_hit = bar.high >= p.target if long else bar.low <= p.target
        if opened_past_stop or opened_past_target:  # the open comes first in time: fill there
            raw, reason, leg = bar.open, *((ExitReason.STOP_LOSS, "sl") if opened_past_stop else (ExitReason.TAKE_PROFIT, "tp"))
        elif stop_hit:  # both touched inside the bar: the stop first (conservative)
            raw, reason, leg = p.stop, ExitReason.STOP_LOSS, "sl"
        elif target_hit:
            raw, reason, leg = p.target, ExitReason.TAKE_PROFIT, "tp"
        else:
            return None
        price = self._price(raw, -p.side)
        cid = client_order_id(p.strategy_id, bar.symbol, int(bar.ts.timestamp() * 1000), leg)
        return Fill(cid, p.strategy_id, bar.symbol, bar.timeframe, -p.side, leg, p.qty, price,
                    p.qty * price * self.fee_rate, bar.ts, reason)


def _market_exit_reason(intent: OrderIntent) -> ExitReason | None:
    if not intent.reduce_only:
        return None
    return ExitReason.WIND_DOWN if intent.leg == "flatten" else ExitReason.SIGNAL
