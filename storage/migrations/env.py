"""Alembic environment: runs the migrations on the URL given in the configuration.

Logging is left alone on purpose (no fileConfig): migrations run inside the application.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from storage.db import create_db_engine
from storage.fulltext import described_by_models
from storage.models import Base

# Any fixed number: concurrent first runs against one PostgreSQL database wait for each other.
_PG_MIGRATION_LOCK = 0x636F6F70

config = context.config
url = config.get_main_option("sqlalchemy.url")
if url is None:  # storage.db sets it on every configuration it hands Alembic
    raise RuntimeError("the Alembic configuration names no sqlalchemy.url")

if context.is_offline_mode():
    context.configure(
        url=url,
        target_metadata=Base.metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_db_engine(url, foreign_keys=False)
    try:
        # One transaction for the whole upgrade (SQLite: BEGIN IMMEDIATE, see create_db_engine).
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=True,
                include_name=described_by_models,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()
