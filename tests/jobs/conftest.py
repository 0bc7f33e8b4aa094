"""Fixtures for the job tests: a store, job services with fast timings, a second account,
and helpers that wait for conditions and events with generous deadlines (never for time)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import pytest

from easel.jobs import AnyJobEvent, HandlerRegistry, JobService, is_terminal
from easel.storage.db import Database
from easel.storage.jobs import JobStore
from easel.storage.tables import Account

DEADLINE = 30.0  # seconds; generous: only a broken build ever gets near it
FAST: dict[str, Any] = {
    "poll_interval": 0.05,
    "heartbeat_interval": 0.1,
    "stale_after": 30.0,
    "progress_interval": 0.01,
    "watch_interval": 0.1,
}


class MakeService(Protocol):
    def __call__(
        self, registry: HandlerRegistry, *, database: Database | None = None, **options: Any
    ) -> JobService: ...


@pytest.fixture
def store(database: Database) -> JobStore:
    return JobStore(database)


@pytest.fixture
async def make_service(database: Database) -> AsyncIterator[MakeService]:
    """Build `JobService`s with test timings; each is stopped (grace 0) after the test."""
    made: list[JobService] = []

    def make(registry: HandlerRegistry, *, database: Database | None = None, **options: Any) -> JobService:
        service = JobService.create(database or _database, registry, **{**FAST, **options})
        made.append(service)
        return service

    _database = database
    yield make
    for service in made:
        await service.stop(grace=0)


@pytest.fixture
async def other_owner(database: Database) -> str:
    """A second account, to check that one owner never sees another's jobs."""
    async with database.session() as session, session.begin():
        session.add(Account(id="acct_other", name="other"))
    return "acct_other"


async def eventually(check: Callable[[], Awaitable[bool]], *, timeout: float = DEADLINE) -> None:
    """Wait until `check()` holds, looking often; fail after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.01)


async def collect(stream: AsyncIterator[AnyJobEvent], *, timeout: float = DEADLINE) -> list[AnyJobEvent]:
    """Every event of a job's stream, up to and including the terminal one."""
    events: list[AnyJobEvent] = []
    async with asyncio.timeout(timeout):
        async for event in stream:
            events.append(event)
            if is_terminal(event):
                break
    return events


async def wait_event(event: asyncio.Event, *, timeout: float = DEADLINE) -> None:
    async with asyncio.timeout(timeout):
        await event.wait()
