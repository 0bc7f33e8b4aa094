"""The Gemini API's generateContent wire format: ChatRequest -> request body, chunks -> ChatEvents.

Pure functions, no I/O. The provider posts `to_wire(request)` to
`models/{model}:streamGenerateContent?alt=sse` and feeds every SSE `data:` payload (one
GenerateContentResponse each) to a `GeminiStreamParser`.

Mapping, OpenAI vocabulary -> Gemini:
- system/developer messages -> `systemInstruction`; user -> role "user"; assistant -> role
  "model"; tool results -> `functionResponse` parts in a "user" turn (adjacent turns of one
  role are merged, as Gemini expects the parallel answers of one step together).
- `tools` -> `tools[{functionDeclarations}]` with the JSON Schema sent as
  `parametersJsonSchema`, which takes OpenAI's schemas as they are (`parameters` only takes
  Gemini's OpenAPI subset and rejects `additionalProperties`).
- `tool_choice` -> `toolConfig.functionCallingConfig` (auto AUTO, none NONE, required ANY,
  a named function ANY + allowedFunctionNames).
- `reasoning_effort` -> `generationConfig.thinkingConfig` with the budgets in
  THINKING_BUDGETS and `includeThoughts` so the thoughts come back apart from the answer.

And back: parts with `thought: true` -> ReasoningDelta, other text -> TextDelta,
`groundingMetadata` -> Citations (easel.adapters.gemini_grounding),
`functionCall` -> ToolCallDelta (args JSON-encoded), `usageMetadata` -> Usage (completion =
candidates + thoughts), `finishReason` -> Finish. Usage is cumulative in every chunk, so the
parser keeps the last one and emits it once, with Finish, when the stream is over.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from easel.adapters.gemini_grounding import GroundingCitations
from easel.adapters.gemini_errors import error_from_body
from easel.errors import InvalidRequest, UnsupportedParameter, UpstreamBadRequest
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

PROVIDER = "gemini"

#: reasoning_effort -> thinkingBudget (tokens). 0 turns thinking off where the model allows it;
#: 512 is the smallest budget every 2.5 model accepts (Flash-Lite's floor); 24576 is 2.5 Flash's
#: ceiling, so "high" is valid on every thinking model.
THINKING_BUDGETS: dict[str, int] = {"none": 0, "minimal": 512, "low": 1024, "medium": 8192, "high": 24576}
#: "none" for a model that cannot stop thinking (catalog: capabilities.reasoning_off false): the least
#: it accepts. 128 is 2.5 Pro's floor; Gemini 3 Pro takes it as its lowest thinking level.
MIN_THINKING_BUDGET = 128

#: Sent in place of a thought signature we never saw (history from another model, or a client
#: that dropped it): Gemini 3 rejects replayed function calls without one, and this value is
#: the documented way to skip the check (ai.google.dev/gemini-api/docs/thought-signatures).
SKIP_SIGNATURE = "skip_thought_signature_validator"

_FINISH: dict[str, FinishReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "LANGUAGE": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "MALFORMED_FUNCTION_CALL": "tool_calls",
    "UNEXPECTED_TOOL_CALL": "tool_calls",
    "OTHER": "stop",
}

_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)$", re.DOTALL)


# ---- request ------------------------------------------------------------------


def to_wire(request: ChatRequest, *, include_thoughts: bool = False, thinking_off: bool = True) -> dict[str, Any]:
    """The GenerateContentRequest body (the model goes in the URL, not the body).

    `include_thoughts` asks a thinking model for its thought summaries even when the request
    sets no reasoning_effort; only pass it for models that think (others answer 400).
    `thinking_off` False: the model refuses a budget of 0, so "none" asks for MIN_THINKING_BUDGET.
    """
    system: list[dict[str, Any]] = []
    contents: list[dict[str, Any]] = []
    call_names: dict[str, str] = {}
    for index, message in enumerate(request.messages):
        if message.role in ("system", "developer"):
            if text := message.text():
                system.append({"text": text})
            continue
        if message.role == "user":
            role, parts = "user", _user_parts(message, index)
        elif message.role == "assistant":
            role, parts = "model", _assistant_parts(message, index, call_names)
        else:
            role, parts = "user", [_function_response(message, index, call_names)]
        if not parts:
            continue
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})

    body: dict[str, Any] = {"contents": contents}
    if system:
        body["systemInstruction"] = {"parts": system}
    if request.tools:
        body["tools"] = [{"functionDeclarations": [_declaration(t) for t in request.tools]}]
    if request.tool_choice is not None:
        body["toolConfig"] = {"functionCallingConfig": _calling_config(request.tool_choice)}
    config = _generation_config(request, include_thoughts, thinking_off)
    if config:
        body["generationConfig"] = config
    for key, value in request.extra.items():  # documented pass-through; dicts merge one level, lists extend
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key] = {**body[key], **value}
        elif isinstance(value, list) and isinstance(body.get(key), list):  # google_search beside functions
            body[key] = [*body[key], *value]
        else:
            body[key] = value
    return body


def _generation_config(request: ChatRequest, include_thoughts: bool, thinking_off: bool) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if request.max_tokens is not None:
        config["maxOutputTokens"] = request.max_tokens
    if request.temperature is not None:
        config["temperature"] = request.temperature
    if request.top_p is not None:
        config["topP"] = request.top_p
    if request.stop:
        config["stopSequences"] = list(request.stop)
    if request.seed is not None:
        config["seed"] = request.seed
    if request.reasoning_effort is not None:
        budget = THINKING_BUDGETS[request.reasoning_effort]
        if budget == 0 and not thinking_off:
            budget = MIN_THINKING_BUDGET
        thinking: dict[str, Any] = {"thinkingBudget": budget}
        if budget > 0:
            thinking["includeThoughts"] = True
        config["thinkingConfig"] = thinking
    elif include_thoughts:
        config["thinkingConfig"] = {"includeThoughts": True}
    return config


def _user_parts(message: ChatMessage, index: int) -> list[dict[str, Any]]:
    if message.content is None:
        return []
    if isinstance(message.content, str):
        return [{"text": message.content}] if message.content else []
    parts: list[dict[str, Any]] = []
    for part in message.content:
        kind = part.get("type")
        if kind == "text":
            if part.get("text"):
                parts.append({"text": part["text"]})
        elif kind == "image_url":
            image = part.get("image_url") or {}
            url = image.get("url", "") if isinstance(image, dict) else str(image)
            match = _DATA_URL.match(url)
            if not match:
                raise UnsupportedParameter(
                    "Gemini takes images inline: send them as data: URLs (base64), not links.",
                    param=f"messages[{index}].content",
                )
            parts.append({"inlineData": {"mimeType": match["mime"], "data": match["data"]}})
        else:
            raise UnsupportedParameter(f"content part type {kind!r} is not supported by Gemini.",
                                       param=f"messages[{index}].content")
    return parts


def _assistant_parts(message: ChatMessage, index: int, call_names: dict[str, str]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    if text := message.text():
        parts.append({"text": text})
    for position, call in enumerate(message.tool_calls or []):
        function = call.get("function") or {}
        name = function.get("name")
        if not name:
            raise InvalidRequest("a tool call has no function name.", param=f"messages[{index}].tool_calls")
        try:
            args = json.loads(function.get("arguments") or "{}")
        except ValueError as exc:
            raise InvalidRequest(f"the arguments of tool call {name!r} are not valid JSON.",
                                 param=f"messages[{index}].tool_calls") from exc
        if call.get("id"):
            call_names[call["id"]] = name
        part: dict[str, Any] = {"functionCall": {"name": name, "args": args if isinstance(args, dict) else {}}}
        if position == 0:  # Gemini signs the first call of a step only
            part["thoughtSignature"] = _signature(call) or SKIP_SIGNATURE
        parts.append(part)
    return parts


def _signature(call: dict[str, Any]) -> str | None:
    """A signature kept by the client in the shape Google's OpenAI-compatible endpoint uses."""
    extra = call.get("extra_content")
    google = extra.get("google") if isinstance(extra, dict) else None
    value = google.get("thought_signature") if isinstance(google, dict) else None
    return value if isinstance(value, str) and value else None


