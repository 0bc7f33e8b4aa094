"""/api/runs: workflow runs: list, read, follow (SSE), cancel, retry a step, download as a zip."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response, StreamingResponse

from easel.adapters.sse import format_sse
from easel.api.deps import AccountDep, ServicesDep
from easel.api.errors import json_response
from easel.storage.workflows import RunRecord, StepRecord
from easel.workflows.bundle import build_bundle
from easel.workflows.views import run_public, step_public

router = APIRouter(prefix="/api/runs", tags=["workflows"])


class StepRetry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = None


@router.get("")
async def list_runs(services: ServicesDep, owner: AccountDep, workflow: str | None = None,
                    limit: int = Query(20, ge=1, le=200), offset: int = Query(0, ge=0)) -> Response:
    runs, total = await services.workflows.list_runs(owner_id=owner, workflow=workflow, limit=limit, offset=offset)
    return json_response({"data": [run_public(r) for r in runs], "count": total, "limit": limit, "offset": offset})


@router.get("/{run_id}")
async def get_run(run_id: str, services: ServicesDep, owner: AccountDep) -> Response:
    return json_response(run_public(await services.workflows.get_run(owner_id=owner, run_id=run_id)))


@router.post("/{run_id}/cancel")
async def cancel_run(run_id: str, services: ServicesDep, owner: AccountDep) -> Response:
    return json_response(run_public(await services.workflows.cancel_run(owner_id=owner, run_id=run_id)))


@router.post("/{run_id}/steps/{step_id}/retry", status_code=202)
async def retry_step(run_id: str, step_id: str, services: ServicesDep, owner: AccountDep,
                     body: StepRetry | None = None) -> Response:
    run = await services.workflows.retry_step(owner_id=owner, run_id=run_id, step_id=step_id,
                                              model=body.model if body else None)
    return json_response(run_public(run), 202)


@router.get("/{run_id}/events")
async def run_events(run_id: str, services: ServicesDep, owner: AccountDep) -> Response:
    stream = await services.workflows.events(owner_id=owner, run_id=run_id)  # NotFound before any byte

    async def body() -> AsyncIterator[bytes]:
        try:
            async for name, value in stream:
                payload = step_public(value) if isinstance(value, StepRecord) else run_public(value)
                assert isinstance(value, (StepRecord, RunRecord))
                yield format_sse(orjson.dumps(payload).decode(), name)
        finally:
            await stream.aclose()

    return StreamingResponse(body(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/{run_id}/bundle")
async def run_bundle(run_id: str, services: ServicesDep, owner: AccountDep) -> Response:
    run = await services.workflows.get_run(owner_id=owner, run_id=run_id)
    data = await build_bundle(run, assets=services.assets)
    filename = f"{run.workflow}-{run.id}.zip"
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
