"""Jobs: everything slower than a chat reply runs as a persisted job.

- `service.JobService`: submit, get, list, cancel, events, wait; starts and stops the pool
- `pool.WorkerPool`: asyncio workers, per-model concurrency, leases, recovery, shutdown
- `handlers`: `JobHandler` (`async run(ctx, job) -> JobOutcome`) and the `HandlerRegistry`
- `context.JobContext`: a handler's narrow view (progress, is_canceled, raise_if_canceled)
- `events`: typed events (`JobSnapshot`, `JobStarted`, `JobProgress`, `JobSucceeded`,
  `JobFailed`, `JobCanceled`) and the in-process `JobEvents` hub
- `queue_base.JobQueue`: the queue interface; `easel.storage.jobs.JobStore` implements it
"""

from easel.jobs.context import JobContext, JobStopped
from easel.jobs.events import (
    AnyJobEvent,
    JobCanceled,
    JobEvent,
    JobEvents,
    JobFailed,
    JobProgress,
    JobSnapshot,
    JobStarted,
    JobSucceeded,
    is_terminal,
)
from easel.jobs.handlers import HandlerRegistry, JobHandler, JobOutcome
from easel.jobs.pool import WorkerPool
from easel.jobs.queue_base import JobQueue
from easel.jobs.service import JobService
from easel.storage.jobs import JobRecord, JobStatus

__all__ = [
    "AnyJobEvent",
    "HandlerRegistry",
    "JobCanceled",
    "JobContext",
    "JobEvent",
    "JobEvents",
    "JobFailed",
    "JobHandler",
    "JobOutcome",
    "JobProgress",
    "JobQueue",
    "JobRecord",
    "JobService",
    "JobSnapshot",
    "JobStarted",
    "JobStatus",
    "JobStopped",
    "JobSucceeded",
    "WorkerPool",
    "is_terminal",
]
