"""Usage metering off the hot path: `UsageRecorder` buffers records in memory and writes
them in batches.

`record(...)` is a plain synchronous call (no await, no I/O) for the request path; a
background task flushes the buffer every `interval` seconds, or sooner once
`batch_size` records wait, with one multi-row INSERT per chunk. A failed flush is
logged and retried with backoff and never reaches the caller; rows the database
refuses outright (say an unknown owner) are dropped one by one so they cannot block
the rest. Call `record` from the event loop's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError

from easel.storage.db import Database
from easel.storage.tables import UsageRecord, new_id, utcnow
from easel.tasks.chat import Usage

log = logging.getLogger(__name__)

ROWS_PER_INSERT = 500  # ~6,500 bound parameters: far below SQLite's and PostgreSQL's limits


class UsageRecorder:
    """Buffered, batched writer of `usage_records`. `await start()`, `record(...)`, `await aclose()`."""

    def __init__(
        self,
        database: Database,
        *,
        interval: float = 0.2,
        batch_size: int = 100,
        max_buffer: int = 100_000,
        max_backoff: float = 30.0,
    ) -> None:
        self.database = database
        self.interval = interval
        self.batch_size = batch_size
        self.max_buffer = max_buffer
        self.max_backoff = max_backoff
        self.written = 0  # rows stored so far
        self.dropped = 0  # rows given up on (refused by the database, or buffer overflow)
        self._buffer: list[dict[str, Any]] = []
        self._failures = 0
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._flush_lock: asyncio.Lock | None = None

    @property
    def pending(self) -> int:
        """Records waiting to be written."""
        return len(self._buffer)

    def record(
        self,
        *,
        owner_id: str,
        model: str,
        provider: str,
        endpoint: str,
        usage: Usage | None = None,
        cost: float | None = None,
        latency_ms: int | None = None,
        status: str = "succeeded",
    ) -> None:
        """Queue one usage record. Never blocks, never raises for storage trouble."""
        if self._closed:
            log.warning("usage recorder is closed; dropping a record for %s", model)
            self.dropped += 1
            return
        usage = usage or Usage()
        self._buffer.append(
            {
                "id": new_id("usage"),
                "owner_id": owner_id,
                "model": model,
                "provider": provider,
                "endpoint": endpoint,
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "reasoning_tokens": usage.reasoning_tokens,
                "cached_tokens": usage.cached_tokens,
                "cost": cost,
                "latency_ms": latency_ms,
                "status": status,
                "created_at": utcnow(),
            }
        )
        if len(self._buffer) > self.max_buffer:
            overflow = len(self._buffer) - self.max_buffer
            del self._buffer[:overflow]
            self.dropped += overflow
            log.error("usage buffer full (%d); dropped the %d oldest records", self.max_buffer, overflow)
        if self._wake is not None and self._failures == 0 and len(self._buffer) >= self.batch_size:
            self._wake.set()

    async def start(self) -> None:
        """Start the background flusher on the running loop."""
        if self._task is not None:
            return
        self._closed = False
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="easel-usage-recorder")

    async def flush(self) -> int:
        """Write everything buffered now; return the rows written.

        On a database error the records stay buffered (to be retried) and the error is
        raised to the caller of this method only, never to `record`'s callers.
        """
        if self._flush_lock is None:
            self._flush_lock = asyncio.Lock()
        async with self._flush_lock:
            batch, self._buffer = self._buffer, []
            if not batch:
                return 0
            try:
                written = await self._write(batch)
            except BaseException:
                self._buffer[:0] = batch  # keep order; retried on the next flush
                raise
            self.written += written
            return written

    async def aclose(self) -> None:
        """Stop the flusher and write what is left (logged, not raised, if that fails)."""
        self._closed = True
        if self._task is not None:
            assert self._wake is not None
            self._wake.set()
            await self._task
            self._task = None
        try:
            await self.flush()
        except Exception:
            log.exception("usage recorder: final flush failed; %d records lost", len(self._buffer))
            self.dropped += len(self._buffer)
            self._buffer.clear()

    async def _run(self) -> None:
        assert self._wake is not None
        delay = self.interval
        while not self._closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            self._wake.clear()
            if self._closed:
                return
            try:
                await self.flush()
            except Exception:
                self._failures += 1
                delay = min(self.interval * 2**self._failures, self.max_backoff)
                log.exception("usage recorder: flush failed (%d in a row); retrying in %.1fs", self._failures, delay)
            else:
                self._failures = 0
                delay = self.interval

    async def _write(self, batch: list[dict[str, Any]]) -> int:
        table = cast(Table, UsageRecord.__table__)
        try:
            async with self.database.session() as session, session.begin():
                for start in range(0, len(batch), ROWS_PER_INSERT):
                    # executemany form: one compiled statement reused, not a new N-row VALUES each flush
                    await session.execute(insert(table), batch[start : start + ROWS_PER_INSERT])
            return len(batch)
        except IntegrityError:
            log.warning("usage recorder: batch of %d refused; writing rows one by one", len(batch))
        written = 0
        for row in batch:
            try:
                async with self.database.session() as session, session.begin():
                    await session.execute(insert(table).values(row))
                written += 1
            except IntegrityError as exc:
                self.dropped += 1
                log.error("usage recorder: dropped a record the database refused: %s", exc.orig)
        return written
