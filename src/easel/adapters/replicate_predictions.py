"""Replicate's predictions API as pure functions: our requests in, prediction objects out.

    POST /v1/models/{owner}/{name}/predictions   {"input": {...}}          (official models)
    POST /v1/predictions                         {"version": id, "input"}  (`owner/name:version`)
    GET  urls.get / POST urls.cancel

Each model spells the shared vocabulary its own way (`num_outputs` or nothing, `aspect_ratio`
enums, `size: "custom"` with width/height, a "WxH" `resolution`, `cfg`...). That spelling is
data: one `ImageInputSpec` per model in `IMAGE_SPECS` (unknown models get the common Cog
spelling), read by one function, `image_input`. A prediction payload becomes a `Prediction`;
`prediction_progress` turns its status and logs into a fraction and a message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from easel.adapters.remote_media import last_line, log_percent
from easel.errors import UnsupportedParameter
from easel.tasks.image import ASPECT_RATIOS, ImageRequest, UpscaleRequest, nearest_aspect_ratio

TERMINAL = frozenset({"succeeded", "failed", "canceled"})
STATUSES = frozenset({"starting", "processing", *TERMINAL})
SEVEN = ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3")
FIVE = ("1:1", "16:9", "9:16", "4:3", "3:4")
COG_FORMATS: Mapping[str, str] = {"png": "png", "jpeg": "jpg", "webp": "webp"}

IDEOGRAM_RESOLUTIONS: tuple[str, ...] = tuple(
    "512x1536 576x1408 576x1472 576x1536 640x1344 640x1408 640x1472 640x1536 704x1152 704x1216 704x1280 "
    "704x1344 704x1408 704x1472 736x1312 768x1088 768x1216 768x1280 768x1344 800x1280 832x960 832x1024 "
    "832x1088 832x1152 832x1216 832x1248 864x1152 896x960 896x1024 896x1088 896x1120 896x1152 960x832 "
    "960x896 960x1024 960x1088 1024x832 1024x896 1024x960 1024x1024 1088x768 1088x832 1088x896 1088x960 "
    "1120x896 1152x704 1152x832 1152x864 1152x896 1216x704 1216x768 1216x832 1248x832 1280x704 1280x768 "
    "1280x800 1312x736 1344x640 1344x704 1344x768 1408x576 1408x640 1408x704 1472x576 1472x640 1472x704 "
    "1536x512 1536x576 1536x640".split())
RECRAFT_SIZES: tuple[str, ...] = (
    "1024x1024", "1365x1024", "1024x1365", "1536x1024", "1024x1536", "1820x1024", "1024x1820", "1024x2048",
    "2048x1024", "1434x1024", "1024x1434", "1024x1280", "1280x1024", "1024x1707", "1707x1024")
RECRAFT_STYLES: tuple[str, ...] = (
    "any", "realistic_image", "digital_illustration", "digital_illustration/pixel_art",
    "digital_illustration/hand_drawn", "digital_illustration/grain", "digital_illustration/infantile_sketch",
    "digital_illustration/2d_art_poster", "digital_illustration/handmade_3d",
    "digital_illustration/hand_drawn_outline", "digital_illustration/engraving_color",
    "digital_illustration/2d_art_poster_2", "realistic_image/b_and_w", "realistic_image/hard_flash",
    "realistic_image/hdr", "realistic_image/natural_light", "realistic_image/studio_portrait",
    "realistic_image/enterprise", "realistic_image/motion_blur")


@dataclass(frozen=True, slots=True)
class CustomSize:
    """How a model takes explicit pixels: width/height fields, or one "WxH" field, plus a marker
    (`{"aspect_ratio": "custom"}`); `allowed` lists the only sizes a model accepts, if it has such a list."""

    width_field: str = "width"
    height_field: str = "height"
    joined_field: str | None = None
    marker: Mapping[str, Any] = field(default_factory=dict)
    allowed: tuple[str, ...] = ()
    min_side: int = 256
    max_side: int = 2048
    multiple: int = 32


@dataclass(frozen=True, slots=True)
class ImageInputSpec:
    """One model's spelling of ImageRequest. A field set to None: the model has no such input."""

    aspect_ratios: tuple[str, ...] = ASPECT_RATIOS
    aspect_field: str = "aspect_ratio"
    #: sent with the aspect ratio (not with custom sizes), e.g. {"size": "2K"}
    aspect_fixed: Mapping[str, Any] = field(default_factory=dict)
    custom: CustomSize | None = None
    count_field: str | None = None
    seed_field: str | None = "seed"
    negative_field: str | None = None
    steps_field: str | None = None
    steps_max: int | None = None
    guidance_field: str | None = None
    guidance_range: tuple[float, float] | None = None
    style_field: str | None = None
    styles: tuple[str, ...] = ()
    format_field: str | None = "output_format"
    formats: Mapping[str, str] = field(default_factory=lambda: dict(COG_FORMATS))
    fixed: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UpscaleInputSpec:
    image_field: str = "image"
    scale_field: str = "scale"
    fixed: Mapping[str, Any] = field(default_factory=dict)


