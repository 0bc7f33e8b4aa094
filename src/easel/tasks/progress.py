"""The progress and cancel protocol every long-running piece of work receives.

The jobs system's JobContext satisfies it; providers depend only on this protocol, so an
adapter never imports the queue. `progress` and `is_canceled` are safe from worker threads
(a diffusers step callback runs in one). `progress` raises when the work was canceled,
so work that reports every step stops at its next step.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def progress(self, fraction: float, message: str | None = None) -> None: ...

    def is_canceled(self) -> bool: ...

    def raise_if_canceled(self) -> None: ...

    async def wait_canceled(self, timeout: float | None = None) -> bool: ...
