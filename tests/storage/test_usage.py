"""The batched usage recorder on both backends: few inserts, everything arrives, failures retried."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select

from easel.storage.db import Database
from easel.storage.tables import LOCAL_ACCOUNT_ID, UsageRecord
from easel.storage.usage import UsageRecorder
from easel.tasks.chat import Usage


@pytest.fixture
def usage_inserts(database: Database) -> Iterator[list[str]]:
    """Every INSERT INTO usage_records statement the engine sends, as sent."""
    seen: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO USAGE_RECORDS"):
            seen.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", on_execute)
    yield seen
    event.remove(database.engine.sync_engine, "before_cursor_execute", on_execute)


async def _rows(database: Database, owner_id: str = LOCAL_ACCOUNT_ID) -> list[UsageRecord]:
    async with database.session() as session:
        return list((await session.scalars(select(UsageRecord).where(UsageRecord.owner_id == owner_id))).all())


def _record(recorder: UsageRecorder, i: int, owner_id: str = LOCAL_ACCOUNT_ID) -> None:
    recorder.record(
        owner_id=owner_id,
        model="xai:grok-4",
        provider="xai",
        endpoint="chat",
        usage=Usage(prompt_tokens=i, completion_tokens=2 * i, reasoning_tokens=1, cached_tokens=0),
        cost=0.001,
        latency_ms=100 + i,
    )


async def test_many_records_become_few_inserts(database: Database, usage_inserts: list[str]) -> None:
    recorder = UsageRecorder(database, batch_size=100)
    for i in range(250):
        _record(recorder, i)
    assert recorder.pending == 250 and await _rows(database) == []  # nothing written on the hot path
    assert await recorder.flush() == 250
    assert len(usage_inserts) == 1  # one multi-row INSERT
    rows = await _rows(database)
    assert len(rows) == 250 and recorder.pending == 0 and recorder.written == 250
    assert sorted(r.prompt_tokens for r in rows) == list(range(250))
    assert {(r.model, r.provider, r.endpoint, r.status) for r in rows} == {("xai:grok-4", "xai", "chat", "succeeded")}


async def test_background_flusher_batches_and_aclose_flushes(database: Database, usage_inserts: list[str]) -> None:
    recorder = UsageRecorder(database, interval=0.05, batch_size=100)
    await recorder.start()
    for i in range(300):
        _record(recorder, i)
        if i % 50 == 0:
            await asyncio.sleep(0)  # let the flusher run now and then, as a server would
    for _ in range(100):
        if recorder.pending == 0 and recorder.written == 300:
            break
        await asyncio.sleep(0.02)
    assert len(await _rows(database)) == 300
    assert len(usage_inserts) <= 6  # batched, not one statement per record

    for i in range(7):
        _record(recorder, i)
    await recorder.aclose()  # the stragglers are written on close
    assert len(await _rows(database)) == 307
    assert recorder.pending == 0


async def test_failed_flush_is_retried_not_raised(tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    from easel.storage.migrate import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'late.db'}"
    database = Database(url)  # not migrated yet: the table is missing, so flushes fail
    recorder = UsageRecorder(database, interval=0.02)
    try:
        await recorder.start()
        with caplog.at_level(logging.ERROR, logger="easel.storage.usage"):
            _record(recorder, 1)
            await asyncio.sleep(0.15)
        assert recorder.pending == 1 and "flush failed" in caplog.text
        upgrade(url)
        for _ in range(200):
            if recorder.pending == 0:
                break
            await asyncio.sleep(0.02)
        await recorder.aclose()
        assert len(await _rows(database)) == 1
    finally:
        await database.dispose()


async def test_rows_the_database_refuses_do_not_block_the_rest(database: Database) -> None:
    recorder = UsageRecorder(database)
    _record(recorder, 1)
    _record(recorder, 2, owner_id="acct_unknown")  # violates the owner foreign key
    _record(recorder, 3)
    assert await recorder.flush() == 2
    assert sorted(r.prompt_tokens for r in await _rows(database)) == [1, 3]
    assert recorder.dropped == 1 and recorder.pending == 0


async def test_record_after_close_is_dropped(database: Database) -> None:
    recorder = UsageRecorder(database)
    await recorder.start()
    await recorder.aclose()
    _record(recorder, 1)
    assert recorder.pending == 0 and recorder.dropped == 1
    async with database.session() as session:
        assert await session.scalar(select(func.count()).select_from(UsageRecord)) == 0
