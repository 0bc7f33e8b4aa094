"""The `Database` handle: one async engine and session factory built from a URL.

SQLite (aiosqlite) connections are set up per connection for a server's use: WAL
journal, foreign keys on, a busy timeout so concurrent writers wait instead of
failing. PostgreSQL uses psycopg 3's async driver. Nothing is created at import
time; the app builds one `Database` in `create_app(settings)` and disposes it on
shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000


def sqlite_file(url: URL) -> Path | None:
    """The file behind a SQLite URL, or None for an in-memory database."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Runs on every new DBAPI connection, outside any transaction (PRAGMA foreign_keys
    # is ignored inside one). WAL lets readers proceed while one writer writes;
    # synchronous=NORMAL is the safe, fast pairing with WAL.
    cursor = dbapi_connection.cursor()
    try:
        # busy_timeout first: switching to WAL needs a lock another process may hold.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


class Database:
    """An async engine plus a session factory. Use `async with db.session() as s:`."""

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        self.url: URL = make_url(url)
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            path = sqlite_file(self.url)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
        else:
            # A server may restart under us; check a pooled connection before handing it out.
            kwargs["pool_pre_ping"] = True
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _set_sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """The backend's name: "sqlite" or "postgresql"."""
        return self.url.get_backend_name()

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session; commit explicitly (or use `async with session.begin():`). Rolled back on error."""
        async with self._sessions() as session:
            yield session

    async def dispose(self) -> None:
        """Close every pooled connection. The object may still be used afterwards (it reconnects)."""
        await self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"
