"""kill -9 of the executor on HyperliquidClient (real SDK) against the out-of-process fake venue.

The world and the plan are :mod:`sixbtc.testing.executor_crash` (two LIVE strategies, one on
the master account and one on a sub-account, up to 12 stops and targets resting). One venue
process serves every world of the module (each world has its own master). The executor run
(:func:`run_world`) is forked and SIGKILLed at a named submitter checkpoint — after the intent
is stored, after it is marked sent (before the request), after the venue's ack (before it is
stored), after a fill is read (before it is committed) — at the first passage with 0, 1 and
10 orders resting on the venue (the first passage with more when no passage has exactly that
many: fills are read with 0, 4, 8 or 12 resting), then restarted in this process. Then the
venue and the store agree with an uninterrupted run: exactly one venue order per client order
id it placed, every venue fill recorded once, the same trades and positions (venue and store).
A kill at ``sent`` leaves an order whose request never left: Hyperliquid does not promise to
refuse a reused cloid, so it is never re-sent (UNKNOWN, an alert); that intent and what would
have followed it are missing, nothing is doubled, and store and venue still agree. Last, 20
kills in a row at rotating checkpoints, then one run to the end: the uninterrupted outcome.
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Any

import pytest

from sixbtc.testing.executor_crash import HOUR_MS, World, new_world, outcome, run_world
from sixbtc.testing.fake_hyperliquid_process import VenueProcess

pytestmark = pytest.mark.timeout(600)
T0_MS = (int(time.time() * 1000) // HOUR_MS - 20) * HOUR_MS
FORK = multiprocessing.get_context("fork")


@pytest.fixture(scope="module")
def venue(tmp_path_factory) -> VenueProcess:  # noqa: ANN001
    with VenueProcess() as v:
        yield v


@pytest.fixture(scope="module")
def reference(venue: VenueProcess, tmp_path_factory) -> tuple[dict[str, Any], list[tuple[str, int, int]]]:  # noqa: ANN001
    root = tmp_path_factory.mktemp("reference")
    world = new_world(venue.url, root / "w", T0_MS)
    run_world(world.file, log=root / "log.txt")
    got = outcome(world)
    assert got["duplicates"] == {} and got["unrecorded"] == [] and len(got["placed"]) == 48
    assert len(got["trades"]) == 12 and got["positions"] == []
    log = [(n, int(k), int(o)) for n, k, o in (line.split() for line in (root / "log.txt").read_text().splitlines())]
    return got, log


def crash_point(log: list[tuple[str, int, int]], name: str, n_open: int) -> str:
    """``NAME:K`` of the first passage of NAME with ``n_open`` resting orders (else the first with more)."""
    for exact in (True, False):
        for seen, k, open_now in log:
            if seen == name and (open_now == n_open if exact else open_now > n_open):
                return f"{name}:{k}"
    raise AssertionError(f"the reference run never passes {name} with {n_open}+ resting orders")


def killed(world: World, crash_at: str) -> int:
    """Run the executor in a forked child crashing at ``crash_at``; its exit code (-9 when killed)."""
    proc = FORK.Process(target=run_world, args=(world.file, crash_at))
    proc.start()
    proc.join(120)
    assert proc.exitcode is not None, f"the run crashing at {crash_at} hangs"
    return proc.exitcode


def agrees_with_itself(got: dict[str, Any]) -> None:
    assert got["duplicates"] == {}, f"a client order id was sent twice: {got['duplicates']}"
    assert got["recorded_twice"] == 0 and got["unrecorded"] == [] and got["invented"] == []
    store = {}
    for sid, symbol, qty, _ in got["positions"]:
        store.setdefault(sid, {})[symbol] = qty if sid == 1 else -qty
    assert [store.get(1, {}), store.get(2, {})] == [
        {k: pytest.approx(v) for k, v in p.items()} for p in got["venue_positions"]]


@pytest.mark.parametrize("n_open", [0, 1, 10])
@pytest.mark.parametrize("checkpoint", ["intent_stored", "sent", "acked", "fill_seen"])
def test_kill_9_at_a_checkpoint_then_restart(venue: VenueProcess, reference, tmp_path: Path, checkpoint: str,
                                             n_open: int) -> None:
    expected, log = reference
    world = new_world(venue.url, tmp_path / "w", T0_MS)
    point = crash_point(log, checkpoint, n_open)
    assert killed(world, point) == -9, f"no crash at {point}"
    run_world(world.file)  # the restart, to the end of the plan
    got = outcome(world)
    agrees_with_itself(got)
    if checkpoint != "sent":
        assert got["placed"] == expected["placed"], "not exactly the orders of the uninterrupted run"
        assert got["journal"] == expected["journal"]
        assert got["trades"] == expected["trades"] and got["positions"] == expected["positions"]
        return
    (lost,) = [cid for cid, status in got["journal"].items() if status == "unknown"]
    assert lost not in got["placed"] and set(got["placed"]) <= set(expected["placed"])
    assert {t[7] for t in got["trades"]} <= {t[7] for t in expected["trades"]}


def test_twenty_kills_in_a_row_then_the_uninterrupted_outcome(venue: VenueProcess, reference, tmp_path: Path) -> None:
    expected, _ = reference
    world = new_world(venue.url, tmp_path / "w", T0_MS)
    for i in range(20):
        point = f"{('intent_stored', 'acked', 'fill_seen', 'acked')[i % 4]}:{1 + i % 3}"
        assert killed(world, point) == -9, f"kill {i} at {point} not reached"
    run_world(world.file)
    got = outcome(world)
    agrees_with_itself(got)
    assert got["placed"] == expected["placed"] and got["journal"] == expected["journal"]
    assert got["trades"] == expected["trades"] and got["positions"] == expected["positions"]
