"""Run an ASGI app as a real HTTP server on 127.0.0.1 in a background thread.

    with serve(app) as base_url:   # "http://127.0.0.1:PORT"
        ...
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: Any, port: int | None = None, *, lifespan: str = "off", start_timeout: float = 30) -> Iterator[str]:
    """Serve `app` until the block exits. `lifespan="on"` runs the app's startup and shutdown."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("fake server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def by_path(default: Any, **prefixed: Any) -> Any:
    """One ASGI app that sends each request to the app whose path prefix matches, else `default`.

    Lets one fake server speak two of a provider's APIs (chat and images on one base URL),
    each fake keeping its own state. Prefixes are given as keyword values: `by_path(chat,
    images=("/v1/images", images_app))`.
    """
    routes = sorted(prefixed.values(), key=lambda pair: -len(pair[0]))

    async def app(scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        for prefix, target in routes:
            if path.startswith(prefix):
                await target(scope, receive, send)
                return
        await default(scope, receive, send)

    return app
