"""The ``/info`` answers of the fake Hyperliquid venue, in the venue's JSON shapes.

Shapes as documented by the venue's info endpoint and the SDK docstrings (``info.py``):
``clearinghouseState`` (``assetPositions``, ``marginSummary``, ``withdrawable``),
``frontendOpenOrders``, ``orderStatus`` (``{"status": "order", "order": {...}}`` or
``{"status": "unknownOid"}``), ``userFills`` (newest first, at most 2000),
``userFillsByTime`` (oldest first from ``startTime``, at most 2000), ``userFunding``,
``subAccounts`` (null when none), ``extraAgents``. Reads never create an account.

Scripted read faults: :attr:`FakeVenue.duplicate_fills` returns every fill twice,
:attr:`FakeVenue.reorder_fills` shuffles them (a seeded shuffle);
:attr:`FakeVenue.order_visibility_delay_s` makes ``orderStatus`` answer ``unknownOid`` for that
long after an order was acknowledged.
"""

from __future__ import annotations

import random
from typing import Any

from sixbtc.testing.fake_hyperliquid_book import Book, fmt, now_ms

MAX_FILLS = 2000
_EMPTY = {"balance": 0.0, "master": None, "name": None, "positions": {}, "leverage": {}, "fills": [], "funding": []}


class InfoViews:
    """Mixin of :class:`~sixbtc.testing.fake_hyperliquid_venue.FakeVenue`: one method per type."""

    state: dict[str, Any]
    book: Book
    duplicate_fills: bool
    reorder_fills: bool

    def info(self, body: Any) -> tuple[int, Any]:
        """Answer one ``/info`` request body."""
        kind = body.get("type") if isinstance(body, dict) else None
        handler = getattr(self, "_info_" + str(kind), None)
        if handler is None:
            return 422, "Failed to deserialize the JSON body into the target type"
        user = str(body.get("user", "")).lower()
        return 200, handler(user, body)

    def _acct(self, user: str) -> dict[str, Any]:
        return self.state["accounts"].get(user, _EMPTY)

    def _meta(self) -> dict[str, Any]:
        return {"universe": [dict(u) for u in self.state["universe"]], "marginTables": []}

    def _info_meta(self, user: str, body: dict[str, Any]) -> Any:
        return self._meta()

    def _info_spotMeta(self, user: str, body: dict[str, Any]) -> Any:  # noqa: N802
        return {"universe": [], "tokens": []}

    def _info_perpDexs(self, user: str, body: dict[str, Any]) -> Any:  # noqa: N802
        return [None]

    def _info_allMids(self, user: str, body: dict[str, Any]) -> Any:  # noqa: N802
        return {coin: fmt(px) for coin, px in self.state["marks"].items()}

    def _info_metaAndAssetCtxs(self, user: str, body: dict[str, Any]) -> Any:  # noqa: N802
        ctxs = []
        for entry in self.state["universe"]:
            px = self.state["marks"].get(entry["name"])
            text = fmt(px) if px is not None else "0.0"
            ctxs.append({"dayNtlVlm": "0.0", "funding": "0.0000125", "impactPxs": None,
                         "markPx": text, "midPx": text if px is not None else None,
                         "openInterest": "0.0", "oraclePx": text, "premium": "0.0",
                         "prevDayPx": text, "dayBaseVlm": "0.0"})
        return [self._meta(), ctxs]

    def _info_clearinghouseState(self, user: str, body: dict[str, Any]) -> Any:  # noqa: N802
        acct = self._acct(user)
        positions, ntl = [], 0.0
        for coin, pos in acct["positions"].items():
            mark = self.state["marks"].get(coin, pos["entryPx"])
            lev = pos["leverage"]["value"]
            margin = abs(pos["szi"]) * pos["entryPx"] / lev
            upnl = pos["szi"] * (mark - pos["entryPx"])
            ntl += abs(pos["szi"]) * mark
            liq = self.book.liquidation_px(pos)
            leverage = {"type": pos["leverage"]["type"], "value": lev}
            if leverage["type"] == "isolated":
                leverage["rawUsd"] = fmt(margin - pos["szi"] * pos["entryPx"])
            positions.append({"type": "oneWay", "position": {
                "coin": coin, "szi": fmt(pos["szi"]), "entryPx": fmt(pos["entryPx"]), "leverage": leverage,
                "liquidationPx": fmt(liq), "marginUsed": fmt(margin), "positionValue": fmt(abs(pos["szi"]) * mark),
                "returnOnEquity": fmt(upnl / margin if margin else 0.0), "unrealizedPnl": fmt(upnl),
                "maxLeverage": self.state["universe"][self.book.asset_index(coin)]["maxLeverage"],
                "cumFunding": {"allTime": fmt(pos["cumFunding"]), "sinceOpen": fmt(pos["cumFunding"]),
                               "sinceChange": fmt(pos["cumFunding"])}}})
        known = user in self.state["accounts"]
        value = self.book.account_value(user) if known else 0.0
        used = self.book.margin_used(user) if known else 0.0
        summary = {"accountValue": fmt(value), "totalNtlPos": fmt(ntl), "totalRawUsd": fmt(acct["balance"]),
                   "totalMarginUsed": fmt(used)}
        return {"assetPositions": positions, "marginSummary": summary, "crossMarginSummary": dict(summary),
                "crossMaintenanceMarginUsed": fmt(used / 2),
                "withdrawable": fmt(self.book.free_margin(user) if known else 0.0), "time": now_ms()}

    def _frontend(self, order: dict[str, Any]) -> dict[str, Any]:
        trig = order["trigger"]
        kind = "Limit"
        condition = "N/A"
        if trig:
            stop = trig["tpsl"] == "sl"
            kind = ("Stop" if stop else "Take Profit") + (" Market" if trig["isMarket"] else " Limit")
            above = (order["side"] == "B") == stop
            condition = f"Price {'above' if above else 'below'} {fmt(trig['triggerPx'])}"
        return {"coin": order["coin"], "side": order["side"], "limitPx": order["limitPx"], "sz": fmt(order["sz"]),
                "oid": order["oid"], "timestamp": order["timestamp"], "origSz": fmt(order["origSz"]),
                "triggerCondition": condition, "isTrigger": bool(trig),
                "triggerPx": fmt(trig["triggerPx"]) if trig else "0.0", "children": [],
                "isPositionTpsl": False, "reduceOnly": order["reduceOnly"], "orderType": kind,
                "tif": order["tif"], "cloid": order["cloid"]}

    def _resting(self, user: str) -> list[dict[str, Any]]:
        return [o for o in self.state["orders"].values()
                if o["user"] == user and o["status"] in ("open", "waitingForFill")]

    def _info_openOrders(self, user: str, body: dict[str, Any]) -> Any:  # noqa: N802
        out = []
        for order in self._resting(user):
            row = {k: v for k, v in self._frontend(order).items()
                   if k in ("coin", "side", "limitPx", "sz", "oid", "timestamp", "origSz")}
            if order["cloid"]:
                row["cloid"] = order["cloid"]
            if order["reduceOnly"]:
                row["reduceOnly"] = True
            out.append(row)
        return out

    def _info_frontendOpenOrders(self, user: str, body: dict[str, Any]) -> Any:  # noqa: N802
        return [self._frontend(o) for o in self._resting(user)]

    def _info_orderStatus(self, user: str, body: dict[str, Any]) -> Any:  # noqa: N802
        ref = body.get("oid")
        order = self.book.find(user, ref if isinstance(ref, str) else int(ref or 0)) if user in self.state["accounts"] else None
        if order is None or now_ms() < order["visibleAfter"]:
            return {"status": "unknownOid"}
        status = "open" if order["status"] == "waitingForFill" else order["status"]
        return {"status": "order", "order": {"order": self._frontend(order), "status": status,
                                             "statusTimestamp": order["statusTimestamp"]}}

    def _fill_feed(self, fills: list[dict[str, Any]]) -> list[dict[str, Any]]:
        fills = [dict(f) for f in fills]
        if self.duplicate_fills:
            fills = [f for f in fills for _ in (0, 1)]
        if self.reorder_fills:
            random.Random(len(fills)).shuffle(fills)
        return fills

    def _info_userFills(self, user: str, body: dict[str, Any]) -> Any:  # noqa: N802
        newest_first = list(reversed(self._acct(user)["fills"]))[:MAX_FILLS]
        return self._fill_feed(newest_first)

    def _info_userFillsByTime(self, user: str, body: dict[str, Any]) -> Any:  # noqa: N802
        start, end = int(body.get("startTime") or 0), body.get("endTime")
        rows = [f for f in self._acct(user)["fills"]
                if f["time"] >= start and (end is None or f["time"] <= int(end))]
        return self._fill_feed(rows[:MAX_FILLS])

    def _info_userFunding(self, user: str, body: dict[str, Any]) -> Any:  # noqa: N802
        start, end = int(body.get("startTime") or 0), body.get("endTime")
        return [dict(f) for f in self._acct(user)["funding"]
                if f["time"] >= start and (end is None or f["time"] <= int(end))]

    def _info_subAccounts(self, user: str, body: dict[str, Any]) -> Any:  # noqa: N802
        subs = [{"name": a["name"], "subAccountUser": addr, "master": user,
                 "clearinghouseState": self._info_clearinghouseState(addr, {}),
                 "spotState": {"balances": []}}
                for addr, a in self.state["accounts"].items() if a["master"] == user]
        return subs or None

    def _info_extraAgents(self, user: str, body: dict[str, Any]) -> Any:  # noqa: N802
        return [dict(a) for a in self.state["agents"].get(user, [])]
