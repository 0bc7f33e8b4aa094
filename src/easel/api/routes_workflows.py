"""/api/workflows: the templates and saved workflows; start a run of one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from easel.api.deps import AccountDep, ServicesDep
from easel.api.errors import json_response
from easel.workflows.definition import MAX_SOURCE_CHARS
from easel.workflows.views import run_public

router = APIRouter(prefix="/api/workflows", tags=["workflows"])


class WorkflowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, max_length=MAX_SOURCE_CHARS)


class RunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inputs: dict[str, Any] = Field(default_factory=dict)
    models: dict[str, str] = Field(default_factory=dict)


@router.get("")
async def list_workflows(services: ServicesDep, owner: AccountDep) -> Response:
    items = await services.workflows.list_workflows(owner_id=owner)
    return json_response({"data": items, "count": len(items)})


@router.post("", status_code=201)
async def save_workflow(body: WorkflowCreate, services: ServicesDep, owner: AccountDep,
                        replace: bool = False) -> Response:
    """Save a new workflow; 409 when one of that name is saved, unless `?replace=true`."""
    saved, created = await services.workflows.save_workflow(owner_id=owner, source=body.source, replace=replace)
    return json_response(saved, 201 if created else 200)


@router.put("/{name}")
async def replace_workflow(name: str, body: WorkflowCreate, services: ServicesDep, owner: AccountDep) -> Response:
    """Save the workflow `name` (its file must carry that name), replacing a saved one."""
    saved, created = await services.workflows.save_workflow(owner_id=owner, source=body.source, replace=True,
                                                            name=name)
    return json_response(saved, 201 if created else 200)


@router.get("/{name}")
async def get_workflow(name: str, services: ServicesDep, owner: AccountDep) -> Response:
    return json_response(await services.workflows.get_workflow(owner_id=owner, name=name))


@router.delete("/{name}", status_code=204)
async def delete_workflow(name: str, services: ServicesDep, owner: AccountDep) -> Response:
    await services.workflows.delete_workflow(owner_id=owner, name=name)
    return Response(status_code=204)


@router.post("/{name}/runs", status_code=202)
async def start_run(name: str, body: RunCreate, services: ServicesDep, owner: AccountDep) -> Response:
    run = await services.workflows.start_run(owner_id=owner, name=name, inputs=body.inputs, models=body.models)
    return json_response(run_public(run), 202)
