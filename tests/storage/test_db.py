"""The Database handle: SQLite connection settings, sessions, and data surviving a reopen."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest
from sqlalchemy import select, text

from easel.storage.conversations import ConversationStore
from easel.storage.db import Database
from easel.storage.migrate import upgrade
from easel.storage.tables import LOCAL_ACCOUNT_ID, Account


async def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'deeper' / 'easel.db'}"
    db = Database(url)  # creates the missing parent folders
    try:
        async with db.session() as session:
            assert (await session.scalar(text("PRAGMA journal_mode"))) == "wal"
            assert (await session.scalar(text("PRAGMA foreign_keys"))) == 1
            assert (await session.scalar(text("PRAGMA busy_timeout"))) >= 5000
        assert (tmp_path / "nested" / "deeper" / "easel.db").exists()
        assert db.is_sqlite and db.dialect == "sqlite"
    finally:
        await db.dispose()


async def test_foreign_keys_are_enforced(database: Database) -> None:
    from sqlalchemy.exc import IntegrityError

    store = ConversationStore(database)
    with pytest.raises(IntegrityError):
        await store.create_conversation(owner_id="acct_nobody", model="local:smollm2-135m")


async def test_local_account_exists(database: Database) -> None:
    async with database.session() as session:
        account = await session.scalar(select(Account).where(Account.id == LOCAL_ACCOUNT_ID))
    assert account is not None
    assert account.name == "local"
    assert account.created_at.tzinfo is UTC


async def test_session_rolls_back_on_error(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.session() as session, session.begin():
            session.add(Account(id="acct_tmp", name="tmp"))
            await session.flush()
            raise RuntimeError("boom")
    async with database.session() as session:
        assert await session.scalar(select(Account).where(Account.id == "acct_tmp")) is None


async def test_data_survives_dispose_and_reopen(database_url: str) -> None:
    upgrade(database_url)
    db = Database(database_url)
    store = ConversationStore(db)
    conv = await store.create_conversation(owner_id=LOCAL_ACCOUNT_ID, model="m", title="kept")
    await store.add_message(owner_id=LOCAL_ACCOUNT_ID, conversation_id=conv.id, role="user", content="hi")
    await db.dispose()

    upgrade(database_url)  # a restart migrates again: nothing changes
    reopened = Database(database_url)
    try:
        got = await ConversationStore(reopened).get_conversation(owner_id=LOCAL_ACCOUNT_ID, conversation_id=conv.id)
    finally:
        await reopened.dispose()
    assert got.title == "kept"
    assert [m.content for m in got.messages] == ["hi"]
    assert got.created_at == conv.created_at
