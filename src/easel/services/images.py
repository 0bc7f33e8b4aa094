"""Images: text-to-image and upscale requests become jobs; their handlers call the provider and store assets.

Submitting checks everything that can be checked up front (model, task, availability,
supported parameters, the source asset), so a bad request is a 4xx and leaves no job behind.
The handlers run in the worker pool: they report progress through the job context, and each
image is saved as an asset (prompt, model, seed and settings in its PNG and its row).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from easel.catalog.catalog import Catalog
from easel.catalog.entry import ModelEntry, Task
from easel.config import Settings
from easel.errors import EaselError, InvalidRequest, ModelNotFound, UpstreamError
from easel.jobs import HandlerRegistry, JobContext, JobOutcome, JobRecord, JobService
from easel.providers.base import Provider, ProviderRegistry
from easel.storage.assets import AssetStore
from easel.tasks.image import ImageRequest, ImageResult, UpscaleRequest, check_supported, check_upscale
from easel.tasks.progress import Progress

IMAGE_TASK = "image"
UPSCALE_TASK = "upscale"


@dataclass(slots=True)
class Resolved:
    entry: ModelEntry
    provider: Provider


class ImageService:
    def __init__(self, *, settings: Settings, catalog: Catalog, providers: ProviderRegistry, assets: AssetStore,
                 jobs: JobService | None = None) -> None:
        self.settings = settings
        self.catalog = catalog
        self.providers = providers
        self.assets = assets
        self.jobs = jobs

    # -- wiring ----------------------------------------------------------------

    def register_handlers(self, registry: HandlerRegistry) -> None:
        registry.register(IMAGE_TASK, self.run_image)
        registry.register(UPSCALE_TASK, self.run_upscale)

    def concurrency_for(self, model_id: str) -> int:
        """The worker pool's per-model limit: what the serving provider allows."""
        entry = self.catalog.get(model_id)
        provider = self.providers.get(entry.provider) if entry else None
        return provider.job_concurrency if provider else 1

    def _jobs(self) -> JobService:
        if self.jobs is None:
            raise RuntimeError("ImageService used before the job service was attached")
        return self.jobs

    # -- checks ----------------------------------------------------------------

    def resolve(self, model: str, task: Task) -> Resolved:
        entry = self.catalog.resolve(model, task=task)
        provider = self.providers.get(entry.provider)
        if provider is None:
            raise ModelNotFound(f"Model '{entry.id}' needs the provider '{entry.provider}', which is not installed.",
                                param="model")
        availability = provider.availability(entry)
        if not availability.usable:
            if provider.credentials_env:
                provider.require_api_key()
            raise InvalidRequest(f"Model '{entry.id}' is not usable now: {availability.reason}.", param="model",
                                 code="model_not_available")
        return Resolved(entry, provider)

    def prepare_image(self, request: ImageRequest) -> tuple[Resolved, ImageRequest]:
        resolved = self.resolve(request.model, "image")
        check_supported(request, resolved.entry)
        resolved.provider.check_image_request(resolved.entry, request)
        return resolved, request.model_copy(update={"model": resolved.entry.id})

    # -- submitting --------------------------------------------------------------

    async def submit_image(self, *, owner_id: str, request: ImageRequest,
                           idempotency_key: str | None = None) -> tuple[JobRecord, bool]:
        resolved, request = self.prepare_image(request)
        return await self._jobs().submit(owner_id=owner_id, task=IMAGE_TASK, model=resolved.entry.id,
                                         request=request, idempotency_key=idempotency_key)

    async def submit_upscale(self, *, owner_id: str, request: UpscaleRequest,
                             idempotency_key: str | None = None) -> tuple[JobRecord, bool]:
        resolved = self.resolve(request.model, "upscale")
        check_upscale(request, resolved.entry)
        source = await self.assets.get(owner_id=owner_id, asset_id=request.asset_id)  # NotFound before any job
        if source.kind != "image":
            raise InvalidRequest(f"Asset '{source.id}' is a {source.kind}, not an image; only images can be upscaled.",
                                 param="asset_id", code="not_an_image")
        request = request.model_copy(update={"model": resolved.entry.id})
        return await self._jobs().submit(owner_id=owner_id, task=UPSCALE_TASK, model=resolved.entry.id,
                                         request=request, idempotency_key=idempotency_key)

    # -- running (job handlers) ---------------------------------------------------

    async def run_image(self, ctx: JobContext, job: JobRecord) -> JobOutcome:
        return await self.generate(ctx, job=job, request=ImageRequest.model_validate(job.request))

    async def run_upscale(self, ctx: JobContext, job: JobRecord) -> JobOutcome:
        return await self.upscale(ctx, job=job, request=UpscaleRequest.model_validate(job.request))

    async def generate(self, ctx: Progress, *, job: JobRecord, request: ImageRequest) -> JobOutcome:
        """Make and store `request`'s images for `job` (an image job, or a workflow step running inside one)."""
        resolved = self.resolve(request.model, "image")
        ctx.progress(0.0, f"starting {resolved.entry.display_name}")
        result = await resolved.provider.generate_images(resolved.entry, request, ctx)
        return await self._store(job, resolved.entry, request.prompt, result, source_asset_id=None,
                                 base_settings=_request_settings(request))

    async def upscale(self, ctx: Progress, *, job: JobRecord, request: UpscaleRequest) -> JobOutcome:
        """Upscale and store one of `job`'s owner's assets (an upscale job, or a workflow step)."""
        resolved = self.resolve(request.model, "upscale")
        source = await self.assets.get(owner_id=job.owner_id, asset_id=request.asset_id)
        data = await self.assets.read_bytes(owner_id=job.owner_id, asset_id=request.asset_id)
        ctx.progress(0.0, f"upscaling x{request.scale} with {resolved.entry.display_name}")
        result = await resolved.provider.upscale(resolved.entry, data, request, ctx)
        return await self._store(job, resolved.entry, source.prompt or "", result, source_asset_id=source.id,
                                 base_settings={"scale": request.scale, "source_asset_id": source.id})

    async def _store(self, job: JobRecord, entry: ModelEntry, prompt: str, result: ImageResult, *,
                     source_asset_id: str | None, base_settings: dict[str, Any]) -> JobOutcome:
        if not result.images:
            raise InvalidRequest(f"Model '{entry.id}' returned no images.", code="empty_result")
        saved = []
        for image in result.images:
            asset = await self.assets.save_image(
                owner_id=job.owner_id, data=image.data, prompt=image.revised_prompt or prompt, model=entry.id,
                seed=image.seed, settings={**base_settings, **image.settings}, job_id=job.id,
                source_asset_id=source_asset_id)
            saved.append({"asset_id": asset.id, "width": asset.width, "height": asset.height, "seed": image.seed,
                          "revised_prompt": image.revised_prompt})
        return JobOutcome(outputs={"assets": [s["asset_id"] for s in saved], "images": saved}, cost=result.cost)


def _request_settings(request: ImageRequest) -> dict[str, Any]:
    """The user's settings worth keeping with each image ("use these settings again")."""
    fields = request.model_dump(exclude={"model", "prompt", "extra"}, exclude_none=True)
    return fields


def job_error(job: JobRecord) -> EaselError:
    """The error a client sees for an image job that failed or was canceled."""
    if job.status == "canceled":
        return InvalidRequest("The image job was canceled.", code="job_canceled")
    code = job.error_code or "job_failed"
    if code in ("invalid_value", "unsupported_parameter", "upstream_bad_request"):
        return InvalidRequest(job.error or "The provider refused the request.", code=code)
    return UpstreamError(job.error or "the image job failed", provider=job.model.split(":", 1)[0], code=code)
