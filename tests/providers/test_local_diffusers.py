"""The `local-diffusers` provider running a real (tiny, randomly initialised) diffusers pipeline.

The pipeline is built once per session with `save_pretrained` into a models folder; one
provider is shared by the plain generation tests (its pipeline stays loaded across tests
and their event loops); tests that need other settings or folders build their own.
Progress goes through the jobs system's real JobContext, or, where a test must stop at
an exact step, through `StopAt` (tests/fakes/tiny_diffusers.py).
"""

from __future__ import annotations

import asyncio
import gc
import json
import shutil
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path
from types import TracebackType

import pytest

from easel.catalog.catalog import Catalog
from easel.catalog.entry import ModelEntry
from easel.config import Settings
from easel.errors import InvalidRequest, UnsupportedParameter, UpstreamError
from easel.jobs import JobContext, JobRecord, JobStopped
from easel.providers.base import ENTRY_POINT_GROUP
from easel.providers.local_diffusers import LocalDiffusersProvider, create_providers, models_dir
from easel.providers.local_diffusers_runtime import PipelineDefaults, plan_run
from easel.tasks.image import ASPECT_RATIOS, ImageRequest, ImageResult, check_supported
from tests.fakes.tiny_diffusers import StopAt, build_tiny_pipeline, pixels


