"""OpenAI's Images API (`POST {base}/images/generations`) as OpenAI and xAI speak it: pure functions.

One endpoint, two ways of saying how big a picture is:

- by pixel size (OpenAI): `size` is one of the model's sizes ("1024x1024", "1536x1024"...);
  an easel aspect ratio becomes the supported size nearest to it, and width/height must be
  one of those sizes exactly.
- by aspect ratio (xAI): `aspect_ratio` passes through and a `resolution` tier ("1k", "2k")
  comes from `request.extra["resolution"]`; xAI answers 400 to `size`, `quality` and `style`.

The catalog entry's `family` picks the rules ("gpt-image", "dall-e", "grok-imagine") and its
`media` record lists the sizes, ratios and tiers, so a new model of a known family is data.
`to_wire` refuses what the model cannot do (UnsupportedParameter, listing what it can);
`from_wire` decodes the base64 images and reads their real size and format from the bytes.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from easel.catalog.entry import ModelEntry
from easel.errors import UnsupportedParameter, UpstreamError
from easel.tasks.image import GeneratedImage, ImageRequest, check_supported

MIME_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}


@dataclass(frozen=True, slots=True)
class ImagesRules:
    """What one model family accepts on the Images endpoint, beyond its catalog media record."""

    shape: Literal["size", "aspect"]
    #: easel quality -> the wire's value (None: send nothing); a quality not listed is refused
    qualities: dict[str, str | None]
    #: formats the model makes on request (`output_format` is sent); empty: it makes only `native_format`
    output_formats: tuple[str, ...] = ()
    native_format: str = "png"
    #: sent so that images come back as bytes, not URLs (gpt-image models refuse the field)
    response_format: str | None = "b64_json"
    styles: tuple[str, ...] = ()
    #: extra request keys the family takes -> allowed values (None: an integer 0-100)
    extras: dict[str, tuple[str, ...] | None] = field(default_factory=dict)


FAMILIES: dict[str, ImagesRules] = {
    "gpt-image": ImagesRules(
        shape="size",
        qualities={"auto": "auto", "low": "low", "medium": "medium", "high": "high"},
        output_formats=("png", "jpeg", "webp"),
        response_format=None,
        extras={"background": ("transparent", "opaque", "auto"), "moderation": ("low", "auto"),
                "output_compression": None},
    ),
    "dall-e": ImagesRules(
        shape="size",
        qualities={"auto": None, "low": "standard", "medium": "standard", "high": "hd"},
        styles=("vivid", "natural"),
    ),
    "grok-imagine": ImagesRules(
        shape="aspect",
        qualities={"auto": None},
        native_format="jpeg",
        extras={"resolution": ()},  # the entry's media.resolutions
    ),
}


@dataclass(frozen=True, slots=True)
class ImagesCall:
    """One prepared body, and the settings it asks for (what each image records)."""

    body: dict[str, Any]
    settings: dict[str, Any]


def rules_for(entry: ModelEntry) -> ImagesRules | None:
    """The family's rules, or None when this adapter does not speak for the model."""
    return FAMILIES.get(entry.family or "")


def _ratio(text: str, sep: str) -> float:
    a, b = text.split(sep)
    return float(a) / float(b)


def nearest_size(aspect_ratio: str, sizes: list[str]) -> str:
    """The "WxH" size whose shape is closest to `aspect_ratio` (compared on a log scale)."""
    target = _ratio(aspect_ratio, ":")
    pixel_sizes = [s for s in sizes if "x" in s]
    if not pixel_sizes:
        raise ValueError("no pixel sizes to choose from")
    return min(pixel_sizes, key=lambda s: abs(math.log(_ratio(s, "x") / target)))


def _refuse(entry: ModelEntry, param: str, what: str, supported: tuple[str, ...] | list[str]) -> UnsupportedParameter:
    hint = f"; supported: {', '.join(supported)}" if supported else ""
    return UnsupportedParameter(f"Model '{entry.id}' does not support {what}{hint}.", param=param)


def check_common(request: ImageRequest, entry: ModelEntry) -> None:
    """What no hosted text-to-image API here takes: sampler steps and guidance scale."""
    check_supported(request, entry)
    if request.steps is not None:
        raise UnsupportedParameter(f"Model '{entry.id}' does not take steps.", param="steps")
    if request.guidance is not None:
        raise UnsupportedParameter(f"Model '{entry.id}' does not take a guidance scale.", param="guidance")


def check_native_format(request: ImageRequest, entry: ModelEntry, native: str) -> None:
    """A model that makes only `native` refuses any other format but easel's default, PNG.

    PNG is let through because it is also what a request that named no format carries
    (after a job's JSON round trip the two cannot be told apart); the images then say
    their real type in `mime_type`.
    """
    if request.output_format not in ("png", native):
        raise _refuse(entry, "output_format", f"output_format {request.output_format}", (native,))


def check_extra(request: ImageRequest, entry: ModelEntry, allowed: dict[str, tuple[str, ...] | None]) -> None:
    unknown = sorted(set(request.extra) - set(allowed))
    if unknown:
        raise _refuse(entry, "extra", f"the option(s) {', '.join(unknown)}", sorted(allowed))


