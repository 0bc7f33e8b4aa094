"""JobService end to end on both databases, with test handlers registered as plug-ins:
a job runs and succeeds with ordered events, late subscribers get the current state,
cancel (queued, running, from another process), failures, idempotency, owner scoping."""

from __future__ import annotations

import asyncio
import logging

import pytest

from easel.errors import InvalidRequest, NotFound, UpstreamUnavailable
from easel.jobs import (
    HandlerRegistry,
    JobCanceled,
    JobContext,
    JobFailed,
    JobOutcome,
    JobProgress,
    JobRecord,
    JobSnapshot,
    JobStarted,
    JobSucceeded,
)
from easel.storage.db import Database
from easel.storage.tables import LOCAL_ACCOUNT_ID
from tests.jobs.conftest import MakeService, collect, eventually, wait_event

OWNER = LOCAL_ACCOUNT_ID


class Steps:
    """A handler that reports `steps` progress steps, pausing at `gate` after the first."""

    def __init__(self, steps: int = 4) -> None:
        self.steps = steps
        self.started = asyncio.Event()
        self.gate = asyncio.Event()
        self.reached: list[int] = []
        self.runs = 0

    async def run(self, ctx: JobContext, job: JobRecord) -> JobOutcome:
        self.runs += 1
        for step in range(1, self.steps + 1):
            ctx.progress(step / self.steps, f"step {step}/{self.steps}")
            self.reached.append(step)
            if step == 1:
                self.started.set()
                await self.gate.wait()
        return JobOutcome(outputs={"prompt": ctx.request["prompt"], "job": ctx.job_id}, cost=0.02)


def _registry(**handlers: object) -> HandlerRegistry:
    registry = HandlerRegistry()
    for task, handler in handlers.items():
        registry.register(task, handler)  # type: ignore[arg-type]
    return registry


async def test_job_runs_and_succeeds_with_events_in_order(make_service: MakeService) -> None:
    handler = Steps(steps=4)
    handler.gate.set()
    service = make_service(_registry(image=handler))
    job, created = await service.submit(owner_id=OWNER, task="image", model="local:tiny", request={"prompt": "a fox"})
    assert created and job.status == "queued"
    stream = await service.events(owner_id=OWNER, job_id=job.id)
    snapshot = await anext(stream)  # subscribed before any worker runs: every event is seen live
    await service.start()
    events = [snapshot, *await collect(stream)]

    assert isinstance(events[0], JobSnapshot) and events[0].job.status == "queued"
    assert isinstance(events[1], JobStarted) and events[1].attempt == 1
    progress = [(e.progress, e.message) for e in events if isinstance(e, JobProgress)]
    assert progress == [(0.25, "step 1/4"), (0.5, "step 2/4"), (0.75, "step 3/4"), (1.0, "step 4/4")]
    assert events[-1] == JobSucceeded(job_id=job.id, outputs={"prompt": "a fox", "job": job.id}, cost=0.02)
    assert len(events) == 7

    done = await service.get(owner_id=OWNER, job_id=job.id)
    assert (done.status, done.progress, done.cost, done.attempts) == ("succeeded", 1.0, 0.02, 1)
    assert done.outputs == {"prompt": "a fox", "job": job.id}
    assert done.started_at is not None and done.finished_at is not None and done.finished_at >= done.started_at
    # A subscriber that comes after the end gets the final state and the stream ends.
    late = await collect(await service.events(owner_id=OWNER, job_id=job.id))
    assert len(late) == 1 and isinstance(late[0], JobSnapshot) and late[0].job.status == "succeeded"


async def test_late_subscriber_first_gets_the_current_state(make_service: MakeService) -> None:
    handler = Steps(steps=2)
    service = make_service(_registry(image=handler))
    await service.start()
    job, _ = await service.submit(owner_id=OWNER, task="image", model="m", request={"prompt": "p"})
    await wait_event(handler.started)

    async def progress_written() -> bool:
        return (await service.get(owner_id=OWNER, job_id=job.id)).progress == 0.5

    await eventually(progress_written)
    stream = await service.events(owner_id=OWNER, job_id=job.id)
    first = await anext(stream)
    assert isinstance(first, JobSnapshot)
    assert (first.job.status, first.job.progress, first.job.progress_message) == ("running", 0.5, "step 1/2")
    handler.gate.set()
    rest = await collect(stream)
    assert [type(e) for e in rest] == [JobProgress, JobSucceeded]