#: the common Cog text-to-image spelling, for models not listed below
DEFAULT_SPEC = ImageInputSpec(count_field="num_outputs")

IMAGE_SPECS: dict[str, ImageInputSpec] = {
    "black-forest-labs/flux-2-pro": ImageInputSpec(
        aspect_ratios=SEVEN, aspect_fixed={"resolution": "1 MP"},
        custom=CustomSize(marker={"aspect_ratio": "custom"}, min_side=256, max_side=2048, multiple=32)),
    "black-forest-labs/flux-schnell": ImageInputSpec(
        count_field="num_outputs", steps_field="num_inference_steps", steps_max=4, fixed={"megapixels": "1"}),
    "google/imagen-4": ImageInputSpec(
        aspect_ratios=FIVE, seed_field=None, formats={"png": "png", "jpeg": "jpg"}),
    "ideogram-ai/ideogram-v3-turbo": ImageInputSpec(
        aspect_ratios=SEVEN, custom=CustomSize(joined_field="resolution", allowed=IDEOGRAM_RESOLUTIONS),
        style_field="style_type", styles=("Auto", "General", "Realistic", "Design"), format_field=None),
    "bytedance/seedream-4": ImageInputSpec(
        seed_field=None, aspect_fixed={"size": "2K"}, format_field=None,
        custom=CustomSize(marker={"size": "custom"}, min_side=1024, max_side=4096, multiple=1),
        fixed={"sequential_image_generation": "disabled", "max_images": 1}),
    "recraft-ai/recraft-v3": ImageInputSpec(
        aspect_ratios=SEVEN, seed_field=None, format_field=None, style_field="style", styles=RECRAFT_STYLES,
        custom=CustomSize(joined_field="size", allowed=RECRAFT_SIZES)),
    "stability-ai/stable-diffusion-3.5-large": ImageInputSpec(
        negative_field="negative_prompt", guidance_field="cfg", guidance_range=(1.0, 10.0)),
}

UPSCALE_SPECS: dict[str, UpscaleInputSpec] = {
    "nightmareai/real-esrgan": UpscaleInputSpec(fixed={"face_enhance": False}),
}


def split_model(upstream_name: str) -> tuple[str, str | None]:
    """`owner/name[:version]` -> ("owner/name", version or None)."""
    name, _, version = upstream_name.partition(":")
    return name, version or None


def image_spec(upstream_name: str) -> ImageInputSpec:
    return IMAGE_SPECS.get(split_model(upstream_name)[0], DEFAULT_SPEC)


