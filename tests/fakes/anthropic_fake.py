"""A fake of Anthropic's POST /v1/messages, speaking its wire format, for tests over real HTTP.

    app = create_app(api_key="test-key")
    with serve(app) as base_url: ...

It checks the headers (x-api-key, anthropic-version) and the body the way the real API
does, answers whole Messages or SSE streams with `event:` lines, and records every body it
accepted in `app.state.requests` (and streams the client left in `app.state.disconnects`).

Behaviour by model name (MODELS below): any other name echoes the last user message.
Whatever the model, `thinking: {type: enabled}` puts a thinking block before the text, and
`tools` (unless tool_choice is none) answers with tool_use: one call for each tool named in
the last user message, else the first tool. A user turn that holds tool results is answered
"Tool said: ...". `stop_sequences` and `max_tokens` cut the text as upstream would.
The `web_search_20250305` server tool searches first: a server_tool_use block, a
web_search_tool_result listing SEARCH_RESULTS, then the text citing results 0 and 1
(streamed as citations_delta before its text deltas); result 2 is found but not cited.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

VERSION = "2023-06-01"

#: model name -> (HTTP status, Anthropic error type, message) answered before any stream
ERROR_MODELS: dict[str, tuple[int, str, str]] = {
    "error-400": (400, "invalid_request_error", "messages.0.content: Input should be a valid list"),
    "error-401": (401, "authentication_error", "invalid x-api-key"),
    "error-404": (404, "not_found_error", "model: error-404"),
    "error-429": (429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
    "error-500": (500, "api_error", "Internal server error"),
    "error-529": (529, "overloaded_error", "Overloaded"),
    "error-context": (400, "invalid_request_error", "prompt is too long: 250000 tokens > 200000 maximum"),
}
RETRY_AFTER = "7"
WEB_SEARCH_TOOL_TYPE = "web_search_20250305"
#: what the server-side web search finds, as Anthropic lists it (cited_text: the passage quoted)
SEARCH_RESULTS = (
    {"url": "https://news.example/lantern-festival", "title": "Lantern festival news",
     "cited_text": "The Quillton lantern festival is held on the 14th of March."},
    {"url": "https://archive.example/quillton", "title": "Quillton archive",
     "cited_text": "Lanterns have lit the Quillton pier every March since 1901."},
    {"url": "https://other.example/unrelated", "title": "Unrelated page", "cited_text": "Nothing about lanterns."},
)

MODELS = {
    **{name: f"HTTP {status} {kind}" for name, (status, kind, _) in ERROR_MODELS.items()},
    "error-midstream": "message_start, text, then an `error` event (overloaded_error)",
    "cut-midstream": "message_start, text, then the body ends without message_stop",
    "drop-midstream": "message_start, text, then the connection is dropped mid-body",
    "stall-midstream": "message_start, then nothing until the client leaves",
    "hang": "no answer at all until the client leaves",
    "slow-long": "200 text deltas 20 ms apart (to test that closing early stops the stream)",
    "claude-cached": "like the echo model, with 5 input tokens read from the prompt cache",
}


def _error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_fake"}
    return JSONResponse(body, status_code=status, headers=headers)


def _sse(payload: dict[str, Any]) -> bytes:
    return f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n".encode()


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return " ".join(b.get("text", "") for b in content if b.get("type") == "text")


def _validate(body: Any) -> str | None:
    """What the real API would refuse with invalid_request_error, or None."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    if not isinstance(body.get("model"), str):
        return "model: Field required"
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or max_tokens < 1:
        return "max_tokens: Field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    for i, message in enumerate(messages):
        if message.get("role") not in ("user", "assistant"):
            return f"messages.{i}.role: Input should be 'user' or 'assistant'"
        content = message.get("content")
        if isinstance(content, list) and any(b.get("type") == "text" and not b.get("text") for b in content):
            return f"messages.{i}: text content blocks must be non-empty"
    for i in range(len(messages)):
        pending = [b["id"] for b in messages[i]["content"] if isinstance(b, dict) and b.get("type") == "tool_use"] \
            if messages[i]["role"] == "assistant" and isinstance(messages[i]["content"], list) else []
        if pending:
            nxt = messages[i + 1]["content"] if i + 1 < len(messages) else []
            given = {b.get("tool_use_id") for b in nxt if isinstance(b, dict) and b.get("type") == "tool_result"}
            if not set(pending) <= given:
                return (f"messages.{i + 1}: `tool_use` ids were found without `tool_result` blocks "
                        f"immediately after: {sorted(set(pending) - given)}")
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or budget < 1024:
            return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
        if budget >= max_tokens:
            return "`max_tokens` must be greater than `thinking.budget_tokens`"
        if body.get("temperature") not in (None, 1):
            return "`temperature` may only be set to 1 when thinking is enabled"
    for i, tool in enumerate(body.get("tools") or []):
        if tool.get("type", "custom") not in ("custom", WEB_SEARCH_TOOL_TYPE):
            return f"tools.{i}: Input tag '{tool.get('type')}' found using 'type' does not match any of the expected tags"
        if tool.get("type") == WEB_SEARCH_TOOL_TYPE and tool.get("name") != "web_search":
            return f"tools.{i}.name: Input should be 'web_search'"
    temperature = body.get("temperature")
    if temperature is not None and not 0 <= temperature <= 1:
        return "temperature: Input should be less than or equal to 1"
    return None


