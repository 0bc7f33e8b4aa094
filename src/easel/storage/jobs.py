"""Jobs: the repository behind the persisted queue, on SQLite and PostgreSQL alike.

Two kinds of callers. Request-facing code (`submit`, `get`, `list`, `request_cancel`)
names the owner; another owner's job is reported exactly like a missing one
(`NotFound`). Worker-facing code (`claim`, `heartbeat`, `finish`, `release`,
`recover_interrupted`) acts on a job through the lease it holds: every write is
conditional on `status = 'running' AND worker_id = <the worker>`, so a worker whose
job was taken from it (it looked dead and the job was re-queued) can never overwrite
the new attempt; such a call answers None.

Each state change is one UPDATE ... RETURNING, never read-then-write. Claiming is
`UPDATE jobs SET status='running' ... WHERE id = (SELECT id ... ORDER BY created_at
LIMIT 1 FOR UPDATE SKIP LOCKED)`: on PostgreSQL any number of workers in any number
of processes claim concurrently and never the same row; on SQLite (where FOR UPDATE
renders as nothing) the statement takes the database's single write lock, which
serialises claims within the one process SQLite is meant for.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from easel.errors import InvalidRequest, NotFound
from easel.storage.db import Database
from easel.storage.tables import Job, new_id, utcnow

JobStatus = Literal["queued", "running", "succeeded", "failed", "canceled"]
FinalStatus = Literal["succeeded", "failed", "canceled"]
TERMINAL_STATUSES: frozenset[str] = frozenset(get_args(FinalStatus))
DEFAULT_MAX_ATTEMPTS = 2  # one re-run after an interruption; handler errors are never retried
MAX_PAGE = 500
INTERRUPTED_REASON = "interrupted: the server stopped while this job was running"
INTERRUPTED_CODE = "interrupted"
REQUEUED_MESSAGE = "re-queued: the server stopped while this job was running"


class JobRecord(BaseModel):
    """One job as stored: what was asked, where it stands, what it made."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    owner_id: str
    task: str
    model: str
    request: dict[str, Any]
    status: JobStatus
    progress: float = 0.0
    progress_message: str | None = None
    outputs: dict[str, Any] | None = None
    error: str | None = None
    error_code: str | None = None
    cost: float | None = None
    attempts: int = 0
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    idempotency_key: str | None = None
    worker_id: str | None = None
    heartbeat_at: datetime | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    cancel_requested: bool = False

    @property
    def done(self) -> bool:
        """Succeeded, failed or canceled: nothing will change any more."""
        return self.status in TERMINAL_STATUSES


class Recovered(BaseModel):
    """What `recover_interrupted` did: ids put back in the queue, jobs it ended."""

    model_config = ConfigDict(frozen=True)

    requeued: list[str] = []
    ended: list[JobRecord] = []


def _not_found(job_id: str) -> NotFound:
    return NotFound(f"No job with id '{job_id}'.", param="job_id")


def _as_json(value: Mapping[str, Any]) -> dict[str, Any]:
    """The value as the JSON column will give it back (tuples become lists, and so on)."""
    loaded: dict[str, Any] = json.loads(json.dumps(value))
    return loaded


def _statuses(status: JobStatus | Sequence[JobStatus] | None) -> list[str]:
    wanted: list[str] = [status] if isinstance(status, str) else list(status or [])
    for name in wanted:
        if name not in get_args(JobStatus):
            choices = ", ".join(get_args(JobStatus))
            raise InvalidRequest(f"Unknown job status '{name}'; use one of {choices}.", param="status")
    return wanted


def _held(job_id: str, worker_id: str) -> ColumnElement[bool]:
    """The lease condition every worker write carries."""
    return and_(Job.id == job_id, Job.status == "running", Job.worker_id == worker_id)



@lru_cache(maxsize=1)
def _candidate_alias() -> Any:
    """The aliased jobs table the claim subquery reads; built once (each alias costs ~1 ms of CPU)."""
    return aliased(Job, name="candidate")

