"""Server-sent events: parse a provider's event stream, and format our own.

Parsing follows the WHATWG rules that matter for providers: `event:` and `data:` fields,
multi-line data joined with newlines, comments (`:`) ignored, a blank line ends an event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass


@dataclass(slots=True)
class SSEvent:
    event: str | None
    data: str


async def iter_sse(lines: AsyncIterator[str]) -> AsyncIterator[SSEvent]:
    """Events from an async iterator of lines (httpx's `response.aiter_lines()`)."""
    event: str | None = None
    data: list[str] = []
    async for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield SSEvent(event, "\n".join(data))
            event, data = None, []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
    if data:
        yield SSEvent(event, "\n".join(data))


def format_sse(data: str, event: str | None = None) -> bytes:
    """One SSE frame."""
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {data}\n\n".encode()