def _function_response(message: ChatMessage, index: int, call_names: dict[str, str]) -> dict[str, Any]:
    name = call_names.get(message.tool_call_id or "") or message.name
    if not name:
        raise InvalidRequest(
            f"tool message answers tool_call_id {message.tool_call_id!r}, which no earlier assistant "
            "message called; Gemini needs the function's name.",
            param=f"messages[{index}].tool_call_id",
        )
    text = message.text()
    try:
        value: Any = json.loads(text)
    except ValueError:
        value = text
    # `response` is a JSON object on the wire; anything else is wrapped.
    response = value if isinstance(value, dict) else {"result": value}
    return {"functionResponse": {"name": name, "response": response}}


def _declaration(tool: dict[str, Any]) -> dict[str, Any]:
    if tool.get("type", "function") != "function" or not isinstance(tool.get("function"), dict):
        raise UnsupportedParameter(f"tool type {tool.get('type')!r} is not supported by Gemini.", param="tools")
    function = tool["function"]
    declaration: dict[str, Any] = {"name": function.get("name", "")}
    if function.get("description"):
        declaration["description"] = function["description"]
    if function.get("parameters"):
        declaration["parametersJsonSchema"] = function["parameters"]
    return declaration


def _calling_config(choice: str | dict[str, Any]) -> dict[str, Any]:
    modes = {"auto": "AUTO", "none": "NONE", "required": "ANY"}
    if isinstance(choice, str) and choice in modes:
        return {"mode": modes[choice]}
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        if choice.get("type") == "function" and name:
            return {"mode": "ANY", "allowedFunctionNames": [name]}
    raise UnsupportedParameter(f"tool_choice {choice!r} is not supported by Gemini.", param="tool_choice")


