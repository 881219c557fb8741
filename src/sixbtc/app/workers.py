"""Worker processes for the validator, backtester, re-tester and elastic roles, and a pool
that runs them.

Each worker builds its own :class:`Container` (own engine, own sandbox) from the home
directory and claims work from the database until none is left (or it is told to stop),
under the worker id ``{role}@{host}:{pid}`` with its *own* pid
(:func:`sixbtc.app.processes.worker_id`), so the claims of a worker that died can be released.
SIGTERM in a worker is turned into :class:`KeyboardInterrupt`, so the current claim is
released before the process exits. Each worker is in the pid registry while it runs
(``cleanup_zombie_processes`` stops it if its parent died), and the validator pauses under
back-pressure (:func:`validator_room`).

Roles: ``validator`` (GENERATED), ``backtester`` (VALIDATED), ``retester`` (due ACTIVE
re-tests only) and ``elastic`` (a due re-test first, else a VALIDATED strategy; SPEC §3.4).
:func:`backtest_roles` maps ``backtest.workers`` + ``backtest.elastic_workers`` onto the CPU
count: the process pool never exceeds the cores, and the elastic workers are kept first, so
on 2 cores the 4 + 1 default runs as 1 elastic + 1 VALIDATED worker (on 1 core: 1 elastic).
"""

from __future__ import annotations

import multiprocessing
import os
import select
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, wait
from pathlib import Path

from sixbtc.app.container import Container
from sixbtc.app.factory_roles import backtest_one, retest_one, validate_one, validation_sample
from sixbtc.app.home import Home
from sixbtc.app.processes import registered, worker_id
from sixbtc.app.window import CycleWindow, symbols_by_timeframe
from sixbtc.strategy.sandbox import StrategySandbox

ROLES = ("validator", "backtester", "retester", "elastic")


def _sigterm_to_interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def die_with_parent(parent_pid: int, grace_s: float = 3.0) -> None:
    """Pool-worker initializer: end this worker when the main process dies (even ``kill -9``).

    A daemon thread waits on a pidfd of ``parent_pid`` (or polls ``getppid`` where pidfds
    are missing); when the parent is gone it sends this process SIGTERM (a KeyboardInterrupt
    in :func:`role_worker`: the claim is released, the sandbox closed) and exits it
    ``grace_s`` seconds later if it is still there. ``PR_SET_PDEATHSIG`` is not used: it
    fires when the parent's *thread* that spawned the worker ends, not the process.
    """

    def watch() -> None:
        try:
            fd = os.pidfd_open(parent_pid)
            if os.getppid() == parent_pid:
                select.select([fd], [], [])  # readable once the parent has exited
        except OSError:  # no pidfd: poll
            while os.getppid() == parent_pid:
                time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(grace_s)
        os._exit(70)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def role_worker(home_root: str, role: str, window_json: dict[str, str], max_items: int | None = None) -> int:
    """Run ``role`` until no work is left (or ``max_items`` are done); return items processed.

    Raises
    ------
    ValueError
        For an unknown role.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (expected one of {ROLES})")
    signal.signal(signal.SIGTERM, _sigterm_to_interrupt)
    worker = worker_id(role)
    c = Container.open(Home(Path(home_root)))
    window = CycleWindow.from_json(window_json)
    done = 0
    with registered(c, role, os.getppid()), StrategySandbox(c.sandbox_limits()) as sandbox:
        if role == "validator":
            sample = validation_sample(c, window)
            step = lambda: validator_room(c) and validate_one(c, sandbox, sample, worker)  # noqa: E731
        else:
            step = _factory_step(c, sandbox, window, role, worker)
        while (max_items is None or done < max_items) and step():
            done += 1
    return done


def validator_room(c: Container) -> bool:
    """Back-pressure (SPEC §2): False while VALIDATED >= ``validator.max_validated_queue`` (the
    validator pauses before its next claim; ``run --once`` and the service alike)."""
    return c.strategies.counts_by_status()["VALIDATED"] < c.settings.validator.max_validated_queue


def _factory_step(c: Container, sandbox: StrategySandbox, window: CycleWindow, role: str,
                  worker_id: str) -> Callable[[], bool]:
    preferred = c.registry.get_active_pairs()
    symbols = symbols_by_timeframe(c.store, c.settings, window, preferred)
    if role == "backtester":
        return lambda: backtest_one(c, sandbox, window, symbols, worker_id)
    if role == "retester":
        return lambda: retest_one(c, sandbox, window, worker_id, symbols)
    return lambda: (retest_one(c, sandbox, window, worker_id, symbols)
                    or backtest_one(c, sandbox, window, symbols, worker_id))


def backtest_roles(workers: int, elastic_workers: int, cpus: int | None = None) -> list[str]:
    """Roles of the backtest pool: ``elastic_workers`` elastic + ``workers`` backtester
    processes, at most ``cpus`` (default: the CPU count) in all, elastic ones kept first.

    Raises
    ------
    ValueError
        If ``workers < 1`` or ``elastic_workers < 0``.
    """
    if workers < 1 or elastic_workers < 0:
        raise ValueError(f"backtest.workers must be >= 1 and elastic_workers >= 0, got {workers}, {elastic_workers}")
    n = max(1, min(workers + elastic_workers, cpus or os.cpu_count() or 1))
    return (["elastic"] * elastic_workers + ["backtester"] * workers)[:n]


def run_role_pool(c: Container, role: str | list[str], workers: int, window: CycleWindow,
                  on_tick: Callable[[], None] | None = None) -> int:
    """Run ``workers`` processes of ``role`` until the queue is empty; return items processed.

    ``role`` may be a list of roles, one per process (``workers`` is then ignored). At most
    the CPU count of processes run. ``on_tick`` is called about twice a second while they
    run (progress display).
    """
    roles = [role] * workers if isinstance(role, str) else list(role)
    if not roles:
        raise ValueError("run_role_pool needs at least one worker")
    roles = roles[: max(1, min(len(roles), os.cpu_count() or 1))]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(roles), mp_context=ctx,
                             initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
        futures = [pool.submit(role_worker, str(c.home.root), r, window.to_json()) for r in roles]
        while True:
            finished, pending = wait(futures, timeout=0.5)
            if on_tick is not None:
                on_tick()
            if not pending:
                break
        return sum(f.result() for f in finished)
