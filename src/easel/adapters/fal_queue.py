"""fal's queue API as pure functions: our requests in, queue and result payloads out.

    POST https://queue.fal.run/{model_id}               -> {request_id, status_url, response_url, cancel_url}
    GET  {status_url}?logs=1                            -> IN_QUEUE (queue_position) | IN_PROGRESS (logs) | COMPLETED
    GET  {response_url}                                 -> the model's output ({images: [...], seed} ...)
    PUT  {cancel_url}

Status, result and cancel live under the app root (`fal-ai/flux`), not the endpoint path
(`fal-ai/flux/schnell`); the URLs the submit answer names are used as given.

Each model's input is described by a `FalInputSpec` in `IMAGE_SPECS` (data, not branches):
fal's `image_size` takes a named size (`landscape_16_9`) or `{width, height}`; counts are
`num_images`; the rest follow the diffusers vocabulary.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from easel.adapters.remote_media import last_line, log_percent
from easel.errors import UnsupportedParameter
from easel.tasks.image import ASPECT_RATIOS, ImageRequest, UpscaleRequest, dimensions_for

STATUSES = frozenset({"IN_QUEUE", "IN_PROGRESS", "COMPLETED"})
#: fal's named sizes for our aspect ratios (square_hd is 1024x1024, the 16:9 pair 1024x576)
NAMED_SIZES: Mapping[str, str] = {
    "1:1": "square_hd", "4:3": "landscape_4_3", "3:4": "portrait_4_3",
    "16:9": "landscape_16_9", "9:16": "portrait_16_9",
}
FAL_FORMATS: Mapping[str, str] = {"png": "png", "jpeg": "jpeg"}


@dataclass(frozen=True, slots=True)
class FalInputSpec:
    """One fal model's spelling of ImageRequest. A field set to None: the model has no such input."""

    aspect_ratios: tuple[str, ...] = ASPECT_RATIOS
    #: named sizes where one fits; False: always {width, height} (named ones may be too small)
    named_sizes: bool = True
    megapixels: float = 1.0
    multiple: int = 16
    min_pixels: int = 0
    max_side: int = 4096
    count_field: str | None = "num_images"
    seed_field: str | None = "seed"
    negative_field: str | None = None
    steps_field: str | None = None
    steps_max: int | None = None
    guidance_field: str | None = None
    guidance_max: float | None = None
    style_field: str | None = None
    styles: tuple[str, ...] = ()
    format_field: str | None = "output_format"
    formats: Mapping[str, str] = field(default_factory=lambda: dict(FAL_FORMATS))
    fixed: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UpscaleInputSpec:
    image_field: str = "image_url"
    scale_field: str = "scale"
    fixed: Mapping[str, Any] = field(default_factory=dict)


DEFAULT_SPEC = FalInputSpec()

IMAGE_SPECS: dict[str, FalInputSpec] = {
    "fal-ai/flux-2-pro": FalInputSpec(count_field=None, formats={"png": "png", "jpeg": "jpeg", "webp": "webp"}),
    "fal-ai/flux-pro/v1.1": FalInputSpec(),
    "fal-ai/flux/schnell": FalInputSpec(steps_field="num_inference_steps", steps_max=12),
    "fal-ai/recraft/v3/text-to-image": FalInputSpec(
        count_field=None, seed_field=None, format_field=None, style_field="style",
        styles=("any", "realistic_image", "digital_illustration", "vector_illustration")),
    "fal-ai/ideogram/v3": FalInputSpec(
        negative_field="negative_prompt", style_field="style", styles=("AUTO", "GENERAL", "REALISTIC", "DESIGN"),
        format_field=None, fixed={"rendering_speed": "BALANCED"}),
    "fal-ai/bytedance/seedream/v4/text-to-image": FalInputSpec(
        named_sizes=False, megapixels=4.0, min_pixels=960 * 960, format_field=None),
    "fal-ai/stable-diffusion-v35-large": FalInputSpec(
        negative_field="negative_prompt", steps_field="num_inference_steps", steps_max=50,
        guidance_field="guidance_scale", guidance_max=20.0),
}

