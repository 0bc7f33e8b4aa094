"""The queue interface the worker pool and the job service are written against.

`easel.storage.jobs.JobStore` is the implementation (portable SQL for SQLite and
PostgreSQL); keeping the interface here lets the pool and service be read, and
another backing be added, without the SQL in view. See `JobStore` for each
method's contract: worker writes are conditional on the lease, owner-scoped reads
raise `NotFound` for another owner's job.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from easel.storage.jobs import FinalStatus, JobRecord, JobStatus, Recovered


class JobQueue(Protocol):
    async def submit(
        self,
        *,
        owner_id: str,
        task: str,
        model: str,
        request: Mapping[str, Any],
        idempotency_key: str | None = None,
        max_attempts: int = ...,
    ) -> tuple[JobRecord, bool]: ...

    async def get(self, *, owner_id: str, job_id: str) -> JobRecord: ...

    async def list_jobs(
        self,
        *,
        owner_id: str,
        status: JobStatus | Sequence[JobStatus] | None = None,
        task: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[JobRecord], int]: ...

    async def request_cancel(self, *, owner_id: str, job_id: str) -> JobRecord: ...

    async def fetch(self, job_id: str) -> JobRecord | None: ...

    async def claim(
        self, *, worker_id: str, tasks: Collection[str], exclude_models: Collection[str] = ()
    ) -> JobRecord | None: ...

    async def heartbeat(
        self, *, job_id: str, worker_id: str, progress: float | None = None, message: str | None = None
    ) -> JobRecord | None: ...

    async def finish(
        self,
        *,
        job_id: str,
        worker_id: str,
        status: FinalStatus,
        outputs: Mapping[str, Any] | None = None,
        cost: float | None = None,
        error: str | None = None,
        error_code: str | None = None,
    ) -> JobRecord | None: ...

    async def release(self, *, job_id: str, worker_id: str, message: str = ...) -> JobRecord | None: ...

    async def running_workers(self) -> list[str]: ...

    async def recover_interrupted(
        self,
        *,
        stale_after: timedelta | float,
        dead_workers: Collection[str] = (),
        held: Collection[str] = (),
        now: datetime | None = None,
    ) -> Recovered: ...
