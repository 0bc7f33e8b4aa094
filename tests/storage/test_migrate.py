"""Migrations on both backends: from empty to head, idempotent, concurrent, in step with tables.py."""

from __future__ import annotations

import subprocess
import sys

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from easel.storage.migrate import alembic_config, current_revision, head_revision, migration_engine, sync_url, upgrade
from easel.storage.schema import metadata
from easel.storage.tables import LOCAL_ACCOUNT_ID

TABLES = {"accounts", "api_keys", "conversations", "messages", "usage_records"}


def _tables_and_accounts(url: str) -> tuple[set[str], list[tuple[str, str]]]:
    engine = migration_engine(url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            accounts = [(r[0], r[1]) for r in conn.execute(text("SELECT id, name FROM accounts ORDER BY id"))]
    finally:
        engine.dispose()
    return tables, accounts


def test_sync_url() -> None:
    assert sync_url("sqlite+aiosqlite:////tmp/a/easel.db") == "sqlite:////tmp/a/easel.db"
    assert sync_url("sqlite:///rel.db") == "sqlite:///rel.db"
    assert sync_url("postgresql+psycopg://root@127.0.0.1:5432/test") == "postgresql+psycopg://root@127.0.0.1:5432/test"
    assert sync_url("postgresql+asyncpg://u:p%40ss@h/db") == "postgresql+psycopg://u:p%40ss@h/db"


def test_upgrade_creates_schema_and_local_account(database_url: str) -> None:
    assert current_revision(database_url) is None
    upgrade(database_url)
    assert current_revision(database_url) == head_revision()
    tables, accounts = _tables_and_accounts(database_url)
    assert tables >= TABLES
    assert accounts == [(LOCAL_ACCOUNT_ID, "local")]


def test_upgrade_twice_is_a_noop(database_url: str) -> None:
    upgrade(database_url)
    first = _tables_and_accounts(database_url)
    upgrade(database_url)
    assert _tables_and_accounts(database_url) == first
    assert current_revision(database_url) == head_revision()


def test_migrations_match_the_tables_module(database_url: str) -> None:
    """The handwritten migrations and the table modules describe the same schema."""
    upgrade(database_url)
    engine = migration_engine(database_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_concurrent_upgrades_from_separate_processes(database_url: str) -> None:
    code = "import sys; from easel.storage.migrate import upgrade; upgrade(sys.argv[1])"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, database_url], stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    tables, accounts = _tables_and_accounts(database_url)
    assert tables >= TABLES
    assert accounts == [(LOCAL_ACCOUNT_ID, "local")]


def test_downgrade_to_base_and_back(database_url: str) -> None:
    upgrade(database_url)
    command.downgrade(alembic_config(database_url), "base")
    engine = migration_engine(database_url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    assert not (TABLES & tables)
    upgrade(database_url)
    assert current_revision(database_url) == head_revision()
