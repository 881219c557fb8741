"""This process, other processes of this host, and the claims they hold.

Worker ids (:class:`~sixbtc.domain.claims.WorkerId`) name the host and the pid of the
process that holds a claim; :func:`release_dead_claims` gives back the claims of processes
of this host that no longer exist (a ``kill -9``, a crash), at the start of every run.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from sixbtc.app.container import Container
from sixbtc.domain.claims import WorkerId


def this_host() -> str:
    """The host name recorded in worker ids and leases."""
    return socket.gethostname()


def worker_id(role: str) -> str:
    """Worker id of ``role`` run by the calling process (its own pid)."""
    return str(WorkerId(role, this_host(), os.getpid()))


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
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs: trust kill(0)
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def holder_dead(host: str | None, pid: int | None) -> bool:
    """True only when the holder is certainly dead: same host and its pid is gone."""
    return host == this_host() and pid is not None and not pid_alive(pid)


def release_dead_claims(c: Container) -> int:
    """Release the claims of dead worker processes of this host; return how many."""
    return c.strategies.release_dead(this_host(), lambda pid: not pid_alive(pid))
