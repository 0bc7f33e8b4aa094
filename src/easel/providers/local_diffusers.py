"""The `local-diffusers` provider: text-to-image with diffusers pipelines from local folders.

Every folder under `$EASEL_HOME/models/diffusers/<name>` that holds a diffusers pipeline
(a model_index.json, as `easel pull` or `save_pretrained` leave it) becomes the model
`local:diffusers/<name>`. A run loads the pipeline on first use (`local_diffusers_runtime`
keeps it warm and unloads it when idle) and calls it in a worker thread, so the event loop
never waits on torch. Every denoising step reports `progress(step/total, "step i/n")`;
the job's progress raises once the job is canceled, which stops the pipeline at its next
step. One run at a time per model: a second waits for the first (the job pool's
per-model limit, `job_concurrency`, keeps them from queueing here at all).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import json
import logging
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from easel.catalog.entry import Capabilities, MediaLimits, ModelEntry, Pricing
from easel.config import Settings
from easel.errors import EaselError, InvalidRequest, UpstreamError
from easel.providers.base import Availability, Provider
from easel.providers.local_diffusers_runtime import (
    SEED_SPACE,
    LoadedInfo,
    PipelineCache,
    RunPlan,
    plan_run,
    run_pipeline,
)
from easel.tasks.image import ASPECT_RATIOS, GeneratedImage, ImageRequest, ImageResult
from easel.tasks.progress import Progress

log = logging.getLogger(__name__)

PROVIDER = "local-diffusers"
ID_PREFIX = "local:diffusers/"
MAX_IMAGES = 4
SOURCE_FILE = ".easel-source.json"  # written by `easel pull`: where the folder came from


def models_dir(settings: Settings) -> Path:
    """Where pulled pipelines live: one folder per model."""
    return settings.home / "models" / "diffusers"


def is_pipeline(folder: Path) -> bool:
    return (folder / "model_index.json").is_file()


def _describe(folder: Path) -> str:
    """'StableDiffusionPipeline from org/repo' as far as the folder tells."""
    try:
        kind = str(json.loads((folder / "model_index.json").read_text()).get("_class_name") or "pipeline")
    except (OSError, ValueError):
        kind = "pipeline"
    try:
        source = json.loads((folder / SOURCE_FILE).read_text()).get("repo_id")
    except (OSError, ValueError):
        source = None
    return f"diffusers {kind}" + (f" pulled from {source}" if source else f" in {folder}")


def entry_for_folder(folder: Path) -> ModelEntry:
    """The catalog entry of one pipeline folder."""
    name = folder.name
    return ModelEntry(
        id=f"{ID_PREFIX}{name}",
        provider=PROVIDER,
        upstream_name=name,
        task="image",
        display_name=f"{name} (local diffusers)",
        capabilities=Capabilities(seed=True, negative_prompt=True),
        pricing=Pricing(per_image=0.0),
        media=MediaLimits(aspect_ratios=list(ASPECT_RATIOS), resolutions=["custom"], max_images=MAX_IMAGES),
        description=_describe(folder),
    )


def to_png(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def image_settings(plan: RunPlan, seed: int, scheduler: str | None) -> dict[str, Any]:
    """What was actually used for one image (stored with the asset: "use these settings again")."""
    settings: dict[str, Any] = {"width": plan.width, "height": plan.height, "steps": plan.steps, "seed": seed}
    if plan.guidance is not None:
        settings["guidance"] = plan.guidance
    if plan.negative_prompt:
        settings["negative_prompt"] = plan.negative_prompt
    if scheduler:
        settings["scheduler"] = scheduler
    return settings


class _Aborted(BaseException):
    """The awaiting task went away (asyncio cancel): stop the pipeline at its next step."""


class LocalDiffusersProvider(Provider):
    """diffusers pipelines from folders under the models directory, run on the CPU."""

    name = PROVIDER
    display_name = "Local (diffusers)"
    job_concurrency = 1  # one run per model at a time; a CPU has no room for two

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._cache = PipelineCache(settings.local_idle_unload_seconds, threads=settings.local_threads)

    # -- models -----------------------------------------------------------------

    @property
    def models_dir(self) -> Path:
        return models_dir(self.settings)

    def folder(self, entry: ModelEntry) -> Path:
        name = entry.upstream_name
        if not name or name.startswith(".") or "/" in name or "\\" in name:
            raise InvalidRequest(f"'{entry.id}' is not a local diffusers model name.", param="model")
        return self.models_dir / name

    def extra_models(self) -> list[ModelEntry]:
        root = self.models_dir
        if not root.is_dir():
            return []
        return [entry_for_folder(path) for path in sorted(root.iterdir())
                if path.is_dir() and not path.name.startswith(".") and is_pipeline(path)]

    def availability(self, entry: ModelEntry) -> Availability:
        folder = self.folder(entry)
        if is_pipeline(folder):
            return Availability(True)
        return Availability(False, f"no diffusers pipeline in {folder}: run `easel pull <hub repo id>`")

    # -- lifecycle ----------------------------------------------------------------

    async def unload(self, entry: ModelEntry | None = None) -> list[Path]:
        """Unload one model's pipeline or all; returns the folders unloaded."""
        folder = self.folder(entry) if entry is not None else None
        return await asyncio.to_thread(self._cache.unload, folder)

    def loaded_models(self) -> list[LoadedInfo]:
        return self._cache.loaded()

    async def aclose(self) -> None:
        await asyncio.to_thread(self._cache.unload, None, wait=5.0)

    # -- work ---------------------------------------------------------------------

    async def generate_images(self, entry: ModelEntry, request: ImageRequest, progress: Progress) -> ImageResult:
        folder = self.folder(entry)
        if not is_pipeline(folder):
            raise InvalidRequest(f"{entry.id} is not available: {self.availability(entry).reason}.",
                                 param="model", code="model_not_installed")
        seed = request.seed if request.seed is not None else secrets.randbelow(SEED_SPACE)
        aborted = threading.Event()
        worker = asyncio.ensure_future(
            asyncio.to_thread(self._generate_blocking, entry, folder, request, seed, progress, aborted))
        try:
            return await asyncio.shield(worker)
        except asyncio.CancelledError:
            # The caller went away: stop the pipeline at its next step and let the thread end
            # before returning, so the model is free (and its memory collected) for the next job.
            aborted.set()
            with contextlib.suppress(BaseException):
                await asyncio.wait({worker})
            if worker.done() and not worker.cancelled():
                worker.exception()  # the _Aborted we caused: retrieved, so asyncio does not log it
            raise

    def _generate_blocking(self, entry: ModelEntry, folder: Path, request: ImageRequest, seed: int,
                           progress: Progress, aborted: threading.Event) -> ImageResult:
        """Worker thread: one run; any failure or stop leaves no tensors behind."""

        def check_stop() -> None:
            if aborted.is_set():
                raise _Aborted()
            progress.raise_if_canceled()

        error: BaseException | None = None
        try:
            return self._run(entry, folder, request, seed, progress, check_stop)
        except EaselError as exc:  # already says what is wrong (an unsupported parameter)
            error = exc.with_traceback(None)
        except Exception as exc:  # noqa: BLE001  torch/diffusers failures become one typed error
            log.warning("local diffusers run of %s failed", entry.id, exc_info=True)
            error = UpstreamError(f"{entry.id} failed: {exc}", provider=PROVIDER)
        except BaseException as exc:  # a stop (JobStopped, _Aborted): keep it, drop the pipeline's frames
            error = exc.with_traceback(None)
            error.__context__ = None
        # A stopped run's traceback held the pipeline's frames (latents, activations): with it
        # gone, collect now rather than at some later collection. (A finished run frees its
        # tensors by reference counting as it returns.)
        gc.collect()
        raise error

    def _run(self, entry: ModelEntry, folder: Path, request: ImageRequest, seed: int, progress: Progress,
             check_stop: Callable[[], None]) -> ImageResult:
        def on_step(step: int, total: int) -> None:
            check_stop()
            progress.progress(step / total, f"step {step}/{total}")  # raises when canceled

        def on_load() -> None:
            progress.progress(0.0, f"loading {entry.upstream_name}")

        with self._cache.use(folder, check_stop=check_stop, on_load=on_load) as loaded:
            plan = plan_run(request, loaded.defaults, seed)
            pictures = run_pipeline(loaded.pipe, plan, on_step)
            scheduler = loaded.defaults.scheduler
        images = [GeneratedImage(data=to_png(picture), mime_type="image/png", width=picture.width,
                                 height=picture.height, seed=image_seed,
                                 settings=image_settings(plan, image_seed, scheduler))
                  for picture, image_seed in zip(pictures, plan.seeds(), strict=True)]
        return ImageResult(images=images, cost=0.0)


def create_providers(settings: Settings) -> list[Provider]:
    """Entry point `easel.providers: local-diffusers`."""
    return [LocalDiffusersProvider(settings)]
