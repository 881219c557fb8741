"""kill -9 of a journal-driven trader on HyperliquidClient against the out-of-process fake venue.

The driver (``hl_crash_driver.py``, see its docstring: journal semantics of the order-intent
journal, not the executor) is killed with SIGKILL at named checkpoints — after an intent is
stored, while the venue holds the answer of a request it booked (``in_flight``), after the ack
arrived but before it was stored, and while reading fills of partly filled orders — at moments
with 0, 1 and 10 orders resting on the venue, then restarted until it completes. Then:
exactly one venue order per client order id the uninterrupted run placed (and no other), every
venue fill recorded once, and the venue's positions and fills those of the uninterrupted run.
Then 20 kills in a row at varying points. Crash points come from the checkpoint log of the
uninterrupted run (``NAME N OPEN``): the first passage of NAME with OPEN resting orders.
For speed, one venue process (in memory, no state file) serves every world of the module, each
world with its own master account, and each driver run is a forked child of the test process.
"""

from __future__ import annotations

import importlib.util
import json
import multiprocessing
import os
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import eth_account
import pytest

from sixbtc.adapters.exchanges.hyperliquid_precision import from_cloid
from sixbtc.testing.fake_hyperliquid_process import (
    VenueProcess,
    duplicate_cloids,
    orders_by_cloid,
    venue_fills,
    venue_positions,
)

pytestmark = pytest.mark.timeout(600)
_SPEC = importlib.util.spec_from_file_location("hl_crash_driver", Path(__file__).with_name("hl_crash_driver.py"))
DRIVER = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(DRIVER)
FORK = multiprocessing.get_context("fork")
N_ORDERS = 24
MARKS = {"BTC": 100_000.0, "ETH": 3_000.0, "SOL": 150.0}
LIQUIDITY = {"BTC": 0.0012, "ETH": 0.03, "SOL": 0.6}


def _drive(world_file: str, crash_at: str, log: str) -> None:
    """The forked child: the driver's crash hook reads its environment."""
    os.environ["SIXBTC_CRASH_AT"] = crash_at
    os.environ.pop("SIXBTC_CRASH_LOG", None)
    if log:
        os.environ["SIXBTC_CRASH_LOG"] = log
    raise SystemExit(DRIVER.main(world_file, N_ORDERS))


@dataclass
class World:
    venue: VenueProcess
    root: Path
    master: str

    def run(self, crash_at: str | None = None, log: Path | None = None) -> int:
        """One driver run in a forked child (no interpreter start-up); its exit code (-9: killed)."""
        proc = FORK.Process(target=_drive, args=(str(self.root / "world.json"), crash_at or "", str(log or "")))
        proc.start()
        proc.join(300)
        assert proc.exitcode is not None, "the driver hangs"
        return proc.exitcode

    def outcome(self) -> dict[str, Any]:
        state = self.venue.control.state()
        db = sqlite3.connect(self.root / "journal.db")
        try:
            journal = dict(db.execute("SELECT cid, status FROM orders"))
            recorded = Counter(r[0] for r in db.execute("SELECT tid FROM fills"))
        finally:
            db.close()
        fills = venue_fills(state, self.master)
        return {"duplicates": duplicate_cloids(state, self.master),
                "placed": sorted(from_cloid(c) for c in orders_by_cloid(state, self.master)),
                "journal": journal,
                "unrecorded": sorted({str(f["tid"]) for f in fills} - set(recorded)),
                "invented": sorted(set(recorded) - {str(f["tid"]) for f in fills}),
                "fills": sorted((from_cloid(f.get("cloid")), f["sz"], f["px"]) for f in fills),
                "positions": venue_positions(state, self.master)}


def new_world(root: Path, venue: VenueProcess, partial: bool) -> World:
    root.mkdir(parents=True, exist_ok=True)
    master, agent = eth_account.Account.create(), eth_account.Account.create()
    control = venue.control
    control.fund(user=master.address, usd=100_000.0)
    control.add_agent(master=master.address, address=agent.address, name="bot")
    for coin, px in MARKS.items():
        control.set_mark(coin=coin, px=px)
        control.set_liquidity(coin=coin, size=LIQUIDITY[coin] if partial else None)  # the venue is shared
    key = root / "agent.key"
    key.write_text(agent.key.hex())
    key.chmod(0o600)
    (root / "world.json").write_text(json.dumps({"url": venue.url, "master": master.address.lower(),
                                                 "agent_key_file": str(key), "journal": str(root / "journal.db")}))
    return World(venue, root, master.address.lower())