def to_wire(request: ImageRequest, entry: ModelEntry) -> ImagesCall:
    """The Images API body for `request` on `entry` (raises UnsupportedParameter)."""
    rules = rules_for(entry)
    if rules is None:
        raise ValueError(f"no Images API rules for family {entry.family!r}")
    check_common(request, entry)
    check_extra(request, entry, rules.extras)
    body: dict[str, Any] = {"model": entry.upstream_name, "prompt": request.prompt, "n": request.n}
    settings: dict[str, Any] = {}

    if rules.shape == "size":
        sizes = [s for s in entry.media.resolutions if "x" in s]
        if request.width is not None:
            size = f"{request.width}x{request.height}"
            if size not in sizes:
                raise _refuse(entry, "width", f"size {size}", sizes)
        elif request.aspect_ratio is not None:
            size = nearest_size(request.aspect_ratio, sizes)
        else:
            size = sizes[0]
        body["size"] = settings["size"] = size
    else:
        if request.width is not None:
            raise _refuse(entry, "width", "width/height (give an aspect_ratio)", entry.media.aspect_ratios)
        if request.aspect_ratio is not None:
            body["aspect_ratio"] = settings["aspect_ratio"] = request.aspect_ratio
        tier = request.extra.get("resolution")
        if tier is not None:
            tiers = {t.lower(): t for t in entry.media.resolutions}
            if not isinstance(tier, str) or tier.lower() not in tiers:
                raise _refuse(entry, "extra", f"resolution {tier!r}", entry.media.resolutions)
            body["resolution"] = settings["resolution"] = tiers[tier.lower()]

    if request.quality is not None:
        if request.quality not in rules.qualities:
            raise _refuse(entry, "quality", f"quality {request.quality}", [q for q in rules.qualities])
        wire_quality = rules.qualities[request.quality]
        if wire_quality is not None:
            body["quality"] = settings["quality"] = wire_quality

    if rules.output_formats:
        body["output_format"] = settings["output_format"] = request.output_format
    else:
        check_native_format(request, entry, rules.native_format)

    if request.style is not None:
        if request.style not in rules.styles:
            raise _refuse(entry, "style", f"style {request.style!r}", rules.styles)
        body["style"] = settings["style"] = request.style

    for name, values in rules.extras.items():
        if name not in request.extra or name == "resolution":
            continue
        value = request.extra[name]
        if values is None:
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
                raise _refuse(entry, "extra", f"{name} {value!r} (an integer from 0 to 100)", ())
        elif value not in values:
            raise _refuse(entry, "extra", f"{name} {value!r}", values)
        body[name] = settings[name] = value
    if "output_compression" in body and body.get("output_format") == "png":
        raise _refuse(entry, "extra", "output_compression with PNG output", ("jpeg", "webp"))

    if rules.response_format is not None:
        body["response_format"] = rules.response_format
    return ImagesCall(body, settings)


# ---- answers -----------------------------------------------------------------


def decode_image(encoded: Any, *, provider: str) -> tuple[bytes, str, int, int]:
    """Bytes, MIME type, width and height of one base64 image; a broken one is an UpstreamError.

    The image is decoded in full (not only its header), so a truncated file is caught here
    rather than when someone opens the asset.
    """
    from PIL import Image, UnidentifiedImageError  # Pillow: only when an image arrives

    if not isinstance(encoded, str) or not encoded:
        raise UpstreamError("returned a broken image (no image data)", provider=provider,
                            code="upstream_broken_image")
    if encoded.startswith("data:") and "," in encoded:  # some hosts send a data URL
        encoded = encoded.split(",", 1)[1]
    try:
        data = base64.b64decode(encoded, validate=True)
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            width, height = image.size
            kind = image.format or ""
    except (binascii.Error, ValueError, UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise UpstreamError(f"returned a broken image ({exc})", provider=provider,
                            code="upstream_broken_image") from exc
    return data, MIME_TYPES.get(kind, f"image/{kind.lower() or 'octet-stream'}"), width, height


def format_of(mime: str) -> str:
    """The easel output_format an image really has ("image/jpeg" -> "jpeg")."""
    return mime.removeprefix("image/")


# what the answer says it actually used (gpt-image models report these)
_REPORTED = ("size", "quality", "output_format", "background")


def from_wire(payload: dict[str, Any], call: ImagesCall, *, provider: str) -> list[GeneratedImage]:
    """The images in an Images API answer, each with the settings sent (and those reported back)."""
    data = payload.get("data")
    if not isinstance(data, list) or not data:
        raise UpstreamError("answered without images", provider=provider, code="upstream_bad_payload")
    settings = {**call.settings, **{k: payload[k] for k in _REPORTED if isinstance(payload.get(k), str)}}
    images: list[GeneratedImage] = []
    for item in data:
        if not isinstance(item, dict):
            raise UpstreamError(f"sent an unexpected image item: {str(item)[:200]!r}", provider=provider,
                                code="upstream_bad_payload")
        if not item.get("b64_json") and item.get("url"):
            raise UpstreamError("answered with an image URL instead of the image's bytes", provider=provider,
                                code="upstream_bad_payload")
        raw, mime, width, height = decode_image(item.get("b64_json"), provider=provider)
        revised = item.get("revised_prompt")
        images.append(GeneratedImage(data=raw, mime_type=mime, width=width, height=height,
                                     revised_prompt=revised if isinstance(revised, str) and revised else None,
                                     settings={**settings, "output_format": format_of(mime)}))
    return images


def cost(entry: ModelEntry, images: int, usage: Any) -> float | None:
    """Dollars: from the token usage when the model bills tokens and reports them, else per image."""
    pricing = entry.pricing
    if isinstance(usage, dict) and pricing.input_per_mtok is not None and pricing.output_per_mtok is not None:
        prompt, completion = usage.get("input_tokens"), usage.get("output_tokens")
        if isinstance(prompt, int) and isinstance(completion, int):
            return entry.cost(prompt, completion)
    if pricing.per_image is None:
        return None
    return round(images * pricing.per_image, 6)
