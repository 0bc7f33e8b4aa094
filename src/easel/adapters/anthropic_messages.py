"""The Anthropic Messages wire format: ChatRequest -> request body, stream events -> ChatEvents.

Pure functions and one stateful parser, no I/O; `providers.anthropic` is the thin async
shell around them. What is translated, and why:

- system/developer messages are hoisted into the top-level `system` string (Anthropic has
  no system role inside `messages`);
- OpenAI tool calls become `tool_use` blocks, `role: tool` messages become `tool_result`
  blocks in a user turn; consecutive turns of one role are merged into one, so the
  results of a parallel call land together, ahead of any user text, as Anthropic asks;
- `reasoning_effort` becomes extended thinking with a fixed budget (THINKING_BUDGETS);
- Anthropic requires `max_tokens`, so a default is always sent.
"""

from __future__ import annotations

import json
from typing import Any

from easel.adapters.anthropic_web_search import WebSearchCitations
from easel.adapters.upstream import error_for_status
from easel.errors import InvalidRequest, UnsupportedParameter, UpstreamError
from easel.tasks.chat import (
    ChatEvent,
    ChatMessage,
    ChatRequest,
    Finish,
    FinishReason,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
    UsageEvent,
)

#: Thinking budget (tokens) per reasoning effort. Anthropic's floor is 1024; "high" stays
#: well under the 32k output ceiling of the smallest thinking-capable Claude models.
THINKING_BUDGETS: dict[str, int] = {"minimal": 1024, "low": 2048, "medium": 8192, "high": 24576}
MIN_THINKING_BUDGET = 1024

_STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

#: Anthropic's error types and the HTTP status each one is sent with outside a stream.
ERROR_STATUS: dict[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


# ---- request -----------------------------------------------------------------


def _image_block(url: str) -> dict[str, Any]:
    if url.startswith("data:"):
        head, _, data = url.partition(",")
        media_type = head[len("data:"):].split(";", 1)[0] or "image/png"
        return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}
    return {"type": "image", "source": {"type": "url", "url": url}}


def _content_blocks(message: ChatMessage) -> list[dict[str, Any]]:
    """User or assistant content as Anthropic blocks; empty text is dropped (Anthropic refuses it)."""
    if message.content is None:
        return []
    if isinstance(message.content, str):
        return [{"type": "text", "text": message.content}] if message.content else []
    blocks: list[dict[str, Any]] = []
    for part in message.content:
        kind = part.get("type")
        if kind == "text":
            if part.get("text"):
                blocks.append({"type": "text", "text": part["text"]})
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if not isinstance(url, str):
                raise InvalidRequest("image_url part without a url", param="messages")
            blocks.append(_image_block(url))
        else:
            raise UnsupportedParameter(f"Anthropic models do not accept '{kind}' content parts",
                                       param="messages")
    return blocks


def _tool_use_block(call: dict[str, Any]) -> dict[str, Any]:
    function = call.get("function") or {}
    raw = function.get("arguments") or "{}"
    try:
        arguments = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as exc:
        raise InvalidRequest(f"tool call {call.get('id')!r} has arguments that are not JSON",
                             param="messages") from exc
    return {"type": "tool_use", "id": call.get("id"), "name": function.get("name"), "input": arguments}


def _tool_result_block(message: ChatMessage) -> dict[str, Any]:
    if not message.tool_call_id:
        raise InvalidRequest("a tool message needs tool_call_id", param="messages")
    return {"type": "tool_result", "tool_use_id": message.tool_call_id, "content": message.text()}


def messages_to_wire(messages: list[ChatMessage]) -> tuple[str, list[dict[str, Any]]]:
    """(system text, Anthropic messages): system hoisted, turns of one role merged."""
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role in ("system", "developer"):
            if message.text():
                system.append(message.text())
            continue
        if message.role == "tool":
            role, blocks = "user", [_tool_result_block(message)]
        elif message.role == "assistant":
            # A past reasoning_content is not sent back: Anthropic only accepts thinking
            # blocks with the signature it issued, which OpenAI's vocabulary cannot carry.
            role = "assistant"
            blocks = _content_blocks(message) + [_tool_use_block(c) for c in message.tool_calls or []]
        else:
            role, blocks = "user", _content_blocks(message)
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return "\n\n".join(system), turns


