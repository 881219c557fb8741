"""The fake Hyperliquid venue's books: accounts, orders, matching against a test-set mark.

Plain JSON-able dicts only (the whole state can be persisted to a file and reloaded by a
restarted fake). Rules follow the Hyperliquid docs ("Tick and lot size", "Order types",
"Margining"): sizes carry at most ``szDecimals`` decimals; prices at most 5 significant figures
(integers always allowed) and ``6 - szDecimals`` decimals; order value at least 10 USD
(reduce-only orders exempt); a reduce-only order that would increase a position is refused; a
new position needs its initial margin (notional / leverage) free. Fills: IOC and crossing GTC
orders take the mark (if within their limit, taker fee 0.045 %); resting limits fill at their
limit price when the mark crosses it (maker fee 0.015 %); a trigger fires when the mark is at or
through ``triggerPx`` and, being ``isMarket``, fills at the mark. Error strings are the
venue's (``... asset=N``).
"""

from __future__ import annotations

import hashlib
import time
from decimal import Decimal
from typing import Any

TAKER_FEE = 0.00045
MAKER_FEE = 0.00015
MIN_ORDER_VALUE_USD = 10.0
DEFAULT_UNIVERSE: tuple[dict[str, Any], ...] = (
    {"name": "BTC", "szDecimals": 5, "maxLeverage": 40},
    {"name": "ETH", "szDecimals": 4, "maxLeverage": 25},
    {"name": "SOL", "szDecimals": 2, "maxLeverage": 20},
)
ERR_MIN_VALUE = "Order must have minimum value of $10."
ERR_TICK = "Price must be divisible by tick size."
ERR_SIZE = "Order has invalid size."
ERR_REDUCE_ONLY = "Reduce only order would increase position."
ERR_MARGIN = "Insufficient margin to place order."
ERR_IOC = "Order could not immediately match against any resting orders."
ERR_CANCEL = "Order was never placed, already canceled, or filled."
_EPS = 1e-12


def now_ms() -> int:
    """Wall-clock UTC ms (the venue's clock)."""
    return int(time.time() * 1000)


def fmt(x: float) -> str:
    """A float as the venue prints it: a decimal string, no exponent, trailing zeros cut."""
    text = f"{x:.10f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def new_state(universe: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An empty venue: the perp ``universe`` (meta entries), no accounts, no orders."""
    return {
        "universe": [dict(u) for u in (universe or DEFAULT_UNIVERSE)],
        "marks": {}, "accounts": {}, "orders": {}, "cloids": {}, "agents": {}, "nonces": {},
        "next_oid": 1_000_001, "next_tid": 7_000_001, "liquidity": {},
    }


