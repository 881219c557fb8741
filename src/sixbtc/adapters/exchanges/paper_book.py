"""The paper venue's state in memory: accounts, resting orders, net positions, and fills.

Pure bookkeeping, no I/O: :mod:`~sixbtc.adapters.exchanges.paper_matching` decides *what*
fills at which price, :class:`VenueBook` applies a fill (netting, realised PnL, fees) or a
funding settlement and records what changed, and the repository
(:mod:`sixbtc.adapters.storage.paper_venue_repo`) loads a book for one call and writes the
changes back in the same transaction.

Money model (one model for every account, as the backtest kernel's single account): an
account's ``cash_usd`` takes realised PnL, fees and funding at once; a position's margin is
``|qty| × entry_price / leverage`` (isolated); equity = cash + unrealised PnL at the mark.
A loss beyond a position's margin (a gap through its liquidation price) is taken from the
cash too: there is no insurance fund, as in the backtest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sixbtc.domain.orders import OrderSide, OrderStatus, OrderType, VenueFill
from sixbtc.domain.sizing import liquidation_price

#: Quantities below this (coins) count as zero (float residue of netting).
QTY_EPS = 1e-12


@dataclass
class PaperOrder:
    """A venue order. ``placed_ms``: venue time at placement; it can fill only on bars opened at
    or after it. ``notional_usd``: a MARKET order sized in USD at its fill (qty = notional / fill
    price); ``qty`` is then the caller's estimate and is replaced at the fill."""

    venue_order_id: int
    account: str
    client_order_id: str | None
    symbol: str
    side: OrderSide
    order_type: OrderType
    qty: float
    price: float | None
    trigger_price: float | None
    reduce_only: bool
    status: OrderStatus
    placed_ms: int
    ts_ms: int
    notional_usd: float | None = None
    filled_qty: float = 0.0
    avg_fill_price: float | None = None

    @property
    def remaining(self) -> float:
        """Unfilled quantity (coins)."""
        return max(self.qty - self.filled_qty, 0.0)


@dataclass
class PaperPosition:
    """A net position of one account in one symbol. ``qty`` signed (> 0 long)."""

    account: str
    symbol: str
    qty: float
    entry_price: float
    leverage: float
    opened_ms: int

    @property
    def direction(self) -> int:
        """+1 long, -1 short."""
        return 1 if self.qty > 0 else -1

    @property
    def margin_usd(self) -> float:
        """Isolated margin: notional at entry / leverage."""
        return abs(self.qty) * self.entry_price / self.leverage

    @property
    def liquidation_price(self) -> float:
        """:func:`sixbtc.domain.sizing.liquidation_price` of the position."""
        return liquidation_price(self.entry_price, self.direction, self.leverage)


@dataclass
class FundingRecord:
    """One funding settlement of one position (``amount_usd`` > 0 received)."""

    account: str
    symbol: str
    ts_ms: int
    rate: float
    price: float
    amount_usd: float
    position_qty: float


