"""The OpenAI chat-completions wire format: ChatRequest -> request body, chunks -> ChatEvents.

Pure functions, no I/O: the OpenAI-compatible providers and the local llama.cpp
provider (whose server speaks the same format) both use them. Reasoning arrives as
`reasoning_content` (DeepSeek, llama.cpp, vLLM) or `reasoning` (OpenRouter, Groq,
Ollama) depending on the host, or as `thinking` content parts (Mistral's Magistral);
all become ReasoningDelta.

Hosts with a server-side web search (OpenAI's `web_search_options`, OpenRouter's web
plugin) mark the answer's sources as `url_citation` annotations on the message (on the
delta when streamed, with or after the text they cite); `UrlCitations` turns them into
easel's citations, the quote being the span of the answer they annotate.

Hosts bend the format in small, documented ways; a `Dialect` names those bends so a
provider declares them instead of branching on who it is:

- OpenAI wants `max_completion_tokens` (its reasoning models refuse `max_tokens`);
- OpenRouter takes `reasoning: {"effort": ...}` rather than `reasoning_effort`;
- Mistral refuses unknown fields (422), so no `stream_options`, and calls the seed `random_seed`;
- DeepSeek requires earlier `reasoning_content` to be sent back on tool-call turns,
  while OpenAI and others refuse or ignore it.

`SSEDecoder` turns the streamed body's bytes into SSE events synchronously, a network
read at a time (the providers' hot path).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import Any, Literal

from easel.adapters.sse import SSEvent
from easel.tasks.chat import (
    ChatEvent,
    ChatMessage,
    ChatRequest,
    Citations,
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

# An error's `type` when it carries no HTTP-like `code`: which status it stands for.
_ERROR_TYPE_STATUS: dict[str, int] = {
    "invalid_request_error": 400,
    "BadRequestError": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "rate_limit_error": 429,
    "rate_limit_exceeded": 429,
    "overloaded_error": 503,
    "timeout_error": 504,
}


#: the line breaks of str.splitlines, which is how httpx's aiter_lines splits a stream
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one host bends the OpenAI request format. The defaults are plain OpenAI-compatible."""

    #: where the output limit goes: "max_tokens" or "max_completion_tokens"
    max_tokens_field: str = "max_tokens"
    #: "field": top-level `reasoning_effort`; "object": `reasoning: {"effort": ...}`; None: not sent
    reasoning_effort: Literal["field", "object"] | None = "field"
    #: the seed's name ("seed"; Mistral says "random_seed")
    seed_field: str = "seed"
    #: ask for usage in the stream with `stream_options.include_usage`
    stream_usage: bool = True
    #: the message field that carries earlier reasoning back to the host; None drops it
    reasoning_history_field: str | None = "reasoning_content"


def message_to_wire(message: ChatMessage, reasoning_field: str | None) -> dict[str, Any]:
    """One message; earlier reasoning is renamed for the host or dropped."""
    wire = message.model_dump(exclude_none=True)
    reasoning = wire.pop("reasoning_content", None)
    if reasoning and reasoning_field:
        wire[reasoning_field] = reasoning
    return wire


def to_wire(
    request: ChatRequest,
    upstream_name: str,
    *,
    stream: bool = True,
    dialect: Dialect | None = None,
    max_tokens_field: str | None = None,
    send_reasoning_effort: bool | None = None,
) -> dict[str, Any]:
    """The request body for POST /chat/completions.

    `max_tokens_field` and `send_reasoning_effort`, when given, override the dialect's.
    `request.extra` is merged last, so a caller can set any host-specific field.
    """
    dialect = dialect or Dialect()
    body: dict[str, Any] = {
        "model": upstream_name,
        "messages": [message_to_wire(m, dialect.reasoning_history_field) for m in request.messages],
    }
    if request.max_tokens is not None:
        body[max_tokens_field or dialect.max_tokens_field] = request.max_tokens
    for field in ("temperature", "top_p", "stop", "tools", "tool_choice"):
        value = getattr(request, field)
        if value is not None:
            body[field] = value
    if request.seed is not None:
        body[dialect.seed_field] = request.seed
    effort_style = dialect.reasoning_effort
    if send_reasoning_effort is False:
        effort_style = None
    elif send_reasoning_effort and effort_style is None:
        effort_style = "field"
    if request.reasoning_effort is not None and effort_style == "field":
        body["reasoning_effort"] = request.reasoning_effort
    elif request.reasoning_effort is not None and effort_style == "object":
        body["reasoning"] = {"effort": request.reasoning_effort}
    body.update(request.extra)
    if stream:
        body["stream"] = True
        if dialect.stream_usage:
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


