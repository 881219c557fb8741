"""This process, other processes of this host, the claims they hold, and the pid registry.

Worker ids (:class:`~sixbtc.domain.claims.WorkerId`) name the host, the pid and the start
time of the process that holds a claim; :func:`release_dead_claims` gives back the claims of
processes of this host that no longer exist (a ``kill -9``, a crash), also when their pid was
reused by a process started since, at the start of every run.

The pid registry (``processes`` table): :func:`registered` records a worker process while
it runs, :func:`probe` reads what this host says about a pid now, and :func:`terminate`
signals one; ``cleanup_zombie_processes`` decides with
:func:`sixbtc.scheduler.retention.zombie_action` (only registered, identity-proven pids).
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sixbtc.app.container import Container
from sixbtc.domain.claims import WorkerId
from sixbtc.scheduler.retention import ProcessProbe, ProcessRecord


def this_host() -> str:
    """The host name recorded in worker ids and leases."""
    return socket.gethostname()


def worker_id(role: str) -> str:
    """Worker id of ``role`` run by the calling process (its own pid and start time)."""
    pid = os.getpid()
    return str(WorkerId(role, this_host(), pid, process_started(pid)))


def _stat(pid: int) -> list[str] | None:
    """Fields 3… of ``/proc/<pid>/stat`` (after the command name), None without procfs or process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def process_started(pid: int) -> int | None:
    """Start time of process ``pid`` in clock ticks since boot (``/proc/<pid>/stat`` field 22,
    proc(5)); None when unknown (no procfs, no such process)."""
    fields = _stat(pid)
    return int(fields[19]) if fields and len(fields) > 19 and fields[19].isdigit() else None


def pid_alive(pid: int) -> bool:
    """True when a process ``pid`` exists on this host and is not a zombie (exited, not reaped)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    fields = _stat(pid)
    return fields is None or fields[:1] != ["Z"]  # no procfs: trust kill(0)


def worker_dead(worker: WorkerId) -> bool:
    """True when the process of ``worker`` (of this host) is gone: its pid is free, or held by a
    process that started at another time (the pid was reused)."""
    if not pid_alive(worker.pid):
        return True
    started = process_started(worker.pid)
    return worker.started is not None and started is not None and started != worker.started


def holder_dead(host: str | None, pid: int | None) -> bool:
    """True only when the holder is certainly dead: same host and its pid is gone."""
    return host == this_host() and pid is not None and not pid_alive(pid)


def release_dead_claims(c: Container) -> int:
    """Release the claims of dead worker processes of this host; return how many."""
    return c.strategies.release_dead(this_host(), worker_dead)


def probe(pid: int) -> ProcessProbe:
    """Alive (not a zombie), start time and parent pid of ``pid`` on this host (proc(5) fields
    22 and 4; None where unknown)."""
    fields = _stat(pid)
    ppid = int(fields[1]) if fields and len(fields) > 1 and fields[1].isdigit() else None
    return ProcessProbe(pid_alive(pid), process_started(pid), ppid)


@contextmanager
def registered(c: Container, role: str, parent_pid: int | None) -> Iterator[ProcessRecord]:
    """Record the calling process in the pid registry for the ``with`` block (removed after;
    a process killed before leaves its row to ``cleanup_zombie_processes``).

    ``parent_pid``: the process that started it and is expected to outlive it (None: a
    top-level process, never taken for an orphan).
    """
    pid = os.getpid()
    rec = ProcessRecord(this_host(), pid, process_started(pid), parent_pid, role)
    c.processes.register(rec)
    try:
        yield rec
    finally:
        with suppress(Exception):  # the database may be gone at exit: the cleanup forgets the row
            c.processes.forget(rec.host, pid, rec.started)


def terminate(pid: int) -> bool:
    """Send ``pid`` SIGTERM (a worker then releases its claim and exits); reap it if it is a
    child of this process. False when it was already gone."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    with suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    return True
