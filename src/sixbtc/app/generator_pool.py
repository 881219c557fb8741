"""Generation in parallel worker processes (``generator.workers``) for ``sixbtc run`` and
``sixbtc run --once``.

Only a batch that waits on the LLM source (``llm`` in ``generator.sources``: each request is
seconds of network time) is split over ``min(generator.workers, CPU count, ceil(n /
MIN_PER_WORKER))`` spawned processes. The local sources render a strategy in milliseconds
(60 in 0.28 s in-process, against 3.2 s on two spawned processes: measured 2026-12-02, idle
2 cores), so without the LLM every batch is generated in this process. Each worker builds its
own container from the home directory and calls
:func:`~sixbtc.app.generation.generate_batch` for its share. The
daily limit and the GENERATED back-pressure are counted in the database in the same
transaction as the inserts, so the workers together never exceed them, and a restart keeps
the day's count. Worker ``k`` draws from ``seed + k`` (``generator.seed`` or the given seed;
None: fresh entropy), so a seeded run is reproducible. The per-role deployment runs
``generator.workers`` ``sixbtc worker generator`` processes instead (supervisord numprocs).
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from sixbtc.app.container import Container
from sixbtc.app.generation import generate_batch, generation_room
from sixbtc.app.home import Home
from sixbtc.app.processes import registered
from sixbtc.app.workers import die_with_parent

#: Fewest strategies per generator process (smaller batches are generated in-process).
MIN_PER_WORKER = 10


def generator_processes(n: int, workers: int, cpus: int | None = None, *, waits_on_llm: bool = True) -> int:
    """Processes a batch of ``n`` runs on: ``min(workers, cpus, ceil(n / MIN_PER_WORKER))``, >= 1,
    when it ``waits_on_llm``; else 1 (local sources are faster in-process than a spawn)."""
    if not waits_on_llm:
        return 1
    return max(1, min(workers, cpus or os.cpu_count() or 1, math.ceil(max(n, 0) / MIN_PER_WORKER)))


def shares(n: int, k: int) -> list[int]:
    """``n`` split into ``k`` shares differing by at most one (the first ones larger)."""
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def generator_worker(home_root: str, n: int, seed: int | None) -> tuple[int, int, list[str]]:
    """One worker process: generate up to ``n``; returns (created, dropped, LLM errors)."""
    c = Container.open(Home(Path(home_root)))
    errors: list[str] = []
    with registered(c, "generator", os.getppid()):
        created, dropped = generate_batch(c, n, np.random.default_rng(seed), on_error=errors.append)
    return created, dropped, errors


def generate_parallel(c: Container, n: int, seed: int | None = None,
                      on_error: Callable[[str], None] | None = None) -> tuple[int, int]:
    """Generate up to ``n`` strategies on :func:`generator_processes` workers.

    Parameters
    ----------
    c : Container
    n : int
        Strategies asked for (the limits may allow fewer).
    seed : int or None
        Base seed (default ``generator.seed``); worker ``k`` uses ``seed + k``.
    on_error : callable or None
        Receives each LLM source failure.

    Returns
    -------
    (int, int)
        Created, and dropped (duplicates, or beyond the limits), summed over the workers.
    """
    base = seed if seed is not None else c.settings.generator.seed
    n = min(n, *generation_room(c))  # nothing to do (no process started) at a limit
    if n <= 0:
        return 0, 0
    gen = c.settings.generator
    k = generator_processes(n, gen.workers, waits_on_llm="llm" in gen.sources)
    if k == 1:
        return generate_batch(c, n, np.random.default_rng(base), on_error=on_error)
    seeds = [None if base is None else base + i for i in range(k)]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=k, mp_context=ctx, initializer=die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        futures = [pool.submit(generator_worker, str(c.home.root), part, s) for part, s in zip(shares(n, k), seeds, strict=True)]
        results = [f.result() for f in futures]
    for _, _, errors in results:
        for message in errors:
            if on_error:
                on_error(message)
    return sum(r[0] for r in results), sum(r[1] for r in results)
