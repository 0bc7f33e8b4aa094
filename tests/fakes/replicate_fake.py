"""A fake of Replicate's predictions API, as a real HTTP server for tests.

    app = create_app(api_token="r8_test")
    with serve(app) as base_url: ...

Endpoints, as documented: POST /v1/models/{owner}/{name}/predictions {"input"}, POST
/v1/predictions {"version", "input"}, GET /v1/predictions/{id}, POST /v1/predictions/{id}/cancel,
with `Authorization: Bearer` checked and errors in Replicate's problem shape ({title, detail,
status}). Outputs are file URLs this server serves itself (GET /files/{name}), real pictures at
the aspect the input asked for (tests/fakes/pictures.py), or an upscale by `scale`.

State machine: a prediction is created `starting`; each GET advances it one step
(`processing` with tqdm percentages appended to its logs, then `succeeded`). `Prefer: wait[=N]`
runs it server-side, a step every `step_seconds`, until it is terminal or N seconds passed.
Cancel sets `canceled`. Inputs are validated against each model's schema (MODELS); unlike the
real API, unknown input fields are refused too, so adapters cannot send typos unnoticed.

Triggers in the prompt: trigger-fail (the prediction fails with FAIL_MESSAGE), trigger-500,
trigger-429, trigger-402 (HTTP errors at create), trigger-broken (the output file is not an
image), trigger-stuck (stays `processing` forever). Recorded: app.state.requests (method,
path, headers, body), app.state.cancels (ids), app.state.file_requests (path, authorization).
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes import pictures

FAIL_MESSAGE = "CUDA out of memory. Tried to allocate 2.00 GiB (trigger-fail)"
AR11 = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")
COG_FORMATS = ("webp", "jpg", "png")
RECRAFT_SIZES = ("1024x1024", "1365x1024", "1024x1365", "1536x1024", "1024x1536", "1820x1024", "1024x1820",
                 "1024x2048", "2048x1024", "1434x1024", "1024x1434", "1024x1280", "1280x1024", "1024x1707",
                 "1707x1024")
STR, INT, BOOL, LIST = ("str",), ("int", 0, 2**32 - 1), ("bool",), ("list",)


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
    list_output: bool = False
    default_format: str = "webp"


MODELS: dict[str, Model] = {
    "black-forest-labs/flux-2-pro": Model({
        "prompt": STR, "input_images": LIST, "aspect_ratio": enum(*AR11, "custom", "match_input_image"),
        "resolution": enum("0.5 MP", "1 MP", "2 MP", "4 MP", "match_input_image"),
        "width": ints(256, 2048), "height": ints(256, 2048), "safety_tolerance": ints(1, 5), "seed": INT,
        "output_format": enum(*COG_FORMATS), "output_quality": ints(0, 100)}),
    "black-forest-labs/flux-schnell": Model({
        "prompt": STR, "aspect_ratio": enum(*AR11), "num_outputs": ints(1, 4), "num_inference_steps": ints(1, 4),
        "seed": INT, "output_format": enum(*COG_FORMATS), "output_quality": ints(0, 100),
        "disable_safety_checker": BOOL, "go_fast": BOOL, "megapixels": enum("1", "0.25")}, list_output=True),
    "google/imagen-4": Model({
        "prompt": STR, "aspect_ratio": enum("1:1", "9:16", "16:9", "3:4", "4:3"), "output_format": enum("jpg", "png"),
        "safety_filter_level": enum("block_low_and_above", "block_medium_and_above", "block_only_high")},
        default_format="jpg"),
    "ideogram-ai/ideogram-v3-turbo": Model({
        "prompt": STR, "aspect_ratio": enum("1:3", "3:1", "1:2", "2:1", "9:16", "16:9", "10:16", "16:10", "2:3", "3:2",
                                            "3:4", "4:3", "4:5", "5:4", "1:1"),
        "resolution": ("regex", r"None|\d{3,4}x\d{3,4}"), "magic_prompt_option": enum("Auto", "On", "Off"),
        "style_type": enum("None", "Auto", "General", "Realistic", "Design"), "seed": ints(0, 2147483647),
        "image": STR, "mask": STR, "style_reference_images": LIST}, default_format="png"),
    "bytedance/seedream-4": Model({
        "prompt": STR, "image_input": LIST, "size": enum("1K", "2K", "4K", "custom"),
        "aspect_ratio": enum("match_input_image", "1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3", "21:9"),
        "width": ints(1024, 4096), "height": ints(1024, 4096), "sequential_image_generation": enum("disabled", "auto"),
        "max_images": ints(1, 15), "enhance_prompt": BOOL}, list_output=True, default_format="jpg"),
    "recraft-ai/recraft-v3": Model({
        "prompt": STR, "size": enum(*RECRAFT_SIZES), "style": STR,
        "aspect_ratio": enum("Not set", "1:1", "4:3", "3:4", "3:2", "2:3", "16:9", "9:16", "1:2", "2:1", "7:5", "5:7",
                             "4:5", "5:4", "3:5", "5:3")}),
    "stability-ai/stable-diffusion-3.5-large": Model({
        "prompt": STR, "negative_prompt": STR, "aspect_ratio": enum(*AR11), "cfg": nums(1, 10), "image": STR,
        "prompt_strength": nums(0, 1), "seed": INT, "output_format": enum(*COG_FORMATS)}),
    "nightmareai/real-esrgan": Model({"image": STR, "scale": nums(0, 10), "face_enhance": BOOL},
                                     required=("image",), default_format="png"),
}
VERSIONS = {"f121d640bd286e1fdc67f9799164c1d5be36ff74576ee11c803ae5b665dd46aa": "nightmareai/real-esrgan"}
HTTP_TRIGGERS: dict[str, tuple[int, str, str, dict[str, str]]] = {
    "trigger-500": (500, "Internal Server Error", "Something went wrong on our end.", {}),
    "trigger-429": (429, "Request was throttled.", "Request was throttled. Your rate limit resets in ~7s.",
                    {"Retry-After": "7"}),
    "trigger-402": (402, "Insufficient credit", "You have insufficient credit to run this model. "
                    "Go to https://replicate.com/account/billing#billing to purchase credit.", {}),
}


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"title": title, "detail": detail, "status": status}, status_code=status, headers=headers,
                        media_type="application/problem+json")


def check_input(model: Model, data: Any) -> list[str]:
    """Replicate-style validation messages ("input.x: ..."), empty when the input is valid."""
    if not isinstance(data, dict):
        return ["input: Invalid type. Expected: object"]
    errors = [f"input: {name} is required" for name in model.required if name not in data]
    for name, value in data.items():
        rule = model.fields.get(name)
        if rule is None:
            errors.append(f"input: Additional property {name} is not allowed")
        elif rule[0] == "enum" and value not in rule[1]:
            errors.append(f"input.{name}: {name} must be one of the following: {', '.join(map(repr, rule[1]))}")
        elif rule[0] in ("int", "num"):
            kind = int if rule[0] == "int" else (int, float)
            if isinstance(value, bool) or not isinstance(value, kind):
                errors.append(f"input.{name}: Invalid type. Expected: {'integer' if rule[0] == 'int' else 'number'}")
            elif not rule[1] <= value <= rule[2]:
                errors.append(f"input.{name}: Must be between {rule[1]} and {rule[2]}")
        elif rule[0] == "str" and not isinstance(value, str):
            errors.append(f"input.{name}: Invalid type. Expected: string")
        elif rule[0] == "regex" and not (isinstance(value, str) and re.fullmatch(rule[1], value)):
            errors.append(f"input.{name}: Does not match pattern {rule[1]}")
        elif rule[0] == "bool" and not isinstance(value, bool):
            errors.append(f"input.{name}: Invalid type. Expected: boolean")
        elif rule[0] == "list" and not isinstance(value, list):
            errors.append(f"input.{name}: Invalid type. Expected: array")
    return errors


def output_size(data: dict[str, Any]) -> tuple[int, int]:
    """The picture size the input asks for (custom pixels, a WxH field, or an aspect ratio)."""
    if data.get("aspect_ratio") == "custom" or data.get("size") == "custom":
        return int(data["width"]), int(data["height"])
    for key in ("resolution", "size"):
        value = data.get(key)
        if isinstance(value, str) and re.fullmatch(r"\d+x\d+", value) and \
                (key == "resolution" or data.get("aspect_ratio") in (None, "Not set")):
            w, h = value.split("x")
            return int(w), int(h)
    ratio = data.get("aspect_ratio") or "1:1"
    return pictures.ratio_size("1:1" if ratio in ("Not set", "match_input_image") else ratio)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class FakePrediction:
    id: str
    model: str
    version: str
    input: dict[str, Any]
    behaviour: str  # ok | fail | stuck | broken
    status: str = "starting"
    step: int = 0
    logs: str = ""
    output: Any = None
    error: str | None = None
    created_at: str = field(default_factory=_now)
    completed_at: str | None = None

    @property
    def terminal(self) -> bool:
        return self.status in ("succeeded", "failed", "canceled")


class ReplicateFake:
    def __init__(self, api_token: str, step_seconds: float) -> None:
        self.api_token = api_token
        self.step_seconds = step_seconds
        self.predictions: dict[str, FakePrediction] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        self.requests: list[dict[str, Any]] = []
        self.cancels: list[str] = []
        self.file_requests: list[dict[str, Any]] = []

    # -- the state machine -------------------------------------------------------

    def advance(self, p: FakePrediction, base: str) -> None:
        if p.terminal:
            return
        p.step += 1
        seed = p.input.get("seed", 1234)
        script: list[tuple[str, str]] = {
            "ok": [("processing", (f"Using seed: {seed}\n" if "seed" in MODELS[p.model].fields else "")
                    + "  0%|          | 0/4 [00:00<?, ?it/s]\n"),
                   ("processing", " 50%|█████     | 2/4 [00:01<00:01,  2.00it/s]\n"),
                   ("processing", "100%|██████████| 4/4 [00:02<00:00,  2.00it/s]\n"), ("succeeded", "")],
            "fail": [("processing", " 25%|██▌       | 1/4 [00:00<00:02,  1.50it/s]\n"), ("failed", "")],
            "stuck": [("processing", " 10%|█         | 1/10 [00:01<00:09,  1.00it/s]\n")],
        }["ok" if p.behaviour == "broken" else p.behaviour]
        if p.step > len(script):
            return  # stuck: stays where it is
        status, line = script[p.step - 1]
        p.status, p.logs = status, p.logs + line
        if status == "failed":
            p.error, p.completed_at = FAIL_MESSAGE, _now()
        if status == "succeeded":
            p.output, p.completed_at = self.make_output(p, base), _now()

    def make_output(self, p: FakePrediction, base: str) -> str | list[str]:
        model = MODELS[p.model]
        fmt = p.input.get("output_format", model.default_format)
        urls = []
        for index in range(int(p.input.get("num_outputs", 1))):
            if p.behaviour == "broken":
                data, mime = pictures.broken_png(), "image/png"
            elif "image" in p.input and "prompt" not in p.input:  # an upscaler
                data, mime = pictures.upscale(p.input["image"], float(p.input.get("scale", 4)), fmt)
            else:
                data, mime = pictures.render(*pictures.thumb_size(*output_size(p.input)), fmt=fmt, seed=index)
            name = f"{p.id}-{index}.{fmt}"
            self.files[name] = (data, mime)
            urls.append(f"{base}/files/{name}")
        return urls if model.list_output else urls[0]

    def to_json(self, p: FakePrediction, base: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": p.id, "model": p.model, "version": p.version, "input": p.input, "logs": p.logs,
            "output": p.output, "data_removed": False, "error": p.error, "status": p.status,
            "created_at": p.created_at, "started_at": p.created_at if p.status != "starting" else None,
            "completed_at": p.completed_at,
            "urls": {"get": f"{base}/v1/predictions/{p.id}", "cancel": f"{base}/v1/predictions/{p.id}/cancel",
                     "web": f"https://replicate.com/p/{p.id}"},
        }
        if p.status == "succeeded":
            body["metrics"] = {"predict_time": 0.01 * p.step, "total_time": 0.02 * p.step}
        return body

    # -- HTTP ---------------------------------------------------------------------

    async def record(self, request: Request) -> Any:
        raw = await request.body()
        try:
            body = await request.json() if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.requests.append({"method": request.method, "path": request.url.path, "headers": dict(request.headers),
                              "body": body})
        return body

    def authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.api_token}"

    async def create(self, request: Request) -> Response:
        body = await self.record(request)
        if not self.authorized(request):
            return problem(401, "Unauthenticated", "You did not pass a valid authentication token")
        if "owner" in request.path_params:
            model_name, version = f"{request.path_params['owner']}/{request.path_params['name']}", "hidden"
        else:
            version = str((body or {}).get("version", "")).rpartition(":")[2]
            model_name = VERSIONS.get(version, "")
        model = MODELS.get(model_name)
        if model is None:
            return problem(404, "Not found", "The requested resource could not be found.")
        data = (body or {}).get("input") if isinstance(body, dict) else None
        errors = check_input(model, data)
        if errors:
            return JSONResponse({"title": "Input validation failed", "detail": "- " + "\n- ".join(errors),
                                 "status": 422, "invalid_fields": [{"description": e} for e in errors]},
                                status_code=422, media_type="application/problem+json")
        assert isinstance(data, dict)
        prompt = str(data.get("prompt", ""))
        for trigger, (status, title, detail, headers) in HTTP_TRIGGERS.items():
            if trigger in prompt:
                return problem(status, title, detail, headers)
        behaviour = next((b for b in ("fail", "stuck", "broken") if f"trigger-{b}" in prompt), "ok")
        p = FakePrediction(id=secrets.token_hex(13), model=model_name, version=version, input=data,
                           behaviour=behaviour)
        self.predictions[p.id] = p
        base = str(request.base_url).rstrip("/")
        wait = self.wait_seconds(request.headers.get("prefer"))
        if wait:
            deadline = asyncio.get_running_loop().time() + wait
            while not p.terminal and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(self.step_seconds)
                if await request.is_disconnected():  # the client gave up: so does the hold
                    break
                self.advance(p, base)
        return JSONResponse(self.to_json(p, base), status_code=201)

    @staticmethod
    def wait_seconds(prefer: str | None) -> float:
        match = re.fullmatch(r"\s*wait(?:=(\d+))?\s*", prefer or "")
        if not match:
            return 0.0
        return float(min(60, int(match.group(1)))) if match.group(1) else 60.0

    async def get(self, request: Request) -> Response:
        await self.record(request)
        if not self.authorized(request):
            return problem(401, "Unauthenticated", "You did not pass a valid authentication token")
        p = self.predictions.get(request.path_params["id"])
        if p is None:
            return problem(404, "Not found", "The requested resource could not be found.")
        base = str(request.base_url).rstrip("/")
        self.advance(p, base)
        return JSONResponse(self.to_json(p, base))

    async def cancel(self, request: Request) -> Response:
        await self.record(request)
        if not self.authorized(request):
            return problem(401, "Unauthenticated", "You did not pass a valid authentication token")
        p = self.predictions.get(request.path_params["id"])
        if p is None:
            return problem(404, "Not found", "The requested resource could not be found.")
        self.cancels.append(p.id)
        if not p.terminal:
            p.status, p.completed_at = "canceled", _now()
        return JSONResponse(self.to_json(p, str(request.base_url).rstrip("/")))

    async def file(self, request: Request) -> Response:
        name = request.path_params["name"]
        self.file_requests.append({"path": request.url.path, "authorization": request.headers.get("authorization")})
        if name not in self.files:
            return Response("not found", status_code=404)
        data, mime = self.files[name]
        return Response(data, media_type=mime)


def create_app(api_token: str = "r8_test", *, step_seconds: float = 0.01) -> Starlette:
    fake = ReplicateFake(api_token, step_seconds)
    app = Starlette(routes=[
        Route("/v1/models/{owner}/{name}/predictions", fake.create, methods=["POST"]),
        Route("/v1/predictions", fake.create, methods=["POST"]),
        Route("/v1/predictions/{id}", fake.get, methods=["GET"]),
        Route("/v1/predictions/{id}/cancel", fake.cancel, methods=["POST"]),
        Route("/files/{name}", fake.file, methods=["GET"]),
    ])
    app.state.fake = fake
    app.state.requests = fake.requests
    app.state.cancels = fake.cancels
    app.state.file_requests = fake.file_requests
    app.state.predictions = fake.predictions
    return app
