"""Helpers of the storage integration tests, including the worker-process entry points.

Worker functions live here (not in a test module) so that ``multiprocessing``'s *spawn*
children import a light module: each child builds its own engine from the database URL.
Every worker waits on a shared barrier so that all of them hit the database at once, and
reports ``(worker, payload, error_repr_or_None)`` on a queue.
"""

from __future__ import annotations

import multiprocessing as mp
import queue as queue_mod
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sixbtc.adapters.storage.db import make_engine, migrate
from sixbtc.adapters.storage.pool_repo import PoolRepository
from sixbtc.adapters.storage.strategy_repo import StrategyRepository
from sixbtc.domain.strategy import (
    StrategyCandidate,
    StrategySource,
    StrategyStatus,
    StrategyType,
)
from sixbtc.pool.rules import PoolAction, decide_entry

T0 = datetime(2026, 1, 1, tzinfo=UTC)
GENERATED = StrategyStatus.GENERATED
VALIDATED = StrategyStatus.VALIDATED


def candidate(i: int) -> StrategyCandidate:
    """A distinct dummy candidate; name and code hash are derived from ``i``."""
    return StrategyCandidate(
        name=f"Strategy_MOM_{i:06d}",
        type=StrategyType.MOM,
        source=StrategySource.TEMPLATE,
        code=f"# strategy {i}\n",
        code_hash=f"{i:064x}",
        genome={"i": i},
    )


def add_generated(repo: StrategyRepository, n: int, first: int = 0) -> list[int]:
    """Insert ``n`` GENERATED candidates (``first`` .. ``first+n-1``); return their ids."""
    ids = [repo.add(candidate(first + k)) for k in range(n)]
    if any(i is None for i in ids):
        raise RuntimeError("test setup: a candidate was refused as duplicate")
    return ids  # type: ignore[return-value]


def add_validated(repo: StrategyRepository, n: int, first: int = 0) -> list[int]:
    """Insert ``n`` candidates and move them GENERATED -> VALIDATED; return their ids."""
    ids = add_generated(repo, n, first)
    for sid in ids:
        token = claim_specific(repo, GENERATED, sid)
        repo.transition(sid, token, VALIDATED, phase="validator", reason="test:validated")
    return ids


def claim_specific(repo: StrategyRepository, status: StrategyStatus, sid: int,
                   worker: str = "test") -> int:
    """Claim strategy ``sid`` (claiming and releasing lower ids on the way); return its token."""
    others = []
    try:
        while (rec := repo.claim(status, worker)) is not None:
            if rec.id == sid:
                return rec.claim_token  # type: ignore[return-value]
            others.append(rec)
        raise RuntimeError(f"test setup: strategy {sid} with status {status} is not claimable")
    finally:
        for rec in others:
            repo.release(rec.id, rec.claim_token)  # type: ignore[arg-type]


def run_processes(target: Callable[..., None], args: Sequence[tuple[Any, ...]],
                  timeout_s: float = 120.0) -> list[tuple[str, Any]]:
    """Run ``target(*a, barrier, queue)`` for each ``a`` in spawn processes.

    Returns ``[(worker, payload), ...]``; raises ``AssertionError`` listing worker errors.
    """
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    barrier = ctx.Barrier(len(args))
    procs = [ctx.Process(target=target, args=(*a, barrier, results), daemon=True) for a in args]
    for p in procs:
        p.start()
    out: list[tuple[str, Any, str | None]] = []
    try:
        for _ in procs:
            out.append(results.get(timeout=timeout_s))
    except queue_mod.Empty as exc:
        raise AssertionError(f"only {len(out)}/{len(procs)} workers reported in {timeout_s} s") from exc
    finally:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
    errors = [f"{w}: {err}" for w, _, err in out if err is not None]
    if errors:
        raise AssertionError("worker failures:\n" + "\n".join(errors))
    return [(w, payload) for w, payload, _ in out]


def claim_worker(url: str, worker: str, barrier: Any, results: Any) -> None:
    """Claim GENERATED strategies until none is left, moving each to VALIDATED with its token.

    Payload: the claimed strategy ids in claim order.
    """
    engine = make_engine(url)
    claimed: list[int] = []
    try:
        repo = StrategyRepository(engine)
        barrier.wait(timeout=60)
        while (rec := repo.claim(GENERATED, worker)) is not None:
            claimed.append(rec.id)
            repo.transition(rec.id, rec.claim_token, VALIDATED, phase="validator",
                            reason="test:validated")
        results.put((worker, claimed, None))
    except BaseException as exc:  # report everything to the parent
        results.put((worker, claimed, repr(exc)))
    finally:
        engine.dispose()