class Book:
    """Operations on one state dict (the caller holds the server's lock)."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state

    # -- reference -------------------------------------------------------------------------
    def asset(self, index: int) -> dict[str, Any] | None:
        """The universe entry of asset ``index`` or None."""
        universe = self.state["universe"]
        return universe[index] if 0 <= index < len(universe) else None

    def asset_index(self, coin: str) -> int:
        """Asset index of ``coin`` (KeyError when unknown)."""
        for i, entry in enumerate(self.state["universe"]):
            if entry["name"] == coin:
                return i
        raise KeyError(coin)

    def mark(self, coin: str) -> float | None:
        """The test-set mark price of ``coin``."""
        return self.state["marks"].get(coin)

    # -- accounts --------------------------------------------------------------------------
    def account(self, user: str) -> dict[str, Any]:
        """The account of ``user`` (lower-case address), created empty on first use."""
        user = user.lower()
        accounts = self.state["accounts"]
        if user not in accounts:
            accounts[user] = {"balance": 0.0, "master": None, "name": None, "positions": {},
                              "leverage": {}, "fills": [], "funding": []}
        return accounts[user]

    def known(self, user: str) -> bool:
        """True when ``user`` has an account on the venue."""
        return user.lower() in self.state["accounts"]

    def leverage(self, user: str, coin: str) -> dict[str, Any]:
        """``{"type": "cross"|"isolated", "value": int}`` for new positions of ``coin``."""
        max_lev = self.state["universe"][self.asset_index(coin)]["maxLeverage"]
        return self.account(user)["leverage"].get(coin, {"type": "cross", "value": min(20, max_lev)})

    def unrealized(self, user: str) -> float:
        """Sum of the account's unrealised PnL at the marks (USD)."""
        total = 0.0
        for coin, pos in self.account(user)["positions"].items():
            total += pos["szi"] * ((self.mark(coin) or pos["entryPx"]) - pos["entryPx"])
        return total

    def margin_used(self, user: str) -> float:
        """Initial margin held by the account's positions (USD)."""
        return sum(abs(p["szi"]) * p["entryPx"] / p["leverage"]["value"]
                   for p in self.account(user)["positions"].values())

    def reserved(self, user: str) -> float:
        """Initial margin reserved by resting opening (not reduce-only) orders (USD)."""
        total = 0.0
        for order in self.open_orders(user):
            if not order["reduceOnly"] and not order["trigger"]:
                lev = self.leverage(user, order["coin"])["value"]
                total += order["sz"] * float(order["limitPx"]) / lev
        return total

    def account_value(self, user: str) -> float:
        """Cash plus unrealised PnL (USD)."""
        return self.account(user)["balance"] + self.unrealized(user)

    def free_margin(self, user: str) -> float:
        """What new orders may use (USD, >= 0)."""
        return max(0.0, self.account_value(user) - self.margin_used(user) - self.reserved(user))

    # -- orders ----------------------------------------------------------------------------
    def open_orders(self, user: str | None = None, coin: str | None = None) -> list[dict[str, Any]]:
        """Resting orders (oldest first), optionally of one user and/or coin."""
        return [o for o in self.state["orders"].values()
                if o["status"] == "open" and (user is None or o["user"] == user.lower())
                and (coin is None or o["coin"] == coin)]

    def find(self, user: str, oid_or_cloid: int | str) -> dict[str, Any] | None:
        """The order of ``user`` by oid (int) or cloid (``0x`` + 32 hex)."""
        if isinstance(oid_or_cloid, str):
            oid = self.state["cloids"].get(f"{user.lower()}|{oid_or_cloid.lower()}")
            if oid is None:
                return None
            oid_or_cloid = oid
        order = self.state["orders"].get(str(oid_or_cloid))
        return order if order is not None and order["user"] == user.lower() else None

    def check_rules(self, user: str, wire: dict[str, Any], *, child: bool = False) -> str | None:
        """The venue's error for an order wire (``a b p s r t c``), or None when acceptable.

        ``child``: a TP/SL of a ``normalTpsl`` group, judged against its parent's position
        later (no reduce-only or margin check now).
        """
        meta = self.asset(int(wire["a"]))
        if meta is None:
            return "Invalid asset."
        tag = f" asset={wire['a']}"
        size, price = Decimal(wire["s"]), Decimal(wire["p"])
        if size <= 0 or -size.as_tuple().exponent > meta["szDecimals"]:
            return ERR_SIZE + tag
        trigger = wire["t"].get("trigger")
        for px in (price, Decimal(trigger["triggerPx"]) if trigger else price):
            if not price_ok(px, meta["szDecimals"]):
                return ERR_TICK + tag
        ref_px = float(trigger["triggerPx"]) if trigger else float(price)
        if not wire["r"] and float(size) * ref_px < MIN_ORDER_VALUE_USD:
            return ERR_MIN_VALUE + tag
        coin, signed = meta["name"], float(size) * (1 if wire["b"] else -1)
        pos = self.account(user)["positions"].get(coin, {"szi": 0.0})["szi"]
        if child:
            return None
        if wire["r"] and (pos == 0 or pos * signed > 0):
            return ERR_REDUCE_ONLY + tag
        if not wire["r"] and abs(pos + signed) > abs(pos):
            lev = self.leverage(user, coin)["value"]
            px = ref_px if trigger else min(float(price), self.mark(coin) or float(price)) if wire["b"] else (
                self.mark(coin) or float(price))
            needed = (abs(pos + signed) - abs(pos)) * px / lev  # initial margin of the added size
            if needed > self.free_margin(user) + _EPS:
                return ERR_MARGIN + tag
        return None

    def add_order(self, user: str, wire: dict[str, Any], visible_after_ms: int = 0) -> dict[str, Any]:
        """Store an accepted order wire as an open order and return it (not yet matched)."""
        meta = self.state["universe"][int(wire["a"])]
        oid = self.state["next_oid"]
        self.state["next_oid"] += 1
        trigger = wire["t"].get("trigger")
        ts = now_ms()
        order = {
            "oid": oid, "user": user.lower(), "coin": meta["name"], "side": "B" if wire["b"] else "A",
            "limitPx": wire["p"], "sz": float(wire["s"]), "origSz": float(wire["s"]), "timestamp": ts,
            "reduceOnly": bool(wire["r"]), "cloid": (wire.get("c") or None),
            "tif": None if trigger else wire["t"]["limit"]["tif"],
            "trigger": ({"triggerPx": float(trigger["triggerPx"]), "isMarket": bool(trigger["isMarket"]),
                         "tpsl": trigger["tpsl"]} if trigger else None),
            "status": "open", "statusTimestamp": ts, "parent": None, "visibleAfter": visible_after_ms,
        }
        self.state["orders"][str(oid)] = order
        if order["cloid"]:
            self.state["cloids"][f"{order['user']}|{order['cloid'].lower()}"] = oid
        return order

    def set_status(self, order: dict[str, Any], status: str) -> None:
        """Move ``order`` to ``status`` now."""
        order["status"] = status
        order["statusTimestamp"] = now_ms()

    def crosses(self, order: dict[str, Any], px: float) -> bool:
        """True when a limit ``order`` is marketable at ``px``."""
        limit = float(order["limitPx"])
        return px <= limit if order["side"] == "B" else px >= limit

    def triggered(self, order: dict[str, Any], px: float) -> bool:
        """True when a trigger ``order``'s condition holds at mark ``px`` (at or through)."""
        trig, buy = order["trigger"]["triggerPx"], order["side"] == "B"
        if order["trigger"]["tpsl"] == "sl":
            return px >= trig if buy else px <= trig
        return px <= trig if buy else px >= trig

    def liquidity(self, coin: str) -> float | None:
        """The most one fill of ``coin`` may take (base units; None = unlimited)."""
        return self.state.get("liquidity", {}).get(coin)

    def fill(self, order: dict[str, Any], px: float, crossed: bool) -> dict[str, Any] | None:
        """Execute what remains of ``order`` at ``px`` (at most :meth:`liquidity`); returns the
        fill (None: nothing to do).

        A reduce-only order is cut to the position and cancelled (``reduceOnlyCanceled``) when
        there is none left to reduce.
        """
        acct = self.account(order["user"])
        coin, sign = order["coin"], (1 if order["side"] == "B" else -1)
        pos = acct["positions"].get(coin)
        start = pos["szi"] if pos else 0.0
        cap = self.liquidity(coin)
        size = order["sz"] if cap is None else min(order["sz"], cap)
        if order["reduceOnly"]:
            if start * sign >= 0:
                self.set_status(order, "reduceOnlyCanceled")
                return None
            size = min(size, abs(start))
        record = self._apply_fill(acct, order, px, size, start, crossed)
        order["sz"] = round(order["sz"] - size, 12)
        if order["sz"] <= _EPS:
            order["sz"] = 0.0
            self.set_status(order, "filled")
            self._activate_children(order)
        elif order["reduceOnly"] and coin not in acct["positions"]:
            self.set_status(order, "reduceOnlyCanceled")  # nothing left to reduce
        return record

    def _apply_fill(self, acct: dict[str, Any], order: dict[str, Any], px: float, size: float,
                    start: float, crossed: bool) -> dict[str, Any]:
        coin, sign = order["coin"], (1 if order["side"] == "B" else -1)
        pos = acct["positions"].get(coin)
        new = round(start + sign * size, 12)
        closed = min(size, abs(start)) if start * sign < 0 else 0.0
        pnl = closed * (px - pos["entryPx"]) * (1 if start > 0 else -1) if closed else 0.0
        fee = size * px * (TAKER_FEE if crossed else MAKER_FEE)
        acct["balance"] += pnl - fee
        if abs(new) <= _EPS:
            acct["positions"].pop(coin, None)
        elif pos is None or start * new < 0:
            acct["positions"][coin] = {"szi": new, "entryPx": px, "cumFunding": 0.0,
                                       "leverage": dict(self.leverage(order["user"], coin))}
        else:
            if abs(new) > abs(start):
                pos["entryPx"] = (abs(start) * pos["entryPx"] + size * px) / abs(new)
            pos["szi"] = new
        tid = self.state["next_tid"]
        self.state["next_tid"] += 1
        record = {
            "coin": coin, "px": fmt(px), "sz": fmt(size), "side": order["side"], "time": now_ms(),
            "startPosition": fmt(start), "dir": direction(start, new), "closedPnl": fmt(pnl),
            "hash": "0x" + hashlib.sha256(f"fill|{tid}".encode()).hexdigest(), "oid": order["oid"],
            "crossed": crossed, "fee": fmt(fee), "tid": tid, "feeToken": "USDC", "builderFee": "0.0",
        }
        if order["cloid"]:
            record["cloid"] = order["cloid"]
        acct["fills"].append(record)
        return record

    def _activate_children(self, parent: dict[str, Any]) -> None:
        for order in self.state["orders"].values():
            if order["parent"] == parent["oid"] and order["status"] == "waitingForFill":
                self.set_status(order, "open")

    def match(self, coin: str) -> list[dict[str, Any]]:
        """Fill every resting order of ``coin`` the current mark reaches; returns the fills."""
        px = self.mark(coin)
        fills: list[dict[str, Any]] = []
        if px is None:
            return fills
        for order in sorted(self.open_orders(coin=coin), key=lambda o: o["oid"]):
            if order["trigger"]:
                if not self.triggered(order, px):
                    continue
                self.set_status(order, "triggered")
                order["status"] = "open"
                record = self.fill(order, px, crossed=True) if order["trigger"]["isMarket"] else (
                    self._trigger_to_limit(order, px))
            elif self.crosses(order, px):
                record = self.fill(order, float(order["limitPx"]), crossed=False)
            else:
                continue
            if record:
                fills.append(record)
        return fills + self.liquidations(coin)

    # -- liquidation -----------------------------------------------------------------------
    @staticmethod
    def liquidation_px(pos: dict[str, Any]) -> float:
        """The fake's liquidation price: 90 % of the initial margin lost (entry × (1 ∓ 0.9 / lev))."""
        lev, long = pos["leverage"]["value"], pos["szi"] > 0
        return pos["entryPx"] * (1 - 0.9 / lev * (1 if long else -1))

    def liquidations(self, coin: str) -> list[dict[str, Any]]:
        """Liquidate every isolated ``coin`` position the mark has reached; returns the fills."""
        px, fills = self.mark(coin), []
        for user, acct in list(self.state["accounts"].items()):
            pos = acct["positions"].get(coin)
            if pos is None or px is None or pos["leverage"]["type"] != "isolated":
                continue
            liq = self.liquidation_px(pos)
            if (px <= liq) if pos["szi"] > 0 else (px >= liq):
                fills.append(self.liquidate(user, coin))
        return fills

    def liquidate(self, user: str, coin: str) -> dict[str, Any]:
        """Close ``user``'s ``coin`` position at the mark as the liquidation engine does: an
        order without cloid, a fill carrying ``liquidation`` (``liquidatedUser``, ``markPx``,
        ``method``), the account's other ``coin`` orders ``liquidatedCanceled``. KeyError when
        there is no position."""
        pos = self.account(user)["positions"][coin]
        px = self.mark(coin) or pos["entryPx"]
        wire = {"a": self.asset_index(coin), "b": pos["szi"] < 0, "p": fmt(px), "s": fmt(abs(pos["szi"])),
                "r": True, "t": {"limit": {"tif": "Ioc"}}, "c": None}
        for order in self.open_orders(user, coin):
            self.set_status(order, "liquidatedCanceled")
        order = self.add_order(user, wire)
        saved, self.state["liquidity"] = self.state.get("liquidity", {}), {}
        try:
            record = self.fill(order, px, crossed=True)
        finally:
            self.state["liquidity"] = saved
        assert record is not None
        record["liquidation"] = {"liquidatedUser": user.lower(), "markPx": fmt(px), "method": "market"}
        return record

    def _trigger_to_limit(self, order: dict[str, Any], px: float) -> dict[str, Any] | None:
        order["trigger"] = None
        order["tif"] = "Gtc"
        return self.fill(order, px, crossed=True) if self.crosses(order, px) else None

    # -- funding ---------------------------------------------------------------------------
    def settle_funding(self, coin: str, rate: float) -> int:
        """Pay ``rate`` (per period, > 0: longs pay shorts) on every open position of ``coin``
        at its mark; returns the number of payments."""
        px, count, ts = self.mark(coin), 0, now_ms()
        for user, acct in self.state["accounts"].items():
            pos = acct["positions"].get(coin)
            if pos is None:
                continue
            usdc = -pos["szi"] * (px or pos["entryPx"]) * rate
            acct["balance"] += usdc
            pos["cumFunding"] += -usdc
            acct["funding"].append({
                "time": ts, "hash": "0x" + hashlib.sha256(f"funding|{user}|{coin}|{ts}".encode()).hexdigest(),
                "delta": {"type": "funding", "coin": coin, "usdc": fmt(usdc), "szi": fmt(pos["szi"]),
                          "fundingRate": fmt(rate), "nSamples": None}})
            count += 1
        return count


def price_ok(px: Decimal, sz_decimals: int) -> bool:
    """Hyperliquid perp price rule: <= 5 significant figures (integers always ok) and at most
    ``6 - sz_decimals`` decimals."""
    if px <= 0:
        return False
    px = px.normalize()
    decimals = max(0, -px.as_tuple().exponent)
    if decimals > 6 - sz_decimals:
        return False
    return px == px.to_integral_value() or len(px.as_tuple().digits) <= 5


def direction(start: float, new: float) -> str:
    """The fill's ``dir`` text: Open/Close Long/Short, or a flip."""
    if start >= 0 and new >= 0:
        return "Open Long" if new > start else "Close Long"
    if start <= 0 and new <= 0:
        return "Open Short" if new < start else "Close Short"
    return "Long > Short" if start > 0 else "Short > Long"
