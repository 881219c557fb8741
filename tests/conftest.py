"""Shared fixtures of the test suite: one throwaway PostgreSQL cluster per session (per xdist worker)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sixbtc.testing.postgres import PostgresUnavailable, ThrowawayPostgres


@pytest.fixture(scope="session")
def pg_server() -> Iterator[ThrowawayPostgres]:
    """A running :class:`ThrowawayPostgres` (skips the test when no server binary exists)."""
    try:
        server = ThrowawayPostgres().start()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL backend unavailable: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_url(pg_server: ThrowawayPostgres) -> str:
    """URL of the session cluster's maintenance database ``postgres``."""
    return pg_server.url()
