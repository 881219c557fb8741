"""A crash-test driver for the Hyperliquid side: HyperliquidClient with order-intent journal
semantics, as a process a test kills with SIGKILL (``test_hyperliquid_crash.py``).

Not the executor: a minimal journal written for this test (SQLite; the rules of the order
journal in ``sixbtc.domain.orders``): every order is stored INTENT with its deterministic client
order id before it is sent, moved INTENT → SENT by compare-and-set before the request, and
never sent again once it left INTENT; an ambiguous outcome is resolved by querying the cloid
with back-off. At start, orders left SENT or UNKNOWN are resolved the same way (never re-sent),
orders left INTENT are looked up once and sent only when the venue does not know them, open
ones are read back; then every venue fill is recorded once (by trade id).

The plan (``argv[2]`` orders): order ``i`` is a market entry of ``SIZE[coin]`` (buy on even
``i``, sell on odd ``i``; coin ``COINS[i % 3]``) followed by its reduce-only stop (5 % away).
Open orders on the venue at a given moment = stops resting.

Crash hook: ``SIXBTC_CRASH_AT=NAME:N`` SIGKILLs this process at the N-th passage through NAME
(``intent_stored``, ``sent``, ``acked``, ``fill_seen``; ``in_flight``: the venue holds the answer
of the N-th order request — booked, never read — and the process dies once the venue has it).
``SIXBTC_CRASH_LOG`` appends ``NAME N OPEN_ORDERS`` per passage. Prints ``RECONCILED <s>`` and
``DONE <s>``.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import sys
import threading
import time
from pathlib import Path

from pydantic import SecretStr

from sixbtc.adapters.exchanges.hyperliquid import HyperliquidClient
from sixbtc.core.errors import OrderRejected, TransientExchangeError
from sixbtc.core.ids import client_order_id
from sixbtc.domain.orders import (
    ORDER_TRANSITIONS,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    VenueOrder,
)
from sixbtc.testing.fake_hyperliquid import FakeHyperliquidControl
from sixbtc.testing.fake_hyperliquid_process import open_cloids

COINS = ("BTC", "ETH", "SOL")
SIZE = {"BTC": 0.002, "ETH": 0.05, "SOL": 1.0}
MARK = {"BTC": 100_000.0, "ETH": 3_000.0, "SOL": 150.0}
SCHEMA = """CREATE TABLE IF NOT EXISTS orders (cid TEXT PRIMARY KEY, seq INTEGER, leg TEXT, request TEXT,
    status TEXT, venue_oid TEXT, filled_qty REAL);
CREATE TABLE IF NOT EXISTS fills (tid TEXT PRIMARY KEY, cid TEXT, qty REAL, px REAL)"""


class Hook:
    """The crash hook (see the module docstring)."""

    def __init__(self, control: FakeHyperliquidControl, account: str) -> None:
        name, _, nth = os.environ.get("SIXBTC_CRASH_AT", "").partition(":")
        self.name, self.nth, self.log = name, int(nth or 1), os.environ.get("SIXBTC_CRASH_LOG")
        self.control, self.account, self.seen = control, account, {}

    def __call__(self, name: str) -> None:
        for seen in (name, "in_flight") if name == "sent" else (name,):
            self.seen[seen] = self.seen.get(seen, 0) + 1
            if self.log:
                n_open = len(open_cloids(self.control.state(), self.account))
                with open(self.log, "a") as out:
                    out.write(f"{seen} {self.seen[seen]} {n_open}\n")
        if self.name == "in_flight" and name == "sent" and self.seen["in_flight"] == self.nth:
            before = self.control.exchange_requests(action="order")
            self.control.add_fault(kind="timeout", match="order", delay_s=30.0)
            threading.Thread(target=self._kill_when_received, args=(before,), daemon=True).start()
        elif self.name == name and self.seen[name] == self.nth:
            os.kill(os.getpid(), signal.SIGKILL)

    def _kill_when_received(self, before: int) -> None:
        deadline = time.monotonic() + 30.0
        while self.control.exchange_requests(action="order") <= before and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGKILL)


class Journal:
    """The SQLite journal (autocommit; each write is durable before the next step)."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.executescript(SCHEMA)

    def store(self, seq: int, leg: str, request: OrderRequest) -> None:
        body = json.dumps({"symbol": request.symbol, "side": request.side.value, "type": request.order_type.value,
                           "qty": request.qty, "trigger": request.trigger_price, "reduce_only": request.reduce_only})
        self.db.execute("INSERT OR IGNORE INTO orders VALUES (?, ?, ?, ?, 'intent', NULL, 0)",
                        (request.client_order_id, seq, leg, body))

    def move(self, cid: str, src: str, dst: str, venue: VenueOrder | None = None) -> bool:
        """Compare-and-set along ``ORDER_TRANSITIONS``; False when the row is no longer ``src``."""
        if OrderStatus(dst) not in ORDER_TRANSITIONS[OrderStatus(src)]:
            return False
        cur = self.db.execute("UPDATE orders SET status=?, venue_oid=coalesce(?, venue_oid), "
                              "filled_qty=coalesce(?, filled_qty) WHERE cid=? AND status=?",
                              (dst, venue and venue.venue_order_id, venue and venue.filled_qty, cid, src))
        return cur.rowcount == 1

    def rows(self, *statuses: str) -> list[tuple[str, str, str]]:
        marks = ",".join("?" * len(statuses))
        return list(self.db.execute(f"SELECT cid, status, request FROM orders WHERE status IN ({marks}) ORDER BY seq, leg",
                                    statuses))

    def seqs(self) -> set[int]:
        return {r[0] for r in self.db.execute("SELECT seq FROM orders WHERE leg='entry'")}