@pytest.fixture(scope="session")
def tiny_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random StableDiffusionPipeline folder (64x64 pictures)."""
    return build_tiny_pipeline(tmp_path_factory.mktemp("pipelines") / "tiny")


@pytest.fixture(scope="module")
def models_home(tmp_path_factory: pytest.TempPathFactory, tiny_pipeline: Path) -> Path:
    home = tmp_path_factory.mktemp("home")
    shutil.copytree(tiny_pipeline, models_dir(Settings(home=home)) / "tiny")
    return home


@pytest.fixture(scope="module")
def provider(models_home: Path) -> Iterator[LocalDiffusersProvider]:
    shared = LocalDiffusersProvider(Settings(home=models_home, local_threads=1))
    yield shared
    shared._cache.unload()


@pytest.fixture(scope="module")
def tiny(provider: LocalDiffusersProvider) -> ModelEntry:
    (entry,) = provider.extra_models()
    return entry


class Events:
    """A JobContext on the running loop, with the progress it reported."""

    def __init__(self) -> None:
        now = datetime.now(UTC)
        job = JobRecord(id="job-1", owner_id="local", task="image", model="local:diffusers/tiny", request={},
                        status="running", created_at=now, started_at=now)
        self.seen: list[tuple[float, str | None]] = []
        self.ctx = JobContext(job, on_progress=self.on_progress, loop=asyncio.get_running_loop())
        self.cancel_at: str | None = None

    def on_progress(self, fraction: float, message: str | None) -> None:  # runs on the loop's thread
        self.seen.append((fraction, message))
        if message == self.cancel_at:
            self.ctx.interrupt("canceled")

    def steps(self) -> list[str]:
        return [m for _, m in self.seen if m and m.startswith("step ")]


def ask(entry: ModelEntry, **options: object) -> ImageRequest:
    return ImageRequest(model=entry.id, **{"prompt": "a red cat", "steps": 3, **options})  # type: ignore[arg-type]


async def generate(provider: LocalDiffusersProvider, entry: ModelEntry, **options: object) -> ImageResult:
    return await provider.generate_images(entry, ask(entry, **options), Events().ctx)


# -- the catalog side ------------------------------------------------------------------


def test_entry_point_creates_the_provider(models_home: Path) -> None:
    (ep,) = [e for e in entry_points(group=ENTRY_POINT_GROUP) if e.name == "local-diffusers"]
    assert ep.load() is create_providers
    (made,) = create_providers(Settings(home=models_home, local_threads=1))
    assert isinstance(made, LocalDiffusersProvider) and made.name == "local-diffusers"


def test_pipeline_folders_become_image_models(tmp_path: Path, tiny_pipeline: Path) -> None:
    root = models_dir(Settings(home=tmp_path))
    shutil.copytree(tiny_pipeline, root / "tiny")
    (root / "half-pulled" / "unet").mkdir(parents=True)  # no model_index.json yet
    shutil.copytree(tiny_pipeline, root / ".staging")
    provider = LocalDiffusersProvider(Settings(home=tmp_path, local_threads=1))

    (entry,) = provider.extra_models()
    assert (entry.id, entry.provider, entry.upstream_name, entry.task) == (
        "local:diffusers/tiny", "local-diffusers", "tiny", "image")
    assert entry.capabilities.seed and entry.capabilities.negative_prompt
    assert entry.media.aspect_ratios == list(ASPECT_RATIOS)
    assert entry.media.resolutions == ["custom"] and entry.media.max_images == 4
    assert entry.pricing.per_image == 0.0
    assert "StableDiffusionPipeline" in (entry.description or "")
    assert provider.availability(entry).usable

    catalog = Catalog.load(provider.extra_models())
    assert catalog.resolve("local:diffusers/tiny", task="image") == entry
    check_supported(ask(entry, n=4, seed=1, negative_prompt="blur", aspect_ratio="16:9", steps=None), entry)
    with pytest.raises(UnsupportedParameter):
        check_supported(ask(entry, n=5), entry)

    gone = entry.model_copy(update={"id": "local:diffusers/gone", "upstream_name": "gone"})
    availability = provider.availability(gone)
    assert not availability.usable and "easel pull" in (availability.reason or "")


def test_no_models_folder_means_no_models(tmp_path: Path) -> None:
    assert LocalDiffusersProvider(Settings(home=tmp_path, local_threads=1)).extra_models() == []


def test_plan_run_fills_in_the_pipelines_defaults() -> None:
    sd = PipelineDefaults(class_name="StableDiffusionPipeline", scheduler="PNDMScheduler", side=512, steps=25,
                          guidance=7.5, accepts=frozenset({"prompt", "negative_prompt", "guidance_scale"}))
    plan = plan_run(ImageRequest(model="m", prompt="p"), sd, seed=2**32 + 5)
    assert (plan.width, plan.height, plan.steps, plan.guidance, plan.seed) == (512, 512, 25, 7.5, 5)
    wide = plan_run(ImageRequest(model="m", prompt="p", aspect_ratio="16:9", steps=4, guidance=2.0), sd, seed=1)
    assert wide.width % 8 == 0 and wide.height % 8 == 0 and abs(wide.width / wide.height - 16 / 9) < 0.05
    assert abs(wide.width * wide.height - 512 * 512) / (512 * 512) < 0.05
    assert (wide.steps, wide.guidance) == (4, 2.0)
    flux = PipelineDefaults(class_name="FluxPipeline", scheduler=None, side=1024, steps=25, guidance=None,
                            accepts=frozenset({"prompt"}))
    assert plan_run(ImageRequest(model="m", prompt="p", guidance=3.0), flux, seed=1).guidance is None
    with pytest.raises(UnsupportedParameter):
        plan_run(ImageRequest(model="m", prompt="p", negative_prompt="blur"), flux, seed=1)


# -- generating -------------------------------------------------------------------------


async def test_each_step_reports_progress_in_order(provider: LocalDiffusersProvider, tiny: ModelEntry) -> None:
    events = Events()
    result = await provider.generate_images(tiny, ask(tiny, steps=4, seed=7), events.ctx)
    await asyncio.sleep(0.05)  # progress from the worker thread lands on the loop via call_soon_threadsafe
    assert events.steps() == ["step 1/4", "step 2/4", "step 3/4", "step 4/4"]
    assert [f for f, m in events.seen if m and m.startswith("step")] == [0.25, 0.5, 0.75, 1.0]
    (image,) = result.images
    assert image.mime_type == "image/png" and (image.width, image.height) == (64, 64)
    assert pixels(image.data)[0] == (64, 64)
    assert image.seed == 7
    assert image.settings == {"width": 64, "height": 64, "steps": 4, "seed": 7, "guidance": 7.5,
                              "scheduler": "DDIMScheduler"}
    assert result.cost == 0.0


async def test_same_seed_same_pixels_other_seed_other_pixels(provider: LocalDiffusersProvider,
                                                             tiny: ModelEntry) -> None:
    first = await generate(provider, tiny, seed=1234)
    again = await generate(provider, tiny, seed=1234)
    other = await generate(provider, tiny, seed=1235)
    assert pixels(first.images[0].data) == pixels(again.images[0].data)
    assert pixels(first.images[0].data)[1] != pixels(other.images[0].data)[1]


async def test_no_seed_reports_the_one_used(provider: LocalDiffusersProvider, tiny: ModelEntry) -> None:
    (image,) = (await generate(provider, tiny)).images
    assert image.seed is not None and image.settings["seed"] == image.seed
    (replay,) = (await generate(provider, tiny, seed=image.seed)).images
    assert pixels(replay.data) == pixels(image.data)


async def test_n_images_each_with_its_seed(provider: LocalDiffusersProvider, tiny: ModelEntry) -> None:
    result = await generate(provider, tiny, n=2, seed=2**32 - 1)
    assert [i.seed for i in result.images] == [2**32 - 1, 0]  # seed + i, wrapped into the seed range
    assert pixels(result.images[0].data)[1] != pixels(result.images[1].data)[1]


async def test_sizes_guidance_and_negative_prompt(provider: LocalDiffusersProvider, tiny: ModelEntry) -> None:
    (wide,) = (await generate(provider, tiny, aspect_ratio="16:9", seed=1)).images
    assert wide.width > wide.height and wide.width % 8 == 0 and wide.height % 8 == 0
    (custom,) = (await generate(provider, tiny, width=100, height=64, guidance=3.0,
                                negative_prompt="blurry", seed=1)).images
    assert (custom.width, custom.height) == (104, 64)  # snapped to a multiple of 8
    assert pixels(custom.data)[0] == (104, 64)
    assert custom.settings["guidance"] == 3.0 and custom.settings["negative_prompt"] == "blurry"


# -- stopping ---------------------------------------------------------------------------


async def test_cancel_after_step_two_stops_there_and_the_next_run_works(
        provider: LocalDiffusersProvider, tiny: ModelEntry) -> None:
    progress = StopAt("step 2/10")
    with pytest.raises(JobStopped):
        await provider.generate_images(tiny, ask(tiny, steps=10, seed=3), progress)
    assert [m for m in progress.seen if m and m.startswith("step")] == ["step 1/10", "step 2/10"]
    result = await generate(provider, tiny, seed=3)
    assert len(result.images) == 1


async def test_cancel_through_the_job_context(provider: LocalDiffusersProvider, tiny: ModelEntry) -> None:
    events = Events()
    events.cancel_at = "step 2/40"
    with pytest.raises(JobStopped) as stopped:
        await provider.generate_images(tiny, ask(tiny, steps=40, seed=3), events.ctx)
    assert stopped.value.reason == "canceled"
    assert 2 <= len(events.steps()) < 40
    assert stopped.value.__traceback__ is not None  # re-raised here, without the pipeline's frames:
    assert all("pipeline" not in str(tb.tb_frame.f_code.co_filename) for tb in _walk(stopped.value.__traceback__))


def _walk(tb: TracebackType | None) -> Iterator[TracebackType]:
    while tb is not None:
        yield tb
        tb = tb.tb_next


async def test_a_stopped_run_leaves_no_tensors_behind(provider: LocalDiffusersProvider, tiny: ModelEntry) -> None:
    import torch

    def live_tensors() -> int:
        gc.collect()
        with warnings.catch_warnings():  # isinstance() wakes deprecated module proxies in torch
            warnings.simplefilter("ignore")
            return sum(1 for o in gc.get_objects() if isinstance(o, torch.Tensor))

    await generate(provider, tiny, seed=5)
    baseline = live_tensors()
    with pytest.raises(JobStopped):
        await provider.generate_images(tiny, ask(tiny, steps=10, seed=5), StopAt("step 3/10"))
    assert live_tensors() <= baseline


async def test_a_canceled_task_stops_the_worker(provider: LocalDiffusersProvider, tiny: ModelEntry) -> None:
    progress = StopAt()
    task = asyncio.create_task(provider.generate_images(tiny, ask(tiny, steps=150, seed=9), progress))
    while not any(m and m.startswith("step") for m in progress.seen):
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    steps_then = len(progress.seen)
    assert steps_then < 150
    await asyncio.sleep(0.1)
    assert len(progress.seen) == steps_then  # the worker thread is done, not running on
    assert len((await generate(provider, tiny, seed=9)).images) == 1


async def test_the_event_loop_keeps_running_during_a_run(provider: LocalDiffusersProvider,
                                                         tiny: ModelEntry) -> None:
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.002)

    ticking = asyncio.create_task(ticker())
    started = time.perf_counter()
    await generate(provider, tiny, steps=30, seed=1)
    elapsed = time.perf_counter() - started
    done.set()
    await ticking
    assert ticks >= min(5, elapsed / 0.002 / 4)


# -- lifecycle and failures ---------------------------------------------------------------


async def test_idle_pipeline_is_unloaded_and_reloaded(tmp_path: Path, tiny_pipeline: Path) -> None:
    shutil.copytree(tiny_pipeline, models_dir(Settings(home=tmp_path)) / "tiny")
    own = LocalDiffusersProvider(Settings(home=tmp_path, local_idle_unload_seconds=0.2, local_threads=1))
    (entry,) = own.extra_models()
    first = Events()
    await own.generate_images(entry, ask(entry, seed=1), first.ctx)
    assert [info.class_name for info in own.loaded_models()] == ["StableDiffusionPipeline"]
    deadline = time.monotonic() + 10
    while own.loaded_models() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert own.loaded_models() == []
    again = Events()
    await own.generate_images(entry, ask(entry, seed=1), again.ctx)
    await asyncio.sleep(0.05)
    assert (0.0, "loading tiny") in first.seen and (0.0, "loading tiny") in again.seen
    assert await own.unload() == [models_dir(own.settings) / "tiny"]
    await own.aclose()


async def test_a_broken_pipeline_is_a_typed_error(tmp_path: Path) -> None:
    folder = models_dir(Settings(home=tmp_path)) / "broken"
    folder.mkdir(parents=True)
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline",
                                                         "unet": ["diffusers", "UNet2DConditionModel"]}))
    own = LocalDiffusersProvider(Settings(home=tmp_path, local_threads=1))
    (entry,) = own.extra_models()
    with pytest.raises(UpstreamError) as failed:
        await own.generate_images(entry, ask(entry), Events().ctx)
    assert failed.value.provider == "local-diffusers" and "local:diffusers/broken" in failed.value.message


async def test_a_missing_folder_is_not_installed(tmp_path: Path, tiny: ModelEntry) -> None:
    own = LocalDiffusersProvider(Settings(home=tmp_path, local_threads=1))
    with pytest.raises(InvalidRequest) as refused:
        await own.generate_images(tiny, ask(tiny), Events().ctx)
    assert refused.value.code == "model_not_installed"
