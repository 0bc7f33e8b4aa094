"""Job events: the typed messages `/api/jobs/{id}/events` streams, and the in-process hub.

Each event is a pydantic model whose `type` names it (and is the SSE event name):
`snapshot` (the job as it stands, always first), `started` (an attempt began),
`progress`, then exactly one of `succeeded`, `failed`, `canceled`, after which a
stream ends. `JobEvent` is their discriminated union, for OpenAPI and for clients.

`JobEvents` fans events out to subscribers of one job as they happen. It is
in-process only; `JobService.events` covers jobs that run in another process by
reading the job's row when the hub stays quiet. A slow subscriber's backlog is
bounded: past `max_pending`, progress events are dropped (the next one supersedes
them anyway), never a terminal event.
"""

from __future__ import annotations

from types import TracebackType
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from easel.jobs.mailbox import Mailbox
from easel.storage.jobs import JobRecord


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    job_id: str


class JobSnapshot(_Event):
    """The job as it stands when a subscriber connects."""

    type: Literal["snapshot"] = "snapshot"
    job: JobRecord


class JobStarted(_Event):
    """A worker began attempt number `attempt` (a re-run after an interruption has attempt 2)."""

    type: Literal["started"] = "started"
    attempt: int


class JobProgress(_Event):
    type: Literal["progress"] = "progress"
    progress: float
    message: str | None = None


class JobSucceeded(_Event):
    type: Literal["succeeded"] = "succeeded"
    outputs: dict[str, Any]
    cost: float | None = None


class JobFailed(_Event):
    type: Literal["failed"] = "failed"
    error: str
    error_code: str | None = None


class JobCanceled(_Event):
    type: Literal["canceled"] = "canceled"


JobEvent = Annotated[
    JobSnapshot | JobStarted | JobProgress | JobSucceeded | JobFailed | JobCanceled,
    Field(discriminator="type"),
]
TerminalEvent = JobSucceeded | JobFailed | JobCanceled


def is_terminal(event: BaseModel) -> bool:
    """Whether a stream ends after `event`."""
    if isinstance(event, JobSnapshot):
        return event.job.done
    return isinstance(event, JobSucceeded | JobFailed | JobCanceled)


def terminal_event(job: JobRecord) -> TerminalEvent:
    """The event that reports a finished job's end."""
    if job.status == "succeeded":
        return JobSucceeded(job_id=job.id, outputs=job.outputs or {}, cost=job.cost)
    if job.status == "failed":
        return JobFailed(job_id=job.id, error=job.error or "The job failed.", error_code=job.error_code)
    if job.status == "canceled":
        return JobCanceled(job_id=job.id)
    raise ValueError(f"job {job.id} has not finished (status {job.status!r})")


AnyJobEvent = JobSnapshot | JobStarted | JobProgress | JobSucceeded | JobFailed | JobCanceled


class Subscription(Mailbox[AnyJobEvent]):
    """One subscriber's queue of events for one job. Close it (or use `with`) when done."""

    def __init__(self, hub: JobEvents, job_id: str, max_pending: int) -> None:
        super().__init__()
        self.job_id = job_id
        self._hub = hub
        self._max_pending = max_pending

    def _put(self, event: AnyJobEvent) -> None:
        # A slow reader skips progress events beyond the backlog; state changes always arrive.
        if isinstance(event, JobProgress) and len(self._pending) >= self._max_pending:
            return
        self.put(event)

    def close(self) -> None:
        self._hub._unsubscribe(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None) -> None:
        self.close()


class JobEvents:
    """In-process publish/subscribe of job events, keyed by job id. Event-loop thread only."""

    def __init__(self, *, max_pending: int = 1000) -> None:
        self.max_pending = max_pending
        self._subscribers: dict[str, set[Subscription]] = {}

    def subscribe(self, job_id: str) -> Subscription:
        subscription = Subscription(self, job_id, self.max_pending)
        self._subscribers.setdefault(job_id, set()).add(subscription)
        return subscription

    def publish(self, event: AnyJobEvent) -> None:
        for subscription in tuple(self._subscribers.get(event.job_id, ())):
            subscription._put(event)

    def subscriber_count(self, job_id: str) -> int:
        return len(self._subscribers.get(job_id, ()))

    def _unsubscribe(self, subscription: Subscription) -> None:
        subscribers = self._subscribers.get(subscription.job_id)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.job_id]
