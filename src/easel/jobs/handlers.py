"""Job handlers: what runs a job of one task, and the registry that maps tasks to them.

A handler is registered for a task ("image", "upscale", "video", "workflow", ...)
and is never branched on: the worker pool looks the task up and calls
`run(ctx, job)`, which answers a `JobOutcome` (outputs and cost) or raises. An
`EaselError` becomes the job's error message as it is; any other exception is a
bug, logged, and the job fails with a generic message.

A handler must not block the event loop (heartbeats run on it; a worker that
misses them for `stale_after` seconds looks dead to other processes): run CPU or GPU
work in a thread (`asyncio.to_thread`), where `ctx.progress` and `ctx.is_canceled`
work as well. Handlers must tolerate running again: a job interrupted by a crash is re-run from
the start, so outputs should be written atomically (temporary file, then rename)
and, ideally, content-addressed, then named only in the returned outcome.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from easel.jobs.context import JobContext
from easel.storage.jobs import JobRecord


class JobOutcome(BaseModel):
    """What a finished job made: `outputs` (JSON: asset ids, URLs, text) and its `cost` in USD."""

    model_config = ConfigDict(frozen=True)

    outputs: dict[str, Any] = Field(default_factory=dict)
    cost: float | None = None


@runtime_checkable
class JobHandler(Protocol):
    """Runs jobs of one task. Report progress and check for cancels through `ctx` only."""

    async def run(self, ctx: JobContext, job: JobRecord) -> JobOutcome: ...


RunFunction = Callable[[JobContext, JobRecord], Awaitable[JobOutcome]]


class HandlerRegistry:
    """Task name -> handler. Built at startup; read by the worker pool and the job service."""

    def __init__(self) -> None:
        self._handlers: dict[str, RunFunction] = {}

    def register(self, task: str, handler: JobHandler | RunFunction, *, replace: bool = False) -> None:
        """Register `handler` (an object with `async run(ctx, job)`, or such a function) for `task`."""
        if not task:
            raise ValueError("a handler needs a task name")
        if task in self._handlers and not replace:
            raise ValueError(f"a handler for task {task!r} is already registered")
        run: RunFunction = handler.run if isinstance(handler, JobHandler) else handler
        self._handlers[task] = run

    def get(self, task: str) -> RunFunction:
        """The handler's run function for `task`; KeyError when none is registered."""
        return self._handlers[task]

    def __contains__(self, task: object) -> bool:
        return task in self._handlers

    @property
    def tasks(self) -> frozenset[str]:
        """The tasks some handler runs: the only ones a worker pool claims."""
        return frozenset(self._handlers)
