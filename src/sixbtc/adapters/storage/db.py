"""Engine creation (SQLite WAL or PostgreSQL), transactions and Alembic migrations.

SQLite: every transaction starts with ``BEGIN IMMEDIATE`` (the write lock is taken up front,
so read-then-write transactions such as claims and pool changes are serialised and never
deadlock on lock upgrade), WAL journal, ``busy_timeout`` 30 s. PostgreSQL (psycopg 3):
claims use ``FOR UPDATE SKIP LOCKED`` and pool changes a transaction-level advisory lock.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import ArgumentError, DatabaseError

from sixbtc.core.errors import ConfigError, DatabaseUnavailable

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: PostgreSQL advisory lock key serialising :func:`migrate` across processes and machines.
_MIGRATION_LOCK_KEY = 6_142_000_003
#: Seconds a new SQLite connection keeps retrying the switch to WAL while another process holds
#: the lock (the same bound as ``busy_timeout``).
_WAL_SWITCH_TIMEOUT_S = 30.0


def make_engine(url: str) -> Engine:
    """Create an engine for ``url`` with SixBTC's connection settings.

    Parameters
    ----------
    url : str
        ``sqlite:///path/to/sixbtc.db`` or ``postgresql+psycopg://user@host:port/db``.

    Raises
    ------
    ConfigError
        If the URL cannot be parsed or names an unsupported backend (key ``database.url``).
    """
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
            _configure_sqlite(engine)
            return engine
        if url.startswith("postgresql"):
            return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise ConfigError(f"database.url: cannot use {url!r}: {exc}") from exc
    raise ConfigError(f"database.url: unsupported backend in {url!r} (use sqlite:/// or postgresql+psycopg://)")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # noqa: ANN001
        dbapi_conn.isolation_level = None  # let us emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=30000")
        _switch_to_wal(cur)
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _switch_to_wal(cur: sqlite3.Cursor) -> None:
    """Set ``journal_mode=WAL``, retrying while another process holds the database lock.

    Switching a fresh (rollback-journal) file to WAL needs an exclusive lock, and SQLite answers
    ``database is locked`` at once instead of calling the busy handler when processes open the
    new file together (supervisord starting every role); the mode is persistent, so only the
    first switch matters and the others find it done.

    Raises
    ------
    sqlite3.OperationalError
        Any other error, or the lock still held after ``_WAL_SWITCH_TIMEOUT_S`` seconds.
    """
    deadline = time.monotonic() + _WAL_SWITCH_TIMEOUT_S
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def is_sqlite(engine: Engine) -> bool:
    """True when ``engine`` talks to SQLite."""
    return engine.dialect.name == "sqlite"


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One short transaction: committed on success, rolled back on any exception."""
    with engine.begin() as conn:
        yield conn


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent).

    On PostgreSQL the upgrade holds a transaction-level advisory lock, so role processes that
    start at once (supervisord, every machine after an upgrade) migrate one after the other:
    the first upgrades, the others then find the schema current.

    Raises
    ------
    DatabaseUnavailable
        When the database cannot be reached or opened (server down, wrong host or port,
        unwritable SQLite path, a file that is not a database), or cannot be migrated (a schema
        revision this version does not know, another application's tables); the message names
        the URL without its password.
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        conn = engine.connect()
    except DatabaseError as exc:  # OperationalError (unreachable) or not a database at all
        reason = " ".join(str(exc.orig or exc).split())
        url = engine.url.render_as_string(hide_password=True)
        raise DatabaseUnavailable(f"cannot open the database {url} (database.url): {reason}") from exc
    url = engine.url.render_as_string(hide_password=True)
    try:
        with conn, conn.begin():
            if not is_sqlite(engine):  # processes starting together migrate one after the other
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except CommandError as exc:  # a revision this version does not know (written by a newer one?)
        raise DatabaseUnavailable(f"the database {url} has a schema this version of SixBTC does not know "
                                  f"({exc}); use the SixBTC version that created it, or another "
                                  "database.url") from exc
    except DatabaseError as exc:  # e.g. tables of another application without an alembic_version
        reason = " ".join(str(exc.orig or exc).split())
        raise DatabaseUnavailable(f"cannot migrate the database {url} to SixBTC's schema: {reason}; "
                                  "is it another application's database?") from exc
