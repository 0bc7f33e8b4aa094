"""The OpenAI chat-completions wire format: ChatRequest -> request body, chunks -> ChatEvents.

Pure functions, no I/O: the OpenAI-compatible providers and the local llama.cpp
provider (whose server speaks the same format) both use them. Reasoning arrives as
`reasoning_content` (DeepSeek, llama.cpp, vLLM) or `reasoning` (OpenRouter, Groq,
Ollama) depending on the host; both become ReasoningDelta.
"""

from __future__ import annotations

from typing import Any

from easel.tasks.chat import (
    ChatEvent,
    ChatRequest,
    Finish,
    FinishReason,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
    UsageEvent,
)

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}


def to_wire(
    request: ChatRequest,
    upstream_name: str,
    *,
    stream: bool = True,
    max_tokens_field: str = "max_tokens",
    send_reasoning_effort: bool = True,
) -> dict[str, Any]:
    """The request body for POST /chat/completions."""
    body: dict[str, Any] = {
        "model": upstream_name,
        "messages": [m.model_dump(exclude_none=True) for m in request.messages],
    }
    if request.max_tokens is not None:
        body[max_tokens_field] = request.max_tokens
    for field in ("temperature", "top_p", "stop", "seed", "tools", "tool_choice"):
        value = getattr(request, field)
        if value is not None:
            body[field] = value
    if request.reasoning_effort is not None and send_reasoning_effort:
        body["reasoning_effort"] = request.reasoning_effort
    body.update(request.extra)
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def usage_from_wire(usage: dict[str, Any]) -> Usage:
    completion_details = usage.get("completion_tokens_details") or {}
    prompt_details = usage.get("prompt_tokens_details") or {}
    return Usage(
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        reasoning_tokens=int(completion_details.get("reasoning_tokens") or 0),
        cached_tokens=int(prompt_details.get("cached_tokens") or usage.get("prompt_cache_hit_tokens") or 0),
    )


def events_from_chunk(chunk: dict[str, Any]) -> list[ChatEvent]:
    """The events in one `chat.completion.chunk` (only choice 0 is read: easel serves n=1)."""
    events: list[ChatEvent] = []
    choices = chunk.get("choices") or []
    if choices:
        choice = choices[0]
        delta = choice.get("delta") or {}
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if reasoning:
            events.append(ReasoningDelta(reasoning))
        content = delta.get("content")
        if content:
            events.append(TextDelta(content))
        for call in delta.get("tool_calls") or []:
            function = call.get("function") or {}
            events.append(
                ToolCallDelta(
                    index=int(call.get("index", 0)),
                    id=call.get("id"),
                    name=function.get("name"),
                    arguments=function.get("arguments") or "",
                )
            )
        finish = choice.get("finish_reason")
        if finish:
            events.append(Finish(_FINISH.get(finish, "stop")))
    usage = chunk.get("usage")
    if usage:
        events.append(UsageEvent(usage_from_wire(usage)))
    return events


def events_from_completion(body: dict[str, Any]) -> list[ChatEvent]:
    """The events in a whole (non-streamed) `chat.completion`."""
    events: list[ChatEvent] = []
    choices = body.get("choices") or []
    if choices:
        choice = choices[0]
        message = choice.get("message") or {}
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        if reasoning:
            events.append(ReasoningDelta(reasoning))
        if message.get("content"):
            events.append(TextDelta(message["content"]))
        for index, call in enumerate(message.get("tool_calls") or []):
            function = call.get("function") or {}
            events.append(ToolCallDelta(index=index, id=call.get("id"), name=function.get("name"),
                                        arguments=function.get("arguments") or ""))
        events.append(Finish(_FINISH.get(choice.get("finish_reason") or "stop", "stop")))
    if body.get("usage"):
        events.append(UsageEvent(usage_from_wire(body["usage"])))
    return events