def request_of(cid: str, body: str) -> OrderRequest:
    r = json.loads(body)
    return OrderRequest(cid, r["symbol"], OrderSide(r["side"]), OrderType(r["type"]), r["qty"],
                        trigger_price=r["trigger"], reduce_only=r["reduce_only"])


class Trader:
    """Journal → HyperliquidClient, never twice per intent (see the module docstring)."""

    def __init__(self, client: HyperliquidClient, account: str, journal: Journal, hook: Hook) -> None:
        self.client, self.account, self.journal, self.hook = client, account, journal, hook

    def query(self, request: OrderRequest, attempts: int = 8) -> VenueOrder | None:
        for k in range(attempts):
            time.sleep(0.0 if k == 0 else min(0.05 * 2 ** (k - 1), 0.4))
            try:
                found = self.client.query_order(self.account, request.symbol, request.client_order_id)
            except TransientExchangeError:
                continue
            if found is not None:
                return found
        return None

    def adopt(self, cid: str, src: str, found: VenueOrder | None) -> None:
        if found is None:
            self.journal.move(cid, src, "unknown")
        elif found.status.value != src:
            self.journal.move(cid, src, found.status.value, found)

    def send(self, request: OrderRequest) -> None:
        cid = request.client_order_id
        self.hook("intent_stored")
        if not self.journal.move(cid, "intent", "sent"):
            return
        self.hook("sent")
        try:
            ack = self.client.place_order(self.account, request)
        except OrderRejected:
            self.journal.move(cid, "sent", "rejected")
            return
        except TransientExchangeError:  # ambiguous: query, never resend
            self.adopt(cid, "sent", self.query(request))
            return
        self.hook("acked")
        self.journal.move(cid, "sent", ack.status.value, ack)

    def reconcile(self) -> None:
        for cid, status, body in self.journal.rows("sent", "unknown", "open", "partially_filled"):
            self.adopt(cid, status, self.query(request_of(cid, body)))
        for cid, _, body in self.journal.rows("intent"):
            request = request_of(cid, body)
            known = self.query(request, attempts=1)
            if known is not None and self.journal.move(cid, "intent", "sent"):
                self.adopt(cid, "sent", known)
            else:
                self.send(request)
        self.sync()

    def sync(self) -> None:
        for f in self.client.fills_since(self.account, 0):
            self.hook("fill_seen")
            self.journal.db.execute("INSERT OR IGNORE INTO fills VALUES (?, ?, ?, ?)",
                                    (f.trade_id, f.client_order_id, f.qty, f.price))


def plan(seq: int) -> tuple[OrderRequest, OrderRequest]:
    coin = COINS[seq % 3]
    side = OrderSide.BUY if seq % 2 == 0 else OrderSide.SELL
    entry = OrderRequest(client_order_id(1, coin, seq, "entry"), coin, side, OrderType.MARKET, SIZE[coin])
    away = 0.95 if side is OrderSide.BUY else 1.05
    stop = OrderRequest(client_order_id(1, coin, seq, "sl"), coin, OrderSide.of(-side.sign), OrderType.STOP_MARKET,
                        SIZE[coin], trigger_price=MARK[coin] * away, reduce_only=True)
    return entry, stop


def main(world_file: str, n_orders: int) -> int:
    t0 = time.monotonic()
    world = json.loads(Path(world_file).read_text())
    control = FakeHyperliquidControl(world["url"])
    client = HyperliquidClient(base_url=world["url"], master_address=world["master"], timeout_s=1.0,
                               agent_key=SecretStr(Path(world["agent_key_file"]).read_text().strip()),
                               read_retries=4, retry_backoff_s=0.05)
    trader = Trader(client, world["master"], Journal(Path(world["journal"])), Hook(control, world["master"]))
    trader.reconcile()
    print(f"RECONCILED {time.monotonic() - t0:.3f}", flush=True)
    done = trader.journal.seqs()
    for seq in range(n_orders):
        if seq in done:
            continue
        entry, stop = plan(seq)
        trader.journal.store(seq, "entry", entry)
        trader.journal.store(seq, "sl", stop)  # both intents stored before anything is sent
        trader.send(entry)
        trader.sync()
        trader.send(stop)
    trader.reconcile()
    print(f"DONE {time.monotonic() - t0:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