UPSCALE_SPECS: dict[str, UpscaleInputSpec] = {
    "fal-ai/esrgan": UpscaleInputSpec(fixed={"model": "RealESRGAN_x4plus", "output_format": "png"}),
}


def image_spec(model_id: str) -> FalInputSpec:
    return IMAGE_SPECS.get(model_id, DEFAULT_SPEC)


def app_root(model_id: str) -> str:
    """`fal-ai/flux/schnell` -> `fal-ai/flux`: where status, result and cancel live."""
    return "/".join(model_id.split("/")[:2])


def _unsupported(model: str, what: str, param: str) -> UnsupportedParameter:
    return UnsupportedParameter(f"Model '{model}' {what}", param=param)


def _image_size(request: ImageRequest, spec: FalInputSpec, model: str) -> str | dict[str, int]:
    if request.width is not None and request.height is not None:
        width, height = request.width, request.height
    else:
        ratio = request.aspect_ratio or "1:1"
        if ratio not in spec.aspect_ratios:
            raise _unsupported(model, f"does not support aspect_ratio {ratio}; "
                                      f"supported: {', '.join(spec.aspect_ratios)}.", "aspect_ratio")
        if spec.named_sizes and ratio in NAMED_SIZES:
            return NAMED_SIZES[ratio]
        width, height = dimensions_for(ratio, spec.megapixels, spec.multiple)
    if width * height < spec.min_pixels:
        raise _unsupported(model, f"makes images of at least {spec.min_pixels} pixels; "
                                  f"{width}x{height} is smaller.", "width")
    if max(width, height) > spec.max_side:
        raise _unsupported(model, f"makes images up to {spec.max_side} pixels a side.", "width")
    return {"width": width, "height": height}


def image_input(request: ImageRequest, model_id: str, spec: FalInputSpec | None = None) -> dict[str, Any]:
    """The JSON body to submit for a text-to-image request on this model."""
    spec = spec or image_spec(model_id)
    body: dict[str, Any] = {"prompt": request.prompt, "image_size": _image_size(request, spec, model_id)}
    if spec.count_field:
        body[spec.count_field] = request.n
    elif request.n > 1:
        raise _unsupported(model_id, "makes one image per request.", "n")
    if request.seed is not None:
        if spec.seed_field is None:
            raise _unsupported(model_id, "does not take a seed.", "seed")
        body[spec.seed_field] = request.seed
    if request.negative_prompt:
        if spec.negative_field is None:
            raise _unsupported(model_id, "does not take a negative_prompt.", "negative_prompt")
        body[spec.negative_field] = request.negative_prompt
    if request.steps is not None and spec.steps_field:
        body[spec.steps_field] = min(request.steps, spec.steps_max or request.steps)
    if request.guidance is not None and spec.guidance_field:
        body[spec.guidance_field] = min(request.guidance, spec.guidance_max or request.guidance)
    if request.style is not None and spec.style_field:
        chosen = {s.casefold(): s for s in spec.styles}.get(request.style.casefold()) if spec.styles \
            else request.style
        if chosen is None:
            raise _unsupported(model_id, f"has no style {request.style!r}; styles: {', '.join(spec.styles)}.",
                               "style")
        body[spec.style_field] = chosen
    if spec.format_field:
        body[spec.format_field] = spec.formats.get(request.output_format) or next(iter(spec.formats.values()))
    body.update(spec.fixed)
    body.update(request.extra)
    return body


def upscale_input(request: UpscaleRequest, image_url: str, model_id: str) -> dict[str, Any]:
    spec = UPSCALE_SPECS.get(model_id, UpscaleInputSpec())
    return {spec.image_field: image_url, spec.scale_field: request.scale, **spec.fixed}


