"""Compare benchmark, in one run: `python -m bench.compare.run [--rounds 7] [--delays 200 400 600 800]`.

Four faked remote models (four OpenAI-compatible upstreams on 127.0.0.1 in their own process,
answering after 0.2, 0.4, 0.6 and 0.8 s) are timed three ways through easel's own services
(`open_studio`, as the CLI runs them, SQLite):

- alone: each model answers one turn by itself (ChatService, the path a conversation takes);
- one after another: the four in sequence (what a comparison would cost without concurrency);
- compared: one comparison of the four (CompareService.start, every column's answer streamed
  and stored), from the call until the last column has ended.

Each figure is the median of --rounds rounds, after one warm-up round (connections, catalog).
The target: the comparison takes at most 1.1x the slowest model alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from easel.config import EndpointConfig, Settings
from easel.studio import open_studio
from easel.tasks.chat import ChatMessage, ChatRequest

OWNER = "acct_local"
PROMPT = "Compare these models on one prompt, please."
TARGET = 1.1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, deadline: float = 30.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"upstream on port {port} did not start")


async def alone(services, model: str) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    prepared = services.chat.prepare(ChatRequest(model=model, messages=[ChatMessage(role="user", content=PROMPT)]))
    async for _ in services.chat.stream(prepared, owner_id=OWNER, endpoint="bench"):
        pass
    return time.perf_counter() - started


async def compared(services, models: list[str]) -> tuple[float, list[int]]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    run = await services.compare.start(owner_id=OWNER, models=models, prompt=PROMPT)
    async for _ in run.events:
        pass
    wall = time.perf_counter() - started
    view = await services.compare.get(owner_id=OWNER, comparison_id=run.comparison.id)
    statuses = {a.status for a in view.turns[0].answers}
    if statuses != {"complete"}:
        raise RuntimeError(f"a column did not complete: {statuses}")
    return wall, [a.latency_ms or 0 for a in view.turns[0].answers]


async def measure(settings: Settings, models: list[str], rounds: int) -> dict[str, object]:
    async with open_studio(settings, run_workers=False) as services:
        await compared(services, models)  # warm-up: connections, lazy clients
        for model in models:
            await alone(services, model)
        single: dict[str, list[float]] = {m: [] for m in models}
        sequential: list[float] = []
        comparison: list[float] = []
        column_ms: list[list[int]] = []
        for _ in range(rounds):
            started = time.perf_counter()
            for model in models:
                single[model].append(await alone(services, model))
            sequential.append(time.perf_counter() - started)
            wall, latencies = await compared(services, models)
            comparison.append(wall)
            column_ms.append(latencies)
    single_median = {m: statistics.median(v) for m, v in single.items()}
    slowest = max(single_median.values())
    result = {
        "rounds": rounds,
        "alone_s": {m: round(v, 4) for m, v in single_median.items()},
        "slowest_alone_s": round(slowest, 4),
        "sequential_s": round(statistics.median(sequential), 4),
        "comparison_s": round(statistics.median(comparison), 4),
        "comparison_max_s": round(max(comparison), 4),
        "column_latency_ms_median": [statistics.median(c[i] for c in column_ms) for i in range(len(models))],
    }
    result["ratio_to_slowest"] = round(result["comparison_s"] / slowest, 3)  # type: ignore[operator]
    result["ratio_to_sequential"] = round(result["comparison_s"] / result["sequential_s"], 3)  # type: ignore[operator]
    result["target_met"] = result["ratio_to_slowest"] <= TARGET  # type: ignore[operator]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--delays", type=int, nargs="+", default=[200, 400, 600, 800], help="ms, one per model")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results.json")
    args = parser.parse_args()
    ports = [free_port() for _ in args.delays]
    root = Path(__file__).resolve().parents[2]
    upstream = subprocess.Popen([sys.executable, "-m", "bench.compare.upstream", *map(str, ports)], cwd=root,
                                env={**os.environ, "PYTHONPATH": str(root)})
    try:
        for port in ports:
            wait_for(port)
        with tempfile.TemporaryDirectory() as home:
            endpoints = [EndpointConfig(name=f"up{i + 1}", base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-bench",
                                        models=[f"fake-slow-{delay}"])
                         for i, (port, delay) in enumerate(zip(ports, args.delays, strict=True))]
            settings = Settings(home=Path(home), endpoints=endpoints)
            models = [f"up{i + 1}:fake-slow-{delay}" for i, delay in enumerate(args.delays)]
            result = asyncio.run(measure(settings, models, args.rounds))
    finally:
        upstream.terminate()
        upstream.wait(timeout=10)
    result["cpus"] = os.cpu_count()
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
