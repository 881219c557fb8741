"""Storage integration fixtures: every test runs on SQLite (a file) and on PostgreSQL.

``db_url`` is parametrised over both backends; the PostgreSQL parameter uses the session's
throwaway cluster (``tests/integration/conftest.py``) and a fresh ``CREATE DATABASE`` per
test, and skips with a clear reason when no PostgreSQL server binary is installed.

This directory is put on ``sys.path`` so that test modules (and the ``spawn`` worker
processes, which inherit ``sys.path``) can import ``storage_support`` under any pytest
``--import-mode`` (the project uses ``importlib``, which does not touch ``sys.path``).
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from sixbtc.adapters.storage.db import make_engine, migrate
from sixbtc.adapters.storage.pool_repo import PoolRepository
from sixbtc.adapters.storage.strategy_repo import StrategyRepository
from sixbtc.core.clock import SimClock

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from storage_support import T0  # noqa: E402  (needs the sys.path entry above)

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]
_db_counter = itertools.count(1)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL: ``sqlite:///<tmp_path>/sixbtc.db`` or a fresh PG database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sixbtc.db'}"
        return
    server = request.getfixturevalue("pg_server")
    name = f"t{next(_db_counter)}_{request.node.name.split('[')[0][:40].lower()}"
    url = server.create_database(name)
    try:
        yield url
    finally:
        server.drop_database(name)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated engine on ``db_url`` (disposed afterwards)."""
    eng = make_engine(db_url)
    migrate(eng)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def clock() -> SimClock:
    """Simulated clock starting 2026-01-01 00:00 UTC."""
    return SimClock(T0)


@pytest.fixture
def strategies(engine: Engine, clock: SimClock) -> StrategyRepository:
    """Strategy repository on the migrated test database."""
    return StrategyRepository(engine, clock)


@pytest.fixture
def pool(strategies: StrategyRepository) -> PoolRepository:
    """Pool repository on the migrated test database."""
    return PoolRepository(strategies)
