"""Fixtures shared by the whole suite.

- `easel_home` (autouse): EASEL_HOME is the test's tmp_path; other EASEL_* settings and
  provider keys are removed from the environment, so no test reads a real key or config.
- `database_url`: an empty database, once on SQLite (a file in tmp_path) and once on
  PostgreSQL (marked `postgres`): a database `easel_t_<random>` made for the session
  and dropped after it, with a fresh schema per test (see `postgres_database_url`).
  PostgreSQL tests are skipped when the server cannot be reached, unless CI is set,
  where they fail instead. EASEL_TEST_POSTGRES_URL names the server's admin database
  (default postgresql://root@127.0.0.1:5432/postgres).
- `database`: a migrated `easel.storage.Database` on `database_url`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from easel.storage.db import Database
from easel.storage.migrate import upgrade

PROVIDER_KEY_VARS = (
    "OPENAI_API_KEY",
    "XAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "DEEPSEEK_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "OPENROUTER_API_KEY",
    "GROQ_API_KEY",
    "TOGETHER_API_KEY",
    "MISTRAL_API_KEY",
    "REPLICATE_API_TOKEN",
    "FAL_KEY",
    "LUMAAI_API_KEY",
    "RUNWAYML_API_SECRET",
)
BROWSER_TESTS = "tests/ui/"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last. Playwright's sync API keeps an event loop running in the main thread
    for the rest of the session once its browser starts, and pytest-asyncio cannot start a test's
    loop beside it, so any async test collected after tests/ui (tests/websearch, tests/workflows)
    would fail with "Runner.run() cannot be called from a running event loop"."""
    items.sort(key=lambda item: item.nodeid.startswith(BROWSER_TESTS))  # stable: order kept otherwise


POSTGRES_URL_VAR = "EASEL_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://root@127.0.0.1:5432/postgres"


@pytest.fixture(autouse=True)
def easel_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Isolate every test: its own EASEL_HOME, no inherited EASEL_* settings, no provider keys."""
    for name in list(os.environ):
        if name.startswith("EASEL_") and not name.startswith("EASEL_TEST_"):
            monkeypatch.delenv(name)
    for name in PROVIDER_KEY_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EASEL_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The PostgreSQL server's admin database (libpq URL), checked reachable once per session."""
    url = os.environ.get(POSTGRES_URL_VAR, DEFAULT_POSTGRES_URL)
    try:
        with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        reason = f"PostgreSQL not reachable at {url} ({exc.__class__.__name__}: {str(exc).strip()[:200]})"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI is set, so PostgreSQL tests must run", pytrace=False)
        pytest.skip(reason)
    return url


@pytest.fixture(scope="session")
def postgres_test_database(postgres_admin_url: str) -> Iterator[str]:
    """A database for this test session (libpq URL), created here and dropped at the end."""
    name = f"easel_t_{secrets.token_hex(6)}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_database_url(postgres_test_database: str) -> Iterator[str]:
    """An empty PostgreSQL schema of its own for one test, as an async psycopg URL.

    A schema, not a database, per test: creating and dropping a database costs a
    checkpoint (~0.3 s), a schema costs milliseconds. The URL pins `search_path` to
    the schema, so every connection made from it (engines, Alembic, subprocesses)
    sees only this test's tables; `application_name` lets teardown end stray sessions.
    """
    schema = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(postgres_test_database, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = make_url(postgres_test_database).set(drivername="postgresql+psycopg")
    url = url.update_query_dict({"options": f"-csearch_path={schema}", "application_name": schema})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(postgres_test_database, autocommit=True) as conn:
            # A test that forgot to dispose its engine must not block the drop.
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (schema,)
            )
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database's async URL, once per backend."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'db' / 'test.db'}"
    url: str = request.getfixturevalue("postgres_database_url")
    return url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A migrated `Database` on `database_url`, disposed after the test."""
    upgrade(database_url)
    db = Database(database_url)
    try:
        yield db
    finally:
        await db.dispose()
