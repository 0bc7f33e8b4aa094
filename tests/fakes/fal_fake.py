"""A fake of fal's queue API (queue.fal.run), as a real HTTP server for tests.

    app = create_app(api_key="fal_test")
    with serve(app) as base_url: ...

Endpoints, as documented: POST /{model_id} (the input as the JSON body) answers
{request_id, status, status_url, response_url, cancel_url}; GET /{app}/requests/{id}/status
(`?logs=1` adds logs) answers 202 while IN_QUEUE / IN_PROGRESS and 200 once COMPLETED;
GET /{app}/requests/{id} answers the model's output; PUT /{app}/requests/{id}/cancel answers
202 CANCELLATION_REQUESTED (400 ALREADY_COMPLETED). `{app}` is the model id's first two
segments (fal-ai/flux for fal-ai/flux/schnell), as on fal. `Authorization: Key` is checked;
errors are `{"detail": ...}`, validation errors `{"detail": [{loc, msg, type}]}` (422).

State machine: submitted IN_QUEUE at position 2; each status poll advances one step:
IN_QUEUE (position 1), IN_PROGRESS (a log line), IN_PROGRESS (a tqdm " 50%|" line), COMPLETED.
Images are real pictures at the asked size's aspect (tests/fakes/pictures.py), served by
this server (GET /files/{name}); an upscale is `scale` x its input.

Triggers in the prompt: trigger-fail (COMPLETED with `error`; the result is a 500),
trigger-500, trigger-429, trigger-balance (403 "Exhausted balance") at submit,
trigger-broken (the image file does not decode), trigger-stuck (IN_PROGRESS forever).
Recorded: app.state.requests (method, path, query, headers, body), app.state.cancels (ids),
app.state.file_requests (path, authorization).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes import pictures

FAIL_MESSAGE = "Runner crashed while generating: CUDA error: an illegal memory access (trigger-fail)"
NAMED_SIZES = {"square_hd": (1024, 1024), "square": (512, 512), "portrait_4_3": (768, 1024),
               "portrait_16_9": (576, 1024), "landscape_4_3": (1024, 768), "landscape_16_9": (1024, 576)}
STR, INT, BOOL, LIST, SIZE = ("str",), ("int", 0, 2**32 - 1), ("bool",), ("list",), ("image_size",)


def enum(*values: str) -> tuple[Any, ...]:
    return ("enum", values)


def ints(low: int, high: int) -> tuple[Any, ...]:
    return ("int", low, high)


def nums(low: float, high: float) -> tuple[Any, ...]:
    return ("num", low, high)


@dataclass(frozen=True)
class Model:
    fields: dict[str, tuple[Any, ...]]
    required: tuple[str, ...] = ("prompt",)
    default_format: str = "jpeg"
    min_pixels: int = 0


COMMON = {"prompt": STR, "image_size": SIZE, "seed": INT, "sync_mode": BOOL, "enable_safety_checker": BOOL}
MODELS: dict[str, Model] = {
    "fal-ai/flux-2-pro": Model({**COMMON, "safety_tolerance": enum("1", "2", "3", "4", "5"),
                                "output_format": enum("jpeg", "png", "webp")}),
    "fal-ai/flux-pro/v1.1": Model({**COMMON, "num_images": ints(1, 4), "output_format": enum("jpeg", "png"),
                                   "safety_tolerance": enum("1", "2", "3", "4", "5", "6"), "enhance_prompt": BOOL}),
    "fal-ai/flux/schnell": Model({**COMMON, "num_images": ints(1, 4), "num_inference_steps": ints(1, 12),
                                  "output_format": enum("jpeg", "png"), "acceleration": enum("none", "regular", "high")}),
    "fal-ai/recraft/v3/text-to-image": Model({"prompt": STR, "image_size": SIZE, "colors": LIST, "style_id": STR,
                                              "enable_safety_checker": BOOL,
                                              "style": enum("any", "realistic_image", "digital_illustration",
                                                            "vector_illustration")}, default_format="png"),
    "fal-ai/ideogram/v3": Model({**COMMON, "num_images": ints(1, 8), "negative_prompt": STR, "expand_prompt": BOOL,
                                 "rendering_speed": enum("TURBO", "BALANCED", "QUALITY"),
                                 "style": enum("AUTO", "GENERAL", "REALISTIC", "DESIGN")}, default_format="png"),
    "fal-ai/bytedance/seedream/v4/text-to-image": Model({**COMMON, "num_images": ints(1, 6), "max_images": ints(1, 6)},
                                                        default_format="png", min_pixels=960 * 960),
    "fal-ai/stable-diffusion-v35-large": Model({**COMMON, "negative_prompt": STR, "num_images": ints(1, 4),
                                                "num_inference_steps": ints(1, 50), "guidance_scale": nums(0, 20),
                                                "output_format": enum("jpeg", "png")}),
    "fal-ai/esrgan": Model({"image_url": STR, "scale": nums(1, 8), "tile": ints(0, 4096), "face": BOOL,
                            "model": enum("RealESRGAN_x4plus", "RealESRGAN_x2plus", "RealESRGAN_x4plus_anime_6B",
                                          "RealESRGAN_x4_v3", "RealESRGAN_x4_wdn_v3", "RealESRGAN_x4_anime_v3"),
                            "output_format": enum("png", "jpeg")}, required=("image_url",), default_format="png"),
}
HTTP_TRIGGERS: dict[str, tuple[int, str, dict[str, str]]] = {
    "trigger-500": (500, "Internal server error", {}),
    "trigger-429": (429, "Too many concurrent requests; try again shortly.", {"Retry-After": "3"}),
    "trigger-balance": (403, "User is locked. Reason: Exhausted balance. Top up your balance at "
                             "fal.ai/dashboard/billing.", {}),
}
SCRIPTS: dict[str, list[tuple[str, str | None]]] = {
    "ok": [("IN_QUEUE", None), ("IN_PROGRESS", "Loading the model weights"),
           ("IN_PROGRESS", " 50%|█████     | 2/4 [00:01<00:01,  2.00it/s]"), ("COMPLETED", None)],
    "fail": [("IN_QUEUE", None), ("IN_PROGRESS", "Loading the model weights"), ("COMPLETED", None)],
    "stuck": [("IN_QUEUE", None), ("IN_PROGRESS", " 10%|█         | 1/10 [00:01<00:09,  1.00it/s]")],
}


def detail(status: int, message: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status, headers=headers)


def check_input(model: Model, data: Any) -> list[dict[str, Any]]:
    """FastAPI-style validation errors ({loc, msg, type}), empty when the input is valid."""
    if not isinstance(data, dict):
        return [{"loc": ["body"], "msg": "value is not a valid dict", "type": "type_error.dict"}]
    errors = [{"loc": ["body", name], "msg": "field required", "type": "value_error.missing"}
              for name in model.required if name not in data]
    for name, value in data.items():
        rule = model.fields.get(name)
        problem = None
        if rule is None:
            problem = ("extra fields not permitted", "value_error.extra")
        elif rule[0] == "enum" and value not in rule[1]:
            problem = (f"value is not a valid enumeration member; permitted: {', '.join(map(repr, rule[1]))}",
                       "type_error.enum")
        elif rule[0] in ("int", "num") and (isinstance(value, bool) or not isinstance(value, (int, float))
                                            or (rule[0] == "int" and not isinstance(value, int))):
            problem = (f"value is not a valid {'integer' if rule[0] == 'int' else 'number'}", "type_error")
        elif rule[0] in ("int", "num") and not rule[1] <= value <= rule[2]:
            problem = (f"ensure this value is between {rule[1]} and {rule[2]}", "value_error.number")
        elif rule[0] == "str" and not isinstance(value, str):
            problem = ("str type expected", "type_error.str")
        elif rule[0] == "bool" and not isinstance(value, bool):
            problem = ("value could not be parsed to a boolean", "type_error.bool")
        elif rule[0] == "list" and not isinstance(value, list):
            problem = ("value is not a valid list", "type_error.list")
        elif rule[0] == "image_size":
            size = requested_size(value)
            if size is None:
                problem = (f"value is not a valid image size; permitted: {', '.join(NAMED_SIZES)} or "
                           "{width, height}", "type_error.enum")
            elif size[0] * size[1] < model.min_pixels or max(size) > 14142:
                problem = (f"the image must have at least {model.min_pixels} pixels", "value_error")
        if problem:
            errors.append({"loc": ["body", name], "msg": problem[0], "type": problem[1]})
    return errors


def requested_size(value: Any) -> tuple[int, int] | None:
    if isinstance(value, str):
        return NAMED_SIZES.get(value)
    if isinstance(value, dict) and all(isinstance(value.get(k), int) and value[k] > 0 for k in ("width", "height")):
        return value["width"], value["height"]
    return None


@dataclass
class FakeRequest:
    id: str
    model_id: str
    input: dict[str, Any]
    behaviour: str  # ok | fail | stuck | broken
    step: int = 0
    status: str = "IN_QUEUE"
    queue_position: int | None = 2
    logs: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] | None = None
    error: str | None = None
    canceled: bool = False

    @property
    def root(self) -> str:
        return "/".join(self.model_id.split("/")[:2])


class FalFake:
    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.queue: dict[str, FakeRequest] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        self.requests: list[dict[str, Any]] = []
        self.cancels: list[str] = []
        self.file_requests: list[dict[str, Any]] = []

    def advance(self, r: FakeRequest, base: str) -> None:
        if r.status == "COMPLETED":
            return
        script = SCRIPTS["ok" if r.behaviour == "broken" else r.behaviour]
        if r.step >= len(script):
            return  # stuck: stays where it is
        r.step += 1
        status, line = script[r.step - 1]
        r.status = status
        r.queue_position = 1 if status == "IN_QUEUE" else None
        if line:
            r.logs.append({"message": line, "level": "INFO", "source": "user", "timestamp": "2025-01-01T00:00:00Z"})
        if status == "COMPLETED":
            if r.behaviour == "fail":
                r.error = FAIL_MESSAGE
            else:
                r.result = self.make_result(r, base)

    def make_result(self, r: FakeRequest, base: str) -> dict[str, Any]:
        model = MODELS[r.model_id]
        fmt = r.input.get("output_format", model.default_format)
        images = []
        for index in range(int(r.input.get("num_images", 1))):
            if r.behaviour == "broken":
                data, mime, (w, h) = pictures.broken_png(), "image/png", (32, 32)
            elif "image_url" in r.input:
                data, mime = pictures.upscale(r.input["image_url"], float(r.input.get("scale", 2)), fmt)
                w, h = pictures.size_of(data)
            else:
                w, h = pictures.thumb_size(*(requested_size(r.input.get("image_size", "landscape_4_3")) or (4, 3)))
                data, mime = pictures.render(w, h, fmt=fmt, seed=index)
            name = f"{r.id}-{index}.{fmt}"
            self.files[name] = (data, mime)
            images.append({"url": f"{base}/files/{name}", "width": w, "height": h, "content_type": mime})
        if "image_url" in r.input:
            return {"image": images[0]}
        return {"images": images, "seed": r.input.get("seed", 4242), "has_nsfw_concepts": [False] * len(images),
                "prompt": r.input.get("prompt"), "timings": {"inference": 0.01}}

    def urls(self, r: FakeRequest, base: str) -> dict[str, str]:
        root = f"{base}/{r.root}/requests/{r.id}"
        return {"response_url": root, "status_url": f"{root}/status", "cancel_url": f"{root}/cancel"}

    def status_json(self, r: FakeRequest, base: str, with_logs: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"status": r.status, "request_id": r.id, **self.urls(r, base)}
        if r.status == "IN_QUEUE":
            body["queue_position"] = r.queue_position
        body["logs"] = list(r.logs) if with_logs and r.status != "IN_QUEUE" else None
        if r.status == "COMPLETED":
            body["metrics"] = {"inference_time": 0.01}
        if r.error:
            body["error"], body["error_type"] = r.error, "runner_disconnected"
        return body

    # -- HTTP ---------------------------------------------------------------------

    async def record(self, request: Request) -> Any:
        raw = await request.body()
        try:
            body = await request.json() if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.requests.append({"method": request.method, "path": request.url.path, "query": request.url.query,
                              "headers": dict(request.headers), "body": body})
        return body

    def authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Key {self.api_key}"

    def find(self, request: Request) -> FakeRequest | None:
        r = self.queue.get(request.path_params["id"])
        return r if r is not None and r.root == request.path_params["root"] else None

    async def submit(self, request: Request) -> Response:
        body = await self.record(request)
        if not self.authorized(request):
            return detail(401, "Authentication is required to access this application.")
        model_id = request.path_params["model_id"]
        model = MODELS.get(model_id)
        if model is None:
            return detail(404, f"Application '{model_id}' not found")
        errors = check_input(model, body)
        if errors:
            return detail(422, errors)
        prompt = str(body.get("prompt", ""))
        for trigger, (status, message, headers) in HTTP_TRIGGERS.items():
            if trigger in prompt:
                return detail(status, message, headers)
        behaviour = next((b for b in ("fail", "stuck", "broken") if f"trigger-{b}" in prompt), "ok")
        r = FakeRequest(id=secrets.token_hex(8), model_id=model_id, input=body, behaviour=behaviour)
        self.queue[r.id] = r
        base = str(request.base_url).rstrip("/")
        return JSONResponse({"status": "IN_QUEUE", "request_id": r.id, "queue_position": r.queue_position,
                             **self.urls(r, base)})

    async def status(self, request: Request) -> Response:
        await self.record(request)
        if not self.authorized(request):
            return detail(401, "Authentication is required to access this application.")
        r = self.find(request)
        if r is None:
            return detail(404, "Request not found")
        base = str(request.base_url).rstrip("/")
        self.advance(r, base)
        with_logs = request.query_params.get("logs") in ("1", "true")
        return JSONResponse(self.status_json(r, base, with_logs), status_code=200 if r.status == "COMPLETED" else 202)

    async def result(self, request: Request) -> Response:
        await self.record(request)
        if not self.authorized(request):
            return detail(401, "Authentication is required to access this application.")
        r = self.find(request)
        if r is None:
            return detail(404, "Request not found")
        if r.status != "COMPLETED":
            return detail(400, "Request is still in progress")
        if r.error:
            return detail(500, r.error)
        return JSONResponse(r.result)

    async def cancel(self, request: Request) -> Response:
        await self.record(request)
        if not self.authorized(request):
            return detail(401, "Authentication is required to access this application.")
        r = self.find(request)
        if r is None:
            return JSONResponse({"status": "NOT_FOUND"}, status_code=404)
        self.cancels.append(r.id)
        if r.status == "COMPLETED":
            return JSONResponse({"status": "ALREADY_COMPLETED"}, status_code=400)
        r.canceled, r.status, r.error = True, "COMPLETED", "Request was cancelled"
        return JSONResponse({"status": "CANCELLATION_REQUESTED"}, status_code=202)

    async def file(self, request: Request) -> Response:
        name = request.path_params["name"]
        self.file_requests.append({"path": request.url.path, "authorization": request.headers.get("authorization")})
        if name not in self.files:
            return Response("not found", status_code=404)
        data, mime = self.files[name]
        return Response(data, media_type=mime)


def create_app(api_key: str = "fal_test") -> Starlette:
    fake = FalFake(api_key)
    app = Starlette(routes=[
        Route("/files/{name}", fake.file, methods=["GET"]),
        Route("/{root:path}/requests/{id}/status", fake.status, methods=["GET"]),
        Route("/{root:path}/requests/{id}/cancel", fake.cancel, methods=["PUT"]),
        Route("/{root:path}/requests/{id}", fake.result, methods=["GET"]),
        Route("/{model_id:path}", fake.submit, methods=["POST"]),
    ])
    app.state.fake = fake
    app.state.requests = fake.requests
    app.state.cancels = fake.cancels
    app.state.file_requests = fake.file_requests
    app.state.queue = fake.queue
    return app