def _tool_calls(body: dict[str, Any], prompt: str) -> list[dict[str, Any]]:
    tools = [t for t in body.get("tools") or [] if t.get("type", "custom") == "custom"]  # not server tools
    choice = body.get("tool_choice") or {"type": "auto"}
    if not tools or choice.get("type") == "none":
        return []
    if choice.get("type") == "tool":
        chosen = [t for t in tools if t["name"] == choice.get("name")]
    else:
        chosen = [t for t in tools if t["name"] in prompt] or tools[:1]
    calls = []
    for n, tool in enumerate(chosen):
        props = (tool.get("input_schema") or {}).get("properties") or {}
        strings = [k for k, v in props.items() if v.get("type") == "string"]
        calls.append({"type": "tool_use", "id": f"toolu_fake{n}", "name": tool["name"],
                      "input": {strings[0]: prompt} if strings else {}})
    return calls


def _answer(body: dict[str, Any]) -> tuple[list[dict[str, Any]], str, dict[str, int]]:
    """(content blocks, stop_reason, usage) the model gives; deterministic."""
    last = body["messages"][-1]
    content = last["content"]
    results = [b for b in content if b.get("type") == "tool_result"] if isinstance(content, list) else []
    prompt = _text_of(content)
    blocks: list[dict[str, Any]] = []
    thinking = body.get("thinking") or {}
    if thinking.get("type") == "enabled":
        blocks.append({"type": "thinking", "thinking": f"The user wrote {len(prompt.split())} words.",
                       "signature": "sig_fake"})
    calls = [] if results else _tool_calls(body, prompt)
    if results:
        text = "Tool said: " + " ".join(_text_of(r.get("content") or "") for r in results)
    elif calls:
        text = "Let me call a tool."
    else:
        text = f"You said: {prompt}"
    stop_reason = "tool_use" if calls else "end_turn"
    for stop in body.get("stop_sequences") or []:
        if stop in text:
            text, stop_reason, calls = text[: text.index(stop)], "stop_sequence", []
    words = text.split(" ")
    if len(words) > body["max_tokens"]:
        words, stop_reason, calls = words[: body["max_tokens"]], "max_tokens", []
    searching = any(t.get("type") == WEB_SEARCH_TOOL_TYPE for t in body.get("tools") or []) and not results
    if searching:
        blocks += _search_blocks(prompt)
    text_block: dict[str, Any] = {"type": "text", "text": " ".join(words)}
    if searching:
        text_block["citations"] = [{"type": "web_search_result_location", "url": r["url"], "title": r["title"],
                                    "encrypted_index": "ZmFrZQ==", "cited_text": r["cited_text"]}
                                   for r in SEARCH_RESULTS[:2]]
    blocks.append(text_block)
    blocks.extend(calls)
    input_tokens = sum(len(_text_of(m["content"]).split()) for m in body["messages"])
    input_tokens += len(str(body.get("system") or "").split())
    cached = 5 if body["model"] == "claude-cached" else 0
    usage = {"input_tokens": input_tokens, "cache_creation_input_tokens": 0,
             "cache_read_input_tokens": cached, "output_tokens": len(words) + 2 * len(calls)}
    return blocks, stop_reason, usage


