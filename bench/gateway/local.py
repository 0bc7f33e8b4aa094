"""The extra figures: server start to ready, idle RSS, and local SmolLM2 tokens/s through easel vs direct.

`measure_extras()` starts `easel serve` unpinned in a fresh home and times spawn -> first
200 from /healthz (cold: the database is created and migrated; warm: it exists), reads the
server's RSS idle after start and idle again after one local chat, and streams the same
`local:smollm2-135m` request (temperature 0, max_tokens 128) several times through
/v1/chat/completions. The same request goes straight to xllamacpp in a separate process
(`python -m bench.gateway.local --direct N`), loaded exactly as easel loads it, via
`easel.providers.local_llama.direct_generations`. Both sides count completion tokens over
the wall time from request to last chunk, prompt processing included.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.gateway.procs import VENV_BIN, free_port, start

MODEL = "local:smollm2-135m"
MESSAGES = [{"role": "user",
             "content": "Write a short story about a lighthouse keeper who finds a message in a bottle."}]
MAX_TOKENS = 128


def clean_env(home: Path) -> dict[str, str]:
    """An environment with no EASEL_* settings but a home of our own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EASEL_")}
    env["EASEL_HOME"] = str(home)
    return env


def stream_once(port: int) -> dict[str, Any]:
    """One streamed local chat through easel: completion tokens, seconds, tokens/s."""
    body = {"model": MODEL, "messages": MESSAGES, "max_tokens": MAX_TOKENS, "temperature": 0, "stream": True,
            "stream_options": {"include_usage": True}}
    usage: dict[str, Any] = {}
    text: list[str] = []
    started = time.perf_counter()
    with httpx.stream("POST", f"http://127.0.0.1:{port}/v1/chat/completions", json=body, timeout=300) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: {"):
                continue
            chunk = json.loads(line[6:])
            usage = chunk.get("usage") or usage
            for choice in chunk.get("choices") or []:
                text.append((choice.get("delta") or {}).get("content") or "")
    seconds = time.perf_counter() - started
    tokens = int(usage.get("completion_tokens") or 0)
    return {"completion_tokens": tokens, "seconds": seconds, "tokens_per_second": tokens / seconds,
            "text_chars": len("".join(text))}


def direct_runs(runs: int, home: Path) -> list[dict[str, Any]]:
    """In a child process: the same request straight through xllamacpp."""
    out = subprocess.run([sys.executable, "-m", "bench.gateway.local", "--direct", str(runs)], check=True,
                         capture_output=True, timeout=600, env=clean_env(home),
                         cwd=Path(__file__).resolve().parents[2])
    result: list[dict[str, Any]] = json.loads(out.stdout)
    return result


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    rates = [run["tokens_per_second"] for run in runs]
    return {"runs": runs, "median_tokens_per_second": statistics.median(rates),
            "mean_tokens_per_second": statistics.fmean(rates),
            "completion_tokens": sorted({run["completion_tokens"] for run in runs})}


def measure_extras(work: Path, logs: Path, *, runs: int = 4, rounds: int = 2) -> dict[str, Any]:
    home = work / "extras-home"
    env = clean_env(home)
    cmd = [str(VENV_BIN / "easel"), "serve", "--port"]
    port = free_port()
    server = start("easel-extras", [*cmd, str(port)], logs=logs, env=env)
    try:
        cold = server.wait_ready(port)
        time.sleep(2.0)
        rss_idle = server.rss_mib()
        first = stream_once(port)  # loads the model
        time.sleep(2.0)
        rss_after_chat = server.rss_mib()
        through: list[dict[str, Any]] = []
        direct: list[dict[str, Any]] = []
        for _ in range(rounds):  # interleaved, so drift on the machine hits both sides alike
            through.extend(stream_once(port) for _ in range(runs))
            direct.extend(direct_runs(runs, work / "direct-home"))
    finally:
        server.stop()
    warm: list[float] = []
    for i in range(3):
        again = start(f"easel-extras-warm{i}", [*cmd, str(port)], logs=logs, env=env)
        try:
            warm.append(again.wait_ready(port))
        finally:
            again.stop()
    easel_side, direct_side = _summary(through), _summary(direct)
    return {
        "start_to_ready_s": {"cold_first_start": cold, "warm_median": statistics.median(warm), "warm": warm},
        "rss_mib": {"idle_after_start": rss_idle, "idle_after_one_local_chat": rss_after_chat},
        "local": {"model": MODEL, "max_tokens": MAX_TOKENS, "first_request_with_load": first,
                  "through_easel": easel_side, "direct_xllamacpp": direct_side,
                  "ratio": easel_side["median_tokens_per_second"] / direct_side["median_tokens_per_second"]},
    }


def _direct_main(runs: int) -> None:
    from easel.catalog.catalog import Catalog
    from easel.config import Settings
    from easel.providers.local_llama import direct_generations
    from easel.tasks.chat import ChatRequest

    settings = Settings()
    entry = Catalog.load().resolve(MODEL, task="chat")
    request = ChatRequest.model_validate({"model": MODEL, "messages": MESSAGES, "max_tokens": MAX_TOKENS,
                                          "temperature": 0})
    results = direct_generations(settings, entry, request, runs=runs, warmup=True)
    print(json.dumps([{"completion_tokens": r.completion_tokens, "seconds": r.seconds,
                       "tokens_per_second": r.tokens_per_second, "text_chars": len(r.text)} for r in results]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="local SmolLM2 straight through xllamacpp")
    parser.add_argument("--direct", type=int, required=True, help="how many measured runs")
    _direct_main(parser.parse_args().direct)