def check(got: dict[str, Any], expected: dict[str, Any]) -> None:
    assert got["duplicates"] == {}, f"a client order id was sent twice: {got['duplicates']}"
    assert got["placed"] == expected["placed"], "not exactly the orders of the uninterrupted run"
    assert got["unrecorded"] == [] and got["invented"] == []
    assert got["fills"] == expected["fills"] and got["positions"] == expected["positions"]
    # a refusal whose answer was lost (killed in flight) is indistinguishable from a request that never
    # arrived: the journal says UNKNOWN there (never re-sent) where the uninterrupted run saw REJECTED
    lost_refusals = {c for c, st in got["journal"].items() if st == "unknown" and expected["journal"].get(c) == "rejected"}
    assert {c: st for c, st in got["journal"].items() if c not in lost_refusals} == {
        c: st for c, st in expected["journal"].items() if c not in lost_refusals}


@pytest.fixture(scope="module")
def venue() -> VenueProcess:
    """One venue process for the module (each world has its own master account); in memory."""
    with VenueProcess() as v:
        yield v


def _reference(venue: VenueProcess, root: Path, partial: bool) -> tuple[dict[str, Any], list[tuple[str, int, int]]]:
    world = new_world(root / "w", venue, partial)
    assert world.run(log=root / "log.txt") == 0
    got = world.outcome()
    assert got["duplicates"] == {} and got["unrecorded"] == [] and len(got["placed"]) >= 20
    log = [(n, int(k), int(o)) for n, k, o in (line.split() for line in (root / "log.txt").read_text().splitlines())]
    return got, log


@pytest.fixture(scope="module")
def full_reference(venue: VenueProcess, tmp_path_factory) -> tuple[dict[str, Any], list[tuple[str, int, int]]]:  # noqa: ANN001
    """The uninterrupted run on the full-fill world (unlimited depth)."""
    return _reference(venue, tmp_path_factory.mktemp("full_reference"), partial=False)


@pytest.fixture(scope="module")
def partial_reference(venue: VenueProcess, tmp_path_factory) -> tuple[dict[str, Any], list[tuple[str, int, int]]]:  # noqa: ANN001
    """The uninterrupted run on the partial-fill world (:data:`LIQUIDITY` caps every fill)."""
    return _reference(venue, tmp_path_factory.mktemp("partial_reference"), partial=True)


def crash_point(log: list[tuple[str, int, int]], name: str, n_open: int) -> str:
    for seen, k, open_now in log:
        if seen == name and open_now == n_open:
            return f"{name}:{k}"
    pytest.fail(f"the reference run never passes {name} with {n_open} resting orders "
                f"(seen: {sorted({o for s, _, o in log if s == name})})")


def kill_and_restart(venue: VenueProcess, reference, tmp_path: Path, partial: bool, checkpoint: str,  # noqa: ANN001
                     n_open: int) -> None:
    expected, log = reference
    point = crash_point(log, checkpoint, n_open)
    world = new_world(tmp_path / "w", venue, partial)
    assert world.run(point) == -9, f"no crash at {point}"
    assert world.run() == 0
    check(world.outcome(), expected)


@pytest.mark.parametrize("n_open", [0, 1, 10])
@pytest.mark.parametrize("checkpoint", ["intent_stored", "in_flight", "acked"])
def test_kill_9_at_a_checkpoint_then_restart(venue: VenueProcess, full_reference, tmp_path: Path, checkpoint: str,
                                             n_open: int) -> None:
    """The full-fill world, killed at each checkpoint of a request's life."""
    kill_and_restart(venue, full_reference, tmp_path, False, checkpoint, n_open)


@pytest.mark.parametrize("n_open", [0, 1, 10])
def test_kill_9_while_reading_partial_fills_then_restart(venue: VenueProcess, partial_reference, tmp_path: Path,
                                                         n_open: int) -> None:
    """The partial-fill world, killed at ``fill_seen`` (fills of partly filled orders read, not stored)."""
    kill_and_restart(venue, partial_reference, tmp_path, True, "fill_seen", n_open)


def test_twenty_kills_in_a_row(venue: VenueProcess, full_reference, tmp_path: Path) -> None:
    expected, _ = full_reference
    world = new_world(tmp_path / "w", venue, False)
    for i in range(20):
        name = ("intent_stored", "in_flight", "acked")[i % 3]
        assert world.run(f"{name}:{1 + i % 2}") == -9, f"kill {i} ({name}) not reached"
    assert world.run() == 0
    check(world.outcome(), expected)