# ---- response -----------------------------------------------------------------


def usage_from_wire(meta: dict[str, Any]) -> Usage:
    """usageMetadata -> Usage: thoughts are billed as output, so they count as completion."""
    thoughts = int(meta.get("thoughtsTokenCount") or 0)
    return Usage(
        prompt_tokens=int(meta.get("promptTokenCount") or 0),
        completion_tokens=int(meta.get("candidatesTokenCount") or 0) + thoughts,
        reasoning_tokens=thoughts,
        cached_tokens=int(meta.get("cachedContentTokenCount") or 0),
    )


def events_from_chunk(chunk: dict[str, Any], *, tool_index: int = 0, provider: str = PROVIDER) -> list[ChatEvent]:
    """The events in one GenerateContentResponse (only candidate 0 is read: easel serves n=1).

    Tool calls are numbered from `tool_index`. A blocked prompt raises UpstreamBadRequest; an
    error object inside a 200 stream raises the matching UpstreamError.
    """
    if isinstance(chunk.get("error"), dict):
        raise error_from_body(int(chunk["error"].get("code") or 500), json.dumps(chunk), provider=provider)
    feedback = chunk.get("promptFeedback") or {}
    if feedback.get("blockReason"):
        detail = feedback.get("blockReasonMessage") or "change the prompt and try again"
        raise UpstreamBadRequest(f"the prompt was blocked ({feedback['blockReason']}): {detail}",
                                 provider=provider, code="prompt_blocked")
    events: list[ChatEvent] = []
    candidates = chunk.get("candidates") or []
    if candidates:
        candidate = candidates[0]
        called = False
        for part in (candidate.get("content") or {}).get("parts") or []:
            call = part.get("functionCall")
            if isinstance(call, dict):
                called = True
                events.append(ToolCallDelta(
                    index=tool_index,
                    id=call.get("id") or f"call_{uuid.uuid4().hex[:24]}",
                    name=call.get("name") or "",
                    arguments=json.dumps(call.get("args") or {}, ensure_ascii=False),
                ))
                tool_index += 1
            elif part.get("text"):
                events.append(ReasoningDelta(part["text"]) if part.get("thought") else TextDelta(part["text"]))
        reason = candidate.get("finishReason")
        if reason and reason != "FINISH_REASON_UNSPECIFIED":
            mapped = _FINISH.get(reason, "stop")
            events.append(Finish("tool_calls" if called and mapped == "stop" else mapped))
    if isinstance(chunk.get("usageMetadata"), dict):
        events.append(UsageEvent(usage_from_wire(chunk["usageMetadata"])))
    return events


class GeminiStreamParser:
    """Turns the chunks of one stream into events: deltas at once, usage and Finish at the end."""

    def __init__(self, provider: str = PROVIDER) -> None:
        self.provider = provider
        self.tool_calls = 0
        self.usage: Usage | None = None
        self.finish_reason: FinishReason | None = None
        self.grounding = GroundingCitations()

    @property
    def finished(self) -> bool:
        """Whether a finishReason arrived: a stream that ends without one was cut."""
        return self.finish_reason is not None

    def feed(self, chunk: dict[str, Any]) -> list[ChatEvent]:
        out: list[ChatEvent] = []
        for event in events_from_chunk(chunk, tool_index=self.tool_calls, provider=self.provider):
            if isinstance(event, UsageEvent):
                self.usage = event.usage
            elif isinstance(event, Finish):
                self.finish_reason = event.reason
            else:
                if isinstance(event, ToolCallDelta):
                    self.tool_calls += 1
                elif isinstance(event, TextDelta):
                    self.grounding.text(event.text)
                out.append(event)
        candidates = chunk.get("candidates")
        if isinstance(candidates, list) and candidates and isinstance(candidates[0], dict):
            cited = self.grounding.feed(candidates[0])  # Google Search grounding's sources, if it searched
            if cited is not None:
                out.append(cited)
        return out

    def close(self) -> list[ChatEvent]:
        """The closing events: usage (if any came) then Finish."""
        reason: FinishReason = self.finish_reason or "stop"
        if self.tool_calls and reason == "stop":  # a later chunk may say STOP after the calls
            reason = "tool_calls"
        out: list[ChatEvent] = [UsageEvent(self.usage)] if self.usage is not None else []
        out.append(Finish(reason))
        return out


def events_from_response(body: dict[str, Any], *, provider: str = PROVIDER) -> list[ChatEvent]:
    """The events in a whole (non-streamed) generateContent answer."""
    parser = GeminiStreamParser(provider)
    return parser.feed(body) + parser.close()
