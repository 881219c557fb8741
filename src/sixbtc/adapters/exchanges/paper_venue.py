"""The paper venue: a simulated exchange behind the :class:`~sixbtc.executor.venue.ExchangeClient` port.

The default venue (``executor.dry_run: true``): orders rest on it and fill against the live or
replayed feed with the backtest engine's rules (:mod:`~sixbtc.adapters.exchanges.paper_matching`),
fees, slippage, funding at each settlement and isolated liquidation. Its whole state
(accounts, balances, orders, positions, fills, funding, feed progress) is in the database
(:mod:`sixbtc.adapters.storage.paper_venue_repo`); every call commits before it returns, so
the venue survives a ``kill -9`` of the executor exactly as a real exchange would.

Feeding (by ``app/``, once per closed bar, *before* the executor sees the bar)::

    venue.open_bar(bar, funding_rate)   # market orders fill at bar.open, then funding settles
    ...                                 # the executor may place stops/targets for those fills
    venue.close_bar(bar)                # triggers, limits, liquidations inside the bar

:meth:`PaperVenue.on_bar` does both at once. Feeding is idempotent: a bar fed again (after a
restart) changes nothing. The venue's time (:attr:`PaperVenue.now_ms`) is the feed's: the
bar's open time during :meth:`open_bar`, its close time after :meth:`close_bar`; an order
placed at venue time ``t`` fills on the first bar of its symbol opened at or after ``t``, so
an order placed after bar ``i`` closed fills at the open of bar ``i + 1`` and a stop placed
in reaction to an entry fill at that open is live for the rest of the same bar (the
backtest checks stops on the entry bar too). Feed one timeframe per symbol, or finer ones
first: a bar that starts before the time already covered on its symbol is skipped.

Nothing here talks to a network; no key exists.
"""

from __future__ import annotations

import math

from sixbtc.adapters.exchanges.paper_accounts import PaperAccounts
from sixbtc.adapters.exchanges.paper_book import QTY_EPS, PaperOrder, VenueBook
from sixbtc.adapters.exchanges.paper_matching import fill_market_orders, match_range
from sixbtc.adapters.storage.paper_venue_repo import funding_record
from sixbtc.core.errors import DuplicateClientOrderId, InsufficientFunds, OrderRejected
from sixbtc.domain.orders import (
    Balance,
    FundingPayment,
    Market,
    OrderRequest,
    OrderType,
    VenueFill,
    VenueOrder,
    VenuePosition,
)
from sixbtc.domain.timeframe import Timeframe
from sixbtc.executor.ports import Bar


def _venue_order(o: PaperOrder) -> VenueOrder:
    return VenueOrder(client_order_id=o.client_order_id, venue_order_id=str(o.venue_order_id), symbol=o.symbol,
                      side=o.side, order_type=o.order_type, qty=o.qty, filled_qty=o.filled_qty,
                      avg_fill_price=o.avg_fill_price, price=o.price, trigger_price=o.trigger_price,
                      reduce_only=o.reduce_only, status=o.status, ts_ms=o.ts_ms)


def _ms(bar: Bar) -> tuple[int, int]:
    start = int(bar.ts.timestamp() * 1000)
    return start, start + Timeframe.parse(bar.timeframe).ms