class JobStore:
    """Jobs in one `Database`. Keyword-only methods; results are frozen `JobRecord`s."""

    def __init__(self, database: Database) -> None:
        self.database = database

    # -- request-facing, owner-scoped -------------------------------------------------

    async def submit(
        self,
        *,
        owner_id: str,
        task: str,
        model: str,
        request: Mapping[str, Any],
        idempotency_key: str | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> tuple[JobRecord, bool]:
        """Queue a job; answer it and True. With an idempotency key already used by this
        owner, answer the first job and False (even when both submits race: the unique
        constraint decides). Reusing a key for a different task, model or request is refused.
        """
        if not task or not model:
            raise InvalidRequest("A job needs a task and a model.", param="task" if not task else "model")
        if max_attempts < 1:
            raise InvalidRequest("max_attempts must be at least 1.", param="max_attempts")
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= 255:
            raise InvalidRequest("An Idempotency-Key has 1 to 255 characters.", param="Idempotency-Key")
        body = _as_json(request)
        if idempotency_key is not None:
            existing = await self._by_key(owner_id, idempotency_key)
            if existing is not None:
                return _check_same(existing, task, model, body), False
        row = Job(
            id=new_id("job"),
            owner_id=owner_id,
            task=task,
            model=model,
            request=body,
            status="queued",
            progress=0.0,
            attempts=0,
            max_attempts=max_attempts,
            idempotency_key=idempotency_key,
            cancel_requested=False,
            created_at=utcnow(),
        )
        try:
            async with self.database.session() as session, session.begin():
                session.add(row)
        except IntegrityError:
            # Either another submit with the same key won the race, or the owner is unknown.
            existing = None if idempotency_key is None else await self._by_key(owner_id, idempotency_key)
            if existing is None:
                raise
            return _check_same(existing, task, model, body), False
        return JobRecord.model_validate(row), True

    async def get(self, *, owner_id: str, job_id: str) -> JobRecord:
        async with self.database.session() as session:
            row = await session.scalar(select(Job).where(Job.id == job_id, Job.owner_id == owner_id))
        if row is None:
            raise _not_found(job_id)
        return JobRecord.model_validate(row)

    async def list_jobs(
        self,
        *,
        owner_id: str,
        status: JobStatus | Sequence[JobStatus] | None = None,
        task: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[JobRecord], int]:
        """A page of the owner's jobs, newest first, and the total matching."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE}.", param="limit")
        if offset < 0:
            raise InvalidRequest("offset must not be negative.", param="offset")
        where: list[ColumnElement[bool]] = [Job.owner_id == owner_id]
        if statuses := _statuses(status):
            where.append(Job.status.in_(statuses))
        if task:
            where.append(Job.task == task)
        page = select(Job).where(*where).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit).offset(offset)
        async with self.database.session() as session:
            rows = (await session.scalars(page)).all()
            total = await session.scalar(select(func.count()).select_from(Job).where(*where))
        return [JobRecord.model_validate(r) for r in rows], int(total or 0)

    async def request_cancel(self, *, owner_id: str, job_id: str) -> JobRecord:
        """Cancel a job: a queued one is canceled at once; a running one is flagged, and its
        worker stops it at the handler's next step; a finished one is answered unchanged."""
        now = utcnow()
        mine = and_(Job.id == job_id, Job.owner_id == owner_id)
        queued = (
            update(Job)
            .where(mine, Job.status == "queued")
            .values(status="canceled", cancel_requested=True, finished_at=now)
            .returning(Job)
        )
        running = update(Job).where(mine, Job.status == "running").values(cancel_requested=True).returning(Job)
        # Two transactions, each a single write: a job claimed between them is caught by the second.
        for stmt in (queued, running):
            async with self.database.session() as session, session.begin():
                row = (await session.execute(stmt.execution_options(synchronize_session=False))).scalar_one_or_none()
                if row is not None:
                    return JobRecord.model_validate(row)
        return await self.get(owner_id=owner_id, job_id=job_id)

    # -- worker-facing ----------------------------------------------------------------

    async def fetch(self, job_id: str) -> JobRecord | None:
        """A job by id whoever owns it: for workers and event streams, never for a client's request."""
        async with self.database.session() as session:
            row = await session.get(Job, job_id)
        return None if row is None else JobRecord.model_validate(row)

    async def claim(
        self, *, worker_id: str, tasks: Collection[str], exclude_models: Collection[str] = ()
    ) -> JobRecord | None:
        """Take the oldest queued job of one of `tasks`, skipping `exclude_models` (those at
        their concurrency limit), and lease it to `worker_id`; None when there is none."""
        if not tasks:
            return None
        candidate = _candidate_alias()
        conditions: list[ColumnElement[bool]] = [candidate.status == "queued", candidate.task.in_(list(tasks))]
        if exclude_models:
            conditions.append(candidate.model.not_in(list(exclude_models)))
        oldest = (
            select(candidate.id)
            .where(*conditions)
            .order_by(candidate.created_at, candidate.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        now = utcnow()
        stmt = (
            update(Job)
            .where(Job.id == oldest, Job.status == "queued")
            .values(
                status="running",
                worker_id=worker_id,
                attempts=Job.attempts + 1,
                started_at=now,
                heartbeat_at=now,
                progress=0.0,
                progress_message=None,
            )
            .returning(Job)
            .execution_options(synchronize_session=False)
        )
        async with self.database.session() as session, session.begin():
            row = (await session.execute(stmt)).scalar_one_or_none()
        return None if row is None else JobRecord.model_validate(row)

    async def heartbeat(
        self, *, job_id: str, worker_id: str, progress: float | None = None, message: str | None = None
    ) -> JobRecord | None:
        """Renew the lease, and record progress when given (None leaves a field as it is).
        Answers the job (its `cancel_requested` tells the worker to stop), or None when the
        lease is lost."""
        values: dict[str, Any] = {"heartbeat_at": utcnow()}
        if progress is not None:
            values["progress"] = min(1.0, max(0.0, progress))
        if message is not None:
            values["progress_message"] = message
        return await self._write(update(Job).where(_held(job_id, worker_id)).values(**values))

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
    ) -> JobRecord | None:
        """End a leased job as succeeded (with outputs and cost), failed (with the error) or
        canceled. None when the lease was lost: another attempt owns the job now."""
        if status not in TERMINAL_STATUSES:
            raise ValueError(f"finish() takes a final status, not {status!r}")
        values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "heartbeat_at": None}
        if status == "succeeded":
            values.update(outputs=_as_json(outputs or {}), cost=cost, progress=1.0)
        elif status == "failed":
            values.update(error=error or "The job failed.", error_code=error_code)
        return await self._write(update(Job).where(_held(job_id, worker_id)).values(**values))

    async def release(self, *, job_id: str, worker_id: str, message: str = REQUEUED_MESSAGE) -> JobRecord | None:
        """Give a leased job back to the queue (a graceful shutdown) without spending an
        attempt; one whose owner asked to cancel it is canceled instead."""
        now = utcnow()
        canceled = (
            update(Job)
            .where(_held(job_id, worker_id), Job.cancel_requested.is_(True))
            .values(status="canceled", finished_at=now, heartbeat_at=None)
        )
        # A running job has attempts >= 1 (claiming counted it); this attempt was not its fault.
        requeued = (
            update(Job).where(_held(job_id, worker_id)).values(**_requeue_values(message), attempts=Job.attempts - 1)
        )
        return await self._write(canceled) or await self._write(requeued)

    async def running_workers(self) -> list[str]:
        """The distinct workers holding running jobs (recovery checks which are alive)."""
        stmt = select(Job.worker_id).where(Job.status == "running", Job.worker_id.is_not(None)).distinct()
        async with self.database.session() as session:
            return [w for w in (await session.scalars(stmt)).all() if w is not None]

    async def recover_interrupted(
        self,
        *,
        stale_after: timedelta | float,
        dead_workers: Collection[str] = (),
        held: Collection[str] = (),
        now: datetime | None = None,
    ) -> Recovered:
        """End or re-queue running jobs whose worker is gone: its heartbeat is older than
        `stale_after` (seconds), or it is one of `dead_workers`. Jobs in `held` (the caller
        is running them) are left alone. A job the owner asked to cancel is canceled; one
        with attempts left goes back to the queue; the rest fail with `INTERRUPTED_REASON`."""
        if not isinstance(stale_after, timedelta):
            stale_after = timedelta(seconds=stale_after)
        now = now or utcnow()
        lost = [Job.heartbeat_at.is_(None), Job.heartbeat_at < now - stale_after]
        if dead_workers:
            lost.append(Job.worker_id.in_(list(dead_workers)))
        gone = and_(Job.status == "running", or_(*lost))
        if held:
            gone = and_(gone, Job.id.not_in(list(held)))
        ended_values = {"finished_at": now, "heartbeat_at": None}
        canceled = update(Job).where(gone, Job.cancel_requested.is_(True)).values(status="canceled", **ended_values)
        requeued = update(Job).where(gone, Job.attempts < Job.max_attempts).values(**_requeue_values(REQUEUED_MESSAGE))
        failed = (
            update(Job)
            .where(gone)
            .values(status="failed", error=INTERRUPTED_REASON, error_code=INTERRUPTED_CODE, **ended_values)
        )
        async with self.database.session() as session, session.begin():
            ended = list((await session.execute(canceled.returning(Job))).scalars().all())
            again = list((await session.execute(requeued.returning(Job.id))).scalars().all())
            ended += (await session.execute(failed.returning(Job))).scalars().all()
        return Recovered(requeued=again, ended=[JobRecord.model_validate(r) for r in ended])

    # -- helpers ----------------------------------------------------------------------

    async def _by_key(self, owner_id: str, key: str) -> JobRecord | None:
        async with self.database.session() as session:
            row = await session.scalar(select(Job).where(Job.owner_id == owner_id, Job.idempotency_key == key))
        return None if row is None else JobRecord.model_validate(row)

    async def _write(self, stmt: Any) -> JobRecord | None:
        """Run one conditional UPDATE of a single job; the row it changed, if any."""
        stmt = stmt.returning(Job).execution_options(synchronize_session=False)
        async with self.database.session() as session, session.begin():
            row = (await session.execute(stmt)).scalar_one_or_none()
        return None if row is None else JobRecord.model_validate(row)


def _requeue_values(message: str) -> dict[str, Any]:
    return {
        "status": "queued",
        "worker_id": None,
        "heartbeat_at": None,
        "started_at": None,
        "progress": 0.0,
        "progress_message": message,
    }


def _check_same(existing: JobRecord, task: str, model: str, request: dict[str, Any]) -> JobRecord:
    if (existing.task, existing.model, existing.request) != (task, model, request):
        raise InvalidRequest(
            f"The Idempotency-Key '{existing.idempotency_key}' was already used for a different request "
            f"(job '{existing.id}'); use a new key for a new request.",
            param="Idempotency-Key",
            code="idempotency_key_reused",
        )
    return existing
