"""The fake Hyperliquid venue behind the HTTP server: ``/exchange`` actions and their checks.

:class:`FakeVenue` answers one decoded request at a time (the server holds :attr:`FakeVenue.lock`
around each call) with ``(http_status, body)``. Signed actions are checked for shape, signer and
nonce (:mod:`sixbtc.testing.fake_hyperliquid_auth`); the signer must be a funded master account
or an unexpired API wallet (agent) it approved; ``vaultAddress`` must be a sub-account of that
master. Sub-account creation, transfers and agent approval must be signed by the master itself
(this fake is stricter than the venue there, on purpose: SixBTC never lets an agent do them).
The ``/info`` side lives in :mod:`sixbtc.testing.fake_hyperliquid_info`.

Duplicate cloids are accepted and stored as separate orders (so a crash test can count how many
orders one intent produced: :meth:`FakeVenue.orders_with_cloid`).
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from sixbtc.testing.fake_hyperliquid_auth import nonce_error, recover_signer, shape_error
from sixbtc.testing.fake_hyperliquid_book import ERR_CANCEL, ERR_IOC, Book, fmt, new_state, now_ms
from sixbtc.testing.fake_hyperliquid_info import InfoViews

MASTER_ONLY = frozenset({"createSubAccount", "subAccountTransfer", "approveAgent"})
DEFAULT_AGENT_DAYS = 180
_DAY_MS = 86_400_000


def ok(response_type: str = "default", data: Any = None) -> tuple[int, dict[str, Any]]:
    """A venue success answer."""
    response: dict[str, Any] = {"type": response_type}
    if data is not None:
        response["data"] = data
    return 200, {"status": "ok", "response": response}


def err(message: str) -> tuple[int, dict[str, Any]]:
    """A venue refusal of the whole action (HTTP 200, ``status: err``)."""
    return 200, {"status": "err", "response": message}


class FakeVenue(InfoViews):
    """State and rules of the fake venue (see the module docstring)."""

    def __init__(self, state: dict[str, Any] | None = None, *, is_mainnet: bool = False) -> None:
        self.state = state or new_state()
        self.book = Book(self.state)
        self.lock = threading.RLock()
        self.is_mainnet = is_mainnet
        self.order_visibility_delay_s = 0.0
        self.duplicate_fills = False
        self.reorder_fills = False

    # -- test API (callers hold no lock; these take it) -------------------------------------
    def fund(self, user: str, usd: float) -> None:
        """Credit ``usd`` to ``user`` (creating the master account)."""
        with self.lock:
            self.book.account(user)["balance"] += usd

    def set_mark(self, coin: str, px: float) -> list[dict[str, Any]]:
        """Move ``coin``'s mark/mid to ``px`` and fill what it reaches; returns the new fills."""
        with self.lock:
            self.state["marks"][coin] = float(px)
            return self.book.match(coin)

    def set_liquidity(self, coin: str, size: float | None) -> None:
        """Cap each fill of ``coin`` at ``size`` (base units; None = unlimited): a crossing order
        then fills partly and, if it rests, takes one more slice per crossing mark move."""
        with self.lock:
            liquidity = self.state.setdefault("liquidity", {})
            if size is None:
                liquidity.pop(coin, None)
            else:
                liquidity[coin] = float(size)

    def liquidate(self, user: str, coin: str) -> dict[str, Any]:
        """Liquidate ``user``'s ``coin`` position at the mark now (see :meth:`Book.liquidate`)."""
        with self.lock:
            return self.book.liquidate(user.lower(), coin)

    def settle_funding(self, coin: str, rate: float) -> int:
        """Settle one funding period at ``rate`` on ``coin`` (see :meth:`Book.settle_funding`)."""
        with self.lock:
            return self.book.settle_funding(coin, rate)

    def add_agent(self, master: str, address: str, name: str, valid_until_ms: int | None) -> None:
        """Approve an API wallet for ``master`` directly (no signature)."""
        with self.lock:
            self._put_agent(master.lower(), address.lower(), name, valid_until_ms)

    def orders_with_cloid(self, user: str, cloid: str) -> list[dict[str, Any]]:
        """Every order ``user`` placed with ``cloid`` (duplicates included), oldest first."""
        with self.lock:
            return [dict(o) for o in self.state["orders"].values()
                    if o["user"] == user.lower() and (o["cloid"] or "").lower() == cloid.lower()]

    # -- /exchange -------------------------------------------------------------------------
    def exchange(self, payload: Any) -> tuple[int, Any]:
        """Answer one ``/exchange`` request body."""
        problem = shape_error(payload)
        if problem:
            return 422, problem
        try:
            signer = recover_signer(payload, self.is_mainnet)
        except Exception as exc:  # noqa: BLE001 - any garbage signature is a 422 on the venue
            return 422, f"Failed to deserialize the JSON body into the target type: {exc}"
        action = payload["action"]
        user = self._user_of(signer, action["type"])
        if user is None:
            return err(f"User or API Wallet {signer} does not exist.")
        problem = nonce_error(self.state["nonces"], signer, payload["nonce"])
        if problem:
            return err(problem)
        account = user
        vault = payload.get("vaultAddress")
        if vault and action["type"] not in MASTER_ONLY:
            if self.state["accounts"].get(vault.lower(), {}).get("master") != user:
                return err(f"Vault {vault} is not a sub-account of {user}.")
            account = vault.lower()
        handler = getattr(self, "_do_" + action["type"], None)
        if handler is None:
            return 422, f"Failed to deserialize the JSON body into the target type: unknown action {action['type']}"
        return handler(account, action)

    def _user_of(self, signer: str, action_type: str) -> str | None:
        acct = self.state["accounts"].get(signer)
        if acct is not None and acct["master"] is None:
            return signer
        if action_type in MASTER_ONLY:
            return None
        now = now_ms()
        for master, agents in self.state["agents"].items():
            for agent in agents:
                if agent["address"] == signer and (agent["validUntil"] or now + 1) > now:
                    return master
        return None

    def _do_order(self, account: str, action: dict[str, Any]) -> tuple[int, Any]:
        grouping = action.get("grouping", "na")
        statuses: list[Any] = []
        parent: dict[str, Any] | None = None
        for i, wire in enumerate(action.get("orders", [])):
            child = grouping == "normalTpsl" and i > 0 and parent is not None and "trigger" in wire["t"]
            problem = self.book.check_rules(account, wire, child=bool(child))
            if problem:
                statuses.append({"error": problem})
                continue
            visible = now_ms() + int(self.order_visibility_delay_s * 1000)
            order = self.book.add_order(account, wire, visible)
            if child and parent["status"] != "filled":
                order["parent"] = parent["oid"]
                self.book.set_status(order, "waitingForFill")
                statuses.append("waitingForFill")
                continue
            statuses.append("waitingForTrigger" if child else self._execute(order))
            parent = parent or order
        return 200, {"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}}

    def _execute(self, order: dict[str, Any]) -> dict[str, Any]:
        """Match a new order at the mark; its status entry in the order response."""
        coin, book = order["coin"], self.book
        if order["trigger"]:
            book.match(coin)
            return {"resting": {"oid": order["oid"], **({"cloid": order["cloid"]} if order["cloid"] else {})}}
        mark = book.mark(coin)
        tag = f" asset={book.asset_index(coin)}"
        marketable = mark is not None and book.crosses(order, mark)
        if order["tif"] == "Alo" and marketable:
            book.set_status(order, "badAloPxRejected")
            return {"error": f"Post only order would have immediately matched, bbo was {fmt(mark)}.{tag}"}
        if not marketable:
            if order["tif"] == "Ioc":
                book.set_status(order, "iocCancelRejected")
                return {"error": ERR_IOC + tag}
            return {"resting": {"oid": order["oid"], **({"cloid": order["cloid"]} if order["cloid"] else {})}}
        record = book.fill(order, mark, crossed=True)
        if record is None:
            return {"error": "Reduce only order would increase position." + tag}
        if order["status"] == "open" and order["tif"] == "Ioc":  # IOC: the unfilled rest is cancelled
            book.set_status(order, "canceled")
        filled = {"totalSz": record["sz"], "avgPx": record["px"], "oid": order["oid"]}
        if order["cloid"]:
            filled["cloid"] = order["cloid"]
        return {"filled": filled}

    def _cancel(self, account: str, order: dict[str, Any] | None, asset: Any) -> Any:
        if order is None or order["status"] not in ("open", "waitingForFill"):
            return {"error": f"{ERR_CANCEL} asset={asset}"}
        self.book.set_status(order, "canceled")
        return "success"

    def _do_cancel(self, account: str, action: dict[str, Any]) -> tuple[int, Any]:
        statuses = [self._cancel(account, self.book.find(account, int(c["o"])), c["a"])
                    for c in action.get("cancels", [])]
        return 200, {"status": "ok", "response": {"type": "cancel", "data": {"statuses": statuses}}}

    def _do_cancelByCloid(self, account: str, action: dict[str, Any]) -> tuple[int, Any]:  # noqa: N802
        statuses = [self._cancel(account, self.book.find(account, str(c["cloid"])), c["asset"])
                    for c in action.get("cancels", [])]
        return 200, {"status": "ok", "response": {"type": "cancel", "data": {"statuses": statuses}}}

    def _do_updateLeverage(self, account: str, action: dict[str, Any]) -> tuple[int, Any]:  # noqa: N802
        meta = self.book.asset(int(action.get("asset", -1)))
        lev = action.get("leverage")
        if meta is None:
            return err("Invalid asset.")
        if isinstance(lev, bool) or not isinstance(lev, int) or not 1 <= lev <= meta["maxLeverage"]:
            return err(f"Invalid leverage value. asset={action['asset']}")
        kind = "cross" if action.get("isCross") else "isolated"
        pos = self.book.account(account)["positions"].get(meta["name"])
        if pos is not None and pos["leverage"]["type"] != kind:
            return err("Cannot switch leverage type with open position.")
        self.book.account(account)["leverage"][meta["name"]] = {"type": kind, "value": lev}
        if pos is not None:
            pos["leverage"] = {"type": kind, "value": lev}
        return ok()

    def _do_createSubAccount(self, master: str, action: dict[str, Any]) -> tuple[int, Any]:  # noqa: N802
        name = action.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 16:
            return err("Invalid sub-account name.")
        for acct in self.state["accounts"].values():
            if acct["master"] == master and acct["name"] == name:
                return err("Sub-account name already exists.")
        address = "0x" + hashlib.sha256(f"sub|{master}|{name}".encode()).hexdigest()[:40]
        sub = self.book.account(address)
        sub["master"], sub["name"] = master, name
        return ok("createSubAccount", address)

    def _do_subAccountTransfer(self, master: str, action: dict[str, Any]) -> tuple[int, Any]:  # noqa: N802
        sub_addr = str(action.get("subAccountUser", "")).lower()
        usd = action.get("usd")
        if self.state["accounts"].get(sub_addr, {}).get("master") != master:
            return err(f"Sub-account {sub_addr} is not a sub-account of {master}.")
        if isinstance(usd, bool) or not isinstance(usd, int) or usd <= 0:
            return err("Invalid transfer amount.")
        amount = usd / 1e6
        source, target = (master, sub_addr) if action.get("isDeposit") else (sub_addr, master)
        if self.book.free_margin(source) + 1e-9 < amount:
            return err("Insufficient balance for transfer.")
        self.book.account(source)["balance"] -= amount
        self.book.account(target)["balance"] += amount
        return ok()

    def _do_approveAgent(self, master: str, action: dict[str, Any]) -> tuple[int, Any]:  # noqa: N802
        address = str(action.get("agentAddress", "")).lower()
        raw_name = str(action.get("agentName", "") or "")
        name, _, until = raw_name.partition(" valid_until ")
        valid_until = int(until) if until.strip().isdigit() else now_ms() + DEFAULT_AGENT_DAYS * _DAY_MS
        self._put_agent(master, address, name, valid_until)
        return ok()

    def _put_agent(self, master: str, address: str, name: str, valid_until: int | None) -> None:
        agents = self.state["agents"].setdefault(master, [])
        agents[:] = [a for a in agents if a["name"] != name or not name]
        agents.append({"name": name, "address": address, "validUntil": valid_until})
