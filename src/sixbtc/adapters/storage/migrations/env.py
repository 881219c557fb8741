"""Alembic environment: runs migrations on the connection given by ``sixbtc`` (or a URL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from sixbtc.adapters.storage.tables import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run on ``config.attributes['connection']`` or on ``sqlalchemy.url``."""
    conn = config.attributes.get("connection")
    if conn is not None:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
