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
have followed it are missing, nothing is doubled, and store and venue still agree. Then 20
kills in a row at rotating checkpoints, then one run to the end: the uninterrupted outcome.

During a partial fill: a world on its own venue (depth caps are per coin on a venue) whose
every fill is capped (:data:`PARTIAL_LIQUIDITY`): entries fill part and the venue cancels the
rest (IOC), exits fill part and the executor closes the rest with ``exit#1`` orders. Its plan
(:data:`PARTIAL_PLAN`, three strategies, one of them with a stop and no target) makes the
executor read partial fills with exactly 0, 1, 10 and 14 orders resting (the last: partial
exits). Killed at ``fill_seen`` on the first such passage, restarted: exactly the orders,
journal, trades and positions of the uninterrupted partial run (which ends flat), every venue
fill recorded once and none invented.
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Any

import pytest

from sixbtc.testing.executor_crash import (
    HOUR_MS,
    StrategyPlan,
    World,
    new_world,
    outcome,
    run_world,
)
from sixbtc.testing.fake_hyperliquid_process import VenueProcess

pytestmark = pytest.mark.timeout(600)
T0_MS = (int(time.time() * 1000) // HOUR_MS - 20) * HOUR_MS
FORK = multiprocessing.get_context("fork")
#: The partial-fill world: strategies 1 and 2 as in the default plan but one round (entries on
#: bar 3, exits on bar 6), and a third (long, a second sub-account, BTC and ETH, a stop and no
#: target) entering on bar 2 and exiting on bar 6, so that partial fills are seen with 0 (its
#: BTC entry), 1 (its ETH entry; its BTC stop resting), 10 (the SOL entries of strategies 1 and
#: 2; their BTC and ETH stops and targets and its two stops resting) and 14 (the BTC exits;
#: everything resting) orders resting.
PARTIAL_PLAN = (StrategyPlan("long", 0, entries=(3,), exits=(6,)), StrategyPlan("short", 1, entries=(3,), exits=(6,)),
                StrategyPlan("long", 2, entries=(2,), exits=(6,), coins=("BTC", "ETH"), tp_pct=0.0))
#: Depth caps (coins per fill): every entry fills part (0.005 BTC, 0.1666 ETH, 3.33 SOL wanted)
#: and the venue cancels the rest (IOC); from bar 5 the caps are below the positions, so every
#: exit fills part too and is followed by an ``exit#1`` for the rest.
PARTIAL_LIQUIDITY: dict[int, dict[str, float | None]] = {0: {"BTC": 0.003, "ETH": 0.1, "SOL": 2.0},
                                                         5: {"BTC": 0.002, "ETH": 0.06, "SOL": 1.2}}
Log = list[tuple[str, int, int, bool]]


@pytest.fixture(scope="module")
def venue() -> VenueProcess:
    with VenueProcess() as v:
        yield v


def read_log(path: Path) -> Log:
    return [(n, int(k), int(o), p == "1") for n, k, o, p in (line.split() for line in path.read_text().splitlines())]


@pytest.fixture(scope="module")
def reference(venue: VenueProcess, tmp_path_factory) -> tuple[dict[str, Any], Log]:  # noqa: ANN001
    root = tmp_path_factory.mktemp("reference")
    world = new_world(venue.url, root / "w", T0_MS)
    run_world(world.file, log=root / "log.txt")
    got = outcome(world)
    assert got["duplicates"] == {} and got["unrecorded"] == [] and len(got["placed"]) == 48
    assert len(got["trades"]) == 12 and got["positions"] == []
    log = read_log(root / "log.txt")
    assert not any(partial for *_, partial in log)  # unlimited depth: every fill is whole
    return got, log


@pytest.fixture(scope="module")
def partial_venue() -> VenueProcess:
    """The partial-fill world's own venue: depth caps are per coin on a venue."""
    with VenueProcess() as v:
        yield v


@pytest.fixture(scope="module")
def partial_reference(partial_venue: VenueProcess, tmp_path_factory) -> tuple[dict[str, Any], Log]:  # noqa: ANN001
    root = tmp_path_factory.mktemp("partial_reference")
    world = new_world(partial_venue.url, root / "w", T0_MS, PARTIAL_PLAN, PARTIAL_LIQUIDITY)
    run_world(world.file, log=root / "log.txt")
    got = outcome(world)
    agrees_with_itself(got)
    assert got["positions"] == [] and got["venue_positions"] == [{}, {}, {}]  # every exit closed its position
    parts = [t for t in got["trades"] if t[7].endswith(":part")]
    assert len(parts) == 8 and len(got["trades"]) == 16  # 8 exits filled part; each rest closed by an exit#1
    assert got["journal"] == dict.fromkeys(got["placed"], "canceled") | {
        cid: "filled" for *_, cid in got["trades"] if not cid.endswith(":part")} | {
        cid.removesuffix(":part"): "canceled" for *_, cid in parts}
    return got, read_log(root / "log.txt")


def crash_point(log: Log, name: str, n_open: int, *, partial: bool = False) -> str:
    """``NAME:K`` of the first passage of NAME with ``n_open`` resting orders (else, unless
    ``partial``, the first with more); ``partial``: only passages of a partly filled order."""
    for exact in (True, False) if not partial else (True,):
        for seen, k, open_now, part in log:
            if seen == name and part >= partial and (open_now == n_open if exact else open_now > n_open):
                return f"{name}:{k}"
    raise AssertionError(f"the reference run never passes {name} with {n_open}{'' if partial else '+'} resting "
                         f"orders{' on a partial fill' if partial else ''}")


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
    assert got["store_positions"] == [{k: pytest.approx(v) for k, v in p.items()} for p in got["venue_positions"]]


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


@pytest.mark.parametrize("n_open", [0, 1, 10, 14])
def test_kill_9_while_a_partial_fill_is_seen_then_restart(partial_venue: VenueProcess, partial_reference,
                                                          tmp_path: Path, n_open: int) -> None:
    expected, log = partial_reference
    point = crash_point(log, "fill_seen", n_open, partial=True)
    world = new_world(partial_venue.url, tmp_path / "w", T0_MS, PARTIAL_PLAN, PARTIAL_LIQUIDITY)
    assert killed(world, point) == -9, f"no crash at {point}"
    run_world(world.file)
    got = outcome(world)
    agrees_with_itself(got)
    assert got["placed"] == expected["placed"], "not exactly the orders of the uninterrupted run"
    assert got["journal"] == expected["journal"]
    assert got["trades"] == expected["trades"] and got["positions"] == expected["positions"] == []


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