def sent_settings(body: dict[str, Any]) -> dict[str, Any]:
    """What to keep with each image: the input as sent, less the prompt and inline images."""
    return {k: v for k, v in body.items() if k != "prompt" and not (isinstance(v, str) and v.startswith("data:"))}


# ---- queue payloads --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Submission:
    request_id: str
    status_url: str
    response_url: str
    cancel_url: str


@dataclass(frozen=True, slots=True)
class QueueStatus:
    status: str
    queue_position: int | None = None
    logs: tuple[str, ...] = ()
    #: set when a COMPLETED request failed (fal reports the error on the status too)
    error: str | None = None
    error_type: str | None = None


@dataclass(frozen=True, slots=True)
class FalImage:
    url: str
    width: int | None = None
    height: int | None = None
    content_type: str | None = None


def parse_submission(payload: Any, *, queue_base: str, model_id: str) -> Submission:
    """The submit answer; URLs it lacks are built from the documented layout."""
    if not isinstance(payload, dict) or not isinstance(payload.get("request_id"), str):
        raise ValueError("not a queue submission (no request_id)")
    request_id = payload["request_id"]
    root = f"{queue_base.rstrip('/')}/{app_root(model_id)}/requests/{request_id}"
    return Submission(request_id=request_id, status_url=payload.get("status_url") or f"{root}/status",
                      response_url=payload.get("response_url") or root,
                      cancel_url=payload.get("cancel_url") or f"{root}/cancel")


def parse_status(payload: Any) -> QueueStatus:
    if not isinstance(payload, dict) or payload.get("status") not in STATUSES:
        raise ValueError(f"not a queue status: {str(payload)[:200]}")
    logs = tuple(str(entry.get("message", "")) for entry in payload.get("logs") or [] if isinstance(entry, dict))
    position = payload.get("queue_position")
    error = payload.get("error")
    return QueueStatus(status=payload["status"], queue_position=position if isinstance(position, int) else None,
                       logs=logs, error=str(error) if error else None, error_type=payload.get("error_type"))


def status_progress(status: QueueStatus) -> tuple[float, str]:
    """A fraction of the whole job and a message (the download is the last 10%)."""
    if status.status == "IN_QUEUE":
        where = f"position {status.queue_position}" if status.queue_position is not None else "waiting"
        return 0.05, f"queued ({where})"
    if status.status == "IN_PROGRESS":
        text = "\n".join(status.logs)
        percent = log_percent(text)
        if percent is not None:
            return 0.1 + 0.8 * percent, f"generating: {round(percent * 100)}%"
        return 0.1, last_line(text) or "in progress"
    return 0.9, "downloading the outputs"


def parse_images(payload: Any) -> tuple[list[FalImage], int | None]:
    """The images of a result (`images: [...]`, or one `image`) and the seed it reports."""
    if not isinstance(payload, dict):
        raise ValueError("the result is not a JSON object")
    raw = payload.get("images")
    if raw is None and isinstance(payload.get("image"), dict):
        raw = [payload["image"]]
    if not isinstance(raw, list):
        raise ValueError("the result has no images")
    images = [FalImage(url=item["url"], width=item.get("width"), height=item.get("height"),
                       content_type=item.get("content_type"))
              for item in raw if isinstance(item, dict) and isinstance(item.get("url"), str)]
    seed = payload.get("seed")
    return images, seed if isinstance(seed, int) else None


def error_text(body: bytes | str) -> str:
    """fal's error bodies as one line: `{"detail": "..."}` or validation `{"detail": [{loc, msg}]}`."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        payload = json.loads(text)
    except ValueError:
        return text.strip()[:500] or "no details given"
    detail = payload.get("detail", payload.get("error")) if isinstance(payload, dict) else payload
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", []) if p != "body")
                parts.append(f"{loc}: {item.get('msg', '')}" if loc else str(item.get("msg", "")))
            else:
                parts.append(str(item))
        return "; ".join(parts) or "no details given"
    if isinstance(detail, str):
        return detail
    return text.strip()[:500]
