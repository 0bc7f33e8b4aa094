"""/api/comparisons: one prompt on several models side by side; follow-ups, best-answer votes,
continue a column as a conversation.

A turn runs every column at once. With `stream: true` it answers as SSE: `start` (the
stored comparison and turn), then per column `delta` / `reasoning` (chat) or `progress`
(image), then per column `done` (the stored answer with latency, TTFT, tokens, cost, images)
or `error` (that column's error in OpenAI's shape, and its stored answer), then `end` with the
whole comparison. Every event names its `column`. Without `stream` the call waits for every
column and answers the whole comparison. Bad requests are refused before anything runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response, StreamingResponse

from easel.adapters.sse import format_sse
from easel.api.deps import AccountDep, ServicesDep
from easel.api.errors import json_response
from easel.services.compare import TurnRun
from easel.services.compare_run import ColumnDelta, ColumnDone, ColumnEvent, ColumnProgress, ColumnReasoning
from easel.tasks.chat import ChatMessage

router = APIRouter(prefix="/api/comparisons", tags=["comparisons"])


class ComparisonCreate(BaseModel):
    """Start a comparison: 2 to 8 models of one task, and a prompt (or a chat history ending with the user)."""

    model_config = ConfigDict(extra="forbid")

    models: list[str] = Field(description="Model ids or aliases, one per column.")
    prompt: str | None = Field(default=None, max_length=32000)
    messages: list[ChatMessage] | None = Field(default=None, description="A chat history instead of a prompt.")
    task: Literal["chat", "image"] | None = Field(default=None, description="Default: the first model's task.")
    system_prompt: str | None = None
    options: dict[str, Any] = Field(default_factory=dict, description="Chat: max_tokens, temperature, top_p, "
                                    "seed, stop, reasoning_effort. Image: aspect_ratio, width, height, n, seed, ...")
    stream: bool = False


class TurnCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=32000)
    options: dict[str, Any] = Field(default_factory=dict)
    stream: bool = False


class VoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    column: int = Field(ge=0, description="The best answer's column.")
    turn: int | None = Field(default=None, ge=1, description="The turn (1, 2, ...); default the last.")


def _json(record: BaseModel) -> dict[str, Any]:
    return record.model_dump(mode="json")


def _frame(event: ColumnEvent) -> bytes:
    name, body = _event_body(event)
    return format_sse(orjson.dumps(body).decode(), name)


def _event_body(event: ColumnEvent) -> tuple[str, dict[str, Any]]:
    if isinstance(event, ColumnDelta):
        return "delta", {"column": event.column, "text": event.text}
    if isinstance(event, ColumnReasoning):
        return "reasoning", {"column": event.column, "text": event.text}
    if isinstance(event, ColumnProgress):
        return "progress", {"column": event.column, "progress": event.progress, "message": event.message}
    if isinstance(event, ColumnDone):
        return "done", {"column": event.answer.column, "answer": _json(event.answer)}
    return "error", {"column": event.answer.column, **event.error.to_body(), "answer": _json(event.answer)}


async def _respond(run: TurnRun, stream: bool, services: Any, owner: str, status: int) -> Response:
    if not stream:
        async with contextlib.aclosing(run.events) as events:  # type: ignore[type-var]
            async for _ in events:
                pass
        return json_response(_json(await services.compare.get(owner_id=owner, comparison_id=run.comparison.id)),
                             status)

    async def body() -> AsyncIterator[bytes]:
        async with contextlib.aclosing(run.events) as events:  # type: ignore[type-var]
            yield format_sse(orjson.dumps({"comparison": _json(run.comparison), "turn": _json(run.turn)}).decode(),
                             "start")
            async for event in events:
                yield _frame(event)
        whole = await services.compare.get(owner_id=owner, comparison_id=run.comparison.id)
        yield format_sse(orjson.dumps({"comparison": _json(whole)}).decode(), "end")

    return StreamingResponse(body(), media_type="text/event-stream", status_code=status,
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("", status_code=201)
async def create_comparison(body: ComparisonCreate, services: ServicesDep, owner: AccountDep) -> Response:
    run = await services.compare.start(owner_id=owner, models=body.models, prompt=body.prompt, messages=body.messages,
                                       task=body.task, system_prompt=body.system_prompt, options=body.options)
    return await _respond(run, body.stream, services, owner, 201)


@router.get("")
async def list_comparisons(services: ServicesDep, owner: AccountDep, limit: int = Query(20, ge=1, le=200),
                           offset: int = Query(0, ge=0), task: Literal["chat", "image"] | None = None) -> Response:
    items, total = await services.compare.list(owner_id=owner, limit=limit, offset=offset, task=task)
    return json_response({"data": [_json(i) for i in items], "count": total, "limit": limit, "offset": offset})


@router.get("/{comparison_id}")
async def get_comparison(comparison_id: str, services: ServicesDep, owner: AccountDep) -> Response:
    return json_response(_json(await services.compare.get(owner_id=owner, comparison_id=comparison_id)))


@router.delete("/{comparison_id}", status_code=204)
async def delete_comparison(comparison_id: str, services: ServicesDep, owner: AccountDep) -> Response:
    await services.compare.delete(owner_id=owner, comparison_id=comparison_id)
    return Response(status_code=204)


@router.post("/{comparison_id}/turns")
async def follow_up(comparison_id: str, body: TurnCreate, services: ServicesDep, owner: AccountDep) -> Response:
    run = await services.compare.follow_up(owner_id=owner, comparison_id=comparison_id, prompt=body.prompt,
                                           options=body.options)
    return await _respond(run, body.stream, services, owner, 200)


@router.post("/{comparison_id}/vote")
async def vote(comparison_id: str, body: VoteCreate, services: ServicesDep, owner: AccountDep) -> Response:
    turn, votes = await services.compare.vote(owner_id=owner, comparison_id=comparison_id, column=body.column,
                                              turn=body.turn)
    return json_response({"comparison_id": comparison_id, "column": body.column, "turn": turn,
                          "votes": [_json(v) for v in votes]})


@router.post("/{comparison_id}/columns/{column}/conversation", status_code=201)
async def continue_in_chat(comparison_id: str, column: int, services: ServicesDep, owner: AccountDep) -> Response:
    conversation = await services.compare.to_conversation(owner_id=owner, comparison_id=comparison_id, column=column)
    return json_response(_json(conversation), 201)
