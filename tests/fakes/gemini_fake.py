"""A fake of the Gemini API (v1beta generateContent and streamGenerateContent) as a Starlette app.

    app = create_app(api_key="test-key")
    with serve(app) as url:           # base URL for the provider: f"{url}/v1beta"
        ...
    app.state.requests                # every request: model, method, alt, api_key, body
    app.state.streams                 # every streamed answer: model, completed (False if cut short)

It speaks Google's shapes: SSE `data:` frames holding GenerateContentResponse JSON (with
`?alt=sse`, else one JSON array), cumulative usageMetadata in each chunk, finishReason on
the last, and errors as {"error": {"code", "message", "status", "details"}}. The key goes
in `x-goog-api-key` or `?key=`: none -> 403 PERMISSION_DENIED, a wrong one -> 400
INVALID_ARGUMENT (reason API_KEY_INVALID). Bodies are checked like Google does: empty
contents, bad roles, empty parts and unknown field names -> 400 INVALID_ARGUMENT.

Behaviour by model name:
    (any other name)   answers "Echo: <last user text>" in chunks of two words
    *thinking*         thinks (thoughtsTokenCount) unless thinkingBudget is 0, and sends
                       thought parts first when includeThoughts is set
    *-pro*             cannot stop thinking, as Gemini 2.5 Pro: thinkingBudget 0 -> 400 INVALID_ARGUMENT
    gemini-3*          rejects replayed functionCall parts without a thoughtSignature
    (google_search)    a tool {"google_search": {}} (or "googleSearch") grounds the answer: the last
                       chunk carries groundingMetadata with GROUNDING_SOURCES and supports
                       tying the question's text to sources 0 and 1, the whole answer to 0
                       (source 2 is retrieved but supports nothing)
    (tools declared)   calls a function (the first allowed or declared one) with
                       {first property: last user text}, unless mode is NONE or the last
                       turn is a functionResponse, which it answers with "Result: <json>"
    error-400|403|404|429|500|503|504   that error (429 carries a RetryInfo of 7s)
    missing-*          404 NOT_FOUND, as for a model that does not exist
    blocked            200 with promptFeedback.blockReason SAFETY and no candidates
    safety             one chunk, then finishReason SAFETY
    stream-cut         two chunks, then the connection drops mid-body
    stream-no-finish   the stream ends cleanly without any finishReason
    stream-error       a 200 stream that carries a 503 error object after one chunk
    slow               twenty chunks, 50 ms apart (for early-close tests)
    hang               never answers, until the client goes away
    hang-mid           one chunk, then silence until the client goes away
maxOutputTokens truncates the answer (one word is one token) with MAX_TOKENS;
stopSequences cut it with STOP.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

REQUEST_FIELDS = {"contents", "systemInstruction", "tools", "toolConfig", "generationConfig",
                  "safetySettings", "cachedContent"}
GENERATION_FIELDS = {"stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema",
                     "responseModalities", "candidateCount", "maxOutputTokens", "temperature", "topP",
                     "topK", "seed", "presencePenalty", "frequencyPenalty", "responseLogprobs",
                     "logprobs", "thinkingConfig", "mediaResolution", "speechConfig"}
THINKING_FIELDS = {"thinkingBudget", "includeThoughts", "thinkingLevel"}
TOOL_FIELDS = {"functionDeclarations", "google_search", "googleSearch", "google_search_retrieval",
               "googleSearchRetrieval", "codeExecution", "code_execution", "url_context", "urlContext"}
#: what a grounded answer cites, as Google sends it: redirect URIs, domain titles
GROUNDING_SOURCES = (
    {"uri": "https://vertexaisearch.cloud.google.com/grounding-api-redirect/lantern", "title": "news.example"},
    {"uri": "https://vertexaisearch.cloud.google.com/grounding-api-redirect/quillton", "title": "archive.example"},
    {"uri": "https://vertexaisearch.cloud.google.com/grounding-api-redirect/unrelated", "title": "other.example"},
)
STATUS_NAMES = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
MESSAGES = {
    400: "Request contains an invalid argument.",
    403: "The caller does not have permission",
    429: "You exceeded your current quota, please check your plan and billing details.",
    500: "An internal error has occurred. Please retry or report in "
         "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
    504: "Deadline expired before operation could complete.",
}


class BadRequest(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def google_error(code: int, message: str, details: list[dict[str, Any]] | None = None) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message, "status": STATUS_NAMES.get(code, "UNKNOWN")}
    if details:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=code)


def words(text: str) -> int:
    return len(text.split())


# ---- request checks -----------------------------------------------------------


def check_body(body: Any, model: str) -> None:
    if not isinstance(body, dict):
        raise BadRequest("Invalid JSON payload received. Expected an object.")
    for name in body:
        if name not in REQUEST_FIELDS:
            raise BadRequest(f'Invalid JSON payload received. Unknown name "{name}": Cannot find field.')
    config = body.get("generationConfig") or {}
    for name in config:
        if name not in GENERATION_FIELDS:
            raise BadRequest(f'Invalid JSON payload received. Unknown name "{name}" at '
                             f"'generation_config': Cannot find field.")
    for name in config.get("thinkingConfig") or {}:
        if name not in THINKING_FIELDS:
            raise BadRequest(f'Invalid JSON payload received. Unknown name "{name}" at '
                             f"'generation_config.thinking_config': Cannot find field.")
    if "-pro" in model and (config.get("thinkingConfig") or {}).get("thinkingBudget") == 0:
        raise BadRequest("Budget 0 is invalid. This model only works in thinking mode.")
    contents = body.get("contents")
    if not contents:
        raise BadRequest("* GenerateContentRequest.contents: contents is not specified")
    for i, content in enumerate(contents):
        if content.get("role", "user") not in ("user", "model"):
            raise BadRequest("Please use a valid role: user, model.")
        if not content.get("parts"):
            raise BadRequest(f"* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty.")
        if "gemini-3" in model and content.get("role") == "model":
            calls = [p for p in content["parts"] if "functionCall" in p]
            if calls and not calls[0].get("thoughtSignature"):
                raise BadRequest(f"Function call is missing a thought_signature in functionCall parts. "
                                 f"Content block index: {i}.")
    for tool in body.get("tools") or []:
        for name in tool:
            if name not in TOOL_FIELDS:
                raise BadRequest(f'Invalid JSON payload received. Unknown name "{name}" at \'tools[0]\': '
                                 "Cannot find field.")
        if "google_search_retrieval" in tool or "googleSearchRetrieval" in tool:
            raise BadRequest("google_search_retrieval is not supported for this model. "
                             "Please use google_search tool instead.")
        for declaration in tool.get("functionDeclarations") or []:
            if "parameters" in declaration and "parametersJsonSchema" in declaration:
                raise BadRequest("parameters and parametersJsonSchema are mutually exclusive.")


# ---- answers ------------------------------------------------------------------


def last_user_text(contents: list[dict[str, Any]]) -> str:
    for content in reversed(contents):
        if content.get("role", "user") == "user":
            texts = [p["text"] for p in content["parts"] if "text" in p]
            if texts:
                return " ".join(texts)
    return ""


def prompt_tokens(body: dict[str, Any]) -> int:
    parts = [p for c in body["contents"] for p in c["parts"]]
    parts += (body.get("systemInstruction") or {}).get("parts") or []
    return sum(words(p.get("text", "")) or 1 for p in parts)


def plan(model: str, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str, dict[str, int]]:
    """The parts to send (in order), the finishReason and the final token counts."""
    config = body.get("generationConfig") or {}
    thinking = config.get("thinkingConfig") or {}
    contents = body["contents"]
    question = last_user_text(contents)
    parts: list[dict[str, Any]] = []
    thoughts = 0
    if "thinking" in model and thinking.get("thinkingBudget", -1) != 0:
        thought = f"The user wrote {question!r}. I will echo it back plainly."
        thoughts = words(thought)
        if thinking.get("includeThoughts"):
            parts.append({"text": thought, "thought": True})

    last_parts = contents[-1]["parts"]
    answered = [p["functionResponse"] for p in last_parts if "functionResponse" in p]
    declared = [d for t in body.get("tools") or [] for d in t.get("functionDeclarations") or []]
    calling = (body.get("toolConfig") or {}).get("functionCallingConfig") or {}
    if declared and not answered and calling.get("mode", "AUTO") != "NONE":
        name = (calling.get("allowedFunctionNames") or [declared[0]["name"]])[0]
        decl = next(d for d in declared if d["name"] == name)
        schema = decl.get("parametersJsonSchema") or decl.get("parameters") or {}
        props = list((schema.get("properties") or {}).keys())
        args = {props[0]: question} if props else {}
        parts.append({"functionCall": {"name": name, "args": args}, "thoughtSignature": "ZmFrZS1zaWduYXR1cmU="})
        return parts, "STOP", {"thoughts": thoughts, "candidates": 5}

    text = f"Result: {json.dumps(answered[0]['response'])}" if answered else f"Echo: {question}"
    reason = "STOP"
    for stop in config.get("stopSequences") or []:
        if stop in text:
            text = text[: text.index(stop)]
    limit = config.get("maxOutputTokens")
    if limit is not None and words(text) > limit:
        text, reason = " ".join(text.split()[:limit]), "MAX_TOKENS"
    tokens = text.split()
    for i in range(0, len(tokens), 2):
        parts.append({"text": " ".join(tokens[i:i + 2]) + (" " if i + 2 < len(tokens) else "")})
    return parts, reason, {"thoughts": thoughts, "candidates": len(tokens)}


def chunk(model: str, response_id: str, parts: list[dict[str, Any]], usage: dict[str, int],
          finish: str | None = None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model, "responseId": response_id}


def usage(prompt: int, candidates: int, thoughts: int) -> dict[str, int]:
    meta = {"promptTokenCount": prompt, "candidatesTokenCount": candidates,
            "totalTokenCount": prompt + candidates + thoughts}
    if thoughts:
        meta["thoughtsTokenCount"] = thoughts
    return meta


def answer_chunks(model: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The whole answer as stream chunks, usage growing as Google reports it."""
    response_id = uuid.uuid4().hex[:20]
    prompt = prompt_tokens(body)
    if model == "blocked":
        return [{"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": []},
                 "usageMetadata": usage(prompt, 0, 0), "modelVersion": model, "responseId": response_id}]
    parts, reason, counts = plan(model, body)
    if model == "slow":
        parts = [{"text": f"tick{i} "} for i in range(20)]
    out: list[dict[str, Any]] = []
    sent = 0
    for index, part in enumerate(parts):
        sent += 0 if part.get("thought") or "functionCall" in part else words(part["text"])
        last = index == len(parts) - 1
        candidates = counts["candidates"] if last else sent
        out.append(chunk(model, response_id, [part], usage(prompt, candidates, counts["thoughts"]),
                         reason if last else None))
    if model == "safety":
        out = out[:1] + [chunk(model, response_id, [], usage(prompt, sent, 0), "SAFETY")]
    if grounded(body) and out and "candidates" in out[-1]:
        answer = "".join(p["text"] for p in parts if "text" in p and not p.get("thought"))
        out[-1]["candidates"][0]["groundingMetadata"] = grounding(answer, last_user_text(body["contents"]))
    return out


