"""Alembic environment for easel's schema: run by `easel.storage.migrate.upgrade` and by the
`alembic` CLI. Takes the database URL from the caller (config attribute "url"), the ini,
or easel's settings; serialises concurrent upgrades (PostgreSQL advisory lock, SQLite
BEGIN IMMEDIATE) so several processes may start at once.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection, text

from easel.storage.migrate import MIGRATION_LOCK_ID, migration_engine, sync_url
from easel.storage.tables import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        from easel.config import load_settings

        url = load_settings().resolved_database_url
    return sync_url(url)


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        **kwargs,  # type: ignore[arg-type]
    )


def run_migrations_offline() -> None:
    url = _url()
    _configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    is_sqlite = connection.dialect.name == "sqlite"
    # On SQLite the migration engine opens each transaction with BEGIN IMMEDIATE, so DDL
    # is transactional there too and a second process waits for the first.
    _configure(connection=connection, render_as_batch=is_sqlite, transactional_ddl=True)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Held until this transaction ends; a second process waits, then finds the schema at head.
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = migration_engine(_url())
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
