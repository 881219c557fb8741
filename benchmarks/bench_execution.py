"""Benchmark: execution safety and speed against the fake Hyperliquid venue (no network).

Run: ``nice -n 10 .venv/bin/python benchmarks/bench_execution.py [--faults 1000] [--restarts 3]``.

The venue is :mod:`sixbtc.testing.fake_hyperliquid` in its own process
(:class:`~sixbtc.testing.fake_hyperliquid_process.VenueProcess`); every order goes through the
real hyperliquid-python-sdk (:class:`~sixbtc.adapters.exchanges.hyperliquid.HyperliquidClient`).

* faults: ``--faults`` market orders (0.001 BTC, alternately bought and sold), each stored as
  a journal intent and sent by the :class:`~sixbtc.executor.submitter.OrderSubmitter` with one
  scripted ambiguous failure *applied by the venue first* (the order is booked, the answer
  lost): a dropped connection, a 502, a 429, and every 20th a timeout. ``duplicate_orders`` =
  venue orders beyond one per client order id; ``lost_trades`` = venue orders that filled
  whose journal row is not FILLED, plus journal rows FILLED the venue does not have.
* recovery: the executor world of :mod:`sixbtc.testing.executor_crash` (two strategies, up to
  12 resting stops/targets) run in a forked child and SIGKILLed after the venue's ack of its
  ``20 + k``-th order, then restarted in this process: seconds from the restart to the end of
  the reconciliation (start -> reconciled) and to the end of its first bar (-> trading); the
  median of ``--restarts`` is ``recovery_s`` (start -> trading).
* no stop: per stop placed in those runs and in one uninterrupted run, the time from the entry
  fill (venue time) to the stop's ack (venue time): p50 / p99 in seconds.
* orders per second: ``place_order`` calls of the uninterrupted run (48 orders: entries, exits,
  stops, targets, with the trade syncs between them) per second of its wall time.

Last line: ``execution: faults=N duplicate_orders=D lost_trades=L recovery_s=R no_stop_p99_s=P``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from pydantic import SecretStr

from sixbtc.adapters.exchanges.hyperliquid import HyperliquidClient
from sixbtc.adapters.exchanges.hyperliquid_precision import from_cloid
from sixbtc.app.container import Container
from sixbtc.app.home import Home
from sixbtc.core.ids import client_order_id
from sixbtc.domain.orders import OrderSide, OrderType
from sixbtc.executor.ports import ENTRY, BarChanges, JournalOrder
from sixbtc.executor.submitter import OrderSubmitter, RetryPolicy
from sixbtc.testing.executor_crash import HOUR_MS, World, new_world, run_world
from sixbtc.testing.fake_hyperliquid import FakeHyperliquidControl
from sixbtc.testing.fake_hyperliquid_process import VenueProcess, orders_by_cloid, venue_fills

KINDS = ("drop", "http_5xx", "http_429")


def faults(world: World, n: int) -> tuple[int, int]:
    """``n`` orders with one applied ambiguous failure each; (duplicate orders, lost trades)."""
    control = FakeHyperliquidControl(world.url, timeout_s=30.0)
    venue = HyperliquidClient(base_url=world.url, master_address=world.master, timeout_s=0.2, read_retries=4,
                              retry_backoff_s=0.02,
                              agent_key=SecretStr((world.root / "agent.key").read_text().strip()))
    c = Container.open(Home(world.root / "home"))
    store = c.execution_store(None)
    submitter = OrderSubmitter(venue, store, RetryPolicy(attempts=6, base_delay_s=0.02))
    for i in range(n):
        side = OrderSide.BUY if i % 2 == 0 else OrderSide.SELL
        o = JournalOrder(client_order_id(1, "BTC", world.t0_ms - (i + 1) * 1000, ENTRY), 1, world.master, "BTC", "1h",
                         ENTRY, side, OrderType.MARKET, 0.001, world.t0_ms - (i + 1) * 1000)
        store.commit(BarChanges(intents=[o], mode="live"))
        kind = "timeout" if i % 20 == 19 else KINDS[i % len(KINDS)]
        control.add_fault(kind=kind, match="order", count=1, apply=True, delay_s=0.4)
        submitter.submit(o)
    state = control.state()
    per_cloid = orders_by_cloid(state, world.master)
    duplicates = sum(k - 1 for k in per_cloid.values())
    filled_on_venue = {from_cloid(f.get("cloid")) for f in venue_fills(state, world.master)}
    with sqlite3.connect(world.root / "home" / "sixbtc.db") as db:
        journal = dict(db.execute("SELECT client_order_id, status FROM orders WHERE leg = 'entry'"))
    lost = sum(1 for cid in filled_on_venue if journal.get(cid) != "filled")
    lost += sum(1 for cid, status in journal.items() if status == "filled" and cid not in filled_on_venue)
    return duplicates, lost


def recovery(url: str, root: Path, t0_ms: int, k: int) -> dict:
    """Kill the executor after its (20 + k)-th ack, restart it here; the restart's figures."""
    world = new_world(url, root, t0_ms)
    proc = multiprocessing.get_context("fork").Process(target=run_world, args=(world.file, f"acked:{20 + k}"))
    proc.start()
    proc.join(300)
    if proc.exitcode != -9:
        raise RuntimeError(f"the executor was not killed (exit code {proc.exitcode})")
    return run_world(world.file)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faults", type=int, default=1000)
    ap.add_argument("--restarts", type=int, default=3)
    args = ap.parse_args()
    t0_ms = (int(time.time() * 1000) // HOUR_MS - 20) * HOUR_MS
    with tempfile.TemporaryDirectory() as tmp, VenueProcess() as venue:
        root = Path(tmp)
        whole = run_world(new_world(venue.url, root / "whole", t0_ms).file)
        ops = whole["places"] / whole["elapsed_s"]
        print(f"uninterrupted run: {whole['places']} orders in {whole['elapsed_s']:.2f} s = {ops:.1f} orders/s")
        runs = [recovery(venue.url, root / f"restart{k}", t0_ms, k) for k in range(args.restarts)]
        for k, r in enumerate(runs):
            print(f"restart {k}: start -> reconciled {r['reconciled_s']:.3f} s, -> trading {r['trading_s']:.3f} s")
        recovery_s = statistics.median(r["trading_s"] for r in runs)
        no_stop = np.array([ms for r in (whole, *runs) for ms in r["no_stop_ms"]], dtype=float) / 1000.0
        p50, p99 = np.percentile(no_stop, [50, 99])
        print(f"time without a stop after a fill: n={no_stop.size} p50={p50:.3f} s p99={p99:.3f} s")
        t = time.monotonic()
        dup, lost = faults(new_world(venue.url, root / "faults", t0_ms), args.faults)
        print(f"{args.faults} orders with an applied ambiguous failure in {time.monotonic() - t:.1f} s: "
              f"{dup} duplicate orders, {lost} lost trades")
    print(f"execution: faults={args.faults} duplicate_orders={dup} lost_trades={lost} recovery_s={recovery_s:.3f} "
          f"no_stop_p99_s={p99:.3f}")


if __name__ == "__main__":
    main()
