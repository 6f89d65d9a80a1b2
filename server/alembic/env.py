"""Alembic environment: the engine comes from the caller (``server.database.upgrade_to_head``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, text

from server.tables import Base

# Two processes starting together must not both migrate: PostgreSQL takes this lock per transaction.
MIGRATION_LOCK_ID = 0x41_49_53_4C  # "AISL"


def run_migrations_online() -> None:
    engine = context.config.attributes.get("engine")
    if not isinstance(engine, Engine):
        raise RuntimeError("run migrations through server.database.upgrade_to_head(engine)")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})"))
            context.run_migrations()


run_migrations_online()