def pool_worker(url: str, worker: str, scores: dict[int, float], max_size: int,
                min_score: float, barrier: Any, results: Any) -> None:
    """Claim VALIDATED strategies and ``try_enter`` each with ``scores[id]`` until none is left.

    Payload: one ``(id, action, rule, evicted_id, pool_count_after)`` per decision, where
    ``pool_count_after`` is ``stats().count`` read right after the call.
    """
    engine = make_engine(url)
    log: list[tuple[int, str, int, int | None, int]] = []
    try:
        pool = PoolRepository(StrategyRepository(engine))
        barrier.wait(timeout=60)
        while (rec := pool.strategies.claim(VALIDATED, worker)) is not None:
            d = pool.try_enter(rec.id, rec.claim_token, scores[rec.id], max_size=max_size,
                               min_score=min_score)
            log.append((rec.id, str(d.action), d.rule, d.evicted_id, pool.stats().count))
        results.put((worker, log, None))
    except BaseException as exc:  # report everything to the parent
        results.put((worker, log, repr(exc)))
    finally:
        engine.dispose()


def replay_pool_events(events: list[dict[str, Any]], scores: dict[int, float], *, max_size: int,
                       min_score: float) -> tuple[dict[int, float], dict[int, tuple[str, int | None]]]:
    """Re-apply the SPEC §3.5 rules to the ``phase == "pool"`` events in commit (id) order.

    Checks that every recorded decision is the one the rules give for the pool as it was at
    that moment (an eviction event names the then-worst member: lowest score, ties newest),
    and that the pool never exceeds ``max_size``. Returns the final pool ``{id: score}`` and
    ``{id: (action, evicted_id)}``. Raises ``AssertionError`` at the first mismatch.
    """
    members: dict[int, float] = {}
    decisions: dict[int, tuple[str, int | None]] = {}
    evicted: int | None = None
    for ev in sorted((e for e in events if e["phase"] == "pool"), key=lambda e: e["id"]):
        if ev["reason"] == "pool:evicted":
            assert evicted is None, f"two evictions in a row at event {ev['id']}"
            evicted = ev["strategy_id"]
            continue
        sid = ev["strategy_id"]
        worst = min(members, key=lambda k: (members[k], -k)) if members else None
        expected = decide_entry(scores[sid], len(members), members[worst] if members else None,
                                max_size=max_size, min_score=min_score)
        assert ev["reason"] == f"pool:rule{expected.rule}", (ev, expected, len(members))
        if expected.action is PoolAction.ENTER_EVICT_WORST:
            assert evicted == worst, f"{sid} evicted {evicted}, the then-worst was {worst}"
            del members[worst]
        else:
            assert evicted is None, f"unexpected eviction of {evicted} before event {ev['id']}"
        if expected.action is not PoolAction.REJECT:
            members[sid] = scores[sid]
        assert len(members) <= max_size
        decisions[sid] = (str(expected.action), evicted)
        evicted = None
    assert evicted is None, "an eviction without an entrant"
    return members, decisions


def lease_worker(url: str, worker: str, barrier: Any, results: Any) -> None:
    """Try to take the executor lease once, all workers at the same moment.

    Payload: the token taken, or the ``LeaseHeld`` message.
    """
    from datetime import timedelta

    from sixbtc.adapters.storage.lease_repo import LeaseRepository
    from sixbtc.core.errors import LeaseHeld

    engine = make_engine(url)
    try:
        repo = LeaseRepository(engine)
        barrier.wait(timeout=60)
        try:
            lease = repo.acquire("host-a", int(worker), f"worker {worker}", timedelta(minutes=5),
                                 lambda host, pid: False)
            results.put((worker, lease.token, None))
        except LeaseHeld as exc:
            results.put((worker, str(exc), None))
    except BaseException as exc:  # report everything to the parent
        results.put((worker, None, repr(exc)))
    finally:
        engine.dispose()


def generation_worker(url: str, worker: str, first: int, n: int, daily_limit: int, max_queue: int,
                      barrier: Any, results: Any) -> None:
    """Insert candidates ``first .. first+n-1`` one at a time within the generation limits
    (:meth:`StrategyRepository.add_within_limits`). Payload: strategies inserted."""
    engine = make_engine(url)
    created = 0
    try:
        repo = StrategyRepository(engine)
        barrier.wait(timeout=60)
        for k in range(n):
            created += repo.add_within_limits([candidate(first + k)], T0, daily_limit, max_queue)[0]
        results.put((worker, created, None))
    except BaseException as exc:  # report everything to the parent
        results.put((worker, created, repr(exc)))
    finally:
        engine.dispose()


def migrate_worker(url: str, worker: str, barrier: Any, results: Any) -> None:
    """Migrate the (fresh) database at once with the other workers. Payload: None."""
    engine = make_engine(url)
    try:
        barrier.wait(timeout=60)
        migrate(engine)
        results.put((worker, None, None))
    except BaseException as exc:  # report everything to the parent
        results.put((worker, None, repr(exc)))
    finally:
        engine.dispose()
