"""The paper venue's master operations: accounts, transfers, leverage and agent records.

Base class of :class:`~sixbtc.adapters.exchanges.paper_venue.PaperVenue` (its constructor
lives here). Paper sub-accounts are named accounts whose address is their name; USD moves
only between the master and one sub-account (never sub → sub, as SPEC §3.7 requires); a
paper agent wallet is a record with an expiry and no key.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from sixbtc.adapters.exchanges.paper_book import VenueBook
from sixbtc.adapters.storage.paper_venue_repo import PaperVenueRepository
from sixbtc.core.clock import Clock, LiveClock
from sixbtc.core.errors import InsufficientFunds, OrderRejected
from sixbtc.domain.orders import AgentWallet, Market, SubAccount

NAME_MAX = 64


class PaperAccounts:
    """Constructor and master operations of the paper venue (parameters: see ``PaperVenue``)."""

    def __init__(self, engine: Engine, *, fee_rate: float, slippage_bps: float, initial_master_usd: float = 10_000.0,
                 markets: dict[str, Market] | None = None, default_leverage: float = 1.0, max_leverage: float = 50.0,
                 master: str = "master", clock: Clock | None = None) -> None:
        for name, value in (("fee_rate", fee_rate), ("slippage_bps", slippage_bps),
                            ("initial_master_usd", initial_master_usd)):
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"paper venue: {name} must be a number >= 0, got {value!r}")
        if not (default_leverage >= 1 and max_leverage >= default_leverage):
            raise ValueError(f"paper venue: need 1 <= default_leverage <= max_leverage, got {default_leverage!r}, "
                             f"{max_leverage!r}")
        self.repo = PaperVenueRepository(engine)
        self.fee_rate, self.slip = float(fee_rate), float(slippage_bps) / 10_000.0
        self.markets_cfg = markets
        self.default_leverage, self.max_leverage = float(default_leverage), float(max_leverage)
        self.master, self.clock = master, clock or LiveClock()
        with self.repo.session() as conn:
            if not any(a["is_master"] for a in self.repo.accounts(conn)):
                self.repo.add_account(conn, master, is_master=True, cash_usd=float(initial_master_usd),
                                      now_ms=self._wall_ms())

    def _wall_ms(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    def _book(self, conn: Connection) -> VenueBook:
        return self.repo.load(conn, self.fee_rate, self.default_leverage)

    def _account_row(self, conn: Connection, account: str) -> dict[str, Any]:
        for row in self.repo.accounts(conn):
            if row["name"] == account:
                return row
        raise OrderRejected(f"unknown paper account {account!r} (create it with create_subaccount)")

    # -- leverage ----------------------------------------------------------------------------
    def set_leverage(self, account: str, symbol: str, leverage: int, *, isolated: bool = True) -> None:
        """Leverage of new positions of (account, symbol); an open position keeps its own.

        Raises
        ------
        OrderRejected
            Cross margin (the paper venue is isolated only), a leverage below 1 or above the
            symbol's cap, an unknown account or symbol.
        """
        if not isolated:
            raise OrderRejected("the paper venue supports isolated margin only (isolated=True)")
        cap = self.markets_cfg[symbol].max_leverage if self.markets_cfg and symbol in self.markets_cfg \
            else self.max_leverage
        if self.markets_cfg is not None and symbol not in self.markets_cfg:
            raise OrderRejected(f"unknown symbol {symbol!r} on the paper venue")
        if not (isinstance(leverage, int | float) and 1 <= leverage <= cap):
            raise OrderRejected(f"leverage for {symbol} must be in [1, {cap}], got {leverage!r}")
        with self.repo.session() as conn:
            self._account_row(conn, account)
            self.repo.set_leverage(conn, account, symbol, float(leverage))

    # -- sub-accounts and transfers ----------------------------------------------------------
    def subaccounts(self) -> list[SubAccount]:
        """The master's sub-accounts, by name."""
        with self.repo.session() as conn:
            rows = self.repo.accounts(conn)
        return [SubAccount(name=r["name"], address=r["address"]) for r in rows if not r["is_master"]]

    def create_subaccount(self, name: str) -> SubAccount:
        """Create the sub-account ``name`` with 0 USD (idempotent: an existing one is returned).

        Raises
        ------
        ValueError
            For an empty name, one longer than 64 characters, or the master's name.
        """
        if not (isinstance(name, str) and 0 < len(name) <= NAME_MAX) or name == self.master:
            raise ValueError(f"sub-account name must be 1-{NAME_MAX} characters and not {self.master!r}, got {name!r}")
        with self.repo.session() as conn:
            if not any(r["name"] == name for r in self.repo.accounts(conn)):
                self.repo.add_account(conn, name, is_master=False, cash_usd=0.0, now_ms=self._wall_ms())
        return SubAccount(name=name, address=name)

    def open_funded_subaccount(self, name: str, amount_usd: float) -> SubAccount:
        """Create the sub-account ``name`` holding ``amount_usd`` (paper only: the faucet's
        deposit and the master → sub transfer in **one** transaction, so a crash never leaves an
        empty sub-account that a restart would take as funded). An existing one is returned
        unchanged.

        Raises
        ------
        ValueError
            For a bad name (see :meth:`create_subaccount`) or an amount that is not a positive
            finite number.
        """
        if not (isinstance(name, str) and 0 < len(name) <= NAME_MAX) or name == self.master:
            raise ValueError(f"sub-account name must be 1-{NAME_MAX} characters and not {self.master!r}, got {name!r}")
        if not (isinstance(amount_usd, int | float) and math.isfinite(amount_usd) and amount_usd > 0):
            raise ValueError(f"deposit must be a positive number of USD, got {amount_usd!r}")
        with self.repo.session() as conn:
            if not any(r["name"] == name for r in self.repo.accounts(conn)):
                self.repo.add_account(conn, name, is_master=False, cash_usd=float(amount_usd), now_ms=self._wall_ms())
        return SubAccount(name=name, address=name)

    def transfer_usd(self, subaccount: str, amount_usd: float, *, to_subaccount: bool) -> None:
        """Move ``amount_usd`` from the master to ``subaccount`` (or back).

        Raises
        ------
        ValueError
            For an amount that is not a positive finite number.
        OrderRejected
            When ``subaccount`` is not a sub-account (the master itself, or unknown).
        InsufficientFunds
            When the source has less available USD (equity - margin) than ``amount_usd``.
        """
        if not (isinstance(amount_usd, int | float) and math.isfinite(amount_usd) and amount_usd > 0):
            raise ValueError(f"transfer amount must be a positive number of USD, got {amount_usd!r}")
        with self.repo.session() as conn:
            row = self._account_row(conn, subaccount)
            if row["is_master"]:
                raise OrderRejected(f"{subaccount!r} is the master, not a sub-account")
            src, dst = (self.master, subaccount) if to_subaccount else (subaccount, self.master)
            book = self._book(conn)
            available = book.equity(src) - book.margin_used(src)
            if amount_usd > available + 1e-9:
                raise InsufficientFunds(f"transfer of {amount_usd:.2f} USD from {src!r}: only {available:.2f} "
                                        "USD available")
            book.cash[src] -= float(amount_usd)
            book.cash[dst] += float(amount_usd)
            book.touched_cash |= {src, dst}
            self.repo.save(conn, book)

    def deposit_usd(self, amount_usd: float) -> None:
        """Credit the master with ``amount_usd`` (paper only: the faucet of a simulated exchange).

        Raises
        ------
        ValueError
            For an amount that is not a positive finite number.
        """
        if not (isinstance(amount_usd, int | float) and math.isfinite(amount_usd) and amount_usd > 0):
            raise ValueError(f"deposit must be a positive number of USD, got {amount_usd!r}")
        with self.repo.session() as conn:
            book = self._book(conn)
            book.cash[self.master] += float(amount_usd)
            book.touched_cash.add(self.master)
            self.repo.save(conn, book)

    # -- agents --------------------------------------------------------------------------------
    def agents(self) -> list[AgentWallet]:
        """Paper agent records, by name."""
        with self.repo.session() as conn:
            rows = self.repo.agents(conn)
        return [AgentWallet(name=r["name"], address=r["address"], valid_until_ms=r["valid_until_ms"]) for r in rows]

    def approve_agent(self, name: str, valid_days: int) -> AgentWallet:
        """Record (or renew) the agent ``name`` valid for ``valid_days`` from the wall clock.

        Raises
        ------
        ValueError
            For an empty or too long name, or ``valid_days`` not an int >= 1.
        """
        if not (isinstance(name, str) and 0 < len(name) <= NAME_MAX):
            raise ValueError(f"agent name must be 1-{NAME_MAX} characters, got {name!r}")
        if isinstance(valid_days, bool) or not isinstance(valid_days, int) or valid_days < 1:
            raise ValueError(f"valid_days must be an int >= 1, got {valid_days!r}")
        now = self.clock.now()
        until = int((now + timedelta(days=valid_days)).timestamp() * 1000)
        with self.repo.session() as conn:
            self.repo.put_agent(conn, name, until, int(now.timestamp() * 1000))
        return AgentWallet(name=name, address=f"paper-agent-{name}", valid_until_ms=until)
