"""A fake of the OpenAI-style Images endpoint as OpenAI and xAI serve it (Starlette, real HTTP).

    app = create_app()                      # key "sk-fake-images"; create_app(api_key=None) takes any
    with serve(app) as url:                 # point a provider at f"{url}/v1"
        ...
    app.state.requests[-1]                  # the last body received (a dict)

Route: POST /v1/images/generations. The model name picks whose rules apply:

    gpt-image-1         OpenAI: n 1-10; size 1024x1024|1536x1024|1024x1536|auto (auto: 1024x1024);
                        quality auto|low|medium|high; output_format png|jpeg|webp; background
                        transparent|opaque|auto (transparent needs png or webp); moderation low|auto;
                        output_compression 0-100 (jpeg/webp only); refuses response_format. Answers
                        b64_json only, with size/quality/output_format/background and token `usage`
                        (output tokens per OpenAI's table: 272/1056/4160 for a square image).
    dall-e-3            OpenAI: n must be 1; size 1024x1024|1792x1024|1024x1792; quality standard|hd;
                        style vivid|natural; response_format url|b64_json (default url). PNG with
                        a revised_prompt.
    grok-imagine-image  xAI: n 1-10; aspect_ratio 1:1 3:4 4:3 9:16 16:9 2:3 3:2 9:19.5 19.5:9 9:20 20:9
                        1:2 2:1 auto; resolution 1k|2k; response_format url|b64_json (default url);
                        "Argument not supported" for size, quality and style. JPEG.
    anything else       404 model_not_found.

Checks, in OpenAI's order: the bearer key (401), the body (400 invalid_request_error, naming
the param), the model (404). Unknown top-level parameters are 400s.

Images are real files made with Pillow: a solid colour from the prompt's hash (each of n a
little different) at the size the model would make.

Triggers in the prompt:
    trigger-400         400 with code moderation_blocked (a safety refusal)
    trigger-429         429 rate_limit_exceeded with Retry-After: 3
    trigger-500 / trigger-503   that status in OpenAI's error shape
    trigger-broken      200 whose b64_json decodes to bytes that are not an image
    trigger-truncated   200 whose b64_json is the first half of a PNG
    trigger-url         200 with a `url` and no b64_json
    trigger-hang        never answers; when the client goes away, the prompt lands in
                        `app.state.disconnects`

Records: `app.state.requests` (bodies), `app.state.request_headers`, `app.state.disconnects`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import time
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

FAKE_KEY = "sk-fake-images"
HANG_LIMIT_SECONDS = 30.0
GPT_IMAGE_SIZES = ("1024x1024", "1536x1024", "1024x1536", "auto")
GPT_IMAGE_TOKENS = {"low": 272, "medium": 1056, "high": 4160}  # square; x1.5 for the other sizes
DALLE_SIZES = ("1024x1024", "1792x1024", "1024x1792")
XAI_RATIOS = ("1:1", "3:4", "4:3", "9:16", "16:9", "2:3", "3:2", "9:19.5", "19.5:9", "9:20", "20:9", "1:2", "2:1",
              "auto")
PARAMS = {
    "gpt-image-1": {"model", "prompt", "n", "size", "quality", "output_format", "output_compression", "background",
                    "moderation", "user", "stream", "partial_images"},
    "dall-e-3": {"model", "prompt", "n", "size", "quality", "style", "response_format", "user"},
    "grok-imagine-image": {"model", "prompt", "n", "response_format", "aspect_ratio", "resolution", "user"},
}


class BadRequest(Exception):
    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message, self.param, self.code = message, param, code


def error(status: int, message: str, type_: str, param: str | None = None, code: str | None = None,
          headers: dict[str, str] | None = None) -> Response:
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def picture(prompt: str, index: int, width: int, height: int, fmt: str) -> bytes:
    """A solid colour from the prompt's hash, in `fmt` (PNG, JPEG, WEBP)."""
    from PIL import Image

    digest = hashlib.sha256(f"{prompt}#{index}".encode()).digest()
    mode = "RGBA" if fmt == "PNG" else "RGB"
    colour = (digest[0], digest[1], digest[2], 255)[: len(mode)]
    out = io.BytesIO()
    Image.new(mode, (width, height), colour).save(out, format=fmt)
    return out.getvalue()