class PaperVenue(PaperAccounts):
    """Simulated exchange on the database (see the module docstring for feeding).

    Parameters
    ----------
    engine : sqlalchemy.Engine
        A migrated engine (revision 0006+); the venue's state lives there.
    fee_rate : float
        Fee per fill as a fraction of notional (``backtest.fee_rate``, 0.00045 = 0.045 %).
    slippage_bps : float
        Adverse slippage per fill in basis points (``backtest.slippage_bps``).
    initial_master_usd : float
        USD credited to the master account when the database holds no paper venue yet.
    markets : dict[str, Market], optional
        Tradable symbols and their rules; None = any symbol, with ``max_leverage`` as cap. The
        paper venue does not round sizes or prices (the backtest does not either).
    default_leverage : float
        Leverage of positions whose (account, symbol) got no :meth:`set_leverage` (>= 1).
    max_leverage : float
        Leverage cap of symbols not in ``markets``.
    master : str
        Name (and address) of the master account.
    clock : sixbtc.core.clock.Clock, optional
        Wall clock for agent expiries (live clock by default).

    Raises
    ------
    ValueError
        For a negative fee, slippage or deposit, or a leverage below 1.
    """

    mode = "paper"
    venue = "paper"
    #: A second order with a client order id the account already used is refused
    #: (:class:`~sixbtc.core.errors.DuplicateClientOrderId`, also a unique constraint).
    unique_client_order_ids = True

    # -- orders --------------------------------------------------------------------------
    def place_order(self, account: str, request: OrderRequest) -> VenueOrder:
        """Accept an order (it rests until the feed fills it); returns it OPEN.

        Raises
        ------
        DuplicateClientOrderId
            A client order id the account already used (checked before the position rules).
        OrderRejected
            Unknown account or symbol, a bad quantity/price, a reduce-only order with no position to reduce (or on the
            position's side), a trigger without ``trigger_price``, a limit without ``price``.
        InsufficientFunds
            An order that opens or increases a position needs more margin than is available
            (estimated at the last close; checked again at the fill).
        """
        self._check_request(request)
        with self.repo.session() as conn:
            self._account_row(conn, account)
            if request.client_order_id and self.repo.order_by_cloid(conn, account, request.client_order_id):
                raise DuplicateClientOrderId(f"duplicate client order id {request.client_order_id!r} on account "
                                             f"{account!r}")
            book = self._book(conn)
            now = self.repo.now_ms(conn)
            order = book.new_order(account, request.client_order_id or None, request.symbol, request.side,
                                   request.order_type, request.qty, request.price, request.trigger_price,
                                   request.reduce_only, now, request.notional_usd)
            self._check_position_rules(book, order, request)
            self.repo.save(conn, book)
        return _venue_order(order)

    def _check_request(self, r: OrderRequest) -> None:
        if self.markets_cfg is not None and r.symbol not in self.markets_cfg:
            raise OrderRejected(f"unknown symbol {r.symbol!r} on the paper venue")
        if not (isinstance(r.qty, int | float) and math.isfinite(r.qty) and r.qty > 0):
            raise OrderRejected(f"order {r.client_order_id!r}: qty must be a positive number of coins, got {r.qty!r}")
        if r.notional_usd is not None and (r.order_type is not OrderType.MARKET or not r.notional_usd > 0
                                           or not math.isfinite(r.notional_usd)):
            raise OrderRejected(f"order {r.client_order_id!r}: notional_usd must be > 0 and only on a MARKET order")
        if r.order_type is OrderType.LIMIT and not (r.price is not None and r.price > 0):
            raise OrderRejected(f"order {r.client_order_id!r}: a LIMIT order needs a price > 0, got {r.price!r}")
        if r.order_type.is_trigger and not (r.trigger_price is not None and r.trigger_price > 0):
            raise OrderRejected(f"order {r.client_order_id!r}: a {r.order_type} order needs a trigger_price > 0, "
                                f"got {r.trigger_price!r}")

    def _check_position_rules(self, book: VenueBook, order: PaperOrder, r: OrderRequest) -> None:
        pos = book.positions.get((order.account, order.symbol))
        if r.reduce_only:
            if pos is None or pos.direction == r.side.sign:
                raise OrderRejected(f"order {r.client_order_id!r}: reduce-only {r.side} would open or increase "
                                    f"a position in {r.symbol} (position {pos.qty if pos else 0.0})")
            return
        mark = book.marks.get(order.symbol)
        notional = r.notional_usd if r.notional_usd is not None else (r.qty * mark if mark else None)
        price = notional / r.qty if notional is not None else None
        if price is not None and not book.margin_allows(order, r.qty, price):
            available = book.equity(order.account) - book.margin_used(order.account)
            raise InsufficientFunds(f"order {r.client_order_id!r}: notional {notional:.2f} USD needs more margin "
                                    f"than the {available:.2f} USD available on {order.account!r}")

    def cancel_order(self, account: str, symbol: str, client_order_id: str) -> bool:
        """Cancel a resting order by client order id; False when it is not open (or unknown)."""
        with self.repo.session() as conn:
            book = self._book(conn)
            for order in book.open_orders(symbol):
                if order.account == account and order.client_order_id == client_order_id:
                    book.cancel(order, self.repo.now_ms(conn))
                    self.repo.save(conn, book)
                    return True
        return False

    def query_order(self, account: str, symbol: str, client_order_id: str) -> VenueOrder | None:
        """The order with this client order id (any status), None when the venue does not know it."""
        with self.repo.session() as conn:
            order = self.repo.order_by_cloid(conn, account, client_order_id)
        return None if order is None or order.symbol != symbol else _venue_order(order)

    def open_orders(self, account: str) -> list[VenueOrder]:
        """Resting orders of the account, oldest first."""
        with self.repo.session() as conn:
            book = self._book(conn)
        return [_venue_order(o) for o in book.open_orders() if o.account == account]

    # -- account state ---------------------------------------------------------------------
    def positions(self, account: str) -> list[VenuePosition]:
        """Open positions of the account, by symbol, marked at the last close."""
        with self.repo.session() as conn:
            self._account_row(conn, account)
            book = self._book(conn)
        return [VenuePosition(symbol=p.symbol, qty=p.qty, entry_price=p.entry_price, leverage=p.leverage,
                              margin_usd=p.margin_usd, liquidation_price=p.liquidation_price,
                              unrealized_pnl_usd=book.unrealized(p))
                for (acc, _), p in sorted(book.positions.items()) if acc == account]

    def fills_since(self, account: str, since_ms: int) -> list[VenueFill]:
        """Fills of the account at or after ``since_ms`` (UTC ms; fills carry their bar's open time)."""
        with self.repo.session() as conn:
            return self.repo.fills_since(conn, account, since_ms)

    def funding_since(self, account: str, since_ms: int) -> list[FundingPayment]:
        """Funding settled on the account at or after ``since_ms``, oldest first."""
        with self.repo.session() as conn:
            return self.repo.funding_since(conn, account, since_ms)

    def balance(self, account: str) -> Balance:
        """Equity (cash + unrealised PnL), available (equity - margin, >= 0) and margin used (USD).

        Raises
        ------
        ValueError
            For an account the venue does not have.
        """
        with self.repo.session() as conn:
            self._account_row(conn, account)
            book = self._book(conn)
        equity, margin = book.equity(account), book.margin_used(account)
        return Balance(account=account, equity_usd=equity, available_usd=max(equity - margin, 0.0),
                       margin_used_usd=margin)

    def markets(self) -> dict[str, Market]:
        """Configured markets, or one generic entry per symbol the feed has shown."""
        if self.markets_cfg is not None:
            return dict(self.markets_cfg)
        with self.repo.session() as conn:
            symbols = self.repo.symbols(conn)
        return {s: Market(symbol=s, sz_decimals=8, max_leverage=self.max_leverage, min_notional_usd=0.0)
                for s in symbols}

    # -- feeding ---------------------------------------------------------------------------
    @property
    def now_ms(self) -> int:
        """Venue time (UTC ms): orders placed now fill on bars opened at or after it."""
        with self.repo.session() as conn:
            return self.repo.now_ms(conn)

    def open_bar(self, bar: Bar, funding_rate: float = 0.0) -> list[VenueFill]:
        """Apply the open of a closed bar: market orders fill at ``bar.open``, then funding.

        ``funding_rate`` is the rate settled at this bar's open (0 = no settlement), paid by
        positions opened before it at ``bar.open`` (the backtest's rule). A bar already
        opened, or starting before the time covered on its symbol, changes nothing.
        Returns the fills (in order).
        """
        start, _ = _ms(bar)
        with self.repo.session() as conn:
            m = self.repo.market(conn, bar.symbol)
            if start < m["closed_ms"] or start <= m["open_ms"]:
                return []
            book = self._book(conn)
            fill_market_orders(book, bar.symbol, bar.open, start, self.slip)
            funding_ms = m["funding_ms"]
            if funding_rate and start > funding_ms:
                book.settle_funding(bar.symbol, start, funding_rate, bar.open)
                funding_ms = start
            self.repo.save(conn, book)
            self.repo.set_market(conn, bar.symbol, open_ms=start, funding_ms=funding_ms)
            self.repo.set_now_ms(conn, start)
        return book.fills

    def close_bar(self, bar: Bar) -> list[VenueFill]:
        """Apply the range of a closed bar: triggers, limits and liquidations, then the mark.

        Runs :meth:`open_bar` (without funding) first when the bar was not opened. Returns the
        fills of the range; nothing when the bar was already applied.
        """
        start, end = _ms(bar)
        fills = [] if self._opened(bar.symbol, start) else self.open_bar(bar)
        with self.repo.session() as conn:
            m = self.repo.market(conn, bar.symbol)
            if end <= m["closed_ms"] or start < m["closed_ms"] or m["open_ms"] != start:
                return fills
            book = self._book(conn)
            prev = m["mark_price"] if m["mark_price"] is not None else bar.open
            match_range(book, bar.symbol, (bar.open, bar.high, bar.low), prev, start, self.slip)
            self.repo.save(conn, book)
            self.repo.set_market(conn, bar.symbol, closed_ms=end, mark_price=bar.close)
            self.repo.set_now_ms(conn, end)
        return fills + book.fills

    def on_bar(self, bar: Bar, funding_rate: float = 0.0) -> list[VenueFill]:
        """:meth:`open_bar` then :meth:`close_bar` (no reaction between them)."""
        return self.open_bar(bar, funding_rate) + self.close_bar(bar)

    def settle_funding(self, symbol: str, ts_ms: int, rate: float, price: float) -> list[FundingPayment]:
        """Settle funding on ``symbol`` at ``ts_ms`` at ``price`` (for a feed whose settlements are
        not bar opens). Positions opened before ``ts_ms`` pay ``qty × price × rate``; a
        settlement at or before the newest one already applied changes nothing."""
        with self.repo.session() as conn:
            m = self.repo.market(conn, symbol)
            if ts_ms <= m["funding_ms"]:
                return []
            book = self._book(conn)
            records = book.settle_funding(symbol, ts_ms, rate, price)
            self.repo.save(conn, book)
            self.repo.set_market(conn, symbol, funding_ms=ts_ms)
        return [funding_record(r) for r in records]

    def _opened(self, symbol: str, start: int) -> bool:
        with self.repo.session() as conn:
            return self.repo.market(conn, symbol)["open_ms"] >= start


__all__ = ["PaperVenue", "QTY_EPS"]
