"""Text-to-image for the openai-compatible providers: `generate_images` as a mixin.

`OpenAICompatibleProvider` inherits it; it serves the entries whose family
`adapters.openai_images` has rules for (gpt-image, dall-e on OpenAI; grok-imagine on
xAI), with the provider's own session, key and error mapping (`_open`). Any other entry,
or another provider's entry, is the base class's UnsupportedTask: hosts without an images
endpoint simply have no such entries in the catalog.

Also home to the cancel plumbing both image mixins share: stop before sending when the
job is already canceled, and close the upstream request when it is canceled mid-flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import orjson

from easel.adapters import openai_images
from easel.catalog.entry import ModelEntry
from easel.errors import UpstreamError
from easel.providers.base import Provider
from easel.tasks.image import ImageRequest, ImageResult
from easel.tasks.progress import Progress

if TYPE_CHECKING:
    from easel.providers.openai_compatible import OpenAICompatibleProvider

T = TypeVar("T")


def stop_if_canceled(progress: Progress) -> None:
    """Raise the job's own stop (JobStopped) when it is canceled; never start upstream work then."""
    if progress.is_canceled():
        progress.raise_if_canceled()
        raise asyncio.CancelledError("canceled before the request was sent")


async def until_canceled(send: Callable[[], Awaitable[T]], progress: Progress) -> T:
    """Run `send()`; if the job is canceled first, cancel it (closing its connection) and stop.

    Closing the connection is what tells the provider to stop generating; what it already
    made is not billed to a finished job either way.
    """
    task: asyncio.Task[T] = asyncio.ensure_future(send())
    watcher = asyncio.ensure_future(progress.wait_canceled(None))
    try:
        while True:
            done, _ = await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                return task.result()
            if watcher.result():
                break
            watcher = asyncio.ensure_future(progress.wait_canceled(None))
    finally:
        for pending in (task, watcher):
            if not pending.done():
                pending.cancel()
        await asyncio.gather(task, watcher, return_exceptions=True)
    stop_if_canceled(progress)
    raise asyncio.CancelledError("canceled during the request")


def parse_json(body: bytes, *, provider: str) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise UpstreamError(f"sent an answer that is not JSON: {body[:200]!r}", provider=provider,
                            code="upstream_bad_payload") from exc


class OpenAIImagesMixin:
    """`generate_images` over `POST {base}/images/generations` for OpenAICompatibleProvider."""

    def check_image_request(self, entry: ModelEntry, request: ImageRequest) -> None:
        if openai_images.rules_for(entry) is not None:
            openai_images.to_wire(request, entry)  # raises on what the endpoint can't take

    async def generate_images(self, entry: ModelEntry, request: ImageRequest, progress: Progress) -> ImageResult:
        provider = cast("OpenAICompatibleProvider", self)
        if entry.provider != provider.name or openai_images.rules_for(entry) is None:
            return await Provider.generate_images(provider, entry, request, progress)  # UnsupportedTask
        stop_if_canceled(progress)
        call = openai_images.to_wire(request, entry)
        key = provider.require_api_key() if provider.profile.key_required else provider.api_key()

        from easel.providers.openai_compatible import UpstreamCall  # the provider module imports this one

        headers = {"content-type": "application/json", "accept": "application/json", **dict(provider.profile.headers)}
        if key:
            headers["authorization"] = f"Bearer {key}"
        upstream = UpstreamCall(f"{provider.base_url}/images/generations", orjson.dumps(call.body), headers)

        async def send() -> tuple[bytes, str | None]:
            async with provider._open(upstream) as response:
                return await response.read(), response.headers.get("x-request-id")

        progress.progress(0.0, "submitted")
        body, request_id = await until_canceled(send, progress)
        payload = parse_json(body, provider=provider.name)
        if not isinstance(payload, dict):
            raise UpstreamError(f"sent an unexpected answer: {body[:200]!r}", provider=provider.name,
                                code="upstream_bad_payload")
        images = await asyncio.to_thread(openai_images.from_wire, payload, call, provider=provider.name)
        progress.progress(1.0, "done")
        return ImageResult(images=images, cost=openai_images.cost(entry, len(images), payload.get("usage")),
                           upstream_id=request_id)
