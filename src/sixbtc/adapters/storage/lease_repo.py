"""Named leases in the database: exactly one process may hold the ``executor`` lease.

A lease row records its holder (host, pid, a label), when it was acquired and last renewed,
and when it expires. Acquiring it bumps ``token`` (the fencing token): every write of the
executor checks in the same transaction that the token is still current
(:meth:`LeaseRepository.check_in`), so a process whose lease was taken over cannot write
even if it has not noticed yet. The lease is taken over only when it is free, expired, or
held by a process known to be dead (``holder_dead``, e.g. same host and pid gone).

Serialisation: SQLite transactions are ``BEGIN IMMEDIATE`` (one writer at a time);
PostgreSQL locks the lease row (``SELECT … FOR UPDATE`` to acquire, ``FOR SHARE`` to check).

Time: the lease's times are the database's (PostgreSQL's ``clock_timestamp()``; for SQLite,
a file on this host, the host's clock), so processes on hosts whose clocks disagree still
agree on when a lease expires: a host whose clock runs ahead cannot take over a live lease.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from sixbtc.adapters.storage.db import is_sqlite
from sixbtc.adapters.storage.mapping import utc
from sixbtc.adapters.storage.tables import LeaseRow
from sixbtc.core.clock import Clock
from sixbtc.core.errors import LeaseHeld, LeaseLost

L = LeaseRow.__table__
EXECUTOR_LEASE = "executor"


@dataclass(frozen=True)
class Lease:
    """A lease as stored (``holder`` None = free)."""

    name: str
    holder: str | None
    host: str | None
    pid: int | None
    token: int
    acquired_at: datetime | None
    renewed_at: datetime | None
    expires_at: datetime | None

    def describe(self, now: datetime) -> str:
        """One line naming the holder, e.g. ``pid 41 on host box (sixbtc run), started … renewed 3 s ago``."""
        renewed = f"{(now - self.renewed_at).total_seconds():.0f} s ago" if self.renewed_at else "never"
        expires = f"{(self.expires_at - now).total_seconds():.0f} s" if self.expires_at else "?"
        started = self.acquired_at.isoformat(timespec="seconds") if self.acquired_at else "?"
        return (f"pid {self.pid} on host {self.host} ({self.holder}), started {started}, renewed {renewed}, "
                f"expires in {expires}")


def _lease(row: object) -> Lease:
    m = row._mapping  # type: ignore[attr-defined]
    return Lease(m["name"], m["holder"], m["host"], m["pid"], m["token"], utc(m["acquired_at"]),
                 utc(m["renewed_at"]), utc(m["expires_at"]))


class LeaseRepository:
    """Acquire, renew, release and check one named lease.

    Parameters
    ----------
    engine : Engine
        Migrated engine (SQLite or PostgreSQL).
    clock : Clock or None
        Time source of ``acquired_at``/``renewed_at``/``expires_at`` (UTC); None (the default,
        and what the application uses) = the database's clock (see the module docstring).
        Tests pass a ``SimClock``.
    name : str
        Lease name, default ``"executor"``.
    """

    def __init__(self, engine: Engine, clock: Clock | None = None, name: str = EXECUTOR_LEASE) -> None:
        self.engine, self.clock, self.name = engine, clock, name

    def _now(self, conn: Connection) -> datetime:
        """Now, by ``clock`` or else by the database (aware, UTC)."""
        if self.clock is not None:
            return self.clock.now()
        if is_sqlite(self.engine):
            return datetime.now(UTC)
        return utc(conn.execute(select(func.clock_timestamp())).scalar_one())

    def _locked_row(self, conn: Connection, *, share: bool = False) -> Lease | None:
        q = select(L).where(L.c.name == self.name)
        if not is_sqlite(self.engine):
            q = q.with_for_update(read=share)
        row = conn.execute(q).first()
        return _lease(row) if row else None

    def current(self) -> Lease | None:
        """The lease row, or None if it was never taken."""
        with self.engine.connect() as conn:
            row = conn.execute(select(L).where(L.c.name == self.name)).first()
        return _lease(row) if row else None

    def acquire(self, host: str, pid: int, holder: str, ttl: timedelta,
                holder_dead: Callable[[str, int], bool]) -> Lease:
        """Take the lease for (``host``, ``pid``) for ``ttl``; return it with its new token.

        Raises
        ------
        LeaseHeld
            If another process holds it, it has not expired and ``holder_dead(host, pid)``
            is False; the message names the holder.
        """
        for _ in range(3):  # PostgreSQL: a concurrent first INSERT of the row wins, we retry
            try:
                return self._acquire_once(host, pid, holder, ttl, holder_dead)
            except IntegrityError:
                continue
        raise LeaseHeld(f"could not create the {self.name} lease row (concurrent starts); try again")

    def _acquire_once(self, host: str, pid: int, holder: str, ttl: timedelta,
                      holder_dead: Callable[[str, int], bool]) -> Lease:
        with self.engine.begin() as conn:
            cur = self._locked_row(conn)
            now = self._now(conn)
            if cur is None:
                conn.execute(insert(L).values(name=self.name, token=0))
                cur = Lease(self.name, None, None, None, 0, None, None, None)
            held = cur.holder is not None and (cur.host, cur.pid) != (host, pid)
            if held and cur.expires_at is not None and cur.expires_at > now and not holder_dead(cur.host, cur.pid):
                what = ("another executor is trading this database" if self.name == EXECUTOR_LEASE
                        else f"the {self.name} lease is held")
                raise LeaseHeld(f"{what}: {cur.describe(now)}. Stop it first, or wait until its lease expires")
            token = cur.token + 1
            values = {"holder": holder[:300], "host": host[:255], "pid": pid, "token": token,
                      "acquired_at": now, "renewed_at": now, "expires_at": now + ttl}
            conn.execute(update(L).where(L.c.name == self.name).values(**values))
        return Lease(self.name, **values)

    def renew(self, token: int, ttl: timedelta) -> bool:
        """Extend the lease held with ``token`` by ``ttl`` from now; False if it was lost."""
        with self.engine.begin() as conn:
            now = self._now(conn)
            res = conn.execute(update(L).where(L.c.name == self.name, L.c.token == token, L.c.holder.is_not(None))
                               .values(renewed_at=now, expires_at=now + ttl))
        return res.rowcount == 1

    def release(self, token: int) -> None:
        """Free the lease if ``token`` still holds it (no-op otherwise)."""
        with self.engine.begin() as conn:
            conn.execute(update(L).where(L.c.name == self.name, L.c.token == token)
                         .values(holder=None, host=None, pid=None, expires_at=None))

    def check_in(self, conn: Connection, token: int) -> None:
        """Inside the caller's transaction: raise unless ``token`` still holds the lease.

        Raises
        ------
        LeaseLost
            The lease was released, or taken over by another process (token moved on).
        """
        cur = self._locked_row(conn, share=True)
        if cur is None or cur.token != token or cur.holder is None:
            who = cur.describe(self._now(conn)) if cur is not None and cur.holder else "nobody"
            raise LeaseLost(f"the {self.name} lease (token {token}) is no longer ours; held by {who}")
