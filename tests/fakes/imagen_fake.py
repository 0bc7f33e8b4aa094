"""A fake of Imagen through the Gemini API (`POST /v1beta/models/{model}:predict`), real HTTP.

    app = create_app(api_key="test-key")
    with serve(app) as url:           # base URL for the provider: f"{url}/v1beta"
        ...
    app.state.requests                # every request: model, api_key, body

Models: imagen-4.0-generate-001, imagen-4.0-ultra-generate-001 (imageSize 1K|2K) and
imagen-4.0-fast-generate-001 (1K only: imageSize is refused); any other name is 404 NOT_FOUND.
The key goes in `x-goog-api-key` or `?key=`: none -> 403 PERMISSION_DENIED, a wrong one ->
400 INVALID_ARGUMENT (reason API_KEY_INVALID), as the Gemini API answers.

The body is checked as Google does: exactly one instance with a non-empty prompt;
parameters sampleCount 1-4 (default 4), aspectRatio 1:1|3:4|4:3|9:16|16:9, personGeneration
dont_allow|allow_adult|allow_all, imageSize; seed, negativePrompt and addWatermark are
refused ("not supported in Gemini API"), any other name is an unknown field. The answer is
`{"predictions": [{"mimeType": "image/png", "bytesBase64Encoded": ...}]}` with real PNGs
(a solid colour from the prompt's hash) at Imagen's sizes (1K 16:9 is 1408x768; 2K doubles).

Triggers in the prompt:
    trigger-429         429 RESOURCE_EXHAUSTED with a RetryInfo of 7s
    trigger-500 / trigger-503   that error
    trigger-broken      200 whose image bytes are not an image
    trigger-filtered    200 with `{}`: every image removed by the safety filters
    trigger-partial     200 with the first image replaced by a raiFilteredReason
    trigger-hang        never answers; when the client goes away the prompt lands in
                        `app.state.disconnects`
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.gemini_fake import MESSAGES, google_error
from tests.fakes.openai_images_fake import picture

MODELS = {"imagen-4.0-generate-001": ("1K", "2K"), "imagen-4.0-ultra-generate-001": ("1K", "2K"),
          "imagen-4.0-fast-generate-001": ("1K",)}
SIZES_1K = {"1:1": (1024, 1024), "3:4": (896, 1280), "4:3": (1280, 896), "9:16": (768, 1408), "16:9": (1408, 768)}
PERSON_GENERATION = ("dont_allow", "allow_adult", "allow_all")
KNOWN = {"sampleCount", "aspectRatio", "personGeneration", "imageSize", "outputOptions", "includeRaiReason",
         "language", "safetySetting"}
NOT_IN_GEMINI_API = {"seed", "negativePrompt", "addWatermark", "enhancePrompt"}
HANG_LIMIT_SECONDS = 30.0


class BadRequest(Exception):
    pass


def plan(body: Any, model: str) -> tuple[str, int, int, int]:
    """(prompt, n, width, height) for a valid body; BadRequest otherwise."""
    if not isinstance(body, dict):
        raise BadRequest("Invalid JSON payload received. Expected an object.")
    for name in body:
        if name not in ("instances", "parameters"):
            raise BadRequest(f'Invalid JSON payload received. Unknown name "{name}": Cannot find field.')
    instances = body.get("instances")
    if not isinstance(instances, list) or len(instances) != 1 or not isinstance(instances[0], dict):
        raise BadRequest("Only one instance (prompt) is supported per request.")
    prompt = instances[0].get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise BadRequest("The prompt is empty.")
    parameters = body.get("parameters") or {}
    for name in parameters:
        if name in NOT_IN_GEMINI_API:
            raise BadRequest(f"{name} parameter is not supported in Gemini API.")
        if name not in KNOWN:
            raise BadRequest(f'Invalid JSON payload received. Unknown name "{name}" at \'parameters\'.')
    n = parameters.get("sampleCount", 4)
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 4:
        raise BadRequest(f"Number of images must be in the range [1, 4], but got {n}.")
    ratio = parameters.get("aspectRatio", "1:1")
    if ratio not in SIZES_1K:
        raise BadRequest(f"Unsupported aspect ratio: {ratio}. Supported: {', '.join(SIZES_1K)}.")
    person = parameters.get("personGeneration", "allow_adult")
    if person not in PERSON_GENERATION:
        raise BadRequest(f"Unsupported personGeneration: {person}.")
    tiers = MODELS[model]
    if "imageSize" in parameters and len(tiers) == 1:
        raise BadRequest(f"imageSize is not supported for {model}.")
    size = parameters.get("imageSize", "1K")
    if size not in tiers:
        raise BadRequest(f"Unsupported imageSize: {size}. Supported: {', '.join(tiers)}.")
    width, height = SIZES_1K[ratio]
    scale = 2 if size == "2K" else 1
    return prompt, n, width * scale, height * scale


async def hang(request: Request, prompt: str) -> Response:
    deadline = time.monotonic() + HANG_LIMIT_SECONDS
    while time.monotonic() < deadline:
        if await request.is_disconnected():
            request.app.state.disconnects.append(prompt)
            break
        await asyncio.sleep(0.02)
    return google_error(504, MESSAGES[504])


async def predict(request: Request) -> Response:
    state = request.app.state
    model, _, method = request.path_params["target"].rpartition(":")
    supplied = request.headers.get("x-goog-api-key") or request.query_params.get("key")
    raw = await request.body()
    try:
        body: Any = json.loads(raw) if raw else {}
    except ValueError:
        body = None
    state.requests.append({"model": model, "method": method, "api_key": supplied, "body": body})
    if method != "predict":
        return google_error(404, f"Method {method!r} not found.")
    if not supplied:
        return google_error(403, "Method doesn't allow unregistered callers (callers without established identity). "
                                 "Please use API Key or other form of API consumer identity to call this API.")
    if supplied != state.api_key:
        return google_error(400, "API key not valid. Please pass a valid API key.", [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
             "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}}])
    if model not in MODELS:
        return google_error(404, f"models/{model} is not found for API version v1beta, or is not supported "
                                 "for predict. Call ListModels to see the list of available models and their "
                                 "supported methods.")
    try:
        prompt, n, width, height = plan(body, model)
    except BadRequest as exc:
        return google_error(400, str(exc))

    if "trigger-hang" in prompt:
        return await hang(request, prompt)
    if "trigger-429" in prompt:
        return google_error(429, MESSAGES[429], [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                                   "retryDelay": "7s"}])
    for status in (500, 503):
        if f"trigger-{status}" in prompt:
            return google_error(status, MESSAGES[status])
    if "trigger-filtered" in prompt:
        return JSONResponse({})

    predictions: list[dict[str, Any]] = []
    for index in range(n):
        if index == 0 and "trigger-partial" in prompt:
            predictions.append({"raiFilteredReason": "This image was removed by the safety filter (fake)."})
            continue
        data = await asyncio.to_thread(picture, prompt, index, width, height, "PNG")
        if "trigger-broken" in prompt:
            data = b"\x89PNG but not really"
        predictions.append({"mimeType": "image/png", "bytesBase64Encoded": base64.b64encode(data).decode()})
    return JSONResponse({"predictions": predictions})


def create_app(api_key: str = "test-key") -> Starlette:
    app = Starlette(routes=[Route("/v1beta/models/{target:path}", predict, methods=["POST"])])
    app.state.api_key = api_key
    app.state.requests = []
    app.state.disconnects = []
    return app
