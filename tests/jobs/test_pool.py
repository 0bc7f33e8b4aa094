"""The worker pool on both databases: per-model concurrency, restart recovery, two pools on
one database, graceful stop, a lost lease, handlers that work in a thread."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import threading
from collections import Counter
from datetime import timedelta

from sqlalchemy import update

from easel.jobs import HandlerRegistry, JobContext, JobOutcome, JobProgress, JobRecord, JobSnapshot, JobStopped
from easel.jobs.pool import worker_is_dead
from easel.storage.db import Database
from easel.storage.jobs import INTERRUPTED_REASON, JobStore
from easel.storage.tables import LOCAL_ACCOUNT_ID, Job, utcnow
from tests.jobs.conftest import MakeService, collect, eventually, wait_event

OWNER = LOCAL_ACCOUNT_ID


async def _quick(ctx: JobContext, job: JobRecord) -> JobOutcome:
    ctx.progress(1.0, "done")
    return JobOutcome(outputs={"id": job.id})


def _registry(**handlers: object) -> HandlerRegistry:
    registry = HandlerRegistry()
    for task, handler in handlers.items():
        registry.register(task, handler)  # type: ignore[arg-type]
    return registry


async def test_a_model_with_limit_one_never_runs_two_jobs_at_once(make_service: MakeService) -> None:
    active: Counter[str] = Counter()
    most: Counter[str] = Counter()
    entered: asyncio.Queue[str] = asyncio.Queue()
    gates: dict[str, asyncio.Event] = {}

    async def gated(ctx: JobContext, job: JobRecord) -> JobOutcome:
        active[job.model] += 1
        most[job.model] = max(most[job.model], active[job.model])
        gates[job.id] = asyncio.Event()
        entered.put_nowait(job.id)
        await gates[job.id].wait()
        active[job.model] -= 1
        return JobOutcome()

    limits = {"local:sd-tiny": 1, "fal:flux": 3}
    service = make_service(_registry(image=gated), workers=4, limit_for=lambda model: limits[model])
    local = [
        (await service.submit(owner_id=OWNER, task="image", model="local:sd-tiny", request={}))[0].id for _ in range(3)
    ]
    remote = [
        (await service.submit(owner_id=OWNER, task="image", model="fal:flux", request={}))[0].id for _ in range(3)
    ]
    await service.start()
    # Four workers and every handler held at its gate: exactly four jobs get in, whatever the
    # pool does. With the limit respected they are the first local job and the three remote ones.
    async with asyncio.timeout(30):
        first_four = {await entered.get() for _ in range(4)}
    assert first_four == {local[0], *remote}
    # Let them go one at a time; every job runs, and the local model never ran two at once.
    for job_id in [*local, *remote]:
        async with asyncio.timeout(30):
            while job_id not in gates:
                await entered.get()
        gates[job_id].set()
    for job_id in [*local, *remote]:
        assert (await service.wait(owner_id=OWNER, job_id=job_id, timeout=30)).status == "succeeded"
    assert most["local:sd-tiny"] == 1 and most["fal:flux"] == 3


async def _crash_leftovers(database: Database, store: JobStore, *, max_attempts: int) -> tuple[str, list[str]]:
    """The state a killed server leaves: one job running under a dead worker, a stale heartbeat,
    and jobs still queued behind it."""
    interrupted, _ = await store.submit(owner_id=OWNER, task="image", model="m", request={}, max_attempts=max_attempts)
    queued = [(await store.submit(owner_id=OWNER, task="image", model="m", request={}))[0].id for _ in range(2)]
    claimed = await store.claim(worker_id="old-host:4242:dead", tasks=["image"])
    assert claimed is not None and claimed.id == interrupted.id
    async with database.session() as session, session.begin():
        await session.execute(
            update(Job).where(Job.id == interrupted.id).values(heartbeat_at=utcnow() - timedelta(minutes=5))
        )
    return interrupted.id, queued


async def test_restart_reruns_an_interrupted_job_and_the_queued_ones(
    make_service: MakeService, database: Database, store: JobStore
) -> None:
    interrupted, queued = await _crash_leftovers(database, store, max_attempts=2)
    service = make_service(_registry(image=_quick))
    await service.start()
    for job_id in (interrupted, *queued):
        done = await service.wait(owner_id=OWNER, job_id=job_id, timeout=30)
        assert done.status == "succeeded"
    rerun = await service.get(owner_id=OWNER, job_id=interrupted)
    assert rerun.attempts == 2 and rerun.outputs == {"id": interrupted}


async def test_restart_fails_an_interrupted_job_out_of_attempts(
    make_service: MakeService, database: Database, store: JobStore
) -> None:
    interrupted, queued = await _crash_leftovers(database, store, max_attempts=1)
    service = make_service(_registry(image=_quick))
    await service.start()  # recovery runs before any worker starts
    failed = await service.get(owner_id=OWNER, job_id=interrupted)
    assert (failed.status, failed.error, failed.error_code) == ("failed", INTERRUPTED_REASON, "interrupted")
    events = await collect(await service.events(owner_id=OWNER, job_id=interrupted))
    assert isinstance(events[0], JobSnapshot) and events[0].job.error == INTERRUPTED_REASON
    for job_id in queued:
        assert (await service.wait(owner_id=OWNER, job_id=job_id, timeout=30)).status == "succeeded"


async def test_two_pools_on_one_database_never_run_a_job_twice(
    make_service: MakeService, database_url: str, store: JobStore
) -> None:
    runs: Counter[str] = Counter()
    by_pool: Counter[str] = Counter()

    def counting(name: str) -> object:
        async def run(ctx: JobContext, job: JobRecord) -> JobOutcome:
            runs[job.id] += 1
            by_pool[name] += 1
            await asyncio.sleep(0)  # let the other pool's workers in
            return JobOutcome()

        return run

    ids = [(await store.submit(owner_id=OWNER, task="image", model="m", request={}))[0].id for _ in range(60)]
    second_db = Database(database_url)  # a second server process has its own connections
    try:
        one = make_service(_registry(image=counting("one")), workers=4, limit_for=lambda _: 4)
        two = make_service(_registry(image=counting("two")), database=second_db, workers=4, limit_for=lambda _: 4)
        await asyncio.gather(one.start(), two.start())

        async def all_done() -> bool:
            return (await store.list_jobs(owner_id=OWNER, status="succeeded"))[1] == len(ids)

        await eventually(all_done)
        await two.stop(grace=0)
    finally:
        await second_db.dispose()
    assert set(runs) == set(ids) and set(runs.values()) == {1}
    assert sum(by_pool.values()) == len(ids)


async def test_stop_lets_a_running_job_finish(make_service: MakeService) -> None:
    started, gate = asyncio.Event(), asyncio.Event()

    async def slow(ctx: JobContext, job: JobRecord) -> JobOutcome:
        started.set()
        await gate.wait()
        return JobOutcome(outputs={"ok": True})

    service = make_service(_registry(image=slow))
    await service.start()
    job, _ = await service.submit(owner_id=OWNER, task="image", model="m", request={})
    await wait_event(started)
    stopping = asyncio.create_task(service.stop(grace=30))
    gate.set()
    await stopping
    done = await service.get(owner_id=OWNER, job_id=job.id)
    assert (done.status, done.outputs) == ("succeeded", {"ok": True})


async def test_stop_past_the_grace_puts_the_job_back(make_service: MakeService) -> None:
    started, gate = asyncio.Event(), asyncio.Event()
    saw: list[str] = []

    async def cooperative(ctx: JobContext, job: JobRecord) -> JobOutcome:
        started.set()
        try:
            await gate.wait()
        finally:
            saw.append("stopped" if ctx.is_canceled() else "not told")
        return JobOutcome()

    first = make_service(_registry(image=cooperative))
    await first.start()
    job, _ = await first.submit(owner_id=OWNER, task="image", model="m", request={})
    await wait_event(started)
    await first.stop(grace=0)
    assert saw == ["stopped"]
    back = await first.get(owner_id=OWNER, job_id=job.id)
    assert (back.status, back.attempts, back.worker_id) == ("queued", 0, None)

    second = make_service(_registry(image=_quick))  # the next start runs it
    await second.start()
    done = await second.wait(owner_id=OWNER, job_id=job.id, timeout=30)
    assert (done.status, done.attempts) == ("succeeded", 1)


async def test_a_lost_lease_stops_the_handler_and_writes_nothing(make_service: MakeService, store: JobStore) -> None:
    calls: list[str] = []
    first_started = asyncio.Event()

    async def run(ctx: JobContext, job: JobRecord) -> JobOutcome:
        calls.append("run")
        if len(calls) == 1:
            first_started.set()
            try:
                await asyncio.Event().wait()  # a stuck attempt
            except asyncio.CancelledError:
                calls.append("stopped")
                raise
        return JobOutcome(outputs={"attempt": job.attempts})

    service = make_service(_registry(image=run))
    await service.start()
    job, _ = await service.submit(owner_id=OWNER, task="image", model="m", request={})
    await wait_event(first_started)
    # Another process judges this worker dead and re-queues its job (stale_after=0).
    recovered = await store.recover_interrupted(stale_after=0, now=utcnow() + timedelta(seconds=1))
    assert recovered.requeued == [job.id]
    done = await service.wait(owner_id=OWNER, job_id=job.id, timeout=30)
    assert (done.status, done.attempts, done.outputs) == ("succeeded", 2, {"attempt": 2})
    assert calls == ["run", "stopped", "run"]


async def test_a_handler_working_in_a_thread_reports_and_stops(make_service: MakeService) -> None:
    loop = asyncio.get_running_loop()
    started = asyncio.Event()
    gate = threading.Event()
    steps: list[int] = []

    def pipeline(ctx: JobContext) -> None:  # like a diffusers loop with a step callback
        for step in range(1, 5):
            ctx.progress(step / 4, f"step {step}")
            steps.append(step)
            if step == 2:
                loop.call_soon_threadsafe(started.set)
                gate.wait(30)

    async def threaded(ctx: JobContext, job: JobRecord) -> JobOutcome:
        await asyncio.to_thread(pipeline, ctx)
        return JobOutcome()

    service = make_service(_registry(image=threaded))
    job, _ = await service.submit(owner_id=OWNER, task="image", model="m", request={})
    stream = await service.events(owner_id=OWNER, job_id=job.id)
    await anext(stream)  # the snapshot; then start, so every event is seen live
    await service.start()
    await wait_event(started)
    await service.cancel(owner_id=OWNER, job_id=job.id)
    gate.set()
    events = await collect(stream)
    assert steps == [1, 2]  # step 3's progress call, in the thread, raised
    assert [e.type for e in events] == ["started", "progress", "progress", "canceled"]
    assert [e.progress for e in events if isinstance(e, JobProgress)] == [0.25, 0.5]


def test_job_stopped_is_not_an_exception_handlers_swallow() -> None:
    assert not issubclass(JobStopped, Exception)


def test_worker_is_dead_only_when_certain() -> None:
    finished = subprocess.Popen(["true"])
    finished.wait()
    host = socket.gethostname()
    assert worker_is_dead(f"{host}:{finished.pid}:abcd")
    assert not worker_is_dead(f"{host}:{os.getpid()}:abcd")  # this process: alive
    assert not worker_is_dead(f"{host}:1:abcd")  # alive (init)
    assert not worker_is_dead(f"elsewhere:{finished.pid}:abcd")  # another host: only heartbeats tell
    assert not worker_is_dead("not-a-worker-id")
