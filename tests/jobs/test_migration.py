"""Migration 0002 adds the jobs table to a database already in use, and takes it away again."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from easel.storage.migrate import alembic_config, migration_engine, upgrade


def _tables_and_indexes(url: str) -> tuple[set[str], set[str]]:
    engine = migration_engine(url)
    try:
        with engine.connect() as conn:
            inspector = inspect(conn)
            tables = set(inspector.get_table_names())
            indexes = {i["name"] for i in inspector.get_indexes("jobs")} if "jobs" in tables else set()
    finally:
        engine.dispose()
    return tables, {name for name in indexes if name}


def test_0002_on_a_database_in_use_and_back(database_url: str) -> None:
    upgrade(database_url, "0001")
    engine = migration_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO conversations (id, owner_id, title, model, created_at, updated_at) "
                    "VALUES ('conv_1', 'acct_local', 'kept', 'm', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
    finally:
        engine.dispose()
    upgrade(database_url)
    tables, indexes = _tables_and_indexes(database_url)
    assert "jobs" in tables
    assert {"ix_jobs_status_created_at", "ix_jobs_owner_id_created_at"} <= indexes
    command.downgrade(alembic_config(database_url), "0001")
    tables, _ = _tables_and_indexes(database_url)
    assert "jobs" not in tables and "conversations" in tables
    engine = migration_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT title FROM conversations")).scalar_one() == "kept"
    finally:
        engine.dispose()