def _content_events(content: Any) -> list[ChatEvent]:
    """Text, or a list of parts where `thinking` parts are reasoning (Mistral's Magistral)."""
    if isinstance(content, str):
        return [TextDelta(content)] if content else []
    events: list[ChatEvent] = []
    for part in content if isinstance(content, list) else []:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text" and part.get("text"):
            events.append(TextDelta(part["text"]))
        elif part.get("type") == "thinking":
            inner = part.get("thinking")
            pieces = inner if isinstance(inner, list) else [{"text": inner}]
            text = "".join(str(p.get("text") or "") for p in pieces if isinstance(p, dict))
            if text:
                events.append(ReasoningDelta(text))
    return events


def _reasoning_of(message: dict[str, Any]) -> str | None:
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    return reasoning if isinstance(reasoning, str) and reasoning else None


def _tool_call_event(call: dict[str, Any], index: int) -> ToolCallDelta:
    function = call.get("function") or {}
    return ToolCallDelta(
        index=index,
        id=call.get("id"),
        name=function.get("name"),
        arguments=function.get("arguments") or "",
    )


def _chunk_usage(chunk: dict[str, Any]) -> dict[str, Any] | None:
    usage = chunk.get("usage")
    if not usage:  # Groq reports streamed usage under x_groq
        usage = (chunk.get("x_groq") or {}).get("usage")
    return usage if isinstance(usage, dict) else None


class UrlCitations:
    """One answer's `url_citation` annotations as easel citations {index, title, url, quote, cited}.

    Sources are numbered by first appearance, one per URL; the quote is the answer's text
    between the annotation's start_index and end_index, so the answer's text is kept as it
    streams. Every annotated source is cited by the answer."""

    def __init__(self) -> None:
        self._text: list[str] = []
        self.items: list[dict[str, Any]] = []

    def text(self, piece: str) -> None:
        self._text.append(piece)

    def annotate(self, annotations: Any) -> Citations | None:
        """The citations so far (the whole list, a later event replaces an earlier one), or None if
        these annotations added none."""
        answer = "".join(self._text)
        before = len(self.items)
        known = {item["url"] for item in self.items}
        for annotation in annotations if isinstance(annotations, list) else []:
            cite = annotation.get("url_citation") if isinstance(annotation, dict) else None
            url = cite.get("url") if isinstance(cite, dict) else None
            if annotation.get("type") != "url_citation" or not isinstance(url, str) or not url or url in known:
                continue
            start, end = cite.get("start_index"), cite.get("end_index")
            spanned = isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(answer)
            self.items.append({"index": len(self.items) + 1, "title": str(cite.get("title") or url), "url": url,
                               "quote": answer[start:end].strip() if spanned else "", "cited": True})
            known.add(url)
        return Citations([dict(item) for item in self.items]) if len(self.items) > before else None


def events_from_chunk(chunk: dict[str, Any], citations: UrlCitations | None = None) -> list[ChatEvent]:
    """The events in one `chat.completion.chunk` (only choice 0 is read: easel serves n=1).

    With `citations` (one per stream), the delta's text is kept and its annotations become a
    Citations event."""
    events: list[ChatEvent] = []
    choices = chunk.get("choices") or []
    if choices:
        choice = choices[0]
        delta = choice.get("delta") or {}
        reasoning = _reasoning_of(delta)
        if reasoning:
            events.append(ReasoningDelta(reasoning))
        content = delta.get("content")
        if isinstance(content, str):  # the common case, without a call
            if content:
                events.append(TextDelta(content))
                if citations is not None:
                    citations.text(content)
        elif content is not None:
            events.extend(_content_events(content))
        if citations is not None and delta.get("annotations"):
            found = citations.annotate(delta["annotations"])
            if found is not None:
                events.append(found)
        for call in delta.get("tool_calls") or []:
            events.append(_tool_call_event(call, int(call.get("index", 0))))
        finish = choice.get("finish_reason")
        if finish:
            events.append(Finish(_FINISH.get(finish, "stop")))
    usage = _chunk_usage(chunk)
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
        reasoning = _reasoning_of(message)
        if reasoning:
            events.append(ReasoningDelta(reasoning))
        events.extend(_content_events(message.get("content")))
        if message.get("annotations") and isinstance(message.get("content"), str):
            citations = UrlCitations()
            citations.text(message["content"])
            found = citations.annotate(message["annotations"])
            if found is not None:
                events.append(found)
        for index, call in enumerate(message.get("tool_calls") or []):
            events.append(_tool_call_event(call, index))
        events.append(Finish(_FINISH.get(choice.get("finish_reason") or "stop", "stop")))
    if body.get("usage"):
        events.append(UsageEvent(usage_from_wire(body["usage"])))
    return events


