"""Loaded diffusers pipelines: load on first use, one run at a time per model, unload when idle.

Everything here is blocking and meant for a worker thread: the provider calls
`PipelineCache.use()` and `run_pipeline()` inside `asyncio.to_thread`. A pipeline is
loaded from its folder with `DiffusionPipeline.from_pretrained(folder,
local_files_only=True)` on the CPU in float32, kept while it is used, and dropped (then
garbage-collected) `idle_unload_seconds` after its last run by a timer thread. A folder
that was pulled again (its model_index.json changed) is loaded afresh.

`plan_run()` turns an ImageRequest into the arguments actually used (size, steps,
guidance, seeds), from the pipeline's own defaults where the request says nothing;
`run_pipeline()` is the one diffusers call, shared with the benchmark's direct run.
torch and diffusers are imported inside functions, never at import time.
"""

from __future__ import annotations

import gc
import inspect
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from easel.errors import UnsupportedParameter
from easel.tasks.image import ImageRequest, dimensions_for

DEFAULT_STEPS = 25
FALLBACK_SIDE = 512  # when a pipeline does not say its native resolution
SIZE_MULTIPLE = 8  # latents are 1/8 of the picture for every VAE diffusers ships
SEED_SPACE = 2**32
WEIGHT_SUFFIXES = (".safetensors", ".bin")
_VARIANT = re.compile(r"\.(fp16|bf16|fp8|fp32|non_ema|ema)([.-]|$)")


@dataclass(frozen=True, slots=True)
class PipelineDefaults:
    """What a loaded pipeline does when a request leaves a setting out."""

    class_name: str
    scheduler: str | None
    side: int  # native square size in pixels
    steps: int
    guidance: float | None  # None: the pipeline takes no guidance_scale
    accepts: frozenset[str]  # its __call__'s argument names


@dataclass(frozen=True, slots=True)
class RunPlan:
    """The arguments one generation actually uses (they become each image's settings)."""

    prompt: str
    negative_prompt: str | None
    width: int
    height: int
    steps: int
    guidance: float | None
    seed: int  # image i uses (seed + i) % 2**32
    n: int

    def seeds(self) -> list[int]:
        return [(self.seed + i) % SEED_SPACE for i in range(self.n)]


def snap(value: float, multiple: int = SIZE_MULTIPLE) -> int:
    return max(multiple, int(value / multiple + 0.5) * multiple)  # half up, not to even


def weights_variant(folder: Path) -> str | None:
    """The variant to load ("fp16"...) when the folder holds only variant weights, else None."""
    plain = variant = False
    found: str | None = None
    for path in folder.rglob("*"):
        if not path.name.endswith(WEIGHT_SUFFIXES):
            continue
        match = _VARIANT.search(path.name)
        if match:
            variant, found = True, found or match.group(1)
        else:
            plain = True
    return found if variant and not plain else None


def read_defaults(pipe: Any) -> PipelineDefaults:
    """Native size, default steps and guidance, and accepted arguments of a loaded pipeline."""
    params = inspect.signature(pipe.__call__).parameters
    scale = int(getattr(pipe, "vae_scale_factor", 8) or 8)
    sample = getattr(pipe, "default_sample_size", None)
    if sample is None:
        denoiser = getattr(pipe, "unet", None) or getattr(pipe, "transformer", None)
        sample = getattr(getattr(denoiser, "config", None), "sample_size", None)
    if isinstance(sample, list | tuple):
        sample = sample[0]
    side = int(sample) * scale if isinstance(sample, int) else FALLBACK_SIDE
    steps_default = params["num_inference_steps"].default if "num_inference_steps" in params else None
    steps = min(DEFAULT_STEPS, steps_default) if isinstance(steps_default, int) else DEFAULT_STEPS
    guidance: float | None = None
    if "guidance_scale" in params:
        default = params["guidance_scale"].default
        guidance = float(default) if isinstance(default, int | float) else 7.5
    scheduler = getattr(pipe, "scheduler", None)
    return PipelineDefaults(
        class_name=type(pipe).__name__, scheduler=type(scheduler).__name__ if scheduler is not None else None,
        side=side, steps=steps, guidance=guidance, accepts=frozenset(params))


