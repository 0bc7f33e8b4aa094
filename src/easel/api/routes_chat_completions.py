"""POST /v1/chat/completions: OpenAI's chat API over every chat model in the catalog.

The body is parsed with orjson and validated with one pydantic call (no FastAPI body
injection on this hot path), and the route is a `RequestRoute`: FastAPI calls the
endpoint with the Request alone, skipping its per-request parameter solving, which has
nothing to solve here. A stream is chosen by `"stream": true` in the body, never by
the Accept header. The first event is pulled before answering, so an upstream failure is
an HTTP status, not an error hidden inside a 200 stream.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from easel.api.deps import account_id, services_of
from easel.api.errors import json_response, warning_headers
from easel.api.openai_protocol import ChatCompletionRequest
from easel.api.openai_stream import ChunkWriter, EventStreamResponse, chunks, completion_body
from easel.errors import InvalidRequest
from easel.tasks.chat import ChatRequest, ChatResult


class RequestRoute(APIRoute):
    """A route whose endpoint takes only the Request and returns a Response (FastAPI's own hook).

    It keeps the route's OpenAPI entry, and the app's exception handlers still answer
    what the endpoint raises.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return self.endpoint


router = APIRouter(tags=["openai"], route_class=RequestRoute)


def parse_body(raw: bytes) -> ChatCompletionRequest:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"Malformed JSON in the request body: {exc}", code="invalid_json") from exc
    if not isinstance(data, dict):
        raise InvalidRequest("The request body must be a JSON object.", code="invalid_json")
    return ChatCompletionRequest.model_validate(data)


def to_chat_request(wire: ChatCompletionRequest) -> ChatRequest:
    # model_construct: every field was validated by ChatCompletionRequest, under the same bounds
    return ChatRequest.model_construct(
        model=wire.model,
        messages=wire.messages,
        max_tokens=wire.effective_max_tokens(),
        temperature=wire.temperature,
        top_p=wire.top_p,
        stop=wire.stop_list(),
        seed=wire.seed,
        tools=wire.tools,
        tool_choice=wire.tool_choice,
        reasoning_effort=wire.reasoning_effort,
        think_first=bool(wire.think_first),
        web_search=wire.web_search,
        web_search_backend=wire.web_search_backend,
        extra=wire.passthrough(),
    )


@router.post(
    "/v1/chat/completions",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": ChatCompletionRequest.model_json_schema(ref_template="#/components/schemas/{model}")}}}},
)
async def create_chat_completion(request: Request) -> Response:
    wire = parse_body(await request.body())
    services = services_of(request)
    owner = account_id(request)
    prepared = services.chat.prepare(to_chat_request(wire))
    await services.attachments.resolve(prepared, owner_id=owner)  # images: native, or described for blind models
    headers = warning_headers(prepared.warnings) or None
    events = services.chat.stream(prepared, owner_id=owner, endpoint="/v1/chat/completions")

    if not wire.stream:
        result = ChatResult()
        async for event in events:
            result.add(event)
        return json_response(completion_body(result, model=prepared.entry.id), headers=headers)

    try:
        first = await anext(events, None)
    except BaseException:
        await events.aclose()
        raise
    include_usage = bool(wire.stream_options and wire.stream_options.include_usage)
    writer = ChunkWriter(prepared.entry.id)
    return EventStreamResponse(
        chunks(first, events, writer, include_usage),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", **(headers or {})},
    )