@dataclass(frozen=True, slots=True)
class StreamError:
    """An error a host reported inside a 200 stream. `status` is its HTTP-like status, if it gave one."""

    status: int | None
    message: str


def error_in_chunk(chunk: dict[str, Any]) -> StreamError | None:
    """The error carried by a stream chunk, if any.

    Shapes seen: `{"error": {"message", "type", "code"}}` (OpenAI-style, OpenRouter adds
    `finish_reason: "error"` and puts the HTTP status in `code`; llama.cpp and vLLM too),
    and vLLM's older bare `{"object": "error", "message", "code"}`.
    """
    if isinstance(chunk.get("error"), dict):
        err = chunk["error"]
    elif isinstance(chunk.get("error"), str):
        err = {"message": chunk["error"]}
    elif chunk.get("object") == "error":
        err = chunk
    else:
        return None
    status: int | None = None
    for key in ("code", "status", "status_code"):
        value = err.get(key)
        if isinstance(value, int) and 400 <= value <= 599:
            status = value
            break
        if isinstance(value, str) and value.isdigit() and 400 <= int(value) <= 599:
            status = int(value)
            break
    if status is None:
        status = _ERROR_TYPE_STATUS.get(str(err.get("type") or err.get("code") or ""))
    message = err.get("message") or err.get("type") or "the provider reported an error mid-stream"
    return StreamError(status, str(message))


class SSEDecoder:
    """Bytes in, server-sent events out, synchronously, one network read at a time.

    The same rules as `adapters.sse.iter_sse` over httpx's `aiter_lines` (text decoded with
    invalid bytes replaced, lines split as str.splitlines splits them, `data:` lines joined
    with newlines, `event:` kept, comments skipped, a blank line ends an event), without
    two async generator hops per line: on this hot path those cost more than the parsing.
    """

    def __init__(self, charset: str = "utf-8") -> None:
        self._text = codecs.getincrementaldecoder(charset)(errors="replace")
        self._pending = ""  # a line whose break has not arrived yet
        self._event: str | None = None
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[SSEvent]:
        text = self._pending + self._text.decode(chunk)
        if not text:
            return []
        lines = text.splitlines()
        # keep an unfinished last line for the next read, and a final "\r" that a "\n" may follow
        end = text[-1]
        self._pending = lines.pop() + "\r" if end == "\r" else "" if end in _LINE_BREAKS else lines.pop()
        out: list[SSEvent] = []
        data = self._data
        for line in lines:
            if line.startswith("data:"):  # the common case, inline
                data.append(line[6:] if line[5:6] == " " else line[5:])
            else:
                self._line(line, out)
                data = self._data
        return out

    def close(self) -> list[SSEvent]:
        """The events still held when the body ends (one without its closing blank line included)."""
        rest, self._pending = self._pending + self._text.decode(b"", final=True), ""
        out: list[SSEvent] = []
        if rest:
            self._line(rest[:-1] if rest[-1] in _LINE_BREAKS else rest, out)
        if self._data:
            out.append(SSEvent(self._event, "\n".join(self._data)))
            self._event, self._data = None, []
        return out

    def _line(self, line: str, out: list[SSEvent]) -> None:
        if not line:
            if self._data:
                out.append(SSEvent(self._event, "\n".join(self._data)))
            self._event, self._data = None, []
            return
        if line[0] == ":":
            return
        name, _, value = line.partition(":")
        if value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