def tools_to_wire(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI function tools -> Anthropic custom tools (name, description, input_schema)."""
    wire: list[dict[str, Any]] = []
    for tool in tools:
        if tool.get("type", "function") != "function" or "function" not in tool:
            raise UnsupportedParameter(f"Anthropic models take function tools only, not {tool.get('type')!r}",
                                       param="tools")
        function = tool["function"]
        entry: dict[str, Any] = {
            "name": function["name"],
            "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
        }
        if function.get("description"):
            entry["description"] = function["description"]
        wire.append(entry)
    return wire


def tool_choice_to_wire(choice: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(choice, str):
        mapped = {"auto": "auto", "none": "none", "required": "any"}.get(choice)
        if mapped is None:
            raise InvalidRequest(f"unknown tool_choice {choice!r}", param="tool_choice")
        return {"type": mapped}
    name = (choice.get("function") or {}).get("name")
    if choice.get("type") != "function" or not name:
        raise InvalidRequest("tool_choice must name a function", param="tool_choice")
    return {"type": "tool", "name": name}


def _token_limits(request: ChatRequest, default_max_tokens: int,
                  max_output_tokens: int | None) -> tuple[int, int | None]:
    """(max_tokens, thinking budget or None).

    Anthropic's max_tokens covers thinking and answer together, as OpenAI's does for
    reasoning models, so an explicit max_tokens is kept as the cap and the budget shrinks
    to fit (half of it at most). Without one, the answer gets the default on top of the
    budget, within the model's output limit.
    """
    effort = request.reasoning_effort
    budget = THINKING_BUDGETS.get(effort) if effort else None
    if request.max_tokens is not None:
        max_tokens = request.max_tokens
    else:
        max_tokens = default_max_tokens + (budget or 0)
        if max_output_tokens:
            max_tokens = min(max_tokens, max_output_tokens)
    if budget is not None and budget >= max_tokens:
        budget = max(MIN_THINKING_BUDGET, max_tokens // 2)
        if budget >= max_tokens:
            raise UnsupportedParameter(
                f"with reasoning on, Anthropic needs max_tokens above {MIN_THINKING_BUDGET} "
                f"(the smallest thinking budget); got {max_tokens}",
                param="max_tokens",
            )
    return max_tokens, budget


def to_wire(request: ChatRequest, upstream_name: str, *, default_max_tokens: int,
            max_output_tokens: int | None = None, stream: bool = True) -> dict[str, Any]:
    """The request body for POST /v1/messages."""
    system, messages = messages_to_wire(request.messages)
    if not messages:
        raise InvalidRequest("Anthropic needs at least one user or assistant message", param="messages")
    max_tokens, budget = _token_limits(request, default_max_tokens, max_output_tokens)
    body: dict[str, Any] = {"model": upstream_name, "max_tokens": max_tokens, "messages": messages}
    if system:
        body["system"] = system
    if budget is not None:
        body["thinking"] = {"type": "enabled", "budget_tokens": budget}
    else:
        # With thinking on, Anthropic refuses any temperature but 1 and a narrowed top_p:
        # the reasoning mode fixes sampling, so they are only sent without it.
        if request.temperature is not None:
            if request.temperature > 1:
                raise UnsupportedParameter("Anthropic accepts temperature from 0 to 1", param="temperature")
            body["temperature"] = request.temperature
        if request.top_p is not None:
            body["top_p"] = request.top_p
    if request.stop:
        body["stop_sequences"] = list(request.stop)
    if request.tools:
        body["tools"] = tools_to_wire(request.tools)
    if request.tool_choice is not None:
        body["tool_choice"] = tool_choice_to_wire(request.tool_choice)
    # `seed` has no Anthropic counterpart; the catalog says so (capabilities.seed is False).
    for key, value in request.extra.items():  # pass-through; a server tool (web search) joins the caller's tools
        extends = key == "tools" and isinstance(value, list) and isinstance(body.get(key), list)
        body[key] = [*body[key], *value] if extends else value
    if stream:
        body["stream"] = True
    return body


# ---- answer ------------------------------------------------------------------


def usage_from_wire(usage: dict[str, Any]) -> Usage:
    """Anthropic counts cached input apart from input_tokens; OpenAI's prompt_tokens includes it."""
    cached = int(usage.get("cache_read_input_tokens") or 0)
    created = int(usage.get("cache_creation_input_tokens") or 0)
    return Usage(
        prompt_tokens=int(usage.get("input_tokens") or 0) + cached + created,
        completion_tokens=int(usage.get("output_tokens") or 0),
        cached_tokens=cached,
    )


def error_from_event(provider: str, payload: dict[str, Any]) -> UpstreamError:
    """The EaselError for an `error` event (or an error body): the status its type stands for."""
    error = payload.get("error") or {}
    status = ERROR_STATUS.get(str(error.get("type")), 500)
    return error_for_status(provider, status, json.dumps(payload))


def finish_reason(stop_reason: str | None) -> FinishReason:
    return _STOP_REASONS.get(stop_reason or "end_turn", "stop")


def events_from_message(body: dict[str, Any]) -> list[ChatEvent]:
    """The events in a whole (non-streamed) Message."""
    events: list[ChatEvent] = []
    tool_index = 0
    search = WebSearchCitations()
    for block in body.get("content") or []:
        kind = block.get("type")
        if kind == "text" and block.get("text"):
            events.append(TextDelta(block["text"]))
        elif kind == "thinking" and block.get("thinking"):
            events.append(ReasoningDelta(block["thinking"]))
        elif kind == "tool_use":
            events.append(ToolCallDelta(index=tool_index, id=block.get("id"), name=block.get("name"),
                                        arguments=json.dumps(block.get("input") or {})))
            tool_index += 1
        events.extend(search.block(block))
    events.append(Finish(finish_reason(body.get("stop_reason"))))
    events.append(UsageEvent(usage_from_wire(body.get("usage") or {})))
    return events


class MessagesStreamParser:
    """Turns the Messages stream's events, in order, into ChatEvents.

    Usage arrives in two halves (input at message_start, output at message_delta) and is
    reported once, after Finish, when message_stop arrives. Unknown event and block types
    are skipped: Anthropic's versioning policy lets it add new ones.
    """

    def __init__(self, provider: str = "anthropic") -> None:
        self.provider = provider
        self.finished = False
        self._usage: dict[str, Any] = {}
        self._stop_reason: str | None = None
        self._blocks: dict[int, str] = {}  # block index -> block type
        self._tool_index: dict[int, int] = {}  # block index -> tool call index
        self._tool_args: dict[int, bool] = {}  # block index -> any argument text seen
        self._search = WebSearchCitations()  # the server-side web search's sources, if it searched

    def feed(self, payload: dict[str, Any]) -> list[ChatEvent]:
        kind = payload.get("type")
        if kind == "message_start":
            self._usage.update((payload.get("message") or {}).get("usage") or {})
        elif kind == "content_block_start":
            return self._block_start(int(payload.get("index", 0)), payload.get("content_block") or {})
        elif kind == "content_block_delta":
            return self._block_delta(int(payload.get("index", 0)), payload.get("delta") or {})
        elif kind == "content_block_stop":
            index = int(payload.get("index", 0))
            if index in self._tool_index and not self._tool_args[index]:
                # A tool that takes no arguments: send "{}" so the call's arguments parse as JSON.
                return [ToolCallDelta(index=self._tool_index[index], arguments="{}")]
        elif kind == "message_delta":
            delta = payload.get("delta") or {}
            if delta.get("stop_reason"):
                self._stop_reason = delta["stop_reason"]
            # message_delta's usage counts are cumulative: they replace, never add.
            self._usage.update({k: v for k, v in (payload.get("usage") or {}).items() if v is not None})
        elif kind == "message_stop":
            self.finished = True
            return [Finish(finish_reason(self._stop_reason)), UsageEvent(usage_from_wire(self._usage))]
        elif kind == "error":
            raise error_from_event(self.provider, payload)
        return []  # ping, and anything newer than this parser

    def _block_start(self, index: int, block: dict[str, Any]) -> list[ChatEvent]:
        kind = str(block.get("type"))
        self._blocks[index] = kind
        found: list[ChatEvent] = [*self._search.block(block)]  # a search's results; a text's citations
        if kind == "text" and block.get("text"):
            return [*found, TextDelta(block["text"])]
        if kind == "thinking" and block.get("thinking"):
            return [ReasoningDelta(block["thinking"])]
        if kind == "tool_use":
            tool_index = len(self._tool_index)
            self._tool_index[index] = tool_index
            self._tool_args[index] = False
            return [ToolCallDelta(index=tool_index, id=block.get("id"), name=block.get("name"))]
        return found  # redacted_thinking carries only ciphertext; a server tool's query is not surfaced

    def _block_delta(self, index: int, delta: dict[str, Any]) -> list[ChatEvent]:
        kind = delta.get("type")
        if kind == "text_delta" and delta.get("text"):
            return [TextDelta(delta["text"])]
        if kind == "thinking_delta" and delta.get("thinking"):
            return [ReasoningDelta(delta["thinking"])]
        if kind == "input_json_delta" and index in self._tool_index and delta.get("partial_json"):
            self._tool_args[index] = True
            return [ToolCallDelta(index=self._tool_index[index], arguments=delta["partial_json"])]
        if kind == "citations_delta":
            return [*self._search.delta(delta.get("citation"))]
        return []  # signature_delta, and a server tool's input