async def test_wait_answers_the_finished_job(make_service: MakeService) -> None:
    handler = Steps(steps=1)
    handler.gate.set()
    service = make_service(_registry(image=handler))
    await service.start()
    job, _ = await service.submit(owner_id=OWNER, task="image", model="m", request={"prompt": "p"})
    done = await service.wait(owner_id=OWNER, job_id=job.id, timeout=30)
    assert done.status == "succeeded" and done.outputs == {"prompt": "p", "job": job.id}


async def test_idempotency_key_gives_one_job_and_one_run(make_service: MakeService) -> None:
    handler = Steps(steps=1)
    handler.gate.set()
    service = make_service(_registry(image=handler))
    await service.start()
    submits = [
        service.submit(owner_id=OWNER, task="image", model="m", request={"prompt": "p"}, idempotency_key="abc")
        for _ in range(5)
    ]
    results = await asyncio.gather(*submits)
    assert sum(created for _, created in results) == 1 and len({job.id for job, _ in results}) == 1
    await service.wait(owner_id=OWNER, job_id=results[0][0].id, timeout=30)
    again, created = await service.submit(
        owner_id=OWNER, task="image", model="m", request={"prompt": "p"}, idempotency_key="abc"
    )
    assert not created and again.status == "succeeded"
    assert handler.runs == 1


async def test_unknown_task_is_refused(make_service: MakeService) -> None:
    service = make_service(_registry(image=Steps()))
    with pytest.raises(InvalidRequest, match="No job handler for task 'vidoe'"):
        await service.submit(owner_id=OWNER, task="vidoe", model="m", request={})


async def test_owner_scoping(make_service: MakeService, other_owner: str) -> None:
    service = make_service(_registry(image=Steps()))
    job, _ = await service.submit(owner_id=OWNER, task="image", model="m", request={"prompt": "p"})
    for call in (service.get, service.cancel, service.events):
        with pytest.raises(NotFound):
            await call(owner_id=other_owner, job_id=job.id)
    assert await service.list(owner_id=other_owner) == ([], 0)
    assert (await service.list(owner_id=OWNER))[1] == 1


async def test_cancel_a_queued_job(make_service: MakeService) -> None:
    first, second = Steps(steps=1), Steps(steps=1)
    first.gate.set()
    second.gate.set()
    service = make_service(_registry(first=first, second=second), workers=1)
    job, _ = await service.submit(owner_id=OWNER, task="first", model="m", request={"prompt": "p"})
    stream = await service.events(owner_id=OWNER, job_id=job.id)
    assert isinstance(await anext(stream), JobSnapshot)  # subscribed: what follows is live
    canceled = await service.cancel(owner_id=OWNER, job_id=job.id)
    assert canceled.status == "canceled" and canceled.finished_at is not None
    assert [type(e) for e in await collect(stream)] == [JobCanceled]
    # One worker, first in first out: once a later job has run, the canceled one had its turn.
    await service.start()
    later, _ = await service.submit(owner_id=OWNER, task="second", model="m", request={"prompt": "p"})
    assert (await service.wait(owner_id=OWNER, job_id=later.id, timeout=30)).status == "succeeded"
    assert first.runs == 0
    assert (await service.get(owner_id=OWNER, job_id=job.id)).status == "canceled"


async def test_cancel_a_running_job_stops_it_at_its_next_step(make_service: MakeService) -> None:
    handler = Steps(steps=4)
    service = make_service(_registry(image=handler))
    await service.start()
    job, _ = await service.submit(owner_id=OWNER, task="image", model="m", request={"prompt": "p"})
    await wait_event(handler.started)
    stream = await service.events(owner_id=OWNER, job_id=job.id)
    assert isinstance(await anext(stream), JobSnapshot)
    flagged = await service.cancel(owner_id=OWNER, job_id=job.id)
    assert flagged.status == "running" and flagged.cancel_requested
    handler.gate.set()
    assert [type(e) for e in await collect(stream)] == [JobCanceled]
    assert handler.reached == [1]  # step 2's progress call raised: the handler stopped there
    done = await service.get(owner_id=OWNER, job_id=job.id)
    assert (done.status, done.outputs) == ("canceled", None)


