"""Fresh databases for the jobs benchmark, made and dropped by the run itself.

SQLite: a file in a temporary folder (the server's own setup: WAL, synchronous=NORMAL).
PostgreSQL: a database `easel_bench_<random>` created on the server the test suite uses
(EASEL_TEST_POSTGRES_URL, default postgresql://root@127.0.0.1:5432/postgres, loopback),
migrated to head, and dropped WITH (FORCE) afterwards, whatever happened in between.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from easel.storage.db import Database
from easel.storage.migrate import upgrade_async

Backend = Literal["sqlite", "postgresql"]
POSTGRES_URL_VAR = "EASEL_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://root@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str:
    return os.environ.get(POSTGRES_URL_VAR, DEFAULT_POSTGRES_URL)


def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be benchmarked here, or None when it can."""
    url = postgres_admin_url()
    host = make_url(url).host or "127.0.0.1"
    if host not in ("127.0.0.1", "localhost", "::1"):
        return f"{POSTGRES_URL_VAR} names {host}; this benchmark only talks to loopback"
    try:
        with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {url}: {str(exc).strip()[:200]}"
    return None


@asynccontextmanager
async def fresh_database(backend: Backend, workdir: Path) -> AsyncIterator[Database]:
    """A migrated, empty database of `backend`, disposed (and for PostgreSQL dropped) on exit."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        await upgrade_async(url)
        database = Database(url)
        try:
            yield database
        finally:
            await database.dispose()
        return
    admin = postgres_admin_url()
    name = f"easel_bench_{secrets.token_hex(6)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        pg_url = make_url(admin).set(drivername="postgresql+psycopg", database=name)
        await upgrade_async(pg_url)
        database = Database(pg_url)
        try:
            yield database
        finally:
            await database.dispose()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def clear_jobs(database: Database) -> None:
    """Empty the jobs table between measurements, so each starts from the same state."""
    # CASCADE: assets reference jobs (none exist in this benchmark)
    statement = "DELETE FROM jobs" if database.is_sqlite else "TRUNCATE jobs CASCADE"
    async with database.engine.begin() as conn:
        await conn.execute(text(statement))


async def server_version(database: Database) -> str:
    query = "SELECT sqlite_version()" if database.is_sqlite else "SHOW server_version"
    async with database.engine.connect() as conn:
        version = (await conn.execute(text(query))).scalar_one()
    return f"{'SQLite' if database.is_sqlite else 'PostgreSQL'} {str(version).split()[0]}"
