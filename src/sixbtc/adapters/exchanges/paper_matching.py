"""The paper venue's fill rules: the backtest engine's, applied to resting venue orders.

Rules (the same as :mod:`sixbtc.backtester.engine` and its kernel, so paper trades equal
backtest trades on the same bars):

- a MARKET order fills at the open of the first bar of its symbol opened at or after its
  placement, moved adversely by ``slippage_bps`` (buys at ``open × (1 + s)``, sells at
  ``open × (1 - s)``); an order sized in USD (``notional_usd``) gets ``qty = notional / fill``;
- a trigger (stop-market, take-profit-market), a limit and an isolated liquidation fill
  inside a bar only at a price the bar traded: when the bar opens beyond the level, at the
  open; otherwise at the level if the bar's low/high touched it; the fill then gets the same
  adverse slippage;
- inside a bar, each account's path is open → adverse extreme → favourable extreme (a long
  sees the low first, a short the high; flat accounts the nearer extreme first), so when a
  stop and a target are both touched the stop fills first (conservative, SPEC §3.4); on
  one level the order of precedence is stop, liquidation, take-profit, limit; the
  liquidation replaces the stop only when strictly closer (as in the kernel);
- a reduce-only order fills at most the position and never opens or increases one; when
  the position closes, the account's reduce-only orders on the symbol are cancelled, and
  shrunk when it gets smaller;
- fees: ``fee_rate × qty × price`` per fill (the kernel's ``notional × fee_rate`` on entry).
"""

from __future__ import annotations

from dataclasses import dataclass

from sixbtc.adapters.exchanges.paper_book import QTY_EPS, PaperOrder, PaperPosition, VenueBook
from sixbtc.domain.orders import OrderSide, OrderType

# Precedence on one price level (lower first).
_STOP, _LIQUIDATION, _TAKE_PROFIT, _LIMIT = 0, 1, 2, 3


@dataclass(frozen=True)
class _Level:
    """A price at which something happens to an account: a resting order or a liquidation."""

    price: float
    falling: bool  # triggers when the price falls to it (else when it rises to it)
    rank: int
    order: PaperOrder | None  # None: the liquidation of ``position``
    position: PaperPosition | None


def slipped(price: float, side: OrderSide, slip: float) -> float:
    """``price`` moved adversely by ``slip`` (fraction) for a fill on ``side`` (kernel ``fill_price``)."""
    return price * (1.0 + side.sign * slip)


def _levels(book: VenueBook, account: str, symbol: str, ts_ms: int) -> list[_Level]:
    out = []
    for o in book.open_orders(symbol):
        if o.account != account or o.placed_ms > ts_ms or o.order_type is OrderType.MARKET:
            continue
        buy = o.side is OrderSide.BUY
        if o.order_type is OrderType.LIMIT:
            out.append(_Level(o.price, buy, _LIMIT, o, None))
        elif o.order_type is OrderType.STOP_MARKET:
            out.append(_Level(o.trigger_price, not buy, _STOP, o, None))
        else:
            out.append(_Level(o.trigger_price, buy, _TAKE_PROFIT, o, None))
    pos = book.positions.get((account, symbol))
    if pos is not None:
        out.append(_Level(pos.liquidation_price, pos.direction > 0, _LIQUIDATION, None, pos))
    return out


def _first(levels: list[_Level], falling: bool, bound: float) -> _Level | None:
    """The first level a move in that direction to ``bound`` crosses (None if none)."""
    hit = [lv for lv in levels if lv.falling == falling and (lv.price >= bound if falling else lv.price <= bound)]
    if not hit:
        return None
    sign = -1.0 if falling else 1.0
    return min(hit, key=lambda lv: (sign * lv.price, lv.rank, lv.order.venue_order_id if lv.order else 0))


def _execute(book: VenueBook, lv: _Level, raw: float, ts_ms: int, slip: float) -> None:
    """Fill level ``lv`` at raw price ``raw`` (before slippage)."""
    if lv.order is None:  # liquidation: the whole position, by the venue
        pos = lv.position
        side = OrderSide.of(-pos.direction)
        order = book.new_order(pos.account, None, pos.symbol, side, OrderType.MARKET, abs(pos.qty), None, None,
                               True, ts_ms)
        book.fill(order, abs(pos.qty), slipped(raw, side, slip), ts_ms, liquidation=True)
    else:
        order = lv.order
        qty = fillable_qty(book, order)
        if qty is None:
            book.cancel(order, ts_ms)
        else:
            book.fill(order, qty, slipped(raw, order.side, slip), ts_ms)
    book.fit_reduce_only(ts_ms)


