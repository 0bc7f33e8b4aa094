"""ChatEvents -> OpenAI's chat.completion and chat.completion.chunk bodies.

Rules real clients depend on: every chunk shares one id; the first delta carries
`role: assistant`; exactly one chunk sets finish_reason; with include_usage the last
chunk has `choices: []` and the usage; the stream ends with one `data: [DONE]`.

`EventStreamResponse` sends the SSE body and stops it when the client leaves.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from easel.errors import EaselError
from easel.tasks.chat import (
    ChatEvent,
    ChatResult,
    Citations,
    Finish,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
    UsageEvent,
)

DONE = b"data: [DONE]\n\n"


def completion_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex


def completion_body(result: ChatResult, *, model: str, cid: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": result.text or None, "refusal": None}
    if result.reasoning:
        message["reasoning_content"] = result.reasoning
    if result.tool_calls:
        message["tool_calls"] = result.tool_calls
    body = {
        "id": cid or completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": result.finish_reason, "logprobs": None}],
        "usage": result.usage.to_openai(),
    }
    if result.citations:  # easel extension (web_search): the numbered sources the answer may cite as [n]
        body["citations"] = result.citations
    return body


class ChunkWriter:
    """Formats one stream's chunks; holds the shared id and the finish/usage bookkeeping."""

    def __init__(self, model: str) -> None:
        self.id = completion_id()
        self.created = int(time.time())
        self.model = model
        self._prefix = (
            b'data: {"id":"' + self.id.encode() + b'","object":"chat.completion.chunk","created":'
            + str(self.created).encode() + b',"model":' + orjson.dumps(model) + b',"choices":'
        )
        self.finished = False
        self.usage: Usage | None = None

    def _frame(self, choices: bytes, tail: bytes = b"") -> bytes:
        return self._prefix + choices + tail + b"}\n\n"

    def _delta(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return self._frame(orjson.dumps([choice]))

    def first(self) -> bytes:
        return self._delta({"role": "assistant", "content": ""})

    def event(self, event: ChatEvent) -> bytes | None:
        if isinstance(event, TextDelta):
            return self._delta({"content": event.text})
        if isinstance(event, ReasoningDelta):
            return self._delta({"reasoning_content": event.text})
        if isinstance(event, ToolCallDelta):
            call: dict[str, Any] = {"index": event.index, "function": {"arguments": event.arguments}}
            if event.id:
                call["id"] = event.id
                call["type"] = "function"
            if event.name:
                call["function"]["name"] = event.name
            return self._delta({"tool_calls": [call]})
        if isinstance(event, UsageEvent):
            self.usage = event.usage
            return None
        if isinstance(event, Citations):  # easel extension: an empty delta carrying top-level `citations`
            choice = {"index": 0, "delta": {}, "finish_reason": None, "logprobs": None}
            # after the finish (the final list, marked cited), with no choice, as the usage chunk comes
            choices = b"[]" if self.finished else orjson.dumps([choice])
            return self._frame(choices, b',"citations":' + orjson.dumps(event.items))
        if isinstance(event, Finish):
            if self.finished:
                return None
            self.finished = True
            return self._delta({}, event.reason)
        return None

    def end(self, include_usage: bool) -> bytes:
        out = b"" if self.finished else self._delta({}, "stop")
        self.finished = True
        if include_usage:
            usage = (self.usage or Usage()).to_openai()
            out += self._frame(b"[]", b',"usage":' + orjson.dumps(usage))
        return out + DONE


def error_frame(error: EaselError) -> bytes:
    """An error after the 200 was sent: the SDKs raise on a data line holding `error`."""
    return b"data: " + orjson.dumps(error.to_body()) + b"\n\n"


async def chunks(first: ChatEvent | None, events: AsyncIterator[ChatEvent], writer: ChunkWriter,
                 include_usage: bool) -> AsyncIterator[bytes]:
    """The SSE body; `first` is the event already pulled to learn the status before any byte."""
    try:
        yield writer.first()
        if first is not None:
            frame = writer.event(first)
            if frame:
                yield frame
        try:
            async for event in events:
                frame = writer.event(event)
                if frame:
                    yield frame
        except EaselError as exc:
            yield error_frame(exc)
            return
        yield writer.end(include_usage)
    finally:
        await events.aclose()  # type: ignore[attr-defined]


class EventStreamResponse(StreamingResponse):
    """A StreamingResponse that watches for the client leaving with one asyncio task.

    Under ASGI spec < 2.4 (uvicorn's today) Starlette runs every streamed response in an
    anyio task group to notice a disconnect, which costs about 0.1 ms a stream. This does
    the same with one plain task: on `http.disconnect` it cancels the streaming task, the
    body iterator is closed (and with it the upstream request), and the response ends
    quietly, as Starlette's does. Under 2.4+ Starlette's own path is used.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        spec_version = tuple(map(int, scope.get("asgi", {}).get("spec_version", "2.0").split(".")))
        streaming = asyncio.current_task()
        if scope["type"] != "http" or spec_version >= (2, 4) or streaming is None:
            await super().__call__(scope, receive, send)
            return
        left = False

        async def watch() -> None:
            nonlocal left
            await self.listen_for_disconnect(receive)
            left = True
            streaming.cancel()

        watcher = asyncio.get_running_loop().create_task(watch())
        try:
            await self.stream_response(send)
        except asyncio.CancelledError:
            # ours: swallow it, as Starlette's task group does; anyone else's: let it through
            if not left or streaming.uncancel() > 0:
                raise
        finally:
            watcher.cancel()  # before any further await: it cannot cancel us after this
        if self.background is not None:
            await self.background()
