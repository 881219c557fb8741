"""The execution venue port: what the executor may ask of an exchange, paper or real.

One venue-neutral protocol in the shape a real exchange has. The paper venue
(:mod:`sixbtc.adapters.exchanges.paper_venue`) and Hyperliquid
(:mod:`sixbtc.adapters.exchanges.hyperliquid`) implement it; ``app/`` wires one of them and the
executor never knows which. Every call names the ``account`` it acts on (a sub-account's
address on Hyperliquid, its name on paper).

Error contract (:mod:`sixbtc.core.errors`):

- reads raise :class:`~sixbtc.core.errors.TransientExchangeError` on timeouts, 429 and 5xx
  (the caller retries with back-off);
- :meth:`ExchangeClient.place_order` and :meth:`ExchangeClient.cancel_order` raise
  :class:`~sixbtc.core.errors.AmbiguousOrderOutcome` when the request may have reached the
  venue without an answer — the caller then queries the client order id and never sends a
  second order for the same intent — and :class:`~sixbtc.core.errors.OrderRejected`
  (or :class:`~sixbtc.core.errors.InsufficientFunds`) when the venue refused it for good;
- vendor exceptions never cross this port (adapters translate them, ``raise … from exc``).
"""

from __future__ import annotations

from typing import Protocol

from sixbtc.domain.orders import (
    AgentWallet,
    Balance,
    FundingPayment,
    Market,
    OrderRequest,
    SubAccount,
    VenueFill,
    VenueOrder,
    VenuePosition,
)


class ExchangeClient(Protocol):
    """An execution venue. ``mode`` is ``"paper"`` or ``"live"``; ``venue`` names it.

    ``unique_client_order_ids`` is True only for a venue that refuses, with
    :class:`~sixbtc.core.errors.DuplicateClientOrderId`, a second order with a client order
    id the account already used (any status): after a crash, an order the journal left SENT
    may then be sent again with the same id (the venue keeps at most one). False: such an
    order is only queried (UNKNOWN when the venue never shows it).
    """

    mode: str
    venue: str
    unique_client_order_ids: bool

    # -- reference data ------------------------------------------------------------------
    def markets(self) -> dict[str, Market]:
        """Trading rules per symbol (size decimals, price precision, min notional, max leverage)."""
        ...

    # -- orders --------------------------------------------------------------------------
    def place_order(self, account: str, request: OrderRequest) -> VenueOrder:
        """Send one order with its client order id; returns the venue's acknowledgement.

        A market order may come back FILLED at once; a limit or trigger OPEN. Raises
        ``AmbiguousOrderOutcome``, ``OrderRejected`` (see the module docstring).
        """
        ...

    def cancel_order(self, account: str, symbol: str, client_order_id: str) -> bool:
        """Cancel by client order id; False when the order is not open (filled, cancelled, unknown)."""
        ...

    def query_order(self, account: str, symbol: str, client_order_id: str) -> VenueOrder | None:
        """The order with this client order id, open or not; None when the venue does not know it."""
        ...

    def open_orders(self, account: str) -> list[VenueOrder]:
        """Every resting order of the account (limits and triggers)."""
        ...

    # -- account state -------------------------------------------------------------------
    def positions(self, account: str) -> list[VenuePosition]:
        """Open positions of the account (one per symbol, net)."""
        ...

    def fills_since(self, account: str, since_ms: int) -> list[VenueFill]:
        """Fills at or after ``since_ms`` (UTC ms), oldest first, each with its venue trade id."""
        ...

    def funding_since(self, account: str, since_ms: int) -> list[FundingPayment]:
        """Funding settled on the account's positions at or after ``since_ms``, oldest first."""
        ...

    def balance(self, account: str) -> Balance:
        """Equity, available margin and margin in use (USD)."""
        ...

    def set_leverage(self, account: str, symbol: str, leverage: int, *, isolated: bool = True) -> None:
        """Set the leverage (and isolated or cross margin) used by new positions of ``symbol``."""
        ...

    # -- master operations (sub-accounts, transfers, agents) ----------------------------
    def subaccounts(self) -> list[SubAccount]:
        """The master's sub-accounts."""
        ...

    def create_subaccount(self, name: str) -> SubAccount:
        """Create a sub-account named ``name`` (idempotent: an existing one is returned)."""
        ...

    def transfer_usd(self, subaccount: str, amount_usd: float, *, to_subaccount: bool) -> None:
        """Move USD between the master and one sub-account (never sub → sub)."""
        ...

    def agents(self) -> list[AgentWallet]:
        """Agent (API) wallets approved by the master."""
        ...

    def approve_agent(self, name: str, valid_days: int) -> AgentWallet:
        """Approve a new named agent wallet valid for ``valid_days``; its key is stored by the
        adapter's key store, never returned in logs."""
        ...