def plan_run(request: ImageRequest, defaults: PipelineDefaults, seed: int) -> RunPlan:
    """The settings a request runs with on this pipeline: the request's where given, else its defaults."""
    if request.width is not None and request.height is not None:
        width, height = snap(request.width), snap(request.height)
    else:
        megapixels = defaults.side * defaults.side / (1024 * 1024)
        width, height = dimensions_for(request.aspect_ratio or "1:1", megapixels, multiple=SIZE_MULTIPLE)
    if request.negative_prompt and "negative_prompt" not in defaults.accepts:
        raise UnsupportedParameter(f"{defaults.class_name} takes no negative_prompt.", param="negative_prompt")
    negative = request.negative_prompt
    guidance = defaults.guidance
    if request.guidance is not None and guidance is not None:
        guidance = request.guidance
    return RunPlan(prompt=request.prompt, negative_prompt=negative or None, width=width, height=height,
                   steps=request.steps or defaults.steps, guidance=guidance, seed=seed % SEED_SPACE, n=request.n)


def load_pipeline(folder: Path, threads: int = 0) -> Any:
    """A pipeline from a local folder, on the CPU in float32 (blocking: seconds to minutes)."""
    import torch
    from diffusers import DiffusionPipeline
    from diffusers.utils import logging as diffusers_logging

    if threads > 0:
        torch.set_num_threads(threads)
    diffusers_logging.disable_progress_bar()  # a server's stderr is no place for tqdm bars
    try:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    except ImportError:  # a pipeline without transformers components
        pass
    pipe = DiffusionPipeline.from_pretrained(str(folder), local_files_only=True, dtype=torch.float32,
                                             variant=weights_variant(folder))
    pipe.to("cpu")
    pipe.set_progress_bar_config(disable=True)
    return pipe


StepCallback = Callable[[int, int], None]  # (steps done, total steps)


