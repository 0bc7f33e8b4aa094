"""The image tasks: ImageRequest (text-to-image), UpscaleRequest, and what comes back.

One vocabulary across models (prompt, negative_prompt, aspect_ratio or width/height, n,
seed, steps, guidance, style). Each catalog entry declares what it supports in
`entry.media` / `entry.capabilities`; `check_supported` refuses the rest with a 400 that
lists the supported values, and `dimensions_for` turns an aspect ratio into pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from easel.catalog.entry import ModelEntry
from easel.errors import InvalidRequest, UnsupportedParameter

AspectRatio = Literal["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "21:9"]
ASPECT_RATIOS: tuple[str, ...] = ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "21:9")
MAX_PROMPT_CHARS = 8000
MAX_SIDE = 4096
MIN_SIDE = 64


class PromptParts(BaseModel):
    """The prompt builder's fields; `compose()` joins them into one prompt."""

    model_config = ConfigDict(extra="forbid")

    subject: str | None = Field(default=None, max_length=1000)
    setting: str | None = Field(default=None, max_length=1000)
    lighting: str | None = Field(default=None, max_length=500)
    camera_angle: str | None = Field(default=None, max_length=500)
    mood: str | None = Field(default=None, max_length=500)
    style: str | None = Field(default=None, max_length=500)

    def compose(self) -> str:
        parts: list[str] = []
        if self.subject:
            parts.append(self.subject.strip())
        if self.setting:
            parts.append(self.setting.strip())
        if self.lighting:
            parts.append(f"{self.lighting.strip()} lighting" if "light" not in self.lighting else self.lighting.strip())
        if self.camera_angle:
            parts.append(self.camera_angle.strip())
        if self.mood:
            parts.append(f"{self.mood.strip()} mood" if "mood" not in self.mood else self.mood.strip())
        if self.style:
            parts.append(f"in {self.style.strip()} style" if "style" not in self.style else self.style.strip())
        return ", ".join(p for p in parts if p)


class ImageRequest(BaseModel):
    """Text-to-image, whatever serves it. `model` is the resolved catalog id."""

    model_config = ConfigDict(extra="forbid")

    model: str
    prompt: str = Field(default="", max_length=MAX_PROMPT_CHARS)
    prompt_parts: PromptParts | None = None
    negative_prompt: str | None = Field(default=None, max_length=MAX_PROMPT_CHARS)
    aspect_ratio: AspectRatio | None = None
    width: int | None = Field(default=None, ge=MIN_SIDE, le=MAX_SIDE)
    height: int | None = Field(default=None, ge=MIN_SIDE, le=MAX_SIDE)
    n: int = Field(default=1, ge=1, le=8)
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    steps: int | None = Field(default=None, ge=1, le=150)
    guidance: float | None = Field(default=None, ge=0, le=30)
    style: str | None = Field(default=None, max_length=100)
    quality: Literal["auto", "low", "medium", "high"] | None = None
    output_format: Literal["png", "jpeg", "webp"] = "png"
    extra: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _prompt_and_size(self) -> ImageRequest:
        if not self.prompt.strip() and self.prompt_parts is not None:
            self.prompt = self.prompt_parts.compose()
        elif self.prompt_parts is not None:
            extra = self.prompt_parts.compose()
            # Idempotent: a stored request validated again (by the worker) must not repeat the parts.
            if extra and not self.prompt.rstrip().endswith(extra):
                self.prompt = f"{self.prompt.strip()}, {extra}"
        if not self.prompt.strip():
            raise ValueError("a prompt is required (prompt, or prompt_parts with at least a subject)")
        if (self.width is None) != (self.height is None):
            raise ValueError("give both width and height, or neither")
        if self.width is not None and self.aspect_ratio is not None:
            raise ValueError("give aspect_ratio or width/height, not both")
        return self


class UpscaleRequest(BaseModel):
    """Super-resolution of one stored image."""

    model_config = ConfigDict(extra="forbid")

    model: str
    asset_id: str
    scale: Literal[2, 4] = 4


@dataclass(slots=True)
class GeneratedImage:
    """One picture as bytes, with the settings actually used to make it."""

    data: bytes
    mime_type: str
    width: int
    height: int
    seed: int | None = None
    revised_prompt: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ImageResult:
    images: list[GeneratedImage]
    cost: float | None = None
    upstream_id: str | None = None


def _ratio(value: str) -> float:
    w, h = value.split(":")
    return int(w) / int(h)


def dimensions_for(aspect_ratio: str, megapixels: float = 1.0, multiple: int = 64) -> tuple[int, int]:
    """Width and height for an aspect ratio at about `megapixels`, rounded to `multiple`."""
    ratio = _ratio(aspect_ratio)
    area = megapixels * 1024 * 1024
    height = (area / ratio) ** 0.5
    width = height * ratio

    def snap(x: float) -> int:
        return max(multiple, int(round(x / multiple)) * multiple)

    return snap(width), snap(height)


def nearest_aspect_ratio(width: int, height: int, allowed: list[str] | tuple[str, ...] = ASPECT_RATIOS) -> str:
    target = width / height
    return min(allowed, key=lambda r: abs(_ratio(r) - target))


def check_supported(request: ImageRequest, entry: ModelEntry) -> None:
    """Refuse what this model can't do, listing what it can (a 400 naming the parameter)."""
    media = entry.media
    if request.aspect_ratio and media.aspect_ratios and request.aspect_ratio not in media.aspect_ratios:
        raise UnsupportedParameter(
            f"Model '{entry.id}' does not support aspect_ratio {request.aspect_ratio}; "
            f"supported: {', '.join(media.aspect_ratios)}.", param="aspect_ratio")
    if request.width is not None and media.resolutions and "custom" not in media.resolutions:
        size = f"{request.width}x{request.height}"
        if size not in media.resolutions:
            raise UnsupportedParameter(
                f"Model '{entry.id}' does not support size {size}; supported: {', '.join(media.resolutions)}"
                + (f", or an aspect_ratio ({', '.join(media.aspect_ratios)})" if media.aspect_ratios else "") + ".",
                param="width")
    if media.max_images is not None and request.n > media.max_images:
        raise UnsupportedParameter(f"Model '{entry.id}' makes at most {media.max_images} images per request.",
                                   param="n")
    if request.negative_prompt and not entry.capabilities.negative_prompt:
        raise UnsupportedParameter(f"Model '{entry.id}' does not take a negative_prompt.", param="negative_prompt")
    if request.seed is not None and not entry.capabilities.seed:
        raise UnsupportedParameter(f"Model '{entry.id}' does not take a seed.", param="seed")


def check_upscale(request: UpscaleRequest, entry: ModelEntry) -> None:
    factors = entry.media.upscale_factors
    if factors and request.scale not in factors:
        raise InvalidRequest(f"Model '{entry.id}' upscales by {', '.join(map(str, factors))}; not {request.scale}.",
                             param="scale", code="unsupported_parameter")