def fillable_qty(book: VenueBook, order: PaperOrder) -> float | None:
    """What ``order`` may fill now: its remainder, capped at the position for reduce-only;
    None when a reduce-only order has no position to reduce."""
    if not order.reduce_only:
        return order.remaining
    pos = book.positions.get((order.account, order.symbol))
    if pos is None or pos.direction == order.side.sign:
        return None
    qty = min(order.remaining, abs(pos.qty))
    return qty if qty > QTY_EPS else None


def fill_market_orders(book: VenueBook, symbol: str, open_: float, ts_ms: int, slip: float) -> None:
    """Fill every MARKET order of ``symbol`` placed at or before ``ts_ms`` at ``open_`` (oldest
    first). An order that would need more margin than the account has available is cancelled."""
    for order in book.open_orders(symbol):
        if order.order_type is not OrderType.MARKET or order.placed_ms > ts_ms:
            continue
        price = slipped(open_, order.side, slip)
        if order.notional_usd is not None and not order.reduce_only:
            order.qty = order.notional_usd / price
        qty = fillable_qty(book, order)
        if qty is None or not book.margin_allows(order, qty, price):
            book.cancel(order, ts_ms)
            continue
        fee = order.notional_usd * book.fee_rate if order.notional_usd is not None and not order.reduce_only else None
        book.fill(order, qty, price, ts_ms, fee_usd=fee)
        book.fit_reduce_only(ts_ms)


def _gap(book: VenueBook, account: str, symbol: str, open_: float, prev: float, ts_ms: int, slip: float) -> None:
    """Fill what the open already lies beyond, at the open (moves from ``prev`` first)."""
    order_first = (True, False) if open_ < prev else (False, True)
    for _ in range(10_000):
        levels = _levels(book, account, symbol, ts_ms)
        lv = _first(levels, order_first[0], open_) or _first(levels, order_first[1], open_)
        if lv is None:
            return
        _execute_or_refuse(book, lv, open_, ts_ms, slip)
    raise RuntimeError("paper matching did not converge at the open")  # pragma: no cover


def _execute_or_refuse(book: VenueBook, lv: _Level, raw: float, ts_ms: int, slip: float) -> None:
    order = lv.order
    if order is not None and not order.reduce_only:
        qty = order.remaining
        if not book.margin_allows(order, qty, slipped(raw, order.side, slip)):
            book.cancel(order, ts_ms)
            return
    _execute(book, lv, raw, ts_ms, slip)


def _segment(book: VenueBook, account: str, symbol: str, to: float, falling: bool, ts_ms: int,
             slip: float) -> None:
    """Move the price to ``to``; fill every level crossed, in crossing order, at the level."""
    for _ in range(10_000):
        lv = _first(_levels(book, account, symbol, ts_ms), falling, to)
        if lv is None:
            return
        _execute_or_refuse(book, lv, lv.price, ts_ms, slip)
    raise RuntimeError("paper matching did not converge inside a bar")  # pragma: no cover


def match_range(book: VenueBook, symbol: str, bar: tuple[float, float, float], prev: float, ts_ms: int,
                slip: float) -> None:
    """Fill triggers, limits and liquidations of ``symbol`` inside one bar.

    Parameters
    ----------
    bar : (open, high, low)
        The bar's prices (USD).
    prev : float
        The price before the open (previous close; the open itself when unknown): the
        direction of an opening gap decides which side's levels fill first.
    ts_ms : int
        The bar's open time (UTC ms); orders placed after it are not matched, and the fills
        carry it.
    """
    open_, high, low = bar
    accounts = sorted({o.account for o in book.open_orders(symbol)}
                      | {acc for (acc, sym) in book.positions if sym == symbol})
    for account in accounts:
        _gap(book, account, symbol, open_, prev, ts_ms, slip)
        pos = book.positions.get((account, symbol))
        low_first = pos.direction > 0 if pos is not None else open_ - low <= high - open_
        path = ((low, True), (high, False)) if low_first else ((high, False), (low, True))
        for to, falling in path:
            _segment(book, account, symbol, to, falling, ts_ms, slip)
