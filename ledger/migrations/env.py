"""Alembic environment: migrations run through the ledger's own engine (same PRAGMAs, locks)."""

from __future__ import annotations

import zlib

from alembic import context

from ledger.db import create_ledger_engine
from ledger.models import Base

# Any constant works; derived from a name so it reads as ours in pg_locks.
_MIGRATION_LOCK_ID = zlib.crc32(b"dunning-ledger-migrations")


def _ledger_url() -> str:
    url = context.config.attributes.get("ledger_url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise RuntimeError("no database URL: use ledger.db.make_alembic_config(url)")
    return str(url)


def run_migrations_offline() -> None:
    """Print the SQL instead of running it (``alembic upgrade head --sql``), for a DBA to review."""
    context.configure(
        url=_ledger_url(),
        target_metadata=Base.metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_ledger_engine(_ledger_url())
    try:
        # One transaction around the version check and every migration. On SQLite the engine
        # begins with BEGIN IMMEDIATE, which already serialises concurrent upgrades; on
        # PostgreSQL a transaction-scoped advisory lock does the same.
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})")
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=connection.dialect.name == "sqlite",
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
