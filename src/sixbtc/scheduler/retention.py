"""Pure rules of the cleanup tasks (SPEC §3.9): which strategies, events, files and processes
go.

* Strategies: a cleanup task deletes the unclaimed strategies of its statuses whose last
  change (``updated_at``: when they entered the status) is older than its ``retention_days``
  (:data:`STRATEGY_CLEANUPS`); each deletion keeps its reason as an event.
* Temp files: a file (or an empty directory) of the home's tmp directory whose modification
  time is older than the retention is deleted (:func:`expired`).
* Processes: only processes in the pid registry, and only when their identity is proven
  (:func:`zombie_action`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sixbtc.domain.strategy import StrategyStatus

#: Cleanup task -> (statuses it deletes, reason recorded with each deletion).
STRATEGY_CLEANUPS: dict[str, tuple[tuple[StrategyStatus, ...], str]] = {
    "cleanup_stale_strategies": ((StrategyStatus.GENERATED, StrategyStatus.VALIDATED), "cleanup:stale"),
    "cleanup_old_failed": ((StrategyStatus.FAILED,), "cleanup:old_failed"),
    "cleanup_old_retired": ((StrategyStatus.RETIRED,), "cleanup:old_retired"),
}


def cutoff(now: datetime, retention_days: float) -> datetime:
    """The instant before which rows are old: ``now - retention_days`` (aware UTC in, out).

    Raises
    ------
    ValueError
        If ``retention_days <= 0`` (would delete everything up to now or later).
    """
    if not retention_days > 0:
        raise ValueError(f"retention_days must be > 0, got {retention_days}")
    return now - timedelta(days=retention_days)


def expired(mtime_s: float, now_s: float, retention_days: float) -> bool:
    """True when a temp file modified at ``mtime_s`` (Unix seconds) is older than the retention."""
    return now_s - mtime_s > retention_days * 86_400


@dataclass(frozen=True)
class ProcessRecord:
    """A registered worker: host, pid, its start time (clock ticks since boot, None when it
    could not be read), the pid of the process that started it (None: a top-level process)
    and its role."""

    host: str
    pid: int
    started: int | None
    parent_pid: int | None
    role: str


@dataclass(frozen=True)
class ProcessProbe:
    """What this host says about a pid now: alive (and not a zombie), its start time and its
    parent's pid (None when unknown)."""

    alive: bool
    started: int | None
    ppid: int | None


class ZombieAction(StrEnum):
    """What :func:`zombie_action` decides for one registered process."""

    KEEP = "keep"  # ours and still attached to its parent, or identity not provable
    FORGET = "forget"  # gone, or its pid now belongs to another process: drop the record
    TERMINATE = "terminate"  # ours and orphaned: SIGTERM (it releases its claim)


def zombie_action(rec: ProcessRecord, probe: ProcessProbe) -> ZombieAction:
    """Decide for one registered process of this host (``cleanup_zombie_processes``).

    A process is ours only if its pid is alive *and* its start time equals the recorded one
    (a pid reused by an unrelated process has another start time): otherwise the record is
    forgotten and nothing is signalled. Ours and orphaned (it had a parent and its parent is
    no longer the recorded one: the parent died and it was re-parented) → terminate. Without
    a start time on either side identity cannot be proven → keep (never signal a stranger).
    """
    if not probe.alive:
        return ZombieAction.FORGET
    if rec.started is None or probe.started is None:
        return ZombieAction.KEEP
    if probe.started != rec.started:
        return ZombieAction.FORGET
    if rec.parent_pid is not None and probe.ppid is not None and probe.ppid != rec.parent_pid:
        return ZombieAction.TERMINATE
    return ZombieAction.KEEP