def grounded(body: dict[str, Any]) -> bool:
    return any("google_search" in t or "googleSearch" in t for t in body.get("tools") or [])


def grounding(answer: str, question: str) -> dict[str, Any]:
    """Google's groundingMetadata for `answer`: segment offsets in UTF-8 bytes, as Google counts them."""
    supports = []
    encoded = answer.encode("utf-8")
    start = encoded.find(question.encode("utf-8")) if question else -1
    if start >= 0:
        segment = {"startIndex": start, "endIndex": start + len(question.encode("utf-8")), "text": question}
        supports.append({"segment": segment, "groundingChunkIndices": [0, 1], "confidenceScores": [0.9, 0.7]})
    if answer:  # proto JSON leaves out a startIndex of 0
        supports.append({"segment": {"endIndex": len(encoded), "text": answer}, "groundingChunkIndices": [0],
                         "confidenceScores": [0.8]})
    return {
        "webSearchQueries": [question],
        "searchEntryPoint": {"renderedContent": "<div class=\"container\">search suggestions</div>"},
        "groundingChunks": [{"web": dict(source)} for source in GROUNDING_SOURCES],
        "groundingSupports": supports,
    }


# ---- the app ------------------------------------------------------------------


def create_app(api_key: str = "test-key") -> Starlette:
    async def generate(request: Request) -> Response:
        target = request.path_params["target"]
        model, _, method = target.rpartition(":")
        supplied = request.headers.get("x-goog-api-key") or request.query_params.get("key")
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        request.app.state.requests.append({"model": model, "method": method, "alt": request.query_params.get("alt"),
                                           "api_key": supplied, "body": body})
        if method not in ("generateContent", "streamGenerateContent"):
            return google_error(404, f"Method {method!r} not found.")
        if not supplied:
            return google_error(403, "Method doesn't allow unregistered callers (callers without established "
                                     "identity). Please use API Key or other form of API consumer identity "
                                     "to call this API.")
        if supplied != api_key:
            return google_error(400, "API key not valid. Please pass a valid API key.", [
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                 "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}}])
        if model.startswith("error-"):
            code = int(model.removeprefix("error-"))
            if code == 404:
                return not_found(model)
            retry = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}
            details = [retry] if code == 429 else None
            return google_error(code, MESSAGES.get(code, "error"), details)
        if model.startswith("missing-"):
            return not_found(model)
        if body is None:
            return google_error(400, "Invalid JSON payload received.")
        try:
            check_body(body, model)
        except BadRequest as exc:
            return google_error(400, exc.message)
        if model == "hang":
            await wait_for_disconnect(request)
            return Response(status_code=499)
        chunks = answer_chunks(model, body)
        if method == "generateContent":
            return JSONResponse(merge(chunks))
        sse = request.query_params.get("alt") == "sse"
        if model == "stream-cut" and sse:
            return CutStream(chunks[:2])
        return StreamingResponse(stream(request, model, chunks, sse),
                                 media_type="text/event-stream" if sse else "application/json")

    app = Starlette(routes=[Route("/v1beta/models/{target:path}", generate, methods=["POST"])])
    app.state.requests = []
    app.state.streams = []
    return app


def not_found(model: str) -> JSONResponse:
    return google_error(404, f"models/{model} is not found for API version v1beta, or is not supported for "
                             "generateContent. Call ListModels to see the list of available models and their "
                             "supported methods.")


def merge(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """The unary answer: every chunk's parts in one candidate, the last chunk's usage and finish."""
    whole = dict(chunks[-1])
    if "candidates" in whole:
        candidate = dict(whole["candidates"][0])
        parts = [p for c in chunks for p in c["candidates"][0]["content"]["parts"]]
        candidate["content"] = {"role": "model", "parts": parts}
        whole["candidates"] = [candidate]
    return whole


class CutStream(Response):
    """Sends some SSE frames of a chunked body, then returns without finishing it: the server
    drops the connection mid-body, as a proxy or a crashed backend would."""

    def __init__(self, chunks: list[dict[str, Any]]) -> None:
        super().__init__(media_type="text/event-stream")
        self.chunks = chunks

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")]})
        for item in self.chunks:
            await send({"type": "http.response.body", "body": f"data: {json.dumps(item)}\r\n\r\n".encode(),
                        "more_body": True})


async def wait_for_disconnect(request: Request, limit: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline and not await request.is_disconnected():
        await asyncio.sleep(0.02)


async def stream(request: Request, model: str, chunks: list[dict[str, Any]], sse: bool) -> AsyncIterator[bytes]:
    record = {"model": model, "completed": False}
    request.app.state.streams.append(record)
    try:
        if not sse:  # without alt=sse Google streams one JSON array
            yield json.dumps(chunks).encode()
            record["completed"] = True
            return
        for index, item in enumerate(chunks):
            if model == "stream-no-finish":
                item["candidates"][0].pop("finishReason", None)
            yield f"data: {json.dumps(item)}\r\n\r\n".encode()
            if model == "stream-error" and index == 0:
                error = {"error": {"code": 503, "message": MESSAGES[503], "status": "UNAVAILABLE"}}
                yield f"data: {json.dumps(error)}\r\n\r\n".encode()
                return
            if model == "hang-mid":  # Starlette cancels this when the client goes away
                await asyncio.sleep(30)
            if model == "slow":
                await asyncio.sleep(0.05)
        record["completed"] = True
    finally:
        record["finished"] = True
