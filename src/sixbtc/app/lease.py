"""Leases of this process: the executor lease (exactly one executor trades a database at a
time) and the lease of each scheduled task (a task never runs twice at once).

:class:`ExecutorLease` acquires the ``executor`` lease
(:class:`~sixbtc.adapters.storage.lease_repo.LeaseRepository`) for this host and pid, renews
it every ``ttl / 4`` from a daemon thread while the process works, and releases it on exit.
Another process may take it over only when it is free, expired (``ttl`` without renewal: a
hung or unreachable holder) or held by a dead process of the same host (``kill -9``). Every
write of the executor checks the lease token in its transaction, so a process that lost the
lease cannot trade even before it notices. A renewal that fails is logged; when the keeper
thread has not renewed for ``ttl / 2`` (it failed, hangs or died), :meth:`ExecutorLease.check`
renews in the caller's thread before the next bar: a lease taken over meanwhile stops the
caller (``LeaseLost``), a database error fails that bar.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import timedelta
from types import TracebackType

from sqlalchemy import Engine

from sixbtc.adapters.storage.lease_repo import LeaseRepository
from sixbtc.app.container import Container
from sixbtc.app.processes import holder_dead, this_host
from sixbtc.core.errors import LeaseLost

#: Lease lifetime without renewal; the keeper renews every quarter of it.
LEASE_TTL = timedelta(seconds=60)
log = logging.getLogger(__name__)


class HeldLease:
    """Hold one named lease of the database for the duration of a ``with`` block.

    Parameters
    ----------
    leases : LeaseRepository
        The repository of the lease (its ``name`` says which).
    holder : str
        What holds it, shown to a refused second process (e.g. ``"sixbtc run --once"``).
    ttl : timedelta
        Lease lifetime without renewal.

    Raises
    ------
    LeaseHeld
        On entry, when another live process holds the lease (message names it).
    """

    #: What a lost lease stops (for the message of ``LeaseLost``).
    stopped = "stopped"

    def __init__(self, leases: LeaseRepository, holder: str, ttl: timedelta = LEASE_TTL) -> None:
        self.leases, self.holder, self.ttl = leases, holder, ttl
        self.token: int | None = None
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._renewed = time.monotonic()  # last successful acquisition or renewal

    def __enter__(self) -> HeldLease:
        lease = self.leases.acquire(this_host(), os.getpid(), self.holder, self.ttl, holder_dead)
        self.token, self._renewed = lease.token, time.monotonic()
        self._thread = threading.Thread(target=self._keep, name=f"lease-{self.leases.name}", daemon=True)
        self._thread.start()
        return self

    def _keep(self) -> None:
        while not self._stop.wait(self.ttl.total_seconds() / 4):
            try:
                self._renew()
            except LeaseLost:
                return
            except Exception as exc:  # noqa: BLE001 — a database hiccup: try again at the next period
                log.warning("%s lease renewal failed, retrying in %.0f s: %s: %s", self.leases.name,
                            self.ttl.total_seconds() / 4, type(exc).__name__, exc)

    def _renew(self) -> None:
        if not self.leases.renew(self.token or 0, self.ttl):
            self.lost.set()
        if self.lost.is_set():
            raise LeaseLost(f"the {self.leases.name} lease was taken over by another process: {self.stopped}")
        self._renewed = time.monotonic()

    def check(self) -> None:
        """Before each bar: raise ``LeaseLost`` if the lease is no longer ours.

        Renews here when the keeper thread has not for ``ttl / 2`` (see the module docstring).

        Raises
        ------
        LeaseLost
            A renewal found the lease taken over.
        """
        if self.lost.is_set():
            raise LeaseLost(f"the {self.leases.name} lease was taken over by another process: {self.stopped}")
        if time.monotonic() - self._renewed > self.ttl.total_seconds() / 2:
            self._renew()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.token is not None:
            self.leases.release(self.token)


class ExecutorLease(HeldLease):
    """The ``executor`` lease of ``c`` (exactly one process trades a database)."""

    stopped = "stopped trading"

    def __init__(self, c: Container, holder: str, ttl: timedelta = LEASE_TTL) -> None:
        super().__init__(c.leases, holder, ttl)
        self.c = c


class TaskLeases:
    """One lease per scheduled task, ``sched:<task>`` (a task never runs twice at once, also
    across processes and hosts; :class:`~sixbtc.scheduler.ports.TaskLock`)."""

    def __init__(self, engine: Engine, ttl: timedelta = LEASE_TTL) -> None:
        self.engine, self.ttl = engine, ttl

    def hold(self, task: str) -> HeldLease:
        """The lease of ``task`` (enter it to hold it; raises ``LeaseHeld`` when busy)."""
        return HeldLease(LeaseRepository(self.engine, name=f"sched:{task}"), f"scheduler task {task}", self.ttl)
