"""Storage adapters: SQLAlchemy tables and repositories, Alembic migrations, Parquet candle store."""
