"""Storage of the paper venue: the simulated exchange's whole state lives in the database.

Every venue call runs in one transaction (:meth:`PaperVenueRepository.session`): it loads
the live state (:meth:`load`: cash, open orders, positions, leverage, marks, next ids),
lets the venue mutate the in-memory :class:`~sixbtc.adapters.exchanges.paper_book.VenueBook`,
and writes back what changed (:meth:`save`) before the transaction commits. A process killed
at any point therefore leaves the venue as it was before the call or after it, never half:
no fill is lost or written twice. Fills, funding and closed orders are history rows read by
the query methods.

Cached book: every transaction starts by locking and reading ``paper_clock.revision``
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite transactions take the write lock at
``BEGIN IMMEDIATE``) and every writing transaction bumps it before it commits. After a commit
the repository keeps the book as it now is in the database, tagged with that revision;
:meth:`PaperVenueRepository.load` returns it instead of re-reading the tables while the
revision is unchanged, and reads the tables when another writer (another process or venue
instance, e.g. ``sixbtc emergency-stop``) moved it. A rolled-back transaction drops the
cache (the book may hold the failed call's changes); writes the book does not mirror (a new
account, a leverage setting, a mark without a loaded book) drop it too. The cached book's
dicts are kept in key order, the order :meth:`~PaperVenueRepository.load` reads them in, so a
call on a cached book computes exactly what it computes on a freshly read one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from sixbtc.adapters.exchanges.paper_book import FundingRecord, PaperOrder, PaperPosition, VenueBook
from sixbtc.adapters.storage.db import transaction
from sixbtc.adapters.storage.tables import (
    PaperAccountRow,
    PaperAgentRow,
    PaperClockRow,
    PaperFillRow,
    PaperFundingRow,
    PaperLeverageRow,
    PaperMarketRow,
    PaperOrderRow,
    PaperPositionRow,
)
from sixbtc.domain.orders import FundingPayment, OrderSide, OrderStatus, OrderType, VenueFill

A = PaperAccountRow.__table__
O = PaperOrderRow.__table__  # noqa: E741
P = PaperPositionRow.__table__
F = PaperFillRow.__table__
FU = PaperFundingRow.__table__
L = PaperLeverageRow.__table__
AG = PaperAgentRow.__table__
M = PaperMarketRow.__table__
CL = PaperClockRow.__table__
_LIVE = (OrderStatus.OPEN.value, OrderStatus.PARTIALLY_FILLED.value)


def order_from_row(m: Any) -> PaperOrder:
    """A :class:`PaperOrder` of a ``paper_orders`` row mapping."""
    return PaperOrder(
        venue_order_id=m["venue_order_id"], account=m["account"], client_order_id=m["client_order_id"],
        symbol=m["symbol"], side=OrderSide(m["side"]), order_type=OrderType(m["order_type"]), qty=m["qty"],
        price=m["price"], trigger_price=m["trigger_price"], reduce_only=bool(m["reduce_only"]),
        status=OrderStatus(m["status"]), placed_ms=m["placed_ms"], ts_ms=m["ts_ms"],
        notional_usd=m["notional_usd"], filled_qty=m["filled_qty"], avg_fill_price=m["avg_fill_price"])


def _order_values(o: PaperOrder) -> dict[str, Any]:
    return dict(venue_order_id=o.venue_order_id, account=o.account, client_order_id=o.client_order_id,
                symbol=o.symbol, side=o.side.value, order_type=o.order_type.value, qty=o.qty, price=o.price,
                trigger_price=o.trigger_price, reduce_only=o.reduce_only, notional_usd=o.notional_usd,
                status=o.status.value, filled_qty=o.filled_qty, avg_fill_price=o.avg_fill_price,
                placed_ms=o.placed_ms, ts_ms=o.ts_ms)


@dataclass
class _Call:
    """What one transaction did: the revision it read, the book it loaded, what it wrote."""

    revision: int
    now_ms: int
    book: VenueBook | None = None
    wrote: bool = False
    saved: bool = False
    invalidates: bool = False


def _changed(book: VenueBook) -> bool:
    return bool(book.touched_orders or book.touched_positions or book.touched_cash or book.fills or book.funding)


def _settled(book: VenueBook) -> VenueBook:
    """The committed state of ``book`` as :meth:`PaperVenueRepository.load` would read it."""
    live = {oid: o for oid, o in sorted(book.orders.items()) if o.status.value in _LIVE}
    return VenueBook(cash=dict(sorted(book.cash.items())), positions=dict(sorted(book.positions.items())),
                     orders=live, leverage=dict(sorted(book.leverage.items())), next_trade_id=book.next_trade_id,
                     next_order_id=book.next_order_id, fee_rate=book.fee_rate,
                     default_leverage=book.default_leverage, marks=dict(sorted(book.marks.items())),
                     loaded_orders=set(live))


class PaperVenueRepository:
    """Database state of one paper venue (one venue per database), with its cached book.

    Parameters
    ----------
    engine : Engine
        A migrated engine (revision 0017 or newer).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.RLock()  # one call of this repository at a time (the cache is shared)
        self._cached: tuple[int, VenueBook] | None = None
        self._call: _Call | None = None

    @contextmanager
    def session(self) -> Iterator[Connection]:
        """One transaction: committed when the block returns, rolled back on any exception.

        Reads (and locks) the venue revision first; bumps it before the commit when the block
        wrote anything. Not reentrant: one session per repository at a time.
        """
        with self._lock:
            if self._call is not None:
                raise RuntimeError("paper venue: nested sessions on one repository")
            try:
                with transaction(self.engine) as conn:
                    call = self._call = _Call(*self._clock_row(conn))
                    yield conn
                    if call.book is not None and not call.saved and _changed(call.book):
                        call.invalidates = True  # changed in memory, never saved: do not keep it
                    if call.wrote:
                        conn.execute(update(CL).where(CL.c.id == 1).values(revision=call.revision + 1,
                                                                           now_ms=call.now_ms))
            except BaseException:
                self._cached = None
                raise
            finally:
                self._call = None
            self._after_commit(call)

    @staticmethod
    def _clock_row(conn: Connection) -> tuple[int, int]:
        """(revision, venue time) of the clock row, locked until the transaction ends."""
        row = conn.execute(select(CL.c.revision, CL.c.now_ms).where(CL.c.id == 1).with_for_update()).first()
        if row is None:  # a database migrated before the clock row existed
            conn.execute(insert(CL).values(id=1, now_ms=0, revision=0))
            return 0, 0
        return int(row.revision), int(row.now_ms)

    def _after_commit(self, call: _Call) -> None:
        revision = call.revision + 1 if call.wrote else call.revision
        if call.invalidates:
            self._cached = None
        elif call.book is not None:
            self._cached = (revision, _settled(call.book))
        elif self._cached is not None and self._cached[0] == call.revision:
            self._cached = (revision, self._cached[1])  # wrote nothing the book mirrors
        else:
            self._cached = None

    def _wrote(self, *, invalidates: bool = False) -> None:
        assert self._call is not None, "paper venue repository used outside its session()"
        self._call.wrote = True
        self._call.invalidates |= invalidates

    # -- the live book ------------------------------------------------------------------
    def load(self, conn: Connection, fee_rate: float, default_leverage: float) -> VenueBook:
        """The venue's live state (open orders and positions, cash, leverage, marks).

        The cached book when the revision read at the start of this session is the cached
        one (the same object for every load of the session); otherwise read from the tables.
        """
        call = self._call
        assert call is not None, "paper venue repository used outside its session()"
        if call.book is not None:
            return call.book
        cached, self._cached = self._cached, None
        if cached is not None and cached[0] == call.revision and cached[1].fee_rate == fee_rate \
                and cached[1].default_leverage == default_leverage:
            call.book = cached[1]
        else:
            call.book = self._read(conn, fee_rate, default_leverage)
        return call.book

    @staticmethod
    def _read(conn: Connection, fee_rate: float, default_leverage: float) -> VenueBook:
        cash = {r.name: r.cash_usd for r in conn.execute(select(A.c.name, A.c.cash_usd).order_by(A.c.name))}
        positions = {(r.account, r.symbol): PaperPosition(r.account, r.symbol, r.qty, r.entry_price, r.leverage,
                                                          r.opened_ms)
                     for r in conn.execute(select(P).order_by(P.c.account, P.c.symbol))}
        orders = {r.venue_order_id: order_from_row(r._mapping)
                  for r in conn.execute(select(O).where(O.c.status.in_(_LIVE)).order_by(O.c.venue_order_id))}
        leverage = {(r.account, r.symbol): r.leverage
                    for r in conn.execute(select(L).order_by(L.c.account, L.c.symbol))}
        marks = {r.symbol: r.mark_price
                 for r in conn.execute(select(M.c.symbol, M.c.mark_price).order_by(M.c.symbol))
                 if r.mark_price is not None}
        next_order = (conn.execute(select(func.max(O.c.venue_order_id))).scalar() or 0) + 1
        next_trade = (conn.execute(select(func.max(F.c.seq))).scalar() or 0) + 1
        return VenueBook(cash=cash, positions=positions, orders=orders, leverage=leverage,
                         next_trade_id=next_trade, next_order_id=next_order, fee_rate=fee_rate,
                         default_leverage=default_leverage, marks=marks, loaded_orders=set(orders))

    def save(self, conn: Connection, book: VenueBook) -> None:
        """Write back every order, position, cash balance, fill and funding the call changed."""
        self._wrote(invalidates=book is not (self._call.book if self._call else None))
        self._call.saved = True
        loaded = book.loaded_orders
        for oid in sorted(book.touched_orders):
            values = _order_values(book.orders[oid])
            if oid in loaded:
                conn.execute(update(O).where(O.c.venue_order_id == oid).values(**values))
            else:
                conn.execute(insert(O).values(**values))
        for key in sorted(book.touched_positions):
            conn.execute(delete(P).where(P.c.account == key[0], P.c.symbol == key[1]))
            pos = book.positions.get(key)
            if pos is not None:
                conn.execute(insert(P).values(account=pos.account, symbol=pos.symbol, qty=pos.qty,
                                              entry_price=pos.entry_price, leverage=pos.leverage,
                                              opened_ms=pos.opened_ms))
        for account in sorted(book.touched_cash):
            conn.execute(update(A).where(A.c.name == account).values(cash_usd=book.cash[account]))
        self._save_history(conn, book)

    @staticmethod
    def _save_history(conn: Connection, book: VenueBook) -> None:
        accounts = {o.venue_order_id: o.account for o in book.orders.values()}
        for f in book.fills:
            seq = int(f.trade_id.removeprefix("paper-"))
            conn.execute(insert(F).values(
                seq=seq, trade_id=f.trade_id, venue_order_id=int(f.venue_order_id),
                account=accounts[int(f.venue_order_id)], client_order_id=f.client_order_id, symbol=f.symbol,
                side=f.side.value, qty=f.qty, price=f.price, fee_usd=f.fee_usd, ts_ms=f.ts_ms,
                reduce_only=f.reduce_only, liquidation=f.liquidation))
        for rec in book.funding:
            conn.execute(insert(FU).values(account=rec.account, symbol=rec.symbol, ts_ms=rec.ts_ms, rate=rec.rate,
                                           price=rec.price, amount_usd=rec.amount_usd,
                                           position_qty=rec.position_qty))

    # -- feed progress and clock ----------------------------------------------------------
    def market(self, conn: Connection, symbol: str) -> dict[str, Any]:
        """The feed progress row of ``symbol`` (created empty when missing)."""
        row = conn.execute(select(M).where(M.c.symbol == symbol)).mappings().first()
        if row is None:
            values = dict(symbol=symbol, mark_price=None, open_ms=-1, closed_ms=-1, funding_ms=-1)
            conn.execute(insert(M).values(**values))
            self._wrote()
            return values
        return dict(row)

    def set_market(self, conn: Connection, symbol: str, **values: Any) -> None:
        """Update the feed progress of ``symbol`` (``mark_price``, ``open_ms``, ``closed_ms``, ``funding_ms``).

        A new mark goes into the session's book too (the next call reads it there)."""
        book = self._call.book if self._call else None
        if "mark_price" in values and book is not None and values["mark_price"] is not None:
            book.marks[symbol] = float(values["mark_price"])
        self._wrote(invalidates="mark_price" in values and book is None)
        conn.execute(update(M).where(M.c.symbol == symbol).values(**values))

    def symbols(self, conn: Connection) -> list[str]:
        """Every symbol the feed has shown the venue."""
        return list(conn.execute(select(M.c.symbol).order_by(M.c.symbol)).scalars())

    def now_ms(self, conn: Connection) -> int:
        """The venue time (0 before any bar), as read at the start of the session or last set in it."""
        assert self._call is not None, "paper venue repository used outside its session()"
        return self._call.now_ms

    def set_now_ms(self, conn: Connection, now_ms: int) -> None:
        """Move the venue time (written with the revision when the session commits)."""
        self._wrote()
        assert self._call is not None
        self._call.now_ms = int(now_ms)

    # -- accounts, leverage, agents --------------------------------------------------------
    def accounts(self, conn: Connection) -> list[dict[str, Any]]:
        """Every account row (master first, then sub-accounts by name)."""
        rows = conn.execute(select(A).order_by(A.c.is_master.desc(), A.c.name)).mappings()
        return [dict(r) for r in rows]

    def add_account(self, conn: Connection, name: str, *, is_master: bool, cash_usd: float, now_ms: int) -> None:
        """Insert an account (``address`` = its name)."""
        self._wrote(invalidates=True)
        conn.execute(insert(A).values(name=name, address=name, is_master=is_master, cash_usd=cash_usd,
                                      created_ms=now_ms))

    def set_leverage(self, conn: Connection, account: str, symbol: str, leverage: float) -> None:
        """Store the leverage of new positions of (account, symbol)."""
        self._wrote(invalidates=True)
        conn.execute(delete(L).where(L.c.account == account, L.c.symbol == symbol))
        conn.execute(insert(L).values(account=account, symbol=symbol, leverage=leverage))

    def agents(self, conn: Connection) -> list[dict[str, Any]]:
        """Every agent row, by name."""
        return [dict(r) for r in conn.execute(select(AG).order_by(AG.c.name)).mappings()]

    def put_agent(self, conn: Connection, name: str, valid_until_ms: int | None, now_ms: int) -> None:
        """Create or renew the agent ``name``."""
        self._wrote()
        conn.execute(delete(AG).where(AG.c.name == name))
        conn.execute(insert(AG).values(name=name, address=f"paper-agent-{name}", valid_until_ms=valid_until_ms,
                                       created_ms=now_ms))

    # -- history ---------------------------------------------------------------------------
    def order_by_cloid(self, conn: Connection, account: str, client_order_id: str) -> PaperOrder | None:
        """The order of ``account`` with this client order id, any status."""
        row = conn.execute(select(O).where(O.c.account == account, O.c.client_order_id == client_order_id)
                           ).mappings().first()
        return None if row is None else order_from_row(row)

    def fills_since(self, conn: Connection, account: str, since_ms: int) -> list[VenueFill]:
        """Fills of ``account`` at or after ``since_ms``, oldest first."""
        rows = conn.execute(select(F).where(F.c.account == account, F.c.ts_ms >= since_ms).order_by(F.c.seq))
        return [VenueFill(trade_id=r.trade_id, venue_order_id=str(r.venue_order_id),
                          client_order_id=r.client_order_id, symbol=r.symbol, side=OrderSide(r.side), qty=r.qty,
                          price=r.price, fee_usd=r.fee_usd, ts_ms=r.ts_ms, reduce_only=bool(r.reduce_only),
                          liquidation=bool(r.liquidation)) for r in rows]

    def funding_since(self, conn: Connection, account: str, since_ms: int) -> list[FundingPayment]:
        """Funding of ``account`` at or after ``since_ms``, oldest first."""
        rows = conn.execute(select(FU).where(FU.c.account == account, FU.c.ts_ms >= since_ms)
                            .order_by(FU.c.ts_ms, FU.c.id))
        return [FundingPayment(symbol=r.symbol, ts_ms=r.ts_ms, rate=r.rate, amount_usd=r.amount_usd,
                               position_qty=r.position_qty) for r in rows]


def funding_record(rec: FundingRecord) -> FundingPayment:
    """The port's :class:`FundingPayment` of a book record."""
    return FundingPayment(symbol=rec.symbol, ts_ms=rec.ts_ms, rate=rec.rate, amount_usd=rec.amount_usd,
                          position_qty=rec.position_qty)
