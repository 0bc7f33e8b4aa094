"""Where easel's time per request goes, in CPU microseconds, measured in one process.

CPU time (`time.process_time`, all threads) rather than wall time, so the figures hold
on a machine that others share. Three parts of the path that `run.py` loads end to end:

- provider: `OpenAICompatibleProvider.stream_chat` against the benchmark upstream over
  loopback, 8 streams at a time (HTTP client, SSE parsing, ChatEvents), and the same
  request with its body only read (the HTTP client's share);
- app: the ASGI app called directly (no sockets, no uvicorn) for the chat request with the
  provider stubbed to yield the same events, with and without the usage record, and for
  GET /healthz (the web framework's own floor);
- usage: `UsageRecorder.record` (with `new_id`) and its batched flush to SQLite, per row.

Run: `python -m bench.gateway.costs` (prints JSON). `run.py` runs it pinned to the gateway's core.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from bench.gateway.loadgen import PROMPT, request_bytes
from bench.gateway.procs import free_port, http_get_status, pinned
from bench.gateway.upstream import WORDS

ROOT = Path(__file__).resolve().parents[2]


async def cpu_us(run: Callable[[], Awaitable[None]], count: int) -> float:
    """CPU microseconds per call of `run` (after a warm-up of count // 10 calls)."""
    for _ in range(max(1, count // 10)):
        await run()
    started = time.process_time()
    for _ in range(count):
        await run()
    return (time.process_time() - started) / count * 1e6


async def provider_cost(port: int, requests: int) -> dict[str, float]:
    from easel.catalog.catalog import Catalog
    from easel.config import Settings
    from easel.providers.openai_compatible import OpenAICompatibleProvider, create_providers
    from easel.tasks.chat import ChatRequest

    settings = Settings(keys={"openai": "sk-upstream"}, base_urls={"openai": f"http://127.0.0.1:{port}/v1"})
    provider = next(p for p in create_providers(settings) if p.name == "openai")
    assert isinstance(provider, OpenAICompatibleProvider)
    entry = Catalog.load().resolve("gpt-5", task="chat")
    request = ChatRequest.model_validate({"model": entry.id, "messages": PROMPT, "max_tokens": 64,
                                          "temperature": 0.2})

    async def one() -> None:
        async for _ in provider.stream_chat(entry, request):
            pass

    async def http_only() -> None:  # the same request and body read, no SSE parsing, no events
        call = provider.build_request(entry, request)
        async with provider._client().post(call.url, data=call.body, headers=call.headers) as response:
            async for _ in response.content.iter_any():
                pass

    def eight(run: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        async def batch() -> None:  # 8 at a time, as the c8 rows load it
            await asyncio.gather(*(run() for _ in range(8)))
        return batch

    try:
        out = {"stream_chat": await cpu_us(eight(one), requests // 8) / 8}
        if hasattr(provider, "_open"):  # the aiohttp provider; the httpx one had no such path
            out["http_only"] = await cpu_us(eight(http_only), requests // 8) / 8
        return out
    finally:
        await provider.aclose()


async def app_costs(requests: int) -> dict[str, float]:
    from easel.api.app import create_app
    from easel.config import Settings
    from easel.studio import open_studio
    from easel.tasks.chat import ChatEvent, ChatRequest, Finish, TextDelta, Usage, UsageEvent

    home = Path(tempfile.mkdtemp(prefix="easel-costs-"))
    settings = Settings(home=home, api_keys=["sk-bench"], keys={"openai": "sk-upstream"},
                        base_urls={"openai": "http://127.0.0.1:9/v1"})
    app = create_app(settings)
    head, body = request_bytes(1, model="gpt-5", stream=False, key="sk-bench").split(b"\r\n\r\n", 1)
    headers = [tuple(line.lower().split(b": ", 1)) for line in head.split(b"\r\n")[1:]]

    async def stub(entry: Any, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        for i, word in enumerate(WORDS):
            yield TextDelta(word if i == 0 else " " + word)
        yield UsageEvent(Usage(prompt_tokens=40, completion_tokens=len(WORDS)))
        yield Finish("stop")

    def call(method: str, path: str, payload: bytes = b"") -> Callable[[], Awaitable[None]]:
        scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
                 "method": method, "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
                 "root_path": "", "headers": headers if payload else [], "client": ("127.0.0.1", 1),
                 "server": ("127.0.0.1", 2)}

        async def run() -> None:
            messages = [{"type": "http.request", "body": payload, "more_body": False}]

            async def receive() -> dict[str, Any]:
                return messages.pop() if messages else {"type": "http.disconnect"}

            status: list[int] = []

            async def send(message: MutableMapping[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    status.append(message["status"])

            await app({**scope, "state": {}}, receive, send)
            assert status == [200], status
        return run

    async with open_studio(settings) as services:
        app.state.services = services
        provider = services.providers.get("openai")
        assert provider is not None
        provider.stream_chat = stub  # type: ignore[method-assign]
        chat = call("POST", "/v1/chat/completions", body)
        out = {"healthz": await cpu_us(call("GET", "/healthz"), requests),
               "chat_stubbed": await cpu_us(chat, requests)}
        real_record = services.chat.usage.record
        services.chat.usage.record = lambda **_: None  # type: ignore[method-assign]
        out["chat_stubbed_without_usage_record"] = await cpu_us(chat, requests)
        services.chat.usage.record = real_record  # type: ignore[method-assign]
    return out


async def usage_costs(rows: int) -> dict[str, float]:
    from easel.storage.db import Database
    from easel.storage.migrate import upgrade_async
    from easel.storage.tables import new_id
    from easel.storage.usage import UsageRecorder
    from easel.tasks.chat import Usage

    home = Path(tempfile.mkdtemp(prefix="easel-costs-"))
    url = f"sqlite+aiosqlite:///{home / 'easel.db'}"
    await upgrade_async(url)
    database = Database(url)
    recorder = UsageRecorder(database)  # not started: flushed by hand below

    def record() -> None:
        recorder.record(owner_id="acct_local", model="openai:gpt-5", provider="openai",
                        endpoint="/v1/chat/completions", usage=Usage(40, 15), cost=0.0001, latency_ms=1)

    async def record_async() -> None:
        record()

    async def new_id_async() -> None:
        new_id("usage")

    async def flush_100() -> None:
        for _ in range(100):
            record()
        await recorder.flush()

    try:
        record_us = await cpu_us(record_async, rows)
        recorder._buffer.clear()  # only the cost of record() was wanted
        batch_us = await cpu_us(flush_100, max(1, rows // 100))
        return {"record": record_us, "new_id": await cpu_us(new_id_async, rows),
                "flush_per_row": batch_us / 100 - record_us}
    finally:
        await database.dispose()


async def measure(port: int, requests: int) -> dict[str, Any]:
    return {"provider": await provider_cost(port, requests), "app": await app_costs(requests),
            "usage": await usage_costs(requests)}


def main() -> None:
    import argparse

    import uvloop

    parser = argparse.ArgumentParser(description="CPU time per request of easel's parts")
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--upstream-cores", default=None, help="taskset cores for the upstream")
    args = parser.parse_args()
    port = free_port()
    upstream = subprocess.Popen(pinned([sys.executable, "-m", "bench.gateway.upstream", "--port", str(port)],
                                       args.upstream_cores), cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while http_get_status(port) != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("the upstream did not start")
            time.sleep(0.05)
        print(json.dumps(uvloop.run(measure(port, args.requests))))
    finally:
        upstream.terminate()
        upstream.wait(10)


if __name__ == "__main__":
    main()
