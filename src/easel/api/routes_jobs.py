"""/api/jobs: list, read, follow (SSE) and cancel jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

from fastapi import APIRouter, Query
from starlette.responses import Response, StreamingResponse

from easel.adapters.sse import format_sse
from easel.api.deps import AccountDep, ServicesDep
from easel.api.errors import json_response
from easel.errors import Conflict
from easel.jobs import AnyJobEvent, JobRecord

router = APIRouter(prefix="/api/jobs", tags=["jobs"])

JobStatusName = Literal["queued", "running", "succeeded", "failed", "canceled"]


def job_public(job: JobRecord) -> dict[str, object]:
    body = job.model_dump(mode="json", exclude={"worker_id", "heartbeat_at", "idempotency_key"})
    return body


@router.get("")
async def list_jobs(services: ServicesDep, owner: AccountDep, status: list[JobStatusName] = Query(default_factory=list),
                    task: str | None = None, limit: int = Query(20, ge=1, le=200),
                    offset: int = Query(0, ge=0)) -> Response:
    items, total = await services.jobs.list(owner_id=owner, status=status or None, task=task, limit=limit,
                                            offset=offset)
    return json_response({"data": [job_public(j) for j in items], "count": total, "limit": limit, "offset": offset})


@router.get("/{job_id}")
async def get_job(job_id: str, services: ServicesDep, owner: AccountDep) -> Response:
    return json_response(job_public(await services.jobs.get(owner_id=owner, job_id=job_id)))


@router.post("/{job_id}/cancel")
async def cancel_job(job_id: str, services: ServicesDep, owner: AccountDep) -> Response:
    before = await services.jobs.get(owner_id=owner, job_id=job_id)
    if before.done:
        raise Conflict(f"Job {job_id} already {before.status}; there is nothing to cancel.", param="job_id",
                       code="job_finished")
    return json_response(job_public(await services.jobs.cancel(owner_id=owner, job_id=job_id)))


def event_frame(event: AnyJobEvent) -> bytes:
    return format_sse(event.model_dump_json(), event.type)


@router.get("/{job_id}/events")
async def job_events(job_id: str, services: ServicesDep, owner: AccountDep) -> Response:
    stream = await services.jobs.events(owner_id=owner, job_id=job_id)  # NotFound before any byte

    async def body() -> AsyncIterator[bytes]:
        try:
            async for event in stream:
                yield event_frame(event)
        finally:
            await stream.aclose()

    return StreamingResponse(body(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