def _search_blocks(query: str) -> list[dict[str, Any]]:
    found = [{"type": "web_search_result", "url": r["url"], "title": r["title"],
              "encrypted_content": "ZmFrZQ==", "page_age": "March 1, 2026"} for r in SEARCH_RESULTS]
    return [{"type": "server_tool_use", "id": "srvtoolu_fake", "name": "web_search", "input": {"query": query}},
            {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_fake", "content": found}]


def _message(body: dict[str, Any], content: list[dict[str, Any]], stop_reason: str | None,
             usage: dict[str, int]) -> dict[str, Any]:
    return {"id": "msg_fake", "type": "message", "role": "assistant", "model": body["model"],
            "content": content, "stop_reason": stop_reason, "stop_sequence": None, "usage": usage}


def _block_events(index: int, block: dict[str, Any]) -> list[dict[str, Any]]:
    kind = block["type"]
    start: dict[str, Any]
    if kind == "text":
        start, pieces = {"type": "text", "text": ""}, block["text"].split(" ")
        deltas = [{"type": "citations_delta", "citation": c} for c in block.get("citations") or []]
        deltas += [{"type": "text_delta", "text": p if i == 0 else " " + p} for i, p in enumerate(pieces)]
    elif kind == "web_search_tool_result":
        start, deltas = block, []
    elif kind == "thinking":
        start, pieces = {"type": "thinking", "thinking": "", "signature": ""}, block["thinking"].split(" ")
        deltas = [{"type": "thinking_delta", "thinking": p if i == 0 else " " + p} for i, p in enumerate(pieces)]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
    else:  # tool_use, server_tool_use
        start = {"type": kind, "id": block["id"], "name": block["name"], "input": {}}
        raw = json.dumps(block["input"])
        cut = len(raw) // 2
        deltas = [{"type": "input_json_delta", "partial_json": part} for part in ("", raw[:cut], raw[cut:])]
    return ([{"type": "content_block_start", "index": index, "content_block": start}]
            + [{"type": "content_block_delta", "index": index, "delta": d} for d in deltas]
            + [{"type": "content_block_stop", "index": index}])


async def _wait_for_disconnect(request: Request, limit: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not await request.is_disconnected() and loop.time() < deadline:
        await asyncio.sleep(0.02)


def _stream(app: Starlette, body: dict[str, Any]) -> AsyncIterator[bytes]:
    model = body["model"]
    blocks, stop_reason, usage = _answer(body)
    start_usage = {**usage, "output_tokens": 1}

    async def events() -> AsyncIterator[bytes]:
        try:
            yield _sse({"type": "message_start", "message": _message(body, [], None, start_usage)})
            yield _sse({"type": "ping"})
            if model == "stall-midstream":
                await asyncio.sleep(60)
            if model == "slow-long":
                yield _sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
                for n in range(200):
                    await asyncio.sleep(0.02)
                    yield _sse({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": f"{n} "}})
                return
            for index, block in enumerate(blocks):
                for n, event in enumerate(_block_events(index, block)):
                    yield _sse(event)
                    if n == 2 and model in ("error-midstream", "cut-midstream", "drop-midstream"):
                        if model == "error-midstream":
                            yield _sse({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
                            return
                        if model == "cut-midstream":
                            return
                        raise ConnectionAbortedError("fake: dropping the connection mid-body")
            yield _sse({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                        "usage": {"output_tokens": usage["output_tokens"]}})
            yield _sse({"type": "message_stop"})
        except asyncio.CancelledError:
            app.state.disconnects.append(model)
            raise

    return events()


async def messages(request: Request) -> Response:
    app: Starlette = request.app
    key = request.headers.get("x-api-key")
    if not key:
        return _error(401, "authentication_error", "x-api-key header is required")
    if key != app.state.api_key:
        return _error(401, "authentication_error", "invalid x-api-key")
    if request.headers.get("anthropic-version") != VERSION:
        return _error(400, "invalid_request_error", "anthropic-version: header is required")
    try:
        body = json.loads(await request.body())
    except ValueError:
        return _error(400, "invalid_request_error", "There was an issue with the JSON body")
    problem = _validate(body)
    if problem:
        return _error(400, "invalid_request_error", problem)
    app.state.requests.append(body)
    app.state.headers.append(dict(request.headers))
    model = body["model"]
    if model in ERROR_MODELS:
        status, kind, message = ERROR_MODELS[model]
        return _error(status, kind, message, {"retry-after": RETRY_AFTER} if status == 429 else None)
    if model == "hang":
        await _wait_for_disconnect(request)
        app.state.disconnects.append(model)
        return _error(500, "api_error", "hung")
    if not body.get("stream"):
        blocks, stop_reason, usage = _answer(body)
        return JSONResponse(_message(body, blocks, stop_reason, usage), headers={"request-id": "req_fake"})
    return StreamingResponse(_stream(app, body), media_type="text/event-stream; charset=utf-8",
                             headers={"request-id": "req_fake", "cache-control": "no-cache"})


def create_app(*, api_key: str = "test-key") -> Starlette:
    app = Starlette(routes=[Route("/v1/messages", messages, methods=["POST"])])
    app.state.api_key = api_key
    app.state.requests = []
    app.state.headers = []
    app.state.disconnects = []
    return app
