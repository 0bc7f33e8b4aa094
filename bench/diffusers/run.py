"""Local diffusers: one pipeline called directly vs the same pipeline through easel's provider.

    python -m bench.diffusers.run [--folder PIPELINE] [--runs 15] [--steps 10] [--threads 1]

Without --folder it builds a random Stable Diffusion pipeline (`TinySpec.bench()`:
3-level UNet and VAE, 128x128 pictures) in a temporary folder; with one (a pulled model),
it times that. "Direct" is plain diffusers: `DiffusionPipeline.from_pretrained(folder)`
and `pipe(prompt, width, height, num_inference_steps, guidance_scale, generator)`, PIL out.
"easel" is `LocalDiffusersProvider.generate_images` with a real JobContext: the worker
thread, a progress report per step, the seed plan, PNG encoding and the result types.
Both load the same folder the same way (CPU, float32); runs alternate (direct, easel,
...) after one warm-up each, and the medians are compared. The first run of each also
checks that both make the same pixels, so the two really do the same work.
Prints Markdown and writes results.json under --out.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROMPT = "a lighthouse on a cliff at dusk, oil painting"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}"


def direct_pipeline(folder: Path) -> Any:
    import torch
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(str(folder), local_files_only=True, dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def run_direct(pipe: Any, *, seed: int, steps: int, side: int, guidance: float) -> tuple[float, bytes]:
    import torch

    started = time.perf_counter()
    image = pipe(PROMPT, width=side, height=side, num_inference_steps=steps, guidance_scale=guidance,
                 generator=torch.Generator("cpu").manual_seed(seed)).images[0]
    seconds = time.perf_counter() - started
    return seconds, image.convert("RGB").tobytes()


async def run_easel(provider: Any, entry: Any, *, seed: int, steps: int, side: int,
                    guidance: float) -> tuple[float, bytes]:
    from PIL import Image

    from easel.jobs import JobContext, JobRecord
    from easel.tasks.image import ImageRequest

    now = datetime.now(UTC)
    job = JobRecord(id="bench", owner_id="local", task="image", model=entry.id, request={}, status="running",
                    created_at=now, started_at=now)
    ctx = JobContext(job, on_progress=lambda fraction, message: None, loop=asyncio.get_running_loop())
    request = ImageRequest(model=entry.id, prompt=PROMPT, width=side, height=side, steps=steps,
                           guidance=guidance, seed=seed)
    started = time.perf_counter()
    result = await provider.generate_images(entry, request, ctx)
    seconds = time.perf_counter() - started
    with Image.open(io.BytesIO(result.images[0].data)) as image:
        return seconds, image.convert("RGB").tobytes()


async def bench(folder: Path, *, runs: int, steps: int, side: int | None, guidance: float,
                threads: int) -> dict[str, Any]:
    import torch

    from easel.config import Settings
    from easel.providers.local_diffusers import LocalDiffusersProvider, models_dir

    home = Path(tempfile.mkdtemp(prefix="easel-bench-"))
    try:
        models_dir(Settings(home=home)).mkdir(parents=True)
        (models_dir(Settings(home=home)) / "bench").symlink_to(folder.resolve())
        provider = LocalDiffusersProvider(Settings(home=home, local_threads=threads,
                                                   local_idle_unload_seconds=0))
        (entry,) = provider.extra_models()
        pipe = direct_pipeline(folder)
        if threads > 0:
            torch.set_num_threads(threads)
        side = side or int(pipe.unet.config.sample_size) * int(pipe.vae_scale_factor)
        first_direct = run_direct(pipe, seed=0, steps=steps, side=side, guidance=guidance)
        first_easel = await run_easel(provider, entry, seed=0, steps=steps, side=side, guidance=guidance)
        same_pixels = first_direct[1] == first_easel[1]
        direct: list[float] = []
        easel: list[float] = []
        for run in range(runs):
            direct.append(run_direct(pipe, seed=run + 1, steps=steps, side=side, guidance=guidance)[0])
            easel.append((await run_easel(provider, entry, seed=run + 1, steps=steps, side=side,
                                          guidance=guidance))[0])
        await provider.aclose()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    d, e = statistics.median(direct), statistics.median(easel)
    return {"folder": str(folder), "pipeline": type(pipe).__name__, "size": f"{side}x{side}", "steps": steps,
            "runs": runs, "torch_threads": torch.get_num_threads(), "same_pixels": same_pixels,
            "direct_median_s": d, "easel_median_s": e, "ratio": e / d,
            # each easel run over the direct run just before it: robust to the machine's drift
            "paired_ratio": statistics.median(b / a for a, b in zip(direct, easel, strict=True)),
            "direct_s": direct, "easel_s": easel, "machine": machine(),
            "versions": versions(), "date": datetime.now(UTC).isoformat(timespec="seconds")}


def versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in ("torch", "diffusers", "transformers")}


def markdown(result: dict[str, Any]) -> str:
    return "\n".join([
        f"Pipeline: {result['pipeline']} at {result['size']}, {result['steps']} steps, {result['runs']} runs each, "
        f"torch threads {result['torch_threads']}; same pixels both ways: {result['same_pixels']}",
        "",
        "| path | median s | min s | max s |",
        "| --- | --- | --- | --- |",
        f"| diffusers directly | {result['direct_median_s']:.3f} | {min(result['direct_s']):.3f} | "
        f"{max(result['direct_s']):.3f} |",
        f"| through easel | {result['easel_median_s']:.3f} | {min(result['easel_s']):.3f} | "
        f"{max(result['easel_s']):.3f} |",
        "",
        f"Ratio easel / direct: **{result['ratio']:.3f}x** (medians); {result['paired_ratio']:.3f}x "
        "(median of run-by-run ratios)",
        f"Machine: {result['machine']}; {', '.join(f'{k} {v}' for k, v in result['versions'].items())}",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, help="a diffusers pipeline folder (default: build a random one)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--size", type=int, default=None, help="square side in pixels (default: native)")
    parser.add_argument("--guidance", type=float, default=7.5)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    args = parser.parse_args()
    build_dir: Path | None = None
    folder = args.folder
    if folder is None:
        from tests.fakes.tiny_diffusers import TinySpec, build_tiny_pipeline

        build_dir = Path(tempfile.mkdtemp(prefix="easel-bench-pipe-"))
        folder = build_tiny_pipeline(build_dir / "random-sd", TinySpec.bench())
    try:
        result = asyncio.run(bench(folder, runs=args.runs, steps=args.steps, side=args.size,
                                   guidance=args.guidance, threads=args.threads))
    finally:
        if build_dir is not None:
            shutil.rmtree(build_dir, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=2))
    print(markdown(result))


if __name__ == "__main__":
    main()
