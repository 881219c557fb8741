"""Positions and trades built from venue fills (never from in-memory guesses).

A position is opened by the fills of its entry order (price = the fills' volume-weighted
average, fee = their sum, time = the first fill's), and closed by the fills of its closing
orders — stop, target, signal exit, wind-down, the market exit after a failed stop — or by a
liquidation fill of the venue. Each closing fill books one :class:`~sixbtc.domain.trading.Trade`
of the quantity it closed: entry fee prorated, the exit fill's own fee, and the funding the
venue settled on the position's symbol after the entry and up to the exit
(:meth:`~sixbtc.executor.venue.ExchangeClient.funding_since`, > 0 received)::

    pnl = direction × qty × (exit − entry) − entry fee part − exit fee + funding

the backtest engine's trade (fees and funding included; :mod:`sixbtc.backtester.engine`).
Stop and target levels are the backtest's: ``entry × (1 ∓ sl_pct)`` and ``entry × (1 ± tp_pct)``
of the entry fill price.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sixbtc.core.ids import client_order_id
from sixbtc.domain.orders import FundingPayment, OrderSide, OrderType, VenueFill
from sixbtc.domain.trading import Direction, ExitReason, Trade, TradeMode
from sixbtc.executor.book import LiveStrategy
from sixbtc.executor.ports import EXIT, FLATTEN, PROTECT, STOP, TARGET, JournalOrder

#: Quantities below this (coins) count as nothing left.
QTY_EPS = 1e-12
#: Decimals a position's quantity (coins) keeps: sums and differences of fills are rounded to
#: them, so binary noise (0.1666 − 0.1 = 0.06659999999999999) never makes an order for the rest
#: one lot short when the venue floors sizes to its lot (Hyperliquid ``szDecimals`` ≤ 8).
QTY_DECIMALS = 12
EXIT_REASONS = {STOP: ExitReason.STOP_LOSS, TARGET: ExitReason.TAKE_PROFIT, EXIT: ExitReason.SIGNAL,
                FLATTEN: ExitReason.WIND_DOWN, PROTECT: ExitReason.UNPROTECTED}


def utc_ms(ms: int) -> datetime:
    """UTC datetime of a time in ms since the epoch."""
    return datetime.fromtimestamp(ms / 1000, UTC)


def new_position(strat: LiveStrategy, entry: JournalOrder, fill: VenueFill, mode: TradeMode) -> dict[str, Any]:
    """The ``positions`` row opened by the first fill of ``entry``."""
    sign = strat.direction.sign
    stop = fill.price * (1.0 - sign * entry.sl_pct) if entry.sl_pct > 0 else 0.0
    target = fill.price * (1.0 + sign * entry.tp_pct) if entry.tp_pct > 0 else 0.0
    return {"strategy_id": strat.id, "subaccount": strat.subaccount, "symbol": fill.symbol,
            "timeframe": entry.timeframe, "direction": str(strat.direction), "qty": fill.qty,
            "entry_price": fill.price, "entry_ts": utc_ms(fill.ts_ms), "entry_fee_usd": fill.fee_usd,
            "stop_price": stop, "target_price": target, "mode": str(mode),
            "entry_client_order_id": entry.client_order_id, "signal_ms": entry.signal_ms,
            "entry_fill_ms": fill.ts_ms, "stop_ack_ms": None, "no_stop_ms": None}


def extend_position(pos: dict[str, Any], fill: VenueFill) -> None:
    """Add a further fill of the same entry order (average price, fees summed)."""
    qty = round(pos["qty"] + fill.qty, QTY_DECIMALS)
    pos["entry_price"] = (pos["entry_price"] * pos["qty"] + fill.price * fill.qty) / qty
    pos["qty"], pos["entry_fee_usd"] = qty, pos["entry_fee_usd"] + fill.fee_usd


def protective_orders(pos: dict[str, Any], strat: LiveStrategy, attempt: int = 0) -> list[JournalOrder]:
    """The reduce-only STOP_MARKET and TAKE_PROFIT_MARKET orders of an open position (levels 0 =
    none). ``attempt`` > 0 names a re-placement (client order id leg ``sl#1`` …, still leg ``sl``)."""
    side = OrderSide.of(-Direction(pos["direction"]).sign)
    out = []
    for leg, kind, level in ((STOP, OrderType.STOP_MARKET, pos["stop_price"]),
                             (TARGET, OrderType.TAKE_PROFIT_MARKET, pos["target_price"])):
        if level and level > 0:
            tag = leg if attempt == 0 else f"{leg}#{attempt}"
            cid = client_order_id(strat.id, pos["symbol"], int(pos["signal_ms"] or 0), tag)
            out.append(JournalOrder(cid, strat.id, strat.subaccount, pos["symbol"], pos["timeframe"], leg, side,
                                    kind, pos["qty"], int(pos["signal_ms"] or 0), reduce_only=True,
                                    trigger_price=level))
    return out


def close_rest(order: JournalOrder, pos: dict[str, Any], attempt: int) -> JournalOrder:
    """The reduce-only MARKET order closing what ``order`` (a signal exit, wind-down or
    unprotected exit that ended short of its quantity, e.g. an IOC whose unfilled rest the
    venue cancelled) left of ``pos``: the position's whole remaining quantity, same leg and
    side, client order id leg ``exit#1``, ``exit#2`` … (``attempt`` ≥ 1) of the same signal bar."""
    cid = client_order_id(order.strategy_id, order.symbol, order.signal_ms, f"{order.leg}#{attempt}")
    return JournalOrder(cid, order.strategy_id, order.account, order.symbol, order.timeframe, order.leg, order.side,
                        OrderType.MARKET, pos["qty"], order.signal_ms, reduce_only=True)


def funding_between(payments: list[FundingPayment], symbol: str, after_ms: int, upto_ms: int) -> float:
    """Funding (USD, > 0 received) settled on ``symbol`` in ``(after_ms, upto_ms]``."""
    return sum(p.amount_usd for p in payments if p.symbol == symbol and after_ms < p.ts_ms <= upto_ms)


def close_part(strat: LiveStrategy, pos: dict[str, Any], fill: VenueFill, reason: ExitReason, funding_usd: float,
               mode: TradeMode) -> tuple[Trade, bool, float]:
    """The trade booked by one closing fill, whether it closed the position whole, and the
    funding (USD, > 0 received) booked in it.

    ``funding_usd`` is the funding settled on the whole position over its life so far; the
    part closed takes its share by quantity. Mutates ``pos`` (quantity and fee left) when
    the fill closes only part of it.
    """
    qty = min(fill.qty, pos["qty"])
    share = qty / pos["qty"]
    whole = pos["qty"] - qty <= QTY_EPS * max(pos["qty"], 1.0)
    direction = Direction(pos["direction"])
    entry_fee = pos["entry_fee_usd"] * share
    fees = entry_fee + fill.fee_usd
    funding = funding_usd * share
    notional = qty * pos["entry_price"]
    pnl = direction.sign * qty * (fill.price - pos["entry_price"]) - fees + funding
    trade = Trade(strat.id, fill.symbol, pos["timeframe"], direction, pos["entry_ts"], pos["entry_price"],
                  utc_ms(fill.ts_ms), fill.price, qty, notional, fees, pnl, pnl / notional if notional else 0.0,
                  reason, mode)
    if not whole:
        pos["qty"], pos["entry_fee_usd"] = round(pos["qty"] - qty, QTY_DECIMALS), pos["entry_fee_usd"] - entry_fee
    return trade, whole, funding


def exit_key(fill: VenueFill, whole: bool) -> str:
    """The ``trades.exit_client_order_id`` of a closing fill: its client order id for a whole
    close, ``<cid>:<trade id>`` for a part, ``liq:<trade id>`` for a liquidation."""
    if fill.client_order_id is None:
        return f"liq:{fill.trade_id}"[:64]
    return fill.client_order_id if whole else f"{fill.client_order_id}:{fill.trade_id}"[:64]
