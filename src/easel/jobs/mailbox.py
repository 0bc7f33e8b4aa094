"""Mailbox: one follower's in-process queue of items, awaited with an optional quiet timeout.

Job event subscriptions and workflow run feeds are both "append from the event loop, await the
next one, give up after a quiet spell"; they share this one small class. Event-loop thread only.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Mailbox(Generic[T]):
    def __init__(self) -> None:
        self._pending: deque[T] = deque()
        self._ready = asyncio.Event()

    def put(self, item: T) -> None:
        self._pending.append(item)
        self._ready.set()

    async def next(self, timeout: float | None = None) -> T | None:
        """The next item, or None when `timeout` seconds pass without one."""
        if not self._pending:
            self._ready.clear()
            try:
                async with asyncio.timeout(timeout):
                    await self._ready.wait()
            except TimeoutError:
                return None
        return self._pending.popleft()
