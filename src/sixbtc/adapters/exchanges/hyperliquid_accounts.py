"""Master operations of :class:`~sixbtc.adapters.exchanges.hyperliquid.HyperliquidClient`:
sub-accounts, USD transfers master↔sub, agent (API) wallets with expiry.

All writes here are signed by the master key (loaded on first use, ``ConfigError`` when not
configured). Transfers are only ever master → sub or sub → master (``subAccountTransfer``), and
the sub-account must be one of this master's: anything else is refused before sending.
Agent expiry uses the venue's naming convention ``"<name> valid_until <ms>"`` (``extraAgents``
reports ``validUntil``); the new agent's key is written to a 0600 file in ``exchange.key_dir``
before the approval is sent and is never logged or returned.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable
from typing import Any

from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.constants import MAINNET_API_URL
from hyperliquid.utils.signing import sign_agent

from sixbtc.adapters.exchanges.hyperliquid_keys import new_agent_key_file, wallet
from sixbtc.core.errors import ConfigError, OrderRejected
from sixbtc.domain.orders import AgentWallet, SubAccount

log = logging.getLogger(__name__)
_DAY_MS = 86_400_000
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class AccountOps:
    """Mixin: needs ``_read``, ``_write``, ``_info``, ``_master``, ``master_address``, ``key_dir``."""

    master_address: str
    key_dir: str | None
    base_url: str
    _master_key: Any
    _read: Callable[[Callable[[], Any], str], Any]
    _write: Callable[[Callable[[], Any], str], Any]
    _info: Info
    _master: Callable[[], Exchange]

    _names: dict[str, str] | None = None

    def address_of(self, account: str) -> str:
        """The address ``account`` stands for: an address as is (lower-case), else the name of
        one of the master's sub-accounts (the executor's sub-account labels, e.g. ``live-001``,
        are Hyperliquid sub-account names), looked up with ``subAccounts`` (cached; read again
        once when a name is not found).

        Raises
        ------
        OrderRejected
            No sub-account of the master has that name.
        """
        if _ADDRESS.match(account):
            return account.lower()
        for fresh in (False, True):
            if fresh or self._names is None:
                self._names = {s.name: s.address for s in self.subaccounts()}
            if account in self._names:
                return self._names[account]
        raise OrderRejected(f"{account}: master {self.master_address} has no sub-account of that name "
                            "(create it with the master key, or on app.hyperliquid.xyz)")

    def subaccounts(self) -> list[SubAccount]:
        """The master's sub-accounts (``subAccounts``; the venue answers null for none)."""
        rows = self._read(lambda: self._info.query_sub_accounts(self.master_address), "subAccounts") or []
        return [SubAccount(name=r["name"], address=r["subAccountUser"].lower()) for r in rows]

    def create_subaccount(self, name: str) -> SubAccount:
        """Create sub-account ``name``; an existing one of that name is returned instead."""
        master = self._master()
        for sub in self.subaccounts():
            if sub.name == name:
                return sub
        answer = self._write(lambda: master.create_sub_account(name), f"createSubAccount {name}")
        self._names = None  # the next name look-up reads the new list
        return SubAccount(name=name, address=str(answer["response"]["data"]).lower())

    def transfer_usd(self, subaccount: str, amount_usd: float, *, to_subaccount: bool) -> None:
        """Move ``amount_usd`` (> 0, 1e-6 USD steps) master → ``subaccount`` (``to_subaccount``)
        or back. Never sub → sub: ``subaccount`` must be one of this master's sub-accounts.

        Raises ``OrderRejected`` (bad amount, not our sub-account, venue refusal),
        ``InsufficientFunds``, ``AmbiguousOrderOutcome`` (check the balances before retrying).
        """
        master = self._master()
        if isinstance(amount_usd, bool) or not isinstance(amount_usd, int | float) or not (
                math.isfinite(amount_usd) and amount_usd > 0):
            raise OrderRejected(f"transfer refused: amount {amount_usd!r} USD must be a finite number > 0")
        micro = round(amount_usd * 1e6)
        target = self.address_of(subaccount)
        if target == self.master_address or target not in {s.address for s in self.subaccounts()}:
            raise OrderRejected(f"transfer refused: {subaccount} is not a sub-account of master {self.master_address}; "
                                "transfers go master <-> sub only, never sub -> sub")
        self._write(lambda: master.sub_account_transfer(target, to_subaccount, micro),
                    f"subAccountTransfer {'to' if to_subaccount else 'from'} {target}")

    def agents(self) -> list[AgentWallet]:
        """Agent wallets the master approved (``extraAgents``), with their expiry (UTC ms)."""
        rows = self._read(lambda: self._info.extra_agents(self.master_address), "extraAgents") or []
        return [AgentWallet(name=r.get("name", ""), address=r["address"].lower(),
                            valid_until_ms=int(r["validUntil"]) if r.get("validUntil") else None) for r in rows]

    def approve_agent(self, name: str, valid_days: int) -> AgentWallet:
        """Generate, store (0600 file in ``exchange.key_dir``) and approve a new agent wallet.

        Raises ``ConfigError`` (no key_dir or master key), ``ValueError`` (bad name/days),
        ``OrderRejected`` (venue refusal; the key file is removed) or ``AmbiguousOrderOutcome``
        (the key file is kept: :meth:`agents` tells whether the approval landed).
        """
        if not self.key_dir:
            raise ConfigError("exchange.key_dir: not configured; agent approval writes the new key there")
        if isinstance(valid_days, bool) or not isinstance(valid_days, int) or not 1 <= valid_days <= 180:
            raise ValueError(f"valid_days {valid_days!r} must be an integer in 1..180")
        exchange = self._master()
        signer = wallet(self._master_key)
        account, path = new_agent_key_file(self.key_dir, name)
        valid_until = int(time.time() * 1000) + valid_days * _DAY_MS

        def send() -> Any:
            nonce = int(time.time() * 1000)
            action = {"type": "approveAgent", "agentAddress": account.address,
                      "agentName": f"{name} valid_until {valid_until}", "nonce": nonce}
            signature = sign_agent(signer, action, self.base_url == MAINNET_API_URL)
            payload = {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None,
                       "expiresAfter": None}
            return exchange.post("/exchange", payload)

        try:
            self._write(send, f"approveAgent {name}")
        except OrderRejected:
            path.unlink(missing_ok=True)
            raise
        except Exception:
            log.warning("agent approval %s outcome unknown; key kept in %s", name, path)
            raise
        return AgentWallet(name=name, address=account.address.lower(), valid_until_ms=valid_until)