def xai_size(aspect_ratio: str, resolution: str) -> tuple[int, int]:
    """About one (1k) or four (2k) megapixels at the ratio, in multiples of 16."""
    if aspect_ratio == "auto":
        aspect_ratio = "1:1"
    a, b = (float(x) for x in aspect_ratio.split(":"))
    area = (1024 * 1024) * (4 if resolution == "2k" else 1)
    height = (area * b / a) ** 0.5
    return int(round(height * a / b / 16)) * 16, int(round(height / 16)) * 16


def _choice(body: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = body.get(name, default)
    if value not in allowed:
        raise BadRequest(f"Invalid value: '{value}'. Supported values are: "
                         f"{', '.join(repr(a) for a in allowed)}.", param=name, code="invalid_value")
    return str(value)


def _n(body: dict[str, Any], top: int) -> int:
    n = body.get("n", 1)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise BadRequest(f"Invalid 'n': integer below minimum value. Expected a value >= 1, but got {n} instead.",
                         param="n", code="integer_below_min_value")
    if n > top:
        raise BadRequest(f"Invalid 'n': integer above maximum value. Expected a value <= {top}, but got {n} "
                         "instead.", param="n", code="integer_above_max_value")
    return n


def plan(body: dict[str, Any]) -> tuple[int, int, int, str, dict[str, Any]]:
    """(n, width, height, Pillow format, answer fields) for a valid body; BadRequest otherwise."""
    model = body["model"]
    for name in body:
        if name not in PARAMS[model]:
            if model == "grok-imagine-image":
                raise BadRequest(f"Argument not supported: {name}", param=name)
            raise BadRequest(f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")
    if model == "gpt-image-1":
        n = _n(body, 10)
        size = _choice(body, "size", GPT_IMAGE_SIZES, "auto")
        quality = _choice(body, "quality", ("auto", "low", "medium", "high"), "auto")
        fmt = _choice(body, "output_format", ("png", "jpeg", "webp"), "png")
        background = _choice(body, "background", ("transparent", "opaque", "auto"), "auto")
        _choice(body, "moderation", ("low", "auto"), "auto")
        if background == "transparent" and fmt == "jpeg":
            raise BadRequest("Transparent background is not supported for the jpeg output format.",
                             param="background")
        if "output_compression" in body:
            level = body["output_compression"]
            if fmt == "png":
                raise BadRequest("Compression less than 100 is not supported for PNG output format.",
                                 param="output_compression")
            if not isinstance(level, int) or not 0 <= level <= 100:
                raise BadRequest("Invalid 'output_compression'.", param="output_compression")
        size = "1024x1024" if size == "auto" else size
        quality = "medium" if quality == "auto" else quality
        width, height = (int(x) for x in size.split("x"))
        tokens = GPT_IMAGE_TOKENS[quality] if width == height else GPT_IMAGE_TOKENS[quality] * 3 // 2
        words = len(str(body["prompt"]).split())
        usage = {"input_tokens": words, "input_tokens_details": {"image_tokens": 0, "text_tokens": words},
                 "output_tokens": tokens * n, "total_tokens": words + tokens * n}
        fields = {"background": "opaque" if background == "auto" else background, "output_format": fmt,
                  "quality": quality, "size": size, "usage": usage}
        return n, width, height, {"jpeg": "JPEG", "webp": "WEBP"}.get(fmt, "PNG"), fields
    if model == "dall-e-3":
        if body.get("n", 1) != 1:
            raise BadRequest("You must provide n=1 for this model.", param="n")
        size = _choice(body, "size", DALLE_SIZES, "1024x1024")
        _choice(body, "quality", ("standard", "hd"), "standard")
        _choice(body, "style", ("vivid", "natural"), "vivid")
        _choice(body, "response_format", ("url", "b64_json"), "url")
        width, height = (int(x) for x in size.split("x"))
        return 1, width, height, "PNG", {}
    n = _n(body, 10)
    ratio = _choice(body, "aspect_ratio", XAI_RATIOS, "1:1")
    resolution = _choice(body, "resolution", ("1k", "2k"), "1k")
    _choice(body, "response_format", ("url", "b64_json"), "url")
    width, height = xai_size(ratio, resolution)
    return n, width, height, "JPEG", {}


async def hang(request: Request, prompt: str) -> Response:
    deadline = time.monotonic() + HANG_LIMIT_SECONDS
    while time.monotonic() < deadline:
        if await request.is_disconnected():
            request.app.state.disconnects.append(prompt)
            break
        await asyncio.sleep(0.02)
    return Response(status_code=504)


async def generations(request: Request) -> Response:
    state = request.app.state
    state.request_headers.append(dict(request.headers))
    if state.api_key is not None and request.headers.get("authorization") != f"Bearer {state.api_key}":
        return error(401, "Incorrect API key provided.", "invalid_request_error", code="invalid_api_key")
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return error(400, "We could not parse the JSON body of your request.", "invalid_request_error")
    state.requests.append(body)
    if not isinstance(body, dict) or not isinstance(body.get("prompt"), str) or not body["prompt"].strip():
        return error(400, "Missing required parameter: 'prompt'.", "invalid_request_error", "prompt",
                     "missing_required_parameter")
    model = body.get("model")
    if model not in PARAMS:
        return error(404, f"The model '{model}' does not exist or you do not have access to it.",
                     "invalid_request_error", "model", "model_not_found")
    try:
        n, width, height, fmt, fields = plan(body)
    except BadRequest as exc:
        return error(400, exc.message, "invalid_request_error", exc.param, exc.code)

    prompt: str = body["prompt"]
    if "trigger-hang" in prompt:
        return await hang(request, prompt)
    if "trigger-400" in prompt:
        return error(400, "Your request was rejected as a result of our safety system.", "image_generation_user_error",
                     code="moderation_blocked")
    if "trigger-429" in prompt:
        return error(429, "Rate limit reached for images per minute.", "requests", code="rate_limit_exceeded",
                     headers={"retry-after": "3"})
    for status in (500, 503):
        if f"trigger-{status}" in prompt:
            return error(status, f"The server had an error while processing your request ({status}).",
                         "server_error")

    # gpt-image-1 always answers with bytes; the others send a URL unless asked for b64_json
    wants_url = "trigger-url" in prompt or (model != "gpt-image-1" and body.get("response_format", "url") == "url")
    items: list[dict[str, Any]] = []
    for index in range(n):
        if wants_url:
            items.append({"url": f"https://images.example.invalid/{index}.{fmt.lower()}"})
            continue
        data = await asyncio.to_thread(picture, prompt, index, width, height, fmt)
        if "trigger-broken" in prompt:
            data = b"this is not an image at all"
        elif "trigger-truncated" in prompt:
            data = data[: len(data) // 2]
        item: dict[str, Any] = {"b64_json": base64.b64encode(data).decode()}
        if model == "dall-e-3":
            item["revised_prompt"] = f"A detailed picture: {prompt}"
        elif model == "grok-imagine-image":
            item["revised_prompt"] = ""
        items.append(item)
    answer = {"created": int(time.time()), "data": items, **fields}
    return Response(orjson.dumps(answer), media_type="application/json",
                    headers={"x-request-id": f"req_fake_{len(state.requests)}"})


def create_app(api_key: str | None = FAKE_KEY) -> Starlette:
    app = Starlette(routes=[Route("/v1/images/generations", generations, methods=["POST"])])
    app.state.api_key = api_key
    app.state.requests = []
    app.state.request_headers = []
    app.state.disconnects = []
    return app
