"""The cleanup tasks of the scheduler (SPEC §3.9), each a function of the container that
returns a one-line summary. The rules are in :mod:`sixbtc.scheduler.retention`."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

from sixbtc.app.container import Container
from sixbtc.app.processes import probe, release_dead_claims, terminate, this_host
from sixbtc.scheduler.retention import (
    STRATEGY_CLEANUPS,
    ZombieAction,
    cutoff,
    expired,
    zombie_action,
)


def cleanup_strategies(c: Container, task: str) -> str:
    """``cleanup_stale_strategies`` / ``cleanup_old_failed`` / ``cleanup_old_retired``: delete the
    unclaimed strategies of the task's statuses unchanged for its ``retention_days``."""
    statuses, reason = STRATEGY_CLEANUPS[task]
    days = getattr(c.settings.scheduler, task).retention_days
    n = c.strategies.delete_unclaimed(statuses, cutoff(c.clock.now(), days), phase="scheduler", reason=reason)
    return f"{n} {'/'.join(map(str, statuses))} strategies older than {days:g} days deleted"


def cleanup_old_events(c: Container) -> str:
    """Fold strategy events older than ``retention_days`` into ``funnel_counts`` and delete
    them; also delete ``scheduler_runs`` older than ``scheduler.runs_retention_days``."""
    cfg = c.settings.scheduler
    now = c.clock.now()
    folded = c.funnel.fold_events(cutoff(now, cfg.cleanup_old_events.retention_days))
    runs = c.scheduler_runs.prune(cutoff(now, cfg.runs_retention_days))
    return f"{folded} events folded into funnel counts and deleted; {runs} old scheduler runs deleted"


def cleanup_tmp_dir(c: Container) -> str:
    """Delete files (and then empty directories) of the home's tmp directory older than
    ``retention_days``. Symbolic links are removed themselves, never followed: nothing
    outside the tmp directory is touched."""
    root = c.home.tmp_dir
    days = c.settings.scheduler.cleanup_tmp_dir.retention_days
    now = time.time()
    files = dirs = 0
    for top, subdirs, names in os.walk(root, topdown=False, followlinks=False):
        for name in names + [d for d in subdirs if Path(top, d).is_symlink()]:
            path = Path(top, name)
            if expired(path.lstat().st_mtime, now, days):
                path.unlink(missing_ok=True)
                files += 1
        if Path(top) != root and not os.listdir(top) and expired(Path(top).lstat().st_mtime, now, days):
            Path(top).rmdir()
            dirs += 1
    return f"{files} files and {dirs} empty directories older than {days:g} days deleted from {root}"


def cleanup_zombie_processes(c: Container) -> str:
    """Stop this host's registered workers whose parent is gone, and forget the records of
    processes that ended (or whose pid another process now has). Unregistered processes and
    registered ones whose identity cannot be proven are never signalled."""
    host = this_host()
    stopped, forgotten = [], 0
    for rec in c.processes.on_host(host):
        action = zombie_action(rec, probe(rec.pid))
        if action is ZombieAction.TERMINATE and terminate(rec.pid):
            stopped.append(f"{rec.role} pid {rec.pid}")
        if action is not ZombieAction.KEEP:
            forgotten += c.processes.forget(host, rec.pid, rec.started)
    return f"{len(stopped)} orphaned workers stopped{(': ' + ', '.join(stopped)) if stopped else ''}; " \
           f"{forgotten} records dropped"


def cleanup_stale_processing(c: Container) -> str:
    """Release the claims of dead workers of this host and claims older than
    ``scheduler.stale_claim_minutes``."""
    dead = release_dead_claims(c)
    stale = c.strategies.release_stale(timedelta(minutes=c.settings.scheduler.stale_claim_minutes))
    return f"{dead} claims of dead workers and {stale} stale claims released"
