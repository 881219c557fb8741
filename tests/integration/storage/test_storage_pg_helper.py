"""The throwaway PostgreSQL helper used by the PostgreSQL parameter of these tests."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import sqlalchemy as sa

from sixbtc.testing.postgres import PostgresUnavailable, ThrowawayPostgres, find_pg_bindir


def test_missing_server_binary_is_a_clear_condition(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIXBTC_PG_BINDIR", str(tmp_path))
    with pytest.raises(PostgresUnavailable, match="no PostgreSQL server binary found"):
        find_pg_bindir()
    with pytest.raises(PostgresUnavailable, match="no PostgreSQL server binary found"):
        ThrowawayPostgres().start()


def test_unstarted_cluster_and_bad_database_names_are_refused() -> None:
    pg = ThrowawayPostgres()
    with pytest.raises(RuntimeError, match="not started"):
        pg.url()
    with pytest.raises(ValueError, match="not a lower-case SQL identifier"):
        pg.create_database('x"; DROP DATABASE postgres; --')
    pg.stop()  # stopping a never-started cluster is a no-op


@pytest.mark.postgres
def test_create_and_drop_database(pg_server: ThrowawayPostgres) -> None:
    url = pg_server.create_database("helper_check")
    assert url.startswith("postgresql+psycopg://") and url.endswith("/helper_check")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT current_database()")).scalar() == "helper_check"
    finally:
        engine.dispose()
    pg_server.drop_database("helper_check")
    admin = sa.create_engine(pg_server.url())
    try:
        with admin.connect() as conn:
            names = conn.execute(sa.text("SELECT datname FROM pg_database")).scalars().all()
    finally:
        admin.dispose()
    assert "helper_check" not in names


@pytest.mark.postgres
def test_cluster_is_stopped_and_deleted_on_exit(pg_server: ThrowawayPostgres) -> None:
    with ThrowawayPostgres() as pg:
        data_dir, port = pg.data_dir, pg.port
        assert (data_dir / "PG_VERSION").exists() and port != pg_server.port
    assert not data_dir.parent.exists()
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "server still listening"
