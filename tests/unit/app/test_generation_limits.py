"""The daily generation limit is counted in the database: a restarted process (a new
container on the same home) does not get a fresh quota, and deleting old strategies and
events does not hand it back; the GENERATED back-pressure holds the same way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from sixbtc.app.container import Container
from sixbtc.app.generation import generate_batch
from sixbtc.app.generator_pool import generate_parallel, generator_processes, shares
from sixbtc.app.home import Home
from sixbtc.config import Settings
from sixbtc.core.clock import SimClock
from sixbtc.domain.strategy import StrategyStatus
from sixbtc.testing.fake_llm import FakeLLMServer, Reply

NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _open(root: Path, clock: SimClock, **generator: object) -> Container:
    return Container(Home(root).ensure(), Settings(generator={"sources": ["template"], **generator}), clock)


def test_the_daily_limit_survives_a_restart_and_the_cleanups(tmp_path: Path) -> None:
    clock = SimClock(NOON)
    first = _open(tmp_path, clock, daily_limit=4)
    assert generate_batch(first, 3, np.random.default_rng(1))[0] == 3
    first.engine.dispose()
    again = _open(tmp_path, clock, daily_limit=4)  # a restarted process
    assert generate_batch(again, 3, np.random.default_rng(2))[0] == 1, "only the rest of today's quota"
    deleted = again.strategies.delete_unclaimed((StrategyStatus.GENERATED,), NOON + timedelta(hours=1),
                                                phase="scheduler", reason="cleanup:stale")
    assert deleted == 4
    assert generate_batch(again, 3, np.random.default_rng(3))[0] == 0, "deleted strategies still count today"
    clock.advance_to(NOON + timedelta(days=1))
    assert generate_batch(again, 3, np.random.default_rng(4))[0] == 3  # a new UTC day


def test_generation_pauses_while_the_generated_queue_is_full(tmp_path: Path) -> None:
    c = _open(tmp_path, SimClock(NOON), max_generated_queue=2)
    assert generate_batch(c, 5, np.random.default_rng(1))[0] == 2
    assert generate_batch(c, 5, np.random.default_rng(2))[0] == 0


def test_parallel_generator_processes_share_the_daily_limit(tmp_path: Path) -> None:
    """With the LLM source (here a local fake that fails, so the template source fills the
    room), two spawned generator processes asked for 20 each: together they stop at the limit
    of 25 (neither share alone reaches it, so both processes generated)."""
    home = Home(tmp_path).ensure()
    with FakeLLMServer() as server:
        server.reply(Reply.error(500, "internal"))
        home.config_path.write_text(f"generator:\n  workers: 2\n  daily_limit: 25\n  sources: [template, llm]\n"
                                    f"  seed: 5\nllm:\n  base_url: {server.base_url}\n  timeout_s: 2\n")
        c = Container.open(home)
        assert generator_processes(40, 2, cpus=2) == 2 and shares(40, 2) == [20, 20]
        errors: list[str] = []
        created, _ = generate_parallel(c, 40, on_error=errors.append)
        assert created == 25 == c.strategies.counts_by_status()["GENERATED"]
        assert len(server.requests) == 2 and len(errors) == 2, "one LLM request per spawned process"
        assert generate_parallel(c, 40) == (0, 0)  # the limit holds (no process is started)


def test_without_the_llm_source_a_batch_is_generated_in_process(tmp_path: Path) -> None:
    """The same strategies as one in-process draw from the seed (two processes would draw from
    seeds 5 and 6, 20 each)."""
    assert generator_processes(100, 3, cpus=8, waits_on_llm=False) == 1
    names = []
    for sub, run in (("pool", lambda c: generate_parallel(c, 40)),
                     ("direct", lambda c: generate_batch(c, 40, np.random.default_rng(5)))):
        home = Home(tmp_path / sub).ensure()
        home.config_path.write_text("generator:\n  workers: 2\n  sources: [template]\n  seed: 5\n")
        c = Container.open(home)
        assert run(c)[0] == 40
        names.append(sorted(s.name for s in c.strategies.list_by_status(StrategyStatus.GENERATED)))
    assert names[0] == names[1]


def test_small_batches_stay_in_process_and_shares_add_up() -> None:
    assert generator_processes(9, 3, cpus=8) == 1 and generator_processes(25, 3, cpus=8) == 3
    assert generator_processes(100, 3, cpus=2) == 2 and generator_processes(0, 3, cpus=2) == 1
    assert shares(7, 3) == [3, 2, 2] and sum(shares(31, 4)) == 31