def run_pipeline(pipe: Any, plan: RunPlan, on_step: StepCallback | None = None) -> list[Any]:
    """One diffusers call for `plan`; PIL images, one per seed. `on_step` may raise to stop it."""
    import torch

    kwargs: dict[str, Any] = {
        "prompt": plan.prompt,
        "width": plan.width,
        "height": plan.height,
        "num_inference_steps": plan.steps,
        "num_images_per_prompt": plan.n,
        # one generator per image: image i alone, asked with seed + i, starts from the same noise
        "generator": [torch.Generator("cpu").manual_seed(s) for s in plan.seeds()],
        "output_type": "pil",
    }
    if plan.guidance is not None:
        kwargs["guidance_scale"] = plan.guidance
    if plan.negative_prompt:
        kwargs["negative_prompt"] = plan.negative_prompt
    if on_step is not None:
        def callback(p: Any, index: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            on_step(index + 1, int(getattr(p, "num_timesteps", 0) or plan.steps))
            return tensors

        kwargs["callback_on_step_end"] = callback
    with torch.inference_mode():
        return list(pipe(**kwargs).images)


@dataclass(slots=True)
class _Slot:
    """One model folder: its pipeline (when loaded) and the lock that lets one run at a time."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    pipe: Any = None
    defaults: PipelineDefaults | None = None
    stamp: int | None = None  # model_index.json's mtime when loaded
    last_used: float = 0.0
    load_seconds: float = 0.0
    timer: threading.Timer | None = None


@dataclass(frozen=True, slots=True)
class Loaded:
    """A pipeline held for one run."""

    pipe: Any
    defaults: PipelineDefaults


@dataclass(frozen=True, slots=True)
class LoadedInfo:
    folder: Path
    class_name: str
    load_seconds: float
    idle_seconds: float
    busy: bool


def _stamp(folder: Path) -> int | None:
    try:
        return (folder / "model_index.json").stat().st_mtime_ns
    except OSError:
        return None


class PipelineCache:
    """Loaded pipelines by folder, shared by every request of one provider. Thread-safe."""

    def __init__(self, idle_unload_seconds: float, *, threads: int = 0,
                 loader: Callable[[Path, int], Any] = load_pipeline) -> None:
        self.idle_unload_seconds = idle_unload_seconds  # <= 0: keep loaded until unload()
        self._threads = threads
        self._loader = loader
        self._slots: dict[Path, _Slot] = {}
        self._guard = threading.Lock()  # protects _slots

    def _slot(self, folder: Path) -> _Slot:
        with self._guard:
            return self._slots.setdefault(folder, _Slot())

    @contextmanager
    def use(self, folder: Path, *, check_stop: Callable[[], None],
            on_load: Callable[[], None] | None = None) -> Iterator[Loaded]:
        """Hold the folder's pipeline (loading it if needed) for one run. Waits for the run
        before it, calling `check_stop` while waiting so a canceled job stops waiting."""
        slot = self._slot(folder)
        while not slot.lock.acquire(timeout=0.1):
            check_stop()
        try:
            if slot.timer is not None:
                slot.timer.cancel()
                slot.timer = None
            stamp = _stamp(folder)
            if slot.pipe is None or slot.stamp != stamp:
                self._drop(slot)
                check_stop()
                if on_load is not None:
                    on_load()
                started = time.perf_counter()
                slot.pipe = self._loader(folder, self._threads)
                slot.defaults = read_defaults(slot.pipe)
                slot.stamp, slot.load_seconds = stamp, time.perf_counter() - started
            assert slot.defaults is not None
            yield Loaded(slot.pipe, slot.defaults)
        finally:
            slot.last_used = time.monotonic()
            self._schedule_unload(folder, slot)
            slot.lock.release()

    def _schedule_unload(self, folder: Path, slot: _Slot) -> None:
        """Called with the slot's lock held."""
        if self.idle_unload_seconds <= 0 or slot.pipe is None:
            return
        timer = threading.Timer(self.idle_unload_seconds, self._expire, (folder, slot, slot.last_used))
        timer.daemon = True
        slot.timer = timer
        timer.start()

    def _expire(self, folder: Path, slot: _Slot, used_at: float) -> None:
        if not slot.lock.acquire(blocking=False):
            return  # running again: its end schedules a new timer
        try:
            if slot.last_used == used_at:
                self._drop(slot)
        finally:
            slot.lock.release()

    @staticmethod
    def _drop(slot: _Slot) -> bool:
        """Forget the slot's pipeline and collect it now (its weights are most of our memory)."""
        if slot.pipe is None:
            return False
        slot.pipe = slot.defaults = slot.stamp = None
        gc.collect()
        return True

    def unload(self, folder: Path | None = None, *, wait: float = 30.0) -> list[Path]:
        """Unload one folder's pipeline (or all), waiting up to `wait` seconds for a running job."""
        with self._guard:
            targets = [(f, s) for f, s in self._slots.items() if folder is None or f == folder]
        unloaded: list[Path] = []
        for path, slot in targets:
            if not slot.lock.acquire(timeout=wait):
                continue
            try:
                if slot.timer is not None:
                    slot.timer.cancel()
                    slot.timer = None
                if self._drop(slot):
                    unloaded.append(path)
            finally:
                slot.lock.release()
        return unloaded

    def loaded(self) -> list[LoadedInfo]:
        now = time.monotonic()
        with self._guard:
            slots = list(self._slots.items())
        return [LoadedInfo(folder=path, class_name=slot.defaults.class_name if slot.defaults else "?",
                           load_seconds=slot.load_seconds, idle_seconds=now - slot.last_used,
                           busy=slot.lock.locked())
                for path, slot in slots if slot.pipe is not None]
