"""A deterministic paper-venue session, one venue call per step, for the kill -9 tests.

``python paper_scenario.py DB_URL`` runs :func:`calls` on a venue built on ``DB_URL`` (migrated
here) and prints ``step N`` (flushed) after each call returned, then ``finished`` and sleeps
until killed. :func:`snapshot` is what a restarted process sees of the venue.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sixbtc.adapters.exchanges.paper_venue import PaperVenue
from sixbtc.adapters.storage.db import make_engine, migrate
from sixbtc.core.clock import SimClock
from sixbtc.domain.orders import OrderRequest, OrderSide, OrderType
from sixbtc.executor.ports import Bar

T0 = datetime(2026, 1, 1, tzinfo=UTC)
N_BARS = 60
ACCOUNTS = ("a", "b")


def venue(url: str) -> PaperVenue:
    """The scenario's venue on ``url`` (the same constructor arguments every time)."""
    engine = make_engine(url)
    migrate(engine)
    return PaperVenue(engine, fee_rate=0.00045, slippage_bps=2.0, initial_master_usd=50_000.0, clock=SimClock(T0))


def _bar(i: int) -> Bar:
    mid = 100.0 + 8.0 * math.sin(i / 5.0) + 0.3 * i
    o = mid + math.sin(i * 1.7)
    c = mid + math.cos(i * 1.3)
    return Bar("BTC", "1h", T0 + timedelta(hours=i), o, max(o, c) + 1.5 + (i % 3), min(o, c) - 1.5 - (i % 4), c)


def calls(v: PaperVenue) -> Iterator[None]:
    """The session: set-up, then per bar entries, exits, stops/targets, funding; yields after each call."""
    for acc in ACCOUNTS:
        v.create_subaccount(acc)
        yield
        v.transfer_usd(acc, 10_000.0, to_subaccount=True)
        yield
    v.set_leverage("b", "BTC", 4)
    yield
    for i in range(N_BARS):
        for n, acc in enumerate(ACCOUNTS):
            if (i + n) % 7 == 1 and not v.positions(acc):
                side = OrderSide.BUY if (i + n) % 2 else OrderSide.SELL
                v.place_order(acc, OrderRequest(f"e{i}", "BTC", side, OrderType.MARKET, 1.0, notional_usd=8_000.0))
                yield
            if (i + n) % 7 == 5 and v.positions(acc):
                (pos,) = v.positions(acc)
                v.place_order(acc, OrderRequest(f"x{i}", "BTC", OrderSide.of(-int(math.copysign(1, pos.qty))),
                                                OrderType.MARKET, abs(pos.qty), reduce_only=True))
                yield
        fills = v.open_bar(_bar(i), funding_rate=0.0004 if i % 2 == 0 else 0.0)
        yield
        for f in fills:
            if f.client_order_id and f.client_order_id.startswith("e"):
                acc = next(a for a in ACCOUNTS if v.query_order(a, "BTC", f.client_order_id))
                d = f.side.sign
                v.place_order(acc, OrderRequest("s" + f.client_order_id, "BTC", OrderSide.of(-d),
                                                OrderType.STOP_MARKET, f.qty, trigger_price=f.price * (1 - d * 0.03),
                                                reduce_only=True))
                yield
                v.place_order(acc, OrderRequest("t" + f.client_order_id, "BTC", OrderSide.of(-d),
                                                OrderType.TAKE_PROFIT_MARKET, f.qty,
                                                trigger_price=f.price * (1 + d * 0.05), reduce_only=True))
                yield
        v.close_bar(_bar(i))
        yield


def snapshot(v: PaperVenue) -> dict[str, Any]:
    """Everything the venue reports: balances, positions, orders, fills, funding, time, accounts."""
    out: dict[str, Any] = {"now_ms": v.now_ms, "subaccounts": [s.name for s in v.subaccounts()]}
    for acc in ("master", *[s.name for s in v.subaccounts()]):
        out[acc] = {
            "balance": dataclasses.asdict(v.balance(acc)),
            "positions": [dataclasses.asdict(p) for p in v.positions(acc)],
            "open_orders": [dataclasses.asdict(o) for o in v.open_orders(acc)],
            "fills": [dataclasses.asdict(f) for f in v.fills_since(acc, 0)],
            "funding": [dataclasses.asdict(f) for f in v.funding_since(acc, 0)],
        }
    return out


def reference(url: str, steps: int) -> dict[str, Any]:
    """The snapshot after the first ``steps`` calls of the session on a fresh database ``url``."""
    v = venue(url)
    it = calls(v)
    for _ in range(steps):
        next(it)
    return snapshot(v)


def count_steps(url: str) -> int:
    """Number of calls of the whole session (run on a fresh database ``url``)."""
    return sum(1 for _ in calls(venue(url)))


if __name__ == "__main__":
    v = venue(sys.argv[1])
    for k, _ in enumerate(calls(v), start=1):
        print(f"step {k}", flush=True)
    print("finished", flush=True)
    time.sleep(600)
