"""A fake OpenAI chat-completions server (Starlette), served on 127.0.0.1 by `tests.fakes.server.serve`.

    app = create_app()                      # key "sk-fake-openai"; create_app(api_key=None) takes any
    with serve(app) as url:                 # point a provider at f"{url}/v1"
        ...
    app.state.requests[-1]                  # the last request body received (a dict)

Routes: POST /v1/chat/completions (streamed and whole), GET /v1/models. It speaks the
documented wire format: a stream's chunks share one id, the first delta carries
`role: assistant`, exactly one chunk sets `finish_reason`, with
`stream_options.include_usage` a last chunk has `choices: []` and the usage, then
`data: [DONE]`. Whole answers are `application/json` with `usage`. Errors use OpenAI's
shape `{"error": {"message", "type", "param", "code"}}`, labelled application/json.

Checks, in OpenAI's order: the bearer key (401), the JSON body and request (400
`invalid_request_error`: missing model/messages, empty messages, bad roles, a `tool`
message without a preceding tool call, stream_options without stream, tool_choice
without tools, temperature/top_p out of range; with `strict=True`, the default, any
top-level argument OpenAI does not know), then the model (404 `model_not_found`).

The model name picks the behaviour, so it works across processes:

    fake-echo               "You said: <last user message>", one word a chunk; honours
                            max_tokens/max_completion_tokens (finish "length") and `stop`
    fake-reasoner           `reasoning_content` deltas first (naming the reasoning_effort),
                            then the echo; usage has completion_tokens_details.reasoning_tokens
    fake-reasoner-alt       the same with the `reasoning` field (OpenRouter, Groq, Ollama)
    fake-thinker            the echo preceded by `<think>...</think>` inside `content` (as llama.cpp and
                            vLLM pass DeepSeek-R1 or Qwen3 through), three characters a chunk, so the
                            tags arrive split across chunks; no reasoning_tokens in the usage
    fake-tools              with `tools` (and tool_choice not "none"): one streamed call to the
                            chosen tool (tool_choice's, else the first), arguments
                            {<the tool's first required parameter, else "query">: <last user
                            message>}, finish "tool_calls"; after a
                            `tool` message: "Tool said: <its content>"; otherwise the echo
    fake-error-<status>     that HTTP status in OpenAI's error shape (429 adds Retry-After: 2);
                            fake-error-context: 400 with code context_length_exceeded
    fake-stream-cut         streams two chunks, then drops the connection (no finish, no [DONE])
    fake-stream-truncated   streams two chunks, then ends the body cleanly without finish or [DONE]
    fake-stream-error-<status>  streams two chunks, then an in-stream error object carrying
                            that status as `code` and `finish_reason: "error"` (OpenRouter's shape)
    fake-hang               never answers (until the client goes away)
    fake-slow-<ms>          the echo after <ms> ms before the first byte
    fake-drip-<ms>          the echo with <ms> ms between chunks
    fake-endless            streams "tick " every 10 ms until the client disconnects
    any name in `models`    the echo (as a vLLM or Ollama server would serve its models)

With `web_search_options` in the request (OpenAI's server-side search), the answer carries
`url_citation` annotations: source 1 spans the whole answer, source 2 the user's words in it
(`SEARCH_RESULTS`). Whole answers put them on `message.annotations`; streams send the first on
the last content delta and the second on an annotation-only delta after it, as hosts do.

Records (read them from the test thread): `app.state.requests` (bodies, newest last),
`app.state.request_headers` (header dicts), `app.state.completed` (streams sent to the
end), `app.state.disconnects` (model names of streams the client left early).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

FAKE_KEY = "sk-fake-openai"
BUILTIN_MODELS = ("fake-echo", "fake-reasoner", "fake-reasoner-alt", "fake-tools", "fake-hang", "fake-endless")
ROLES = ("system", "assistant", "user", "function", "tool", "developer")
KNOWN_PARAMS = frozenset("""model messages audio frequency_penalty function_call functions logit_bias logprobs
    max_completion_tokens max_tokens metadata modalities n parallel_tool_calls prediction presence_penalty
    prompt_cache_key reasoning_effort response_format safety_identifier seed service_tier stop store stream
    stream_options temperature tool_choice tools top_logprobs top_p user verbosity web_search_options""".split())
_NAMED = re.compile(r"fake-(echo|reasoner|reasoner-alt|thinker|tools|hang|endless|stream-cut|stream-truncated)")
_NUMBERED = re.compile(r"fake-(error|stream-error|slow|drip)-(\d+)")
_ERRORS: dict[int, tuple[str, str, str | None]] = {  # status -> (message, type, code)
    400: ("Invalid request (fake-error-400).", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    404: ("The model `fake-error-404` does not exist.", "invalid_request_error", "model_not_found"),
    429: ("Rate limit reached for requests. Please try again in 2s.", "requests", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request. Sorry about that!", "server_error", None),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
}
_ids = itertools.count(1)


class _StreamCut(Exception):
    """Raised mid-stream so that the server drops the connection without ending the body."""


def _error(status: int, message: str, type_: str = "invalid_request_error", *, param: str | None = None,
           code: str | None = None, headers: dict[str, str] | None = None) -> Response:
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return Response(orjson.dumps(body), status, headers=headers, media_type="application/json")


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


def _pieces(text: str) -> list[str]:
    """One "token" per word, trailing space kept, so joining the pieces gives the text back."""
    return re.findall(r"\S+\s*", text) or ([text] if text else [])


def _validate(body: Any, strict: bool) -> Response | None:
    """What OpenAI would answer 400 for, or None."""
    if not isinstance(body, dict):
        return _error(400, "We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.")
    if "model" not in body:
        return _error(400, "you must provide a model parameter")
    if strict and (unknown := next((name for name in body if name not in KNOWN_PARAMS), None)):
        return _error(400, f"Unrecognized request argument supplied: {unknown}")
    messages = body.get("messages")
    if messages is None:
        return _error(400, "Missing required parameter: 'messages'.", param="messages",
                      code="missing_required_parameter")
    if not isinstance(messages, list) or not messages:
        return _error(400, "Invalid 'messages': empty array. Expected an array with minimum length 1, but got "
                      "an empty array instead.", param="messages", code="empty_array")
    previous: dict[str, Any] = {}
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role is None:
            return _error(400, f"Missing required parameter: 'messages[{i}].role'.", param=f"messages[{i}].role",
                          code="missing_required_parameter")
        if role not in ROLES:
            return _error(400, f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', "
                          "'function', 'tool', and 'developer'.", param=f"messages[{i}].role", code="invalid_value")
        if role == "tool" and not previous.get("tool_calls"):
            return _error(400, "Invalid parameter: messages with role 'tool' must be a response to a "
                          "preceeding message with 'tool_calls'.", param=f"messages[{i}].role")
        previous = previous if role == "tool" else message
    if body.get("stream_options") is not None and not body.get("stream"):
        return _error(400, "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                      param="stream_options", code="invalid_value")
    if body.get("tool_choice") is not None and not body.get("tools"):
        return _error(400, "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
                      "specified.", param="tool_choice")
    for name, top in (("temperature", 2), ("top_p", 1)):
        value = body.get(name)
        if value is not None and not (isinstance(value, int | float) and 0 <= value <= top):
            return _error(400, f"Invalid '{name}': expected a number between 0 and {top}, but got {value!r} "
                          "instead.", param=name, code="invalid_value")
    return None


SEARCH_RESULTS = (("https://news.example/lantern-festival", "Lantern festival news"),
                  ("https://archive.example/quillton", "Quillton archive"))


def _annotations(answer: str) -> list[dict[str, Any]]:
    spans = ((0, len(answer)), (min(len("You said: "), len(answer)), len(answer)))
    return [{"type": "url_citation", "url_citation": {"url": url, "title": title, "start_index": start,
                                                      "end_index": end}}
            for (url, title), (start, end) in zip(SEARCH_RESULTS, spans, strict=True)]


@dataclass
class Plan:
    """What one answer consists of, rendered either as a stream or as a whole completion."""

    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    reasoning_field: str = "reasoning_content"
    tool_name: str | None = None
    tool_args: list[str] = field(default_factory=list)
    finish: str = "stop"
    prompt_tokens: int = 0
    delay_first: float = 0.0
    delay_each: float = 0.0
    ending: str = "normal"  # or the kind: stream-cut | stream-truncated | stream-error | endless
    error_status: int = 500
    annotations: list[dict[str, Any]] = field(default_factory=list)

    def usage(self) -> dict[str, Any]:
        completion = len(self.content) + len(self.reasoning) + len(self.tool_args)
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": len(self.reasoning), "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
        }


def _plan(kind: str, arg: int, body: dict[str, Any]) -> Plan:
    messages: list[dict[str, Any]] = body["messages"]
    last_user = next((_text(m) for m in reversed(messages) if m.get("role") == "user"), "")
    answer = f"You said: {last_user}" if last_user else "You said nothing."
    for stop in body.get("stop") or []:
        if isinstance(stop, str) and stop and stop in answer:
            answer = answer[: answer.index(stop)]
    plan = Plan(content=_pieces(answer), prompt_tokens=sum(len(_text(m).split()) + 3 for m in messages))
    tools = body.get("tools") or []
    if kind in ("reasoner", "reasoner-alt"):
        effort = body.get("reasoning_effort") or "medium"
        plan.reasoning = _pieces(f"The user wrote {len(last_user.split())} words; effort {effort}; answer plainly.")
        plan.reasoning_field = "reasoning" if kind == "reasoner-alt" else "reasoning_content"
    elif kind == "thinker":
        thought = f"<think>The user wrote {len(last_user.split())} words; answer plainly.</think>\n\n"
        text = thought + answer
        plan.content = [text[i:i + 3] for i in range(0, len(text), 3)]
    elif kind == "tools" and messages[-1].get("role") == "tool":
        plan.content = _pieces(f"Tool said: {_text(messages[-1])}")
    elif kind == "tools" and tools and body.get("tool_choice") != "none":
        choice = body.get("tool_choice")
        forced = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
        plan.tool_name = forced or tools[0].get("function", {}).get("name", "tool")
        chosen = next((t for t in tools if t.get("function", {}).get("name") == plan.tool_name), tools[0])
        required = chosen.get("function", {}).get("parameters", {}).get("required") or ["query"]
        args = orjson.dumps({required[0]: last_user}).decode()
        plan.tool_args = [args[i:i + 8] for i in range(0, len(args), 8)]
        plan.content, plan.finish = [], "tool_calls"
    elif kind == "slow":
        plan.delay_first = arg / 1000
    elif kind == "drip":
        plan.delay_each = arg / 1000
    elif kind in ("stream-cut", "stream-truncated", "stream-error", "endless"):
        plan.ending, plan.error_status = kind, arg or 500
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if isinstance(limit, int) and plan.content and limit < len(plan.content):
        plan.content, plan.finish = plan.content[:limit], "length"
    if "web_search_options" in body and plan.content:
        plan.annotations = _annotations("".join(plan.content))
    return plan


class _EventStream(StreamingResponse):
    """An SSE response that records whether it was sent to the end or the client left early."""

    def __init__(self, body: AsyncIterator[bytes], state: Any, model: str) -> None:
        super().__init__(body, media_type="text/event-stream", headers={"cache-control": "no-cache"})
        self._state, self._model, self._finished = state, model, False

    async def stream_response(self, send: Send) -> None:
        await super().stream_response(send)
        self._finished = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self._finished:
                self._state.completed += 1
            else:
                self._state.disconnects.append(self._model)
            aclose = getattr(self.body_iterator, "aclose", None)
            if aclose is not None:
                await aclose()


async def _stream(plan: Plan, model: str, include_usage: bool) -> AsyncIterator[bytes]:
    cid, created = f"chatcmpl-fake{next(_ids):06d}", int(time.time())

    def frame(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        chunk: dict[str, Any] = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                                 "system_fingerprint": "fp_fake",
                                 "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
        if include_usage:
            chunk["usage"] = None
        chunk.update(extra)
        return b"data: " + orjson.dumps(chunk) + b"\n\n"

    if plan.delay_first:
        await asyncio.sleep(plan.delay_first)
    deltas: list[dict[str, Any]] = [{plan.reasoning_field: piece} for piece in plan.reasoning]
    if plan.tool_name:
        deltas.append({"tool_calls": [{"index": 0, "id": f"call_fake{next(_ids):06d}", "type": "function",
                                       "function": {"name": plan.tool_name, "arguments": ""}}]})
        deltas += [{"tool_calls": [{"index": 0, "function": {"arguments": piece}}]} for piece in plan.tool_args]
    deltas += [{"content": piece} for piece in plan.content]
    if plan.annotations:  # one with the text it cites, one after it
        deltas[-1] = {**deltas[-1], "annotations": plan.annotations[:1]}
        deltas.append({"annotations": plan.annotations[1:]})
    first: dict[str, Any] = {"role": "assistant", "content": None if plan.tool_name else "", "refusal": None}
    if deltas and "tool_calls" in deltas[0]:  # OpenAI sends the call's id and name with the role
        first.update(deltas.pop(0))
    yield frame(first)
    for i, delta in enumerate(deltas):
        if plan.ending != "normal" and i == 2:
            break
        if plan.delay_each:
            await asyncio.sleep(plan.delay_each)
        yield frame(delta)
    if plan.ending == "endless":
        deadline = time.monotonic() + 60  # a bound, so a forgotten client cannot keep a server busy
        while time.monotonic() < deadline:
            await asyncio.sleep(0.01)
            yield frame({"content": "tick "})
    if plan.ending == "stream-cut":
        raise _StreamCut("fake-stream-cut: dropping the connection")
    if plan.ending == "stream-error":
        message, type_, _ = _ERRORS.get(plan.error_status, ("Provider returned error", "server_error", None))
        yield frame({"content": ""}, "error", error={"code": plan.error_status, "message": message, "type": type_})
    if plan.ending != "normal":
        return
    yield frame({}, plan.finish)
    if include_usage:
        yield frame({}, choices=[], usage=plan.usage())
    yield b"data: [DONE]\n\n"


def _completion(plan: Plan, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": "".join(plan.content) or None, "refusal": None,
                               "annotations": plan.annotations}
    if plan.reasoning:
        message[plan.reasoning_field] = "".join(plan.reasoning)
    if plan.tool_name:
        message["tool_calls"] = [{"id": f"call_fake{next(_ids):06d}", "type": "function",
                                  "function": {"name": plan.tool_name, "arguments": "".join(plan.tool_args)}}]
    return {"id": f"chatcmpl-fake{next(_ids):06d}", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "message": message, "logprobs": None,
                                         "finish_reason": plan.finish}],
            "usage": plan.usage(), "service_tier": "default", "system_fingerprint": "fp_fake"}


def _auth(request: Request) -> Response | None:
    key = request.app.state.api_key
    if key is None:
        return None
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer ") or not header[7:].strip():
        return _error(401, "You didn't provide an API key. You need to provide your API key in an Authorization "
                      "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")
    if header[7:].strip() != key:
        return _error(401, "Incorrect API key provided. You can find your API key at "
                      "https://platform.openai.com/account/api-keys.", code="invalid_api_key")
    return None


async def _wait_for_disconnect(request: Request, limit: float = 60.0) -> None:
    async def wait() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    with contextlib.suppress(asyncio.TimeoutError):  # bounded, so a forgotten client cannot pin the server
        await asyncio.wait_for(wait(), limit)


def _behaviour(model: str, served: tuple[str, ...]) -> tuple[str, int]:
    """(kind, number) for a model name; kind "" when no such model."""
    if named := _NAMED.fullmatch(model):
        return named.group(1), 0
    if numbered := _NUMBERED.fullmatch(model):
        return numbered.group(1), int(numbered.group(2))
    return ("echo", 0) if model in served else ("", 0)


async def chat_completions(request: Request) -> Response:
    state = request.app.state
    raw = await request.body()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        state.requests.append(body)
        state.request_headers.append(dict(request.headers))
    if (denied := _auth(request)) is not None:
        return denied
    if (invalid := _validate(body, state.strict)) is not None:
        return invalid
    model = str(body["model"])
    kind, arg = _behaviour(model, state.models)
    if model == "fake-error-context":
        return _error(400, "This model's maximum context length is 128000 tokens. However, your messages "
                      "resulted in 200000 tokens. Please reduce the length of the messages.",
                      param="messages", code="context_length_exceeded")
    if kind == "error" and 400 <= arg <= 599:
        message, type_, code = _ERRORS.get(arg, (f"Fake error {arg}.", "server_error", None))
        return _error(arg, message, type_, code=code, headers={"retry-after": "2"} if arg == 429 else None)
    if not kind or kind == "error":
        return _error(404, f"The model `{model}` does not exist or you do not have access to it.",
                      code="model_not_found")
    if kind == "hang":
        await _wait_for_disconnect(request)
        return _error(504, "fake-hang gave up waiting.", "server_error")
    plan = _plan(kind, arg, body)
    if body.get("stream"):
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return _EventStream(_stream(plan, model, include_usage), state, model)
    if plan.delay_first:
        await asyncio.sleep(plan.delay_first)
    return Response(orjson.dumps(_completion(plan, model)), media_type="application/json")


async def list_models(request: Request) -> Response:
    if (denied := _auth(request)) is not None:
        return denied
    names = [*BUILTIN_MODELS, *request.app.state.models]
    data = [{"id": name, "object": "model", "created": 1700000000, "owned_by": "easel-fake"} for name in names]
    return Response(orjson.dumps({"object": "list", "data": data}), media_type="application/json")


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return _error(status, f"Invalid URL ({request.method} {request.url.path})" if status in (404, 405)
                  else "The server had an error while processing your request.", "invalid_request_error")


def create_app(*, api_key: str | None = FAKE_KEY, models: Iterable[str] = (), strict: bool = True,
               history: int = 256) -> Starlette:
    """The fake. `api_key=None` accepts any key or none; `models` are extra names served as the echo;
    `strict=False` accepts unknown arguments (as most OpenAI-compatible servers do)."""
    app = Starlette(
        routes=[Route("/v1/chat/completions", chat_completions, methods=["POST"]),
                Route("/v1/models", list_models, methods=["GET"])],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.api_key = api_key
    app.state.models = tuple(models)
    app.state.strict = strict
    app.state.requests = deque(maxlen=history)
    app.state.request_headers = deque(maxlen=history)
    app.state.disconnects = deque(maxlen=history)
    app.state.completed = 0
    return app
