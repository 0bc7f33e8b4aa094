"""ModelEntry: one catalog record, for every task (chat, image, upscale, video).

Fields a task does not use stay at their defaults (a chat model has no aspect ratios,
an image model no context window), so one record type serves the whole catalog.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Task = Literal["chat", "image", "upscale", "video"]
TASKS: tuple[Task, ...] = ("chat", "image", "upscale", "video")


class Capabilities(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reasoning: bool = False
    reasoning_off: bool = True  # a reasoning model can be told not to think (reasoning_effort "none")
    vision: bool = False  # accepts images as input
    tools: bool = False
    web_search: bool = False  # provider-side search tool
    structured_output: bool = False
    seed: bool = False
    negative_prompt: bool = False


class Pricing(BaseModel):
    """Prices in US dollars. Token prices are per million tokens."""

    model_config = ConfigDict(extra="forbid")

    input_per_mtok: float | None = None
    output_per_mtok: float | None = None
    cached_input_per_mtok: float | None = None
    reasoning_per_mtok: float | None = None  # when billed apart from output
    per_image: float | None = None
    per_second: float | None = None  # video
    per_megapixel: float | None = None  # upscale


class MediaLimits(BaseModel):
    """What an image/upscale/video model accepts."""

    model_config = ConfigDict(extra="forbid")

    aspect_ratios: list[str] = Field(default_factory=list)
    resolutions: list[str] = Field(default_factory=list)  # "1024x1024" or tiers like "1k", "2k"
    durations_seconds: list[float] = Field(default_factory=list)
    max_images: int | None = None
    upscale_factors: list[int] = Field(default_factory=list)
    fps: list[int] = Field(default_factory=list)


class ModelEntry(BaseModel):
    """A catalog record. `id` is `provider:name`; `upstream_name` is what the provider calls it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    provider: str
    upstream_name: str
    task: Task
    display_name: str
    family: str | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None
    capabilities: Capabilities = Field(default_factory=Capabilities)
    pricing: Pricing = Field(default_factory=Pricing)
    media: MediaLimits = Field(default_factory=MediaLimits)
    aliases: list[str] = Field(default_factory=list)
    release_date: str | None = None
    curated: bool = False
    description: str | None = None

    @property
    def name(self) -> str:
        return self.id.split(":", 1)[1]

    def cost(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> float | None:
        """Dollar cost of one chat call, or None when the catalog has no price for it."""
        p = self.pricing
        if p.input_per_mtok is None and p.output_per_mtok is None:
            return None
        uncached = max(0, prompt_tokens - cached_tokens)
        cached_rate = p.cached_input_per_mtok if p.cached_input_per_mtok is not None else p.input_per_mtok
        total = (
            uncached * (p.input_per_mtok or 0.0)
            + cached_tokens * (cached_rate or 0.0)
            + completion_tokens * (p.output_per_mtok or 0.0)
        )
        return total / 1_000_000
