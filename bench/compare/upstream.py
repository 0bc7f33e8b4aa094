"""Four OpenAI-compatible upstreams for the compare benchmark, in their own process.

`python -m bench.compare.upstream PORT...` serves the test suite's OpenAI fake (a real HTTP
server speaking the chat-completions wire format) on each port. Its `fake-slow-<ms>` models
answer after <ms> milliseconds, so each upstream's delay is chosen by the model name.
"""

from __future__ import annotations

import asyncio
import sys

import uvicorn

from tests.fakes import openai_fake


async def main(ports: list[int]) -> None:
    servers = [uvicorn.Server(uvicorn.Config(openai_fake.create_app(api_key=None), host="127.0.0.1", port=port,
                                             log_level="warning", lifespan="off")) for port in ports]
    await asyncio.gather(*(server.serve() for server in servers))


if __name__ == "__main__":
    asyncio.run(main([int(p) for p in sys.argv[1:]]))
