"""A throwaway PostgreSQL cluster for integration tests.

``initdb`` into a fresh temporary directory, ``pg_ctl start`` on 127.0.0.1 with a free TCP
port (no Unix socket) and durability switched off (``fsync=off``, ``synchronous_commit=off``,
``full_page_writes=off``), then stop (``-m immediate``) and delete everything on exit.

PostgreSQL refuses to run as root, so when the current process is root the server binaries
are run as an unprivileged user (``nobody`` by default) through ``runuser -u USER --``, and
the data directory is ``chown``-ed to that user. Server binaries are looked up in
``$SIXBTC_PG_BINDIR``, then the Debian layout ``/usr/lib/postgresql/<major>/bin`` (newest
major first), then ``$PATH``. When none is found :class:`PostgresUnavailable` is raised;
tests turn it into ``pytest.skip(reason)``.

Example
-------
>>> with ThrowawayPostgres() as pg:            # doctest: +SKIP
...     url = pg.create_database("t1")         # 'postgresql+psycopg://postgres@127.0.0.1:PORT/t1'
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from sixbtc.core.errors import SixbtcError

_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_SUPERUSER = "postgres"


class PostgresUnavailable(SixbtcError):
    """No usable PostgreSQL server binary (``initdb``/``pg_ctl``/``postgres``) or user to run it."""


def find_pg_bindir() -> Path:
    """Return the directory holding ``initdb``, ``pg_ctl`` and ``postgres``.

    When ``$SIXBTC_PG_BINDIR`` is set, only that directory is used (an explicit override;
    point it at an empty directory to force the "unavailable" path). Otherwise
    ``/usr/lib/postgresql/<major>/bin`` (highest major first, Debian/Ubuntu layout), then the
    directory of ``pg_ctl`` on ``$PATH``.

    Raises
    ------
    PostgresUnavailable
        If no directory contains all three binaries.
    """
    candidates: list[Path] = []
    if env := os.environ.get("SIXBTC_PG_BINDIR"):
        candidates.append(Path(env))
    else:
        debian = Path("/usr/lib/postgresql")
        if debian.is_dir():
            majors = [p for p in debian.iterdir() if p.name.split(".")[0].isdigit()]
            majors.sort(key=lambda p: [int(x) for x in p.name.split(".") if x.isdigit()],
                        reverse=True)
            candidates += [p / "bin" for p in majors]
        if on_path := shutil.which("pg_ctl"):
            candidates.append(Path(on_path).resolve().parent)
    for bindir in candidates:
        if all(os.access(bindir / exe, os.X_OK) for exe in ("initdb", "pg_ctl", "postgres")):
            return bindir
    raise PostgresUnavailable(
        "no PostgreSQL server binary found (initdb, pg_ctl and postgres) in "
        f"{', '.join(map(str, candidates)) or '/usr/lib/postgresql/*/bin or $PATH'}; "
        "install the postgresql server package or set SIXBTC_PG_BINDIR"
    )


def free_tcp_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayPostgres:
    """A private PostgreSQL cluster living in a temporary directory.

    Parameters
    ----------
    run_as : str
        Unprivileged OS user that runs the server when this process is root (ignored
        otherwise). Default ``"nobody"``.
    start_timeout_s : int
        Seconds ``pg_ctl start -w`` may wait for the server to accept connections.

    Attributes
    ----------
    port : int or None
        TCP port on 127.0.0.1 once started.

    Raises
    ------
    PostgresUnavailable
        From :meth:`start` when no server binary is found, ``run_as`` does not exist, or
        ``initdb``/``pg_ctl start`` fails (the message carries the server log tail).
    """

    def __init__(self, run_as: str = "nobody", start_timeout_s: int = 30) -> None:
        self.run_as = run_as
        self.start_timeout_s = start_timeout_s
        self.port: int | None = None
        self._bindir: Path | None = None
        self._tmp: Path | None = None

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> ThrowawayPostgres:
        """``initdb`` + ``pg_ctl start``; returns ``self``. Retries twice on a port race."""
        self._bindir = find_pg_bindir()
        self._tmp = Path(tempfile.mkdtemp(prefix="sixbtc-pg-"))
        try:
            self._chown_for_server(self._tmp)
            self._run("initdb", "-D", str(self.data_dir), "-U", _SUPERUSER, "-A", "trust",
                      "-E", "UTF8", "--no-sync", "--no-instructions")
            last_error = ""
            for _ in range(3):
                self.port = free_tcp_port()
                try:
                    self._run("pg_ctl", "start", "-w", "-t", str(self.start_timeout_s), "-D",
                              str(self.data_dir), "-l", str(self._tmp / "server.log"), "-o",
                              self._server_options())
                    return self
                except PostgresUnavailable as exc:
                    last_error = str(exc)
            raise PostgresUnavailable(f"pg_ctl start failed 3 times: {last_error}")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (immediate mode) and delete the cluster directory. Idempotent."""
        if self._tmp is None:
            return
        if (self.data_dir / "postmaster.pid").exists() and self._bindir is not None:
            subprocess.run(self._argv("pg_ctl", "stop", "-m", "immediate", "-w", "-D",
                                      str(self.data_dir)), capture_output=True, check=False)
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._tmp = None
        self.port = None

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- databases ---------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        """The cluster's data directory (inside the temporary directory)."""
        if self._tmp is None:
            raise RuntimeError("ThrowawayPostgres is not started")
        return self._tmp / "data"

    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL ``postgresql+psycopg://postgres@127.0.0.1:<port>/<dbname>``."""
        if self.port is None:
            raise RuntimeError("ThrowawayPostgres is not started")
        return f"postgresql+psycopg://{_SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, dbname: str) -> str:
        """``CREATE DATABASE dbname``; return its SQLAlchemy URL.

        Raises
        ------
        ValueError
            If ``dbname`` is not a lower-case SQL identifier (``[a-z_][a-z0-9_]{0,62}``).
        """
        self._admin_sql(f'CREATE DATABASE "{self._checked(dbname)}"')
        return self.url(dbname)

    def drop_database(self, dbname: str) -> None:
        """``DROP DATABASE IF EXISTS dbname WITH (FORCE)`` (terminates its sessions)."""
        self._admin_sql(f'DROP DATABASE IF EXISTS "{self._checked(dbname)}" WITH (FORCE)')

    # -- internals ---------------------------------------------------------------------
    @staticmethod
    def _checked(dbname: str) -> str:
        if not _DB_NAME.match(dbname):
            raise ValueError(f"database name {dbname!r} is not a lower-case SQL identifier")
        return dbname

    def _admin_sql(self, sql: str) -> None:
        import psycopg  # local: only needed when a cluster is actually used

        conninfo = f"host=127.0.0.1 port={self.port} user={_SUPERUSER} dbname=postgres"
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(sql)

    def _server_options(self) -> str:
        return (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories='' "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=200")

    def _chown_for_server(self, path: Path) -> None:
        if os.geteuid() != 0:
            return
        try:
            user = pwd.getpwnam(self.run_as)
        except KeyError as exc:
            raise PostgresUnavailable(f"cannot run PostgreSQL as root and user {self.run_as!r} "
                                      "does not exist") from exc
        os.chown(path, user.pw_uid, user.pw_gid)

    def _argv(self, exe: str, *args: str) -> list[str]:
        if self._bindir is None:
            raise RuntimeError("ThrowawayPostgres is not started")
        argv = [str(self._bindir / exe), *args]
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                raise PostgresUnavailable("running as root but 'runuser' is missing, so the "
                                          "PostgreSQL server cannot be started unprivileged")
            argv = [runuser, "-u", self.run_as, "--", *argv]
        return argv

    def _run(self, exe: str, *args: str) -> None:
        proc = subprocess.run(self._argv(exe, *args), capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            log = self._tmp / "server.log" if self._tmp else None
            tail = log.read_text(errors="replace")[-1500:] if log and log.exists() else ""
            raise PostgresUnavailable(f"{exe} failed (exit {proc.returncode}): "
                                      f"{proc.stderr.strip()[-1500:]} {tail}".strip())
