"""Schema migrations run from code: `upgrade(url)` brings a database to the newest revision.

Safe to call on every start: at head it does nothing; two processes starting at once
are serialised by the migration environment (see migrations/env.py). The Alembic
files live inside the package, found through importlib.resources, so an installed
easel migrates without a checkout.
"""

from __future__ import annotations

import asyncio
import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, pool
from sqlalchemy.engine import URL, make_url

from easel.storage.db import SQLITE_BUSY_TIMEOUT_MS, sqlite_file

# pg_advisory_xact_lock key shared by every easel process migrating the same database.
MIGRATION_LOCK_ID = 0x6561_7365_6C5F_6D67  # "easel_mg"

# Alembic's `context` is process-global; one upgrade at a time per process.
_lock = threading.Lock()

_SYNC_DRIVERS = {"aiosqlite": "pysqlite", "asyncpg": "psycopg", "psycopg_async": "psycopg"}


def sync_url(url: str | URL) -> str:
    """The synchronous twin of an async URL: sqlite+aiosqlite -> sqlite, postgresql+psycopg stays."""
    parsed = make_url(url)
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    driver = _SYNC_DRIVERS.get(driver, driver)
    name = backend if backend == "sqlite" and driver == "pysqlite" else f"{backend}+{driver}"
    return parsed.set(drivername=name).render_as_string(hide_password=False)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Manage transactions ourselves (see _sqlite_begin); foreign keys stay OFF while
    # migrating, because batch mode rebuilds tables by copy-and-drop and a DROP with
    # foreign keys on would cascade-delete the rows that point at the old table.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # busy_timeout first: switching to WAL needs a lock another migrating process may hold.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # Take the write lock up front: DDL becomes atomic and a second migrating process waits.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def migration_engine(url: str | URL) -> Engine:
    """A short-lived synchronous engine for running migrations against `url` (async or sync)."""
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    if engine.dialect.name == "sqlite":
        path = sqlite_file(engine.url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def alembic_config(url: str | URL | None = None) -> Config:
    """The packaged Alembic config, pointed at `url` (handed to env.py, not written to the ini)."""
    ini = resources.files("easel.storage").joinpath("alembic.ini")
    config = Config(str(ini))
    config.attributes["configure_logging"] = False  # the app owns logging
    if url is not None:
        config.attributes["url"] = sync_url(url)
    return config


def head_revision() -> str:
    """The newest revision this build of easel knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations packaged"
    return head


def current_revision(url: str | URL) -> str | None:
    """The revision `url` is at, or None for a database never migrated."""
    engine = migration_engine(url)
    path = sqlite_file(engine.url) if engine.dialect.name == "sqlite" else None
    if path is not None and not path.exists():
        return None  # don't create a database just to look at it
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


@contextmanager
def _sqlite_file_lock(url: str | URL) -> Iterator[None]:
    """Serialise migrations of one SQLite file across processes with a lock file beside it.

    BEGIN IMMEDIATE alone is not enough: switching a new file to WAL and Alembic's first
    reads happen before it, and SQLite answers "database is locked" at once in that window.
    """
    parsed = make_url(sync_url(url))
    path = sqlite_file(parsed) if parsed.get_backend_name() == "sqlite" else None
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.migrate-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Migrate the database at `url` (async or sync URL) to `revision`. Blocking; idempotent."""
    with _lock, _sqlite_file_lock(url):
        command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str | URL, revision: str = "head") -> None:
    """`upgrade` off the event loop, for an app's startup."""
    await asyncio.to_thread(upgrade, url, revision)