@dataclass
class VenueBook:
    """The part of the venue one call works on, and what the call changed.

    ``cash``: account → cash (USD). ``positions``: (account, symbol) → position.
    ``orders``: venue order id → order. ``leverage``: (account, symbol) → leverage for new
    positions. ``next_trade_id``: the id the next fill takes. The change sets are read by
    the repository to write them back.
    """

    cash: dict[str, float]
    positions: dict[tuple[str, str], PaperPosition]
    orders: dict[int, PaperOrder]
    leverage: dict[tuple[str, str], float]
    next_trade_id: int
    next_order_id: int
    fee_rate: float
    default_leverage: float = 1.0
    marks: dict[str, float] = field(default_factory=dict)
    loaded_orders: set[int] = field(default_factory=set)
    fills: list[VenueFill] = field(default_factory=list)
    funding: list[FundingRecord] = field(default_factory=list)
    touched_orders: set[int] = field(default_factory=set)
    touched_positions: set[tuple[str, str]] = field(default_factory=set)
    touched_cash: set[str] = field(default_factory=set)

    # -- fills ------------------------------------------------------------------------
    def fill(self, order: PaperOrder, qty: float, price: float, ts_ms: int, *,
             liquidation: bool = False, fee_usd: float | None = None) -> VenueFill:
        """Execute ``qty`` of ``order`` at ``price`` (slippage included) at ``ts_ms``.

        Nets the account's position (opens, adds at the average price, reduces with realised
        PnL, or flips), charges the fee (``fee_rate × qty × price`` unless ``fee_usd`` is
        given), updates the order's filled quantity and status, and records the fill.
        """
        fee = qty * price * self.fee_rate if fee_usd is None else fee_usd
        pos = self.positions.get((order.account, order.symbol))
        closes = order.reduce_only and pos is not None and abs(pos.qty) <= qty + QTY_EPS
        self._net(order.account, order.symbol, order.side.sign * qty, price, ts_ms)
        self._add_cash(order.account, -fee)
        prev = order.filled_qty
        order.filled_qty = prev + qty
        if closes:  # a reduce-only order that closed its position is done (the venue shrinks it)
            order.qty = order.filled_qty
        order.avg_fill_price = price if not prev else (order.avg_fill_price * prev + price * qty) / order.filled_qty
        order.status = OrderStatus.FILLED if order.remaining <= QTY_EPS else OrderStatus.PARTIALLY_FILLED
        order.ts_ms = ts_ms
        self.touched_orders.add(order.venue_order_id)
        trade = VenueFill(trade_id=f"paper-{self.next_trade_id}", venue_order_id=str(order.venue_order_id),
                          client_order_id=order.client_order_id, symbol=order.symbol, side=order.side,
                          qty=qty, price=price, fee_usd=fee, ts_ms=ts_ms, reduce_only=order.reduce_only,
                          liquidation=liquidation)
        self.next_trade_id += 1
        self.fills.append(trade)
        return trade

    def _net(self, account: str, symbol: str, signed_qty: float, price: float, ts_ms: int) -> None:
        key = (account, symbol)
        pos = self.positions.get(key)
        self.touched_positions.add(key)
        if pos is None:
            lev = self.leverage.get(key, self.default_leverage)
            self.positions[key] = PaperPosition(account, symbol, signed_qty, price, lev, ts_ms)
            return
        if pos.qty * signed_qty > 0:  # adding: average entry price
            total = pos.qty + signed_qty
            pos.entry_price = (pos.entry_price * pos.qty + price * signed_qty) / total
            pos.qty = total
            return
        closed = min(abs(signed_qty), abs(pos.qty))
        self._add_cash(account, pos.direction * closed * (price - pos.entry_price))
        rest = pos.qty + signed_qty
        if abs(rest) <= QTY_EPS:
            del self.positions[key]
        elif rest * pos.qty > 0:
            pos.qty = rest
        else:  # flipped: the remainder opens a new position at the fill price
            lev = self.leverage.get(key, self.default_leverage)
            self.positions[key] = PaperPosition(account, symbol, rest, price, lev, ts_ms)

    def _add_cash(self, account: str, amount: float) -> None:
        self.cash[account] = self.cash.get(account, 0.0) + amount
        self.touched_cash.add(account)

    # -- funding ----------------------------------------------------------------------
    def settle_funding(self, symbol: str, ts_ms: int, rate: float, price: float) -> list[FundingRecord]:
        """Charge funding on every position in ``symbol`` opened before ``ts_ms``.

        A position pays ``qty × price × rate`` (signed ``qty``: a long pays a positive rate, a
        short receives it), the backtest kernel's ``direction × qty × open × rate`` at the
        settlement bar's open (:mod:`sixbtc.backtester.engine`, "Funding"). A position opened
        at ``ts_ms`` itself (filled at that open) does not pay.
        """
        out = []
        for (account, sym), pos in sorted(self.positions.items()):
            if sym != symbol or pos.opened_ms >= ts_ms:
                continue
            pay = pos.direction * abs(pos.qty) * price * rate
            self._add_cash(account, -pay)
            rec = FundingRecord(account, symbol, ts_ms, rate, price, -pay, pos.qty)
            self.funding.append(rec)
            out.append(rec)
        return out

    # -- orders -----------------------------------------------------------------------
    def new_order(self, account: str, client_order_id: str | None, symbol: str, side: OrderSide,
                  order_type: OrderType, qty: float, price: float | None, trigger_price: float | None,
                  reduce_only: bool, ts_ms: int, notional_usd: float | None = None) -> PaperOrder:
        """Create an OPEN order with the next venue order id (placed at ``ts_ms``)."""
        order = PaperOrder(self.next_order_id, account, client_order_id, symbol, side, order_type, qty, price,
                           trigger_price, reduce_only, OrderStatus.OPEN, ts_ms, ts_ms, notional_usd)
        self.next_order_id += 1
        self.orders[order.venue_order_id] = order
        self.touched_orders.add(order.venue_order_id)
        return order

    def equity(self, account: str) -> float:
        """Cash plus unrealised PnL of the account's positions at their marks (USD)."""
        upnl = sum((self.unrealized(p) for p in self.positions.values() if p.account == account), 0.0)
        return self.cash.get(account, 0.0) + upnl

    def unrealized(self, pos: PaperPosition) -> float:
        """Unrealised PnL (USD) of ``pos`` at its symbol's mark (the entry price when unknown)."""
        return pos.qty * (self.marks.get(pos.symbol, pos.entry_price) - pos.entry_price)

    def margin_used(self, account: str) -> float:
        """Isolated margin held by the account's positions (USD)."""
        return sum((p.margin_usd for p in self.positions.values() if p.account == account), 0.0)

    def margin_allows(self, order: PaperOrder, qty: float, price: float) -> bool:
        """True when filling ``qty`` at ``price`` needs no more margin than is available.

        Only the part that opens or increases a position needs margin (``qty × price /
        leverage``); available = equity - margin used (the fee is not reserved: an all-in
        entry as the kernel's, ``notional = leverage × equity``, is allowed).
        """
        pos = self.positions.get((order.account, order.symbol))
        reducing = abs(pos.qty) if pos is not None and pos.direction != order.side.sign else 0.0
        opening = max(qty - reducing, 0.0)
        if opening <= QTY_EPS:
            return True
        lev = pos.leverage if pos is not None and reducing == 0.0 else \
            self.leverage.get((order.account, order.symbol), self.default_leverage)
        available = self.equity(order.account) - self.margin_used(order.account)
        return opening * price / lev <= available * (1.0 + 1e-9) + 1e-9

    def cancel(self, order: PaperOrder, ts_ms: int) -> None:
        """Cancel ``order`` (nothing is filled any more)."""
        order.status = OrderStatus.CANCELED
        order.ts_ms = ts_ms
        self.touched_orders.add(order.venue_order_id)

    def open_orders(self, symbol: str | None = None) -> list[PaperOrder]:
        """Resting (open or partially filled) orders, oldest first, optionally of one symbol."""
        live = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)
        return sorted((o for o in self.orders.values() if o.status in live and (symbol is None or o.symbol == symbol)),
                      key=lambda o: o.venue_order_id)

    def fit_reduce_only(self, ts_ms: int) -> None:
        """Shrink resting reduce-only orders to their position's size; cancel those whose
        position is closed or on their own side (a reduce-only order never increases one)."""
        for order in self.open_orders():
            if not order.reduce_only:
                continue
            pos = self.positions.get((order.account, order.symbol))
            if pos is None or pos.direction == order.side.sign:
                self.cancel(order, ts_ms)
            elif order.remaining > abs(pos.qty) + QTY_EPS:
                order.qty = order.filled_qty + abs(pos.qty)
                order.ts_ms = ts_ms
                self.touched_orders.add(order.venue_order_id)
