"""The pass-through: the least a Python gateway can do, as a floor to compare easel with.

A bare ASGI app under the same server easel uses (uvicorn, httptools, uvloop) that
forwards each request to BENCH_UPSTREAM with one pooled aiohttp session and streams the
answer back as it arrives. No parsing, no auth, no accounting. Run:
`BENCH_UPSTREAM=http://127.0.0.1:N uvicorn bench.gateway.passthrough:app --port M`.
"""

from __future__ import annotations

import os
from typing import Any

import aiohttp

_FORWARDED = (b"authorization", b"content-type", b"accept")
_session: aiohttp.ClientSession | None = None


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global _session
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":  # startup, then wait for shutdown
            _session = aiohttp.ClientSession(os.environ["BENCH_UPSTREAM"], auto_decompress=False,
                                             connector=aiohttp.TCPConnector(limit=512))
            await send({"type": "lifespan.startup.complete"})
        if _session is not None:
            await _session.close()
        await send({"type": "lifespan.shutdown.complete"})
        return
    assert _session is not None
    body, more = b"", True
    while more:
        message = await receive()
        body, more = body + message.get("body", b""), message.get("more_body", False)
    headers = {k.decode(): v.decode() for k, v in scope["headers"] if k in _FORWARDED}
    async with _session.request(scope["method"], scope["path"], data=body, headers=headers) as upstream:
        await send({"type": "http.response.start", "status": upstream.status,
                    "headers": [(b"content-type", upstream.headers.get("content-type", "").encode())]})
        async for chunk in upstream.content.iter_any():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
