"""Running one comparison turn: every column at once, their events merged into one stream.

Each column runs in its own asyncio task and reports through one queue, tagged with its
column index, so the stream carries each column's deltas (chat) or progress (image) as they
happen. A column that fails reports its own `ColumnFailed`; one that hangs only delays its
own end. Closing the stream cancels the chat columns still running (their answers are stored
as stopped); image jobs go on in the worker pool, and the comparison shows them when reopened.

Image columns read their state from their job (see `image_answer`), so a comparison read
later, even by another process, shows the job as it stands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Union

from pydantic import BaseModel

from easel.errors import EaselError, InvalidRequest, UpstreamError
from easel.jobs import JobProgress, JobRecord, JobService, is_terminal
from easel.services.chat import ChatService, ChatTimings, PreparedChat
from easel.storage.assets import AssetStore
from easel.storage.comparisons import AnswerRecord, ComparisonStore
from easel.tasks.chat import ChatResult, ReasoningDelta, TextDelta

log = logging.getLogger(__name__)
STOPPED = "Stopped before the answer was complete."


class ImageOutput(BaseModel):
    asset_id: str
    url: str
    thumbnail_url: str
    width: int | None = None
    height: int | None = None
    seed: int | None = None
    settings: dict[str, Any] = {}


class ColumnAnswer(AnswerRecord):
    """An answer as shown: for an image column, its job's progress and images too."""

    progress: float | None = None
    progress_message: str | None = None
    images: list[ImageOutput] = []


@dataclass(slots=True)
class ColumnDelta:
    column: int
    text: str


@dataclass(slots=True)
class ColumnReasoning:
    column: int
    text: str


@dataclass(slots=True)
class ColumnProgress:
    column: int
    progress: float
    message: str | None


@dataclass(slots=True)
class ColumnDone:
    answer: ColumnAnswer


@dataclass(slots=True)
class ColumnFailed:
    answer: ColumnAnswer
    error: EaselError


ColumnEvent = Union[ColumnDelta, ColumnReasoning, ColumnProgress, ColumnDone, ColumnFailed]
Emit = Callable[[ColumnEvent], None]
ColumnRunner = Callable[[Emit], Awaitable[None]]


async def run_columns(runners: Sequence[ColumnRunner]) -> AsyncIterator[ColumnEvent]:
    """Start every runner at once; yield their events as they come; end when all have ended."""
    queue: asyncio.Queue[ColumnEvent | None] = asyncio.Queue()

    async def guarded(runner: ColumnRunner) -> None:
        try:
            await runner(queue.put_nowait)
        finally:
            queue.put_nowait(None)  # this column has ended, however it ended

    tasks = [asyncio.create_task(guarded(runner)) for runner in runners]
    running = len(tasks)
    try:
        while running:
            event = await queue.get()
            if event is None:
                running -= 1
            else:
                yield event
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def run_chat_column(*, chat: ChatService, store: ComparisonStore, owner_id: str, answer: AnswerRecord,
                          prepared: PreparedChat, emit: Emit) -> None:
    """Stream one chat column's answer, then store it (complete, failed or stopped)."""
    timings = ChatTimings(started=time.perf_counter())
    result = ChatResult()
    error: EaselError | None = None

    async def store_answer(message: str | None, code: str | None) -> ColumnAnswer:
        usage = timings.usage
        entry = prepared.entry
        record = await store.finish_answer(
            answer_id=answer.id, status="failed" if message else "complete", content=result.text,
            reasoning=result.reasoning or None, error=message, error_code=code,
            finish_reason=None if message else result.finish_reason,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            reasoning_tokens=usage.reasoning_tokens if usage else None,
            cost=entry.cost(usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens) if usage else None,
            latency_ms=round(timings.total_ms or (time.perf_counter() - timings.started) * 1000),
            ttft_ms=round(timings.first_token_ms) if timings.first_token_ms is not None else None)
        return ColumnAnswer(**record.model_dump())

    try:
        async for event in chat.stream(prepared, owner_id=owner_id, endpoint="/api/comparisons", timings=timings):
            result.add(event)
            if isinstance(event, TextDelta):
                emit(ColumnDelta(answer.column, event.text))
            elif isinstance(event, ReasoningDelta):
                emit(ColumnReasoning(answer.column, event.text))
    except EaselError as exc:
        error = exc
    except asyncio.CancelledError:
        await asyncio.shield(store_answer(STOPPED, "stopped"))
        raise
    except Exception as exc:  # a bug in one column must not take the others down; it is logged as one
        log.exception("comparison column %s (%s) failed", answer.column, prepared.entry.id)
        error = EaselError(f"Internal error in this column ({exc.__class__.__name__}).")
    stored = await store_answer(error.message if error else None, error.code if error else None)
    emit(ColumnFailed(stored, error) if error else ColumnDone(stored))


def job_error(job: JobRecord) -> EaselError:
    """Why an image job did not succeed, as the error its column reports."""
    if job.status == "canceled":
        return InvalidRequest("The image job was canceled.", code="job_canceled")
    return UpstreamError(job.error or "the image job failed", provider=job.model.split(":", 1)[0],
                         code=job.error_code or "job_failed")


async def image_answer(answer: AnswerRecord, *, jobs: JobService, assets: AssetStore, owner_id: str) -> ColumnAnswer:
    """An image column's answer from its job: status, progress, cost, latency, images and their settings."""
    if answer.job_id is None:
        return ColumnAnswer(**answer.model_dump())
    job = await jobs.get(owner_id=owner_id, job_id=answer.job_id)
    fields: dict[str, Any] = {"progress": job.progress, "progress_message": job.progress_message, "cost": job.cost}
    if job.done:
        fields["status"] = "complete" if job.status == "succeeded" else "failed"
        if job.finished_at is not None:
            fields["latency_ms"] = round((job.finished_at - job.created_at).total_seconds() * 1000)
        if job.status != "succeeded":
            error = job_error(job)
            fields.update(error=error.message, error_code=error.code)
    images = []
    for image in (job.outputs or {}).get("images", []):
        asset = await assets.get(owner_id=owner_id, asset_id=image["asset_id"])
        base = f"/api/assets/{asset.id}"
        images.append(ImageOutput(asset_id=asset.id, url=f"{base}/content", thumbnail_url=f"{base}/thumbnail",
                                  width=asset.width, height=asset.height, seed=asset.seed, settings=asset.settings))
    return ColumnAnswer(**{**answer.model_dump(), **fields, "images": images})


async def run_image_column(*, jobs: JobService, assets: AssetStore, owner_id: str, answer: AnswerRecord,
                           emit: Emit) -> None:
    """Follow one image column's job; report its progress and its end."""
    assert answer.job_id is not None
    stream = await jobs.events(owner_id=owner_id, job_id=answer.job_id)
    async with contextlib.aclosing(stream):
        async for event in stream:
            if isinstance(event, JobProgress):
                emit(ColumnProgress(answer.column, event.progress, event.message))
            if is_terminal(event):
                break
    final = await image_answer(answer, jobs=jobs, assets=assets, owner_id=owner_id)
    if final.status == "complete":
        emit(ColumnDone(final))
    else:
        job = await jobs.get(owner_id=owner_id, job_id=answer.job_id)
        emit(ColumnFailed(final, job_error(job)))
