"""``migrate`` builds exactly the schema of ``tables.Base.metadata`` and is idempotent."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text
from storage_support import candidate, migrate_worker, run_processes

from sixbtc.adapters.storage.db import MIGRATIONS_DIR, make_engine, migrate
from sixbtc.adapters.storage.strategy_repo import StrategyRepository
from sixbtc.adapters.storage.tables import Base, StrategyRow


def _head_revision() -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(cfg).get_current_head()


def test_migrate_creates_every_table_and_is_idempotent(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert inspect(engine).get_table_names() == []
        migrate(engine)
        first = set(inspect(engine).get_table_names())
        assert first == set(Base.metadata.tables) | {"alembic_version"}
        sid = StrategyRepository(engine).add(candidate(1))
        migrate(engine)  # second run: no error, no change, data kept
        migrate(engine)
        assert set(inspect(engine).get_table_names()) == first
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            n_strategies = conn.execute(select(func.count()).select_from(StrategyRow)).scalar_one()
        assert versions == [_head_revision()]
        assert n_strategies == 1
        assert StrategyRepository(engine).get(sid).name == candidate(1).name
    finally:
        engine.dispose()


def test_migrated_schema_has_no_diff_against_metadata(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        migrate(engine)
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert ctx.get_current_revision() == _head_revision()
            diff = compare_metadata(ctx, Base.metadata)
        assert diff == []
        # the comparison does see drift: drop an index and it is reported
        with engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_strategies_status_claim"))
        with engine.connect() as conn:
            drift = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert [d[0] for d in drift] == ["add_index"]
        assert drift[0][1].name == "ix_strategies_status_claim"
    finally:
        engine.dispose()


def test_processes_starting_together_migrate_a_fresh_database_without_failing(db_url: str) -> None:
    """Every role process migrates at start: on PostgreSQL an advisory lock makes them take turns."""
    run_processes(migrate_worker, [(db_url, f"m{k}") for k in range(3)])
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == _head_revision()
    engine.dispose()
