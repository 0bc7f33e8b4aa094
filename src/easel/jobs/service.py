"""JobService: the one door to jobs for the API, the CLI and the task services.

Submit, get, list, cancel, follow a job's events, wait for its end; start and stop
the worker pool that runs them. Every request-facing call names the owner, and
another owner's job is `NotFound`, as in the store.

`events()` checks the owner first (so a router can answer 404 before any SSE byte),
then yields a `JobSnapshot` of the job as it stands, the live events from the
in-process hub, and ends after the terminal event. When the job runs in another
process (several replicas on one PostgreSQL database) the hub stays quiet, so the
stream reads the job's row every `watch_interval` seconds and reports what changed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from easel.errors import InvalidRequest
from easel.jobs.events import (
    AnyJobEvent,
    JobCanceled,
    JobEvents,
    JobProgress,
    JobSnapshot,
    JobStarted,
    is_terminal,
    terminal_event,
)
from easel.jobs.handlers import HandlerRegistry
from easel.jobs.pool import WorkerPool
from easel.jobs.queue_base import JobQueue
from easel.storage.db import Database
from easel.storage.jobs import JobRecord, JobStatus, JobStore


class JobService:
    """Jobs for the rest of easel. Build with `JobService.create(...)`; `await start()` / `stop()`."""

    def __init__(
        self,
        *,
        store: JobQueue,
        registry: HandlerRegistry,
        events: JobEvents | None = None,
        pool: WorkerPool | None = None,
        watch_interval: float = 1.0,
    ) -> None:
        self.store = store
        self.registry = registry
        self.events_hub = events or (pool.events if pool is not None else JobEvents())
        self.pool = pool
        self.watch_interval = watch_interval

    @classmethod
    def create(
        cls,
        database: Database,
        registry: HandlerRegistry,
        *,
        run_workers: bool = True,
        workers: int = 4,
        limit_for: Callable[[str], int] | None = None,
        watch_interval: float = 1.0,
        **pool_options: Any,
    ) -> JobService:
        """The usual wiring: a `JobStore` on `database`, one hub, and (unless `run_workers`
        is False, for a replica that only serves the API) a `WorkerPool` running `registry`'s
        handlers. `pool_options` go to `WorkerPool` (poll_interval, heartbeat_interval, ...)."""
        store = JobStore(database)
        events = JobEvents()
        pool = (
            WorkerPool(store, registry, events, workers=workers, limit_for=limit_for, **pool_options)
            if run_workers
            else None
        )
        return cls(store=store, registry=registry, events=events, pool=pool, watch_interval=watch_interval)

    async def start(self) -> None:
        """Recover jobs interrupted by a previous process, then start the workers."""
        if self.pool is not None:
            await self.pool.start()

    async def stop(self, *, grace: float = 5.0) -> None:
        """Stop the workers: running jobs get `grace` seconds, then go back to the queue."""
        if self.pool is not None:
            await self.pool.stop(grace=grace)

    async def submit(
        self,
        *,
        owner_id: str,
        task: str,
        model: str,
        request: BaseModel | Mapping[str, Any],
        idempotency_key: str | None = None,
        max_attempts: int | None = None,
    ) -> tuple[JobRecord, bool]:
        """Queue a job; the job and whether it is new (False: the Idempotency-Key was seen)."""
        if task not in self.registry:
            known = ", ".join(sorted(self.registry.tasks)) or "none"
            raise InvalidRequest(f"No job handler for task '{task}' (handled: {known}).", param="task")
        body = request.model_dump(mode="json") if isinstance(request, BaseModel) else request
        extra = {} if max_attempts is None else {"max_attempts": max_attempts}
        job, created = await self.store.submit(
            owner_id=owner_id, task=task, model=model, request=body, idempotency_key=idempotency_key, **extra
        )
        if created and self.pool is not None:
            self.pool.wake()
        return job, created

    async def get(self, *, owner_id: str, job_id: str) -> JobRecord:
        return await self.store.get(owner_id=owner_id, job_id=job_id)

    async def cancel(self, *, owner_id: str, job_id: str) -> JobRecord:
        """Cancel: a queued job at once; a running one stops at its handler's next step (its
        worker, here or in another process, sees the flag); a finished one is left as it is."""
        job = await self.store.request_cancel(owner_id=owner_id, job_id=job_id)
        if job.status == "canceled":
            self.events_hub.publish(JobCanceled(job_id=job.id))
        elif job.status == "running" and self.pool is not None:
            self.pool.cancel(job.id)
        return job

    async def events(self, *, owner_id: str, job_id: str) -> AsyncGenerator[AnyJobEvent, None]:
        """The job's events: a snapshot first, then as they happen, ending after the last one.
        Raises `NotFound` here, before the stream starts, for a missing or foreign job."""
        await self.store.get(owner_id=owner_id, job_id=job_id)
        return self._stream(owner_id, job_id)

    async def wait(self, *, owner_id: str, job_id: str, timeout: float | None = None) -> JobRecord:
        """Wait until the job has finished and answer it (TimeoutError after `timeout` seconds)."""
        async with asyncio.timeout(timeout):
            stream = await self.events(owner_id=owner_id, job_id=job_id)
            async with contextlib.aclosing(stream):
                async for event in stream:
                    if is_terminal(event):
                        break
        return await self.store.get(owner_id=owner_id, job_id=job_id)

    async def _stream(self, owner_id: str, job_id: str) -> AsyncGenerator[AnyJobEvent, None]:
        # Subscribe before reading the row, so no event falls between the snapshot and the stream.
        with self.events_hub.subscribe(job_id) as subscription:
            job = await self.store.get(owner_id=owner_id, job_id=job_id)
            yield JobSnapshot(job_id=job.id, job=job)
            if job.done:
                return
            attempt, progress = job.attempts, (job.progress, job.progress_message)
            while True:
                event = await subscription.next(timeout=self.watch_interval)
                if event is None:  # quiet: the job may run in another process; look at its row
                    job = await self.store.get(owner_id=owner_id, job_id=job_id)
                    if job.done:
                        yield terminal_event(job)
                        return
                    if job.status != "running":
                        continue
                    if job.attempts > attempt:
                        attempt, progress = job.attempts, (0.0, None)
                        yield JobStarted(job_id=job_id, attempt=attempt)
                    row_progress = (job.progress, job.progress_message)
                    if row_progress != progress and job.progress >= progress[0]:
                        progress = row_progress
                        yield JobProgress(job_id=job_id, progress=job.progress, message=job.progress_message)
                    continue
                if isinstance(event, JobStarted):
                    if event.attempt <= attempt:
                        continue  # already in the snapshot
                    attempt, progress = event.attempt, (0.0, None)
                elif isinstance(event, JobProgress):
                    progress = (event.progress, event.message)
                yield event
                if is_terminal(event):
                    return

    async def list(
        self,
        *,
        owner_id: str,
        status: JobStatus | Sequence[JobStatus] | None = None,
        task: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[JobRecord], int]:
        """A page of the owner's jobs, newest first, and how many match in all."""
        return await self.store.list_jobs(owner_id=owner_id, status=status, task=task, limit=limit, offset=offset)
