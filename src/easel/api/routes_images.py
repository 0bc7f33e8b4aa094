"""Image routes: POST /api/images and /api/upscale (jobs), POST /v1/images/generations (OpenAI's
shape, waits for its job), POST /api/prompts/enhance (a chat model expands a short idea).
"""

from __future__ import annotations

import base64
import time
from typing import Any, Literal

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from easel.api.deps import AccountDep, ServicesDep
from easel.api.errors import json_response
from easel.api.routes_jobs import job_public
from easel.errors import InvalidRequest, UpstreamTimeout
from easel.services.images import job_error
from easel.services.prompts import enhance_prompt
from easel.tasks.image import ImageRequest, PromptParts, UpscaleRequest, nearest_aspect_ratio

router = APIRouter(tags=["images"])

OPENAI_SIZES = ("auto", "256x256", "512x512", "1024x1024", "1536x1024", "1024x1536", "1792x1024", "1024x1792")
WAIT_SECONDS = 600


class ImageCreate(ImageRequest):
    """POST /api/images: the image vocabulary; `model` defaults to the studio's image model."""

    model: str = ""  # type: ignore[assignment]


class UpscaleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asset_id: str
    scale: Literal[2, 4] = 4
    model: str | None = None


class OpenAIImageCreate(BaseModel):
    """POST /v1/images/generations, as OpenAI's Images API defines it."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=32000)
    model: str | None = None
    n: int = Field(default=1, ge=1, le=10)
    quality: Literal["auto", "low", "medium", "high", "standard", "hd"] | None = None
    response_format: Literal["url", "b64_json"] = "b64_json"
    size: str | None = None
    style: Literal["vivid", "natural"] | None = None
    output_format: Literal["png", "jpeg", "webp"] | None = None
    background: Literal["transparent", "opaque", "auto"] | None = None
    moderation: Literal["low", "auto"] | None = None
    output_compression: int | None = Field(default=None, ge=0, le=100)
    user: str | None = None


class EnhanceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    idea: str = Field(min_length=1, max_length=4000)
    parts: PromptParts | None = None
    model: str | None = None


@router.post("/api/images", status_code=202)
async def create_images(body: ImageCreate, services: ServicesDep, owner: AccountDep,
                        idempotency_key: str | None = Header(default=None)) -> Response:
    request = body.model_copy(update={"model": body.model or services.settings.default_image_model})
    job, created = await services.images.submit_image(owner_id=owner, request=request,
                                                      idempotency_key=idempotency_key)
    return json_response(job_public(job), 202 if created else 200)


@router.post("/api/upscale", status_code=202)
async def create_upscale(body: UpscaleCreate, services: ServicesDep, owner: AccountDep,
                         idempotency_key: str | None = Header(default=None)) -> Response:
    request = UpscaleRequest(model=body.model or services.settings.default_upscale_model, asset_id=body.asset_id,
                             scale=body.scale)
    job, created = await services.images.submit_upscale(owner_id=owner, request=request,
                                                        idempotency_key=idempotency_key)
    return json_response(job_public(job), 202 if created else 200)


def _size_fields(size: str | None, services: Any, model: str) -> dict[str, Any]:
    if size is None or size == "auto":
        return {}
    if size not in OPENAI_SIZES:
        raise InvalidRequest(f"Invalid size '{size}'; supported: {', '.join(OPENAI_SIZES)}.", param="size",
                             code="invalid_value")
    width, height = (int(x) for x in size.split("x"))
    entry = services.catalog.resolve(model, task="image")
    if "custom" in entry.media.resolutions or size in entry.media.resolutions:
        return {"width": width, "height": height}
    allowed = entry.media.aspect_ratios or None
    return {"aspect_ratio": nearest_aspect_ratio(width, height, allowed) if allowed else
            nearest_aspect_ratio(width, height)}


@router.post("/v1/images/generations")
async def openai_images(body: OpenAIImageCreate, request: Request, services: ServicesDep,
                        owner: AccountDep) -> Response:
    model = body.model or services.settings.default_image_model
    quality = {"standard": "medium", "hd": "high"}.get(body.quality or "", body.quality)
    image_request = ImageRequest(model=model, prompt=body.prompt, n=body.n, quality=quality,
                                 output_format=body.output_format or "png", **_size_fields(body.size, services, model))
    job, _ = await services.images.submit_image(owner_id=owner, request=image_request)
    try:
        job = await services.jobs.wait(owner_id=owner, job_id=job.id, timeout=WAIT_SECONDS)
    except TimeoutError as exc:
        raise UpstreamTimeout(f"the image job {job.id} did not finish in {WAIT_SECONDS} s; follow it at "
                              f"/api/jobs/{job.id}", provider=model.split(":", 1)[0]) from exc
    if job.status != "succeeded":
        raise job_error(job)
    data = []
    base = str(request.base_url).rstrip("/")
    for image in (job.outputs or {}).get("images", []):
        item: dict[str, Any] = {"revised_prompt": image.get("revised_prompt") or body.prompt}
        if body.response_format == "url":
            item["url"] = f"{base}/api/assets/{image['asset_id']}/content"
        else:
            raw = await services.assets.read_bytes(owner_id=owner, asset_id=image["asset_id"])
            item["b64_json"] = base64.b64encode(raw).decode()
        data.append(item)
    return json_response({"created": int(time.time()), "data": data, "output_format": image_request.output_format,
                          "usage": {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0, "images": len(data)},
                          "easel": {"job_id": job.id, "model": job.model, "cost": job.cost}})


@router.post("/api/prompts/enhance")
async def enhance(body: EnhanceCreate, services: ServicesDep, owner: AccountDep) -> Response:
    idea = body.idea if body.parts is None else f"{body.idea}, {body.parts.compose()}".strip(", ")
    model = body.model or services.settings.default_chat_model
    prompt, used = await enhance_prompt(services.chat, owner_id=owner, idea=idea, model=model)
    return json_response({"prompt": prompt, "model": used, "idea": idea})