async def test_cancel_from_another_process_reaches_the_worker(make_service: MakeService, database_url: str) -> None:
    seen = asyncio.Event()

    async def poll_upstream(ctx: JobContext, job: JobRecord) -> JobOutcome:
        ctx.progress(0.1, "submitted upstream")
        while not await ctx.wait_canceled(timeout=60):
            pass
        seen.set()  # here a remote handler would cancel the provider's job
        ctx.raise_if_canceled()
        return JobOutcome()

    worker_side = make_service(_registry(remote=poll_upstream))
    await worker_side.start()
    api_db = Database(database_url)  # another process: its own connections, no workers, no shared hub
    try:
        api_side = make_service(_registry(remote=poll_upstream), database=api_db, run_workers=False)
        job, _ = await api_side.submit(owner_id=OWNER, task="remote", model="fal:flux", request={})

        async def running() -> bool:
            return (await api_side.get(owner_id=OWNER, job_id=job.id)).progress_message == "submitted upstream"

        await eventually(running)  # (the worker polls: it was not woken by this submit)
        stream = await api_side.events(owner_id=OWNER, job_id=job.id)
        snapshot = await anext(stream)
        assert isinstance(snapshot, JobSnapshot) and snapshot.job.status == "running"
        await api_side.cancel(owner_id=OWNER, job_id=job.id)
        # Followed through the job's row: the worker's hub is not this side's.
        assert isinstance((await collect(stream))[-1], JobCanceled)
        await wait_event(seen)
    finally:
        await api_db.dispose()


async def test_handler_errors_become_failed_jobs(make_service: MakeService, caplog: pytest.LogCaptureFixture) -> None:
    async def upstream_down(ctx: JobContext, job: JobRecord) -> JobOutcome:
        raise UpstreamUnavailable("overloaded, try later", provider="fal")

    async def bug(ctx: JobContext, job: JobRecord) -> JobOutcome:
        raise RuntimeError("secret internal detail")

    async def wrong_type(ctx: JobContext, job: JobRecord) -> JobOutcome:
        return {"outputs": {}}  # type: ignore[return-value]

    service = make_service(_registry(down=upstream_down, bug=bug, wrong=wrong_type))
    await service.start()
    with caplog.at_level(logging.ERROR, logger="easel.jobs.pool"):
        jobs = {
            task: (await service.submit(owner_id=OWNER, task=task, model="m", request={}))[0]
            for task in ("down", "bug", "wrong")
        }
        done = {task: await service.wait(owner_id=OWNER, job_id=job.id, timeout=30) for task, job in jobs.items()}

    assert (done["down"].status, done["down"].error, done["down"].error_code) == (
        "failed",
        "fal: overloaded, try later",
        "upstream_overloaded",
    )
    for task in ("bug", "wrong"):
        assert done[task].status == "failed" and done[task].error_code == "internal_error"
        assert "internal error" in (done[task].error or "") and "secret" not in (done[task].error or "")
    assert "secret internal detail" in caplog.text  # the details go to the log
    late = await collect(await service.events(owner_id=OWNER, job_id=jobs["down"].id))
    assert isinstance(late[0], JobSnapshot) and late[0].job.status == "failed"


async def test_failure_event_reaches_subscribers(make_service: MakeService) -> None:
    gate = asyncio.Event()

    async def fails(ctx: JobContext, job: JobRecord) -> JobOutcome:
        await gate.wait()
        raise InvalidRequest("size 7x7 is not supported by this model", param="size")

    service = make_service(_registry(image=fails))
    job, _ = await service.submit(owner_id=OWNER, task="image", model="m", request={})
    stream = await service.events(owner_id=OWNER, job_id=job.id)
    assert isinstance(await anext(stream), JobSnapshot)
    await service.start()
    gate.set()
    events = await collect(stream)
    assert events[-1] == JobFailed(
        job_id=job.id, error="size 7x7 is not supported by this model", error_code="invalid_request_error"
    )
