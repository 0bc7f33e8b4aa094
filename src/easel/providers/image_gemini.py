"""Text-to-image for the gemini provider: Imagen through `models/{model}:predict`, as a mixin.

`GeminiProvider` inherits it and lends its key, base URL and HTTP client, whose response
hook already turns Google's error bodies into EaselErrors (a bad key, RetryInfo on 429).
Entries of the "imagen" family are served; any other is the base class's UnsupportedTask.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, cast

import httpx

from easel.adapters import imagen
from easel.adapters.upstream import error_for_transport
from easel.catalog.entry import ModelEntry
from easel.providers.base import Provider
from easel.providers.image_openai import parse_json, stop_if_canceled, until_canceled
from easel.tasks.image import ImageRequest, ImageResult
from easel.tasks.progress import Progress

if TYPE_CHECKING:
    from easel.providers.gemini import GeminiProvider


class GeminiImagesMixin:
    """`generate_images` for GeminiProvider."""

    def check_image_request(self, entry: ModelEntry, request: ImageRequest) -> None:
        if entry.task == "image" and entry.family == "imagen":
            imagen.to_wire(request, entry)  # raises on what :predict can't take

    async def generate_images(self, entry: ModelEntry, request: ImageRequest, progress: Progress) -> ImageResult:
        provider = cast("GeminiProvider", self)
        if entry.provider != provider.name or not imagen.speaks_for(entry):
            return await Provider.generate_images(provider, entry, request, progress)  # UnsupportedTask
        stop_if_canceled(progress)
        call = imagen.to_wire(request, entry)
        key = provider.require_api_key()
        client = provider._http()
        model = entry.upstream_name.removeprefix("models/")
        url = f"{provider.base_url}/models/{model}:predict"

        async def send() -> bytes:
            try:
                response = await client.post(url, json=call.body, headers={"x-goog-api-key": key})
            except httpx.HTTPError as exc:
                raise error_for_transport(provider.name, exc) from exc
            return response.content

        progress.progress(0.0, "submitted")
        body = await until_canceled(send, progress)
        payload = parse_json(body, provider=provider.name)
        images = await asyncio.to_thread(imagen.from_wire, payload, call, provider=provider.name)
        progress.progress(1.0, "done")
        per_image = entry.pricing.per_image
        # Google bills the images it returns; those its safety filters removed are not made.
        return ImageResult(images=images, cost=round(len(images) * per_image, 6) if per_image is not None else None)
