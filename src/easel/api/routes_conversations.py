"""/api/conversations: create, list, read, rename, delete, follow-up turns (JSON or SSE), edit-and-resend.

A turn streamed as SSE sends `start`, then `citations` (with web_search, before the answer),
`reasoning` / `text` / `tool_call` deltas (an image turn: `image` with the job's progress, then its
assets; services.chat_images), then `done` with the stored message, or `error` with the error and the stored failed message.
The first model event is awaited before answering, so a failure that happens before any
output is an HTTP status.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response, StreamingResponse

from easel.adapters.sse import format_sse
from easel.api.deps import AccountDep, ServicesDep
from easel.api.errors import error_response, json_response, warning_headers
from easel.errors import InvalidRequest
from easel.services.conversations import TurnEvent, TurnFailed, TurnFinished, TurnOptions, TurnStarted
from easel.tasks.chat import Citations, ImageEvent, ReasoningDelta, TextDelta, ToolCallDelta, UsageEvent

router = APIRouter(prefix="/api/conversations", tags=["conversations"])


class ConversationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(default=None, description="Model id or alias; the default chat model if omitted.")
    system_prompt: str | None = None
    title: str | None = Field(default=None, max_length=200)
    image_model: str | None = Field(default=None, description="Draws pictures asked for in the chat; "
                                                              "the default image model if omitted.")


class ConversationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    image_model: str | None = Field(default=None, min_length=1, max_length=255)


class TurnCreate(TurnOptions):
    """A follow-up message. `model` switches the conversation's model from this turn on.

    `edit_of` (a user message's id) makes it an edit-and-resend: that message and every message
    after it are replaced by this one.
    """

    content: str | list[dict[str, Any]] = Field(
        min_length=1, description="Text, or OpenAI content parts: text and image_url (a data: URL or asset://<id>).")
    model: str | None = None
    stream: bool = False
    edit_of: str | None = Field(default=None, max_length=64)


class RetryCreate(TurnOptions):
    model: str | None = None
    stream: bool = False


def _dump(record: BaseModel) -> dict[str, Any]:
    return record.model_dump(mode="json")


def _event_frame(event: TurnEvent) -> bytes | None:
    if isinstance(event, TextDelta):
        return format_sse(orjson.dumps({"text": event.text}).decode(), "text")
    if isinstance(event, ReasoningDelta):
        return format_sse(orjson.dumps({"text": event.text}).decode(), "reasoning")
    if isinstance(event, ToolCallDelta):
        body = {"index": event.index, "id": event.id, "name": event.name, "arguments": event.arguments}
        return format_sse(orjson.dumps(body).decode(), "tool_call")
    if isinstance(event, UsageEvent):
        return format_sse(orjson.dumps(event.usage.to_openai()).decode(), "usage")
    if isinstance(event, ImageEvent):
        return format_sse(orjson.dumps(dataclasses.asdict(event)).decode(), "image")
    if isinstance(event, Citations):
        return format_sse(orjson.dumps({"citations": event.items}).decode(), "citations")
    if isinstance(event, TurnStarted):
        body = {"conversation_id": event.conversation_id, "user_message_id": event.user_message_id,
                "model": event.model, "warnings": event.warnings}
        return format_sse(orjson.dumps(body).decode(), "start")
    if isinstance(event, TurnFinished):
        return format_sse(orjson.dumps(_dump(event.message)).decode(), "done")
    if isinstance(event, TurnFailed):
        body = {**event.error.to_body(), "message": _dump(event.message)}
        return format_sse(orjson.dumps(body).decode(), "error")
    return None


async def _respond(events: AsyncIterator[TurnEvent], stream: bool) -> Response:
    pulled: list[TurnEvent] = []
    try:
        async for event in events:
            pulled.append(event)
            if isinstance(event, TurnFailed):
                await events.aclose()  # type: ignore[attr-defined]
                response = error_response(event.error)
                response.headers["X-Easel-Message-Id"] = event.message.id
                return response
            if isinstance(event, TurnFinished) or (stream and not isinstance(event, TurnStarted)):
                break
    except BaseException:
        await events.aclose()  # type: ignore[attr-defined]
        raise
    if not stream:
        finished = pulled[-1]
        assert isinstance(finished, TurnFinished)
        started = pulled[0]
        return json_response(_dump(finished.message),
                             headers=warning_headers(started.warnings if isinstance(started, TurnStarted) else []))

    async def body() -> AsyncIterator[bytes]:
        try:
            for event in pulled:
                frame = _event_frame(event)
                if frame:
                    yield frame
            async for event in events:
                frame = _event_frame(event)
                if frame:
                    yield frame
        finally:
            await events.aclose()  # type: ignore[attr-defined]

    return StreamingResponse(body(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("", status_code=201)
async def create_conversation(body: ConversationCreate, services: ServicesDep, owner: AccountDep) -> Response:
    record = await services.conversations.create(owner_id=owner, model=body.model, system_prompt=body.system_prompt,
                                                 title=body.title, image_model=body.image_model)
    return json_response(_dump(record), 201)


@router.get("")
async def list_conversations(services: ServicesDep, owner: AccountDep, limit: int = Query(20, ge=1, le=200),
                             offset: int = Query(0, ge=0), q: str | None = None) -> Response:
    items, total = await services.conversations.list(owner_id=owner, limit=limit, offset=offset, search=q)
    return json_response({"data": [_dump(i) for i in items], "count": total, "limit": limit, "offset": offset})


@router.get("/{conversation_id}")
async def get_conversation(conversation_id: str, services: ServicesDep, owner: AccountDep) -> Response:
    return json_response(_dump(await services.conversations.get(owner_id=owner, conversation_id=conversation_id)))


@router.patch("/{conversation_id}")
async def rename_conversation(conversation_id: str, body: ConversationUpdate, services: ServicesDep,
                              owner: AccountDep) -> Response:
    record = None
    if body.image_model is not None and services.conversations.chat_images:
        record = await services.conversations.chat_images.set_image_model(
            owner_id=owner, conversation_id=conversation_id, image_model=body.image_model)
    if body.title is not None:
        record = await services.conversations.rename(owner_id=owner, conversation_id=conversation_id,
                                                     title=body.title)
    if record is None:
        raise InvalidRequest("Nothing to change: send a title or an image_model.")
    return json_response(_dump(record))


@router.delete("/{conversation_id}", status_code=204)
async def delete_conversation(conversation_id: str, services: ServicesDep, owner: AccountDep) -> Response:
    await services.conversations.delete(owner_id=owner, conversation_id=conversation_id)
    return Response(status_code=204)


@router.post("/{conversation_id}/messages")
async def send_message(conversation_id: str, body: TurnCreate, services: ServicesDep, owner: AccountDep) -> Response:
    options = TurnOptions(**body.model_dump(include=set(TurnOptions.model_fields)))
    events = services.conversations.send(owner_id=owner, conversation_id=conversation_id, content=body.content,
                                         model=body.model, options=options, edit_of=body.edit_of)
    return await _respond(events, body.stream)


@router.post("/{conversation_id}/retry")
async def retry_turn(conversation_id: str, body: RetryCreate, services: ServicesDep, owner: AccountDep) -> Response:
    options = TurnOptions(**body.model_dump(include=set(TurnOptions.model_fields)))
    events = services.conversations.retry(owner_id=owner, conversation_id=conversation_id, model=body.model,
                                          options=options)
    return await _respond(events, body.stream)
