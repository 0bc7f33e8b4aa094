"""The narrow view a job handler gets of the world: report progress, notice a cancel.

A handler sees its job id and request, `progress(fraction, message)`,
`is_canceled()`, `raise_if_canceled()` and `wait_canceled(timeout)`; nothing of
the pool, the store or the event hub. Both `progress` and `is_canceled` may be
called from a worker thread (a diffusers step callback runs in one), so a local
pipeline under `asyncio.to_thread` reports and stops the same way async code does.

Stopping is cooperative: once the job is canceled (or the server is shutting
down), `progress` and `raise_if_canceled` raise `JobStopped`, so a handler that
reports every step stops at its next step. `JobStopped` derives from
BaseException, like `asyncio.CancelledError`, so a handler's `except Exception`
does not swallow it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, Literal

from easel.storage.jobs import JobRecord

StopReason = Literal["canceled", "shutdown", "lost"]
ProgressSink = Callable[[float, "str | None"], None]


class JobStopped(BaseException):
    """Raised inside a handler to stop it: `reason` is "canceled" (the owner asked),
    "shutdown" (the server is stopping; the job will run again) or "lost" (another
    worker took the job over)."""

    def __init__(self, reason: StopReason = "canceled") -> None:
        super().__init__(f"job stopped: {reason}")
        self.reason: StopReason = reason


class JobContext:
    """What one running job's handler may do besides its own work."""

    def __init__(self, job: JobRecord, *, on_progress: ProgressSink, loop: asyncio.AbstractEventLoop) -> None:
        self.job_id: str = job.id
        self.request: dict[str, Any] = job.request
        self._on_progress = on_progress
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._stopped = threading.Event()
        self._stopped_async = asyncio.Event()
        self._reason: StopReason | None = None

    def progress(self, fraction: float, message: str | None = None) -> None:
        """Report how far the job is (0.0 to 1.0) and what it is doing. Raises `JobStopped`
        instead when the job was canceled. Safe to call from any thread."""
        self.raise_if_canceled()
        fraction = min(1.0, max(0.0, float(fraction)))
        if threading.get_ident() == self._loop_thread:
            self._on_progress(fraction, message)
        else:
            self._loop.call_soon_threadsafe(self._on_progress, fraction, message)

    def is_canceled(self) -> bool:
        """Whether the handler should stop now (canceled, or the server is shutting down)."""
        return self._stopped.is_set()

    def raise_if_canceled(self) -> None:
        if self._stopped.is_set():
            raise JobStopped(self._reason or "canceled")

    async def wait_canceled(self, timeout: float | None = None) -> bool:
        """Sleep up to `timeout` seconds, waking early on a cancel; whether it was canceled.
        For remote jobs that poll a provider: `if await ctx.wait_canceled(2.0): cancel upstream`."""
        if not self._stopped.is_set():
            try:
                async with asyncio.timeout(timeout):
                    await self._stopped_async.wait()
            except TimeoutError:
                pass
        return self._stopped.is_set()

    def interrupt(self, reason: StopReason) -> None:
        """Ask the handler to stop (called by the worker pool, on the event loop's thread).
        The first reason sticks: a cancel that arrives during shutdown stays a cancel."""
        if self._reason is None:
            self._reason = reason
        self._stopped.set()
        self._stopped_async.set()

    @property
    def stop_reason(self) -> StopReason | None:
        return self._reason