def create_call(upstream_name: str, model_input: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The path (under the base URL) and JSON body that create a prediction."""
    name, version = split_model(upstream_name)
    if version:
        return "/v1/predictions", {"version": version, "input": model_input}
    return f"/v1/models/{name}/predictions", {"input": model_input}


def _unsupported(model: str, what: str, param: str) -> UnsupportedParameter:
    return UnsupportedParameter(f"Model '{model}' {what}", param=param)


def _size_fields(request: ImageRequest, spec: ImageInputSpec, model: str) -> dict[str, Any]:
    if request.width is not None and request.height is not None:
        custom = spec.custom
        if custom is None:
            # No explicit pixels on this model: the nearest aspect ratio it has (settings say which).
            ratio = nearest_aspect_ratio(request.width, request.height, spec.aspect_ratios)
            return {spec.aspect_field: ratio, **spec.aspect_fixed}
        width, height = request.width, request.height
        if custom.allowed:
            if f"{width}x{height}" not in custom.allowed:
                raise _unsupported(model, f"does not make {width}x{height}; sizes: {', '.join(custom.allowed)}.",
                                   "width")
        else:
            # Replicate would round to the multiple itself; doing it here keeps the settings true.
            width = max(custom.multiple, int(width / custom.multiple + 0.5) * custom.multiple)
            height = max(custom.multiple, int(height / custom.multiple + 0.5) * custom.multiple)
            if not all(custom.min_side <= side <= custom.max_side for side in (width, height)):
                raise _unsupported(model, f"takes sides from {custom.min_side} to {custom.max_side} pixels.",
                                   "width")
        fields = dict(custom.marker)
        if custom.joined_field:
            fields[custom.joined_field] = f"{width}x{height}"
        else:
            fields[custom.width_field] = width
            fields[custom.height_field] = height
        return fields
    ratio = request.aspect_ratio or "1:1"
    if ratio not in spec.aspect_ratios:
        raise _unsupported(model, f"does not support aspect_ratio {ratio}; supported: {', '.join(spec.aspect_ratios)}.",
                           "aspect_ratio")
    return {spec.aspect_field: ratio, **spec.aspect_fixed}


def _style(request: ImageRequest, spec: ImageInputSpec, model: str) -> dict[str, Any]:
    if request.style is None or spec.style_field is None:
        return {}
    if not spec.styles:
        return {spec.style_field: request.style}
    by_fold = {s.casefold(): s for s in spec.styles}
    chosen = by_fold.get(request.style.casefold())
    if chosen is None:
        raise _unsupported(model, f"has no style {request.style!r}; styles: {', '.join(spec.styles)}.", "style")
    return {spec.style_field: chosen}


def image_input(request: ImageRequest, upstream_name: str, spec: ImageInputSpec | None = None) -> dict[str, Any]:
    """The prediction `input` for a text-to-image request on this model."""
    spec = spec or image_spec(upstream_name)
    body: dict[str, Any] = {"prompt": request.prompt, **_size_fields(request, spec, upstream_name)}
    if spec.count_field:
        body[spec.count_field] = request.n
    elif request.n > 1:
        raise _unsupported(upstream_name, "makes one image per request.", "n")
    if request.seed is not None:
        if spec.seed_field is None:
            raise _unsupported(upstream_name, "does not take a seed.", "seed")
        body[spec.seed_field] = request.seed
    if request.negative_prompt:
        if spec.negative_field is None:
            raise _unsupported(upstream_name, "does not take a negative_prompt.", "negative_prompt")
        body[spec.negative_field] = request.negative_prompt
    # Steps and guidance are hints: a model without them ignores them, and the image's
    # settings (the input as sent) show what was used.
    if request.steps is not None and spec.steps_field:
        body[spec.steps_field] = min(request.steps, spec.steps_max or request.steps)
    if request.guidance is not None and spec.guidance_field:
        low, high = spec.guidance_range or (0.0, 30.0)
        body[spec.guidance_field] = min(high, max(low, request.guidance))
    body.update(_style(request, spec, upstream_name))
    if spec.format_field:
        body[spec.format_field] = spec.formats.get(request.output_format) or next(iter(spec.formats.values()))
    body.update(spec.fixed)
    body.update(request.extra)
    return body


def upscale_input(request: UpscaleRequest, image_url: str, upstream_name: str) -> dict[str, Any]:
    """The prediction `input` for an upscale: the image (a data URL or URL) and the factor."""
    spec = UPSCALE_SPECS.get(split_model(upstream_name)[0], UpscaleInputSpec())
    return {spec.image_field: image_url, spec.scale_field: request.scale, **spec.fixed}


def sent_settings(model_input: dict[str, Any]) -> dict[str, Any]:
    """What to keep with each image: the input as sent, less the prompt and inline images."""
    return {k: v for k, v in model_input.items()
            if k != "prompt" and not (isinstance(v, str) and v.startswith("data:"))}


# ---- predictions ----------------------------------------------------------------


@dataclass(slots=True)
class Prediction:
    id: str
    status: str
    outputs: list[str]
    error: str | None = None
    logs: str = ""
    get_url: str | None = None
    cancel_url: str | None = None
    predict_time: float | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


def _outputs(output: Any) -> list[str]:
    if output is None:
        return []
    if isinstance(output, str):
        return [output]
    if isinstance(output, list):
        return [item for item in output if isinstance(item, str)]
    if isinstance(output, dict):  # some models answer {"image": url} or {"images": [...]}
        return [url for value in output.values() for url in _outputs(value)]
    return []


def parse_prediction(payload: Any) -> Prediction:
    """A prediction object; ValueError when it is not one."""
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
        raise ValueError("not a prediction object (no id)")
    status = payload.get("status")
    if status not in STATUSES:
        raise ValueError(f"unknown prediction status {status!r}")
    urls = payload.get("urls") or {}
    metrics = payload.get("metrics") or {}
    error = payload.get("error")
    return Prediction(
        id=payload["id"], status=status, outputs=_outputs(payload.get("output")),
        error=str(error) if error not in (None, "") else None, logs=payload.get("logs") or "",
        get_url=urls.get("get"), cancel_url=urls.get("cancel"),
        predict_time=metrics.get("predict_time") if isinstance(metrics, dict) else None)


_SEED = re.compile(r"\bseed\b\s*[:=]?\s*(\d+)", re.IGNORECASE)


def seed_from_logs(logs: str) -> int | None:
    """The seed a model printed ("Using seed: 1234"), as most Cog models do when none was given."""
    found = _SEED.findall(logs)
    return int(found[-1]) if found else None


def prediction_progress(prediction: Prediction) -> tuple[float, str]:
    """A fraction of the whole job and a message, from status and logs (download is the last 10%)."""
    if prediction.status == "starting":
        return 0.05, "starting (the model may be booting)"
    if prediction.status == "processing":
        percent = log_percent(prediction.logs)
        if percent is not None:
            return 0.1 + 0.8 * percent, f"generating: {round(percent * 100)}%"
        return 0.1, last_line(prediction.logs) or "processing"
    if prediction.status == "succeeded":
        return 0.9, "downloading the outputs"
    return 0.0, prediction.status
