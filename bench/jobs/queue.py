"""The queue measured as the server runs it: the real `JobService`, `WorkerPool` and `JobStore`
with a no-op handler for the task "bench-noop", at the server's own pool timings.

- `submit_rate`: N submits back to back with no worker running (the cost of `submit`).
- `drain`: N jobs queued, then the pool starts; jobs/s until the last one has succeeded.
- `end_to_end`: the pool runs while one client submits N jobs back to back; jobs/s from the
  first submit to the last success.
- `latency`: submit-to-start (from `submit()` returning to the handler's first line), either
  one job at a time on an idle pool, or open-loop arrivals at a fixed rate (under load).

The probes are plug-ins of the ordinary kind: a handler registered for a task, an event hub
that also counts successes, a store that also counts the statements it sends. Every wait has
a deadline (`MEASURE_TIMEOUT`), so a broken build ends the run instead of hanging it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from easel.jobs import (
    AnyJobEvent,
    HandlerRegistry,
    JobContext,
    JobEvents,
    JobFailed,
    JobOutcome,
    JobRecord,
    JobService,
    JobSucceeded,
    WorkerPool,
)
from easel.storage.db import Database
from easel.storage.jobs import JobStore
from easel.storage.tables import LOCAL_ACCOUNT_ID

TASK = "bench-noop"
MODEL = "bench:noop"
MEASURE_TIMEOUT = 120.0  # seconds for any one measurement; the whole run stays bounded


class CountingStore(JobStore):
    """The job store, counting the statements the queue sends (claims split into hits and misses)."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self.calls: Counter[str] = Counter()

    async def submit(self, **kw: Any) -> tuple[JobRecord, bool]:
        self.calls["submit"] += 1
        return await super().submit(**kw)

    async def claim(
        self, *, worker_id: str, tasks: Collection[str], exclude_models: Collection[str] = ()
    ) -> JobRecord | None:
        job = await super().claim(worker_id=worker_id, tasks=tasks, exclude_models=exclude_models)
        self.calls["claim" if job is not None else "claim (empty)"] += 1
        return job

    async def heartbeat(self, **kw: Any) -> JobRecord | None:
        self.calls["heartbeat"] += 1
        return await super().heartbeat(**kw)

    async def finish(self, **kw: Any) -> JobRecord | None:
        self.calls["finish"] += 1
        return await super().finish(**kw)


class Probe(JobEvents):
    """The event hub, counting successes; and the no-op handler, noting when each job starts."""

    def __init__(self) -> None:
        super().__init__()
        self.succeeded = 0
        self.target = 0
        self.failed: list[str] = []
        self.all_done = asyncio.Event()
        self.started: dict[str, float] = {}

    def expect(self, jobs: int) -> None:
        self.succeeded, self.target = 0, jobs
        self.all_done.clear()

    def publish(self, event: AnyJobEvent) -> None:
        super().publish(event)
        if isinstance(event, JobFailed):
            self.failed.append(event.error)
            self.all_done.set()
        elif isinstance(event, JobSucceeded):
            self.succeeded += 1
            if self.succeeded >= self.target:
                self.all_done.set()

    async def handler(self, ctx: JobContext, job: JobRecord) -> JobOutcome:
        self.started[job.id] = time.perf_counter()
        return JobOutcome()

    async def wait_all(self) -> float:
        """Wait until the expected jobs have succeeded; the moment the last one did."""
        async with asyncio.timeout(MEASURE_TIMEOUT):
            await self.all_done.wait()
        if self.failed:
            raise RuntimeError(f"a no-op job failed: {self.failed[0]}")
        return time.perf_counter()


@dataclass
class Bench:
    """One pool configuration on one database: a service with its probes."""

    service: JobService
    store: CountingStore
    probe: Probe
    pool: WorkerPool

    @classmethod
    def build(cls, database: Database, workers: int) -> Bench:
        store, probe, registry = CountingStore(database), Probe(), HandlerRegistry()
        registry.register(TASK, probe.handler)
        # The server's pool timings (JobService.create's defaults); the per-model limit is the
        # worker count, so all workers may run this one model's jobs at once.
        pool = WorkerPool(store, registry, probe, workers=workers, limit_for=lambda _model: workers)
        service = JobService(store=store, registry=registry, events=probe, pool=pool)
        return cls(service=service, store=store, probe=probe, pool=pool)

    async def submit(self, n: int) -> str:
        job, _ = await self.service.submit(owner_id=LOCAL_ACCOUNT_ID, task=TASK, model=MODEL, request={"n": n})
        return job.id


async def store_latency(database: Database, samples: int) -> dict[str, list[float]]:
    """Seconds of each `JobStore` call a job's life needs, one job at a time, `samples` times:
    `submit`, `claim` (the oldest queued job, SKIP LOCKED) and `finish` (conditional on the lease)."""
    store = JobStore(database)
    timings: dict[str, list[float]] = {"submit": [], "claim": [], "finish": []}
    for n in range(samples):
        t0 = time.perf_counter()
        await store.submit(owner_id=LOCAL_ACCOUNT_ID, task=TASK, model=MODEL, request={"n": n})
        t1 = time.perf_counter()
        job = await store.claim(worker_id="bench", tasks=[TASK])
        t2 = time.perf_counter()
        if job is None:
            raise RuntimeError("claim found nothing right after a submit")
        await store.finish(job_id=job.id, worker_id="bench", status="succeeded", outputs={})
        t3 = time.perf_counter()
        for name, seconds in zip(timings, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            timings[name].append(seconds)
    return timings


async def store_drain(database: Database, jobs: int) -> float:
    """Seconds to claim and finish `jobs` queued jobs with `JobStore` calls alone, one after the
    other, no pool: what the pool's drain would cost if the pool itself cost nothing."""
    store = JobStore(database)
    for n in range(jobs):
        await store.submit(owner_id=LOCAL_ACCOUNT_ID, task=TASK, model=MODEL, request={"n": n})
    t0 = time.perf_counter()
    for _ in range(jobs):
        job = await store.claim(worker_id="bench", tasks=[TASK])
        if job is None:
            raise RuntimeError("a queued job went missing")
        await store.finish(job_id=job.id, worker_id="bench", status="succeeded", outputs={})
    return time.perf_counter() - t0


@dataclass
class Throughput:
    jobs: int
    seconds: float
    calls: dict[str, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.jobs / self.seconds


async def submit_rate(database: Database, jobs: int) -> Throughput:
    """N submits with no worker running, then drain them (not timed) so the table is tidy."""
    bench = Bench.build(database, workers=1)
    t0 = time.perf_counter()
    for n in range(jobs):
        await bench.submit(n)
    return Throughput(jobs, time.perf_counter() - t0, dict(bench.store.calls))


async def drain(database: Database, jobs: int, workers: int) -> Throughput:
    """N jobs already queued; start the pool; jobs/s until the last has succeeded."""
    bench = Bench.build(database, workers)
    for n in range(jobs):
        await bench.submit(n)
    bench.probe.expect(jobs)
    t0 = time.perf_counter()
    await bench.service.start()
    try:
        t1 = await bench.probe.wait_all()
    finally:
        await bench.service.stop(grace=0)
    return Throughput(jobs, t1 - t0, dict(bench.store.calls))


async def end_to_end(database: Database, jobs: int, workers: int) -> Throughput:
    """The pool runs while one client submits N jobs back to back."""
    bench = Bench.build(database, workers)
    await bench.service.start()
    try:
        bench.store.calls.clear()
        bench.probe.expect(jobs)
        t0 = time.perf_counter()
        for n in range(jobs):
            await bench.submit(n)
        t1 = await bench.probe.wait_all()
    finally:
        await bench.service.stop(grace=0)
    return Throughput(jobs, t1 - t0, dict(bench.store.calls))


@dataclass
class Latency:
    samples: list[float]  # seconds, submit() returned -> handler started
    rate: float | None = None  # jobs/s offered (open loop), None for one at a time
    calls: dict[str, int] = field(default_factory=dict)


async def latency(database: Database, jobs: int, workers: int, *, rate: float | None = None) -> Latency:
    """Submit-to-start of `jobs` jobs: one at a time on an idle pool (`rate` None), or arriving
    open-loop at `rate` jobs/s (each submit at its scheduled moment, whatever the pool is doing)."""
    bench = Bench.build(database, workers)
    await bench.service.start()
    returned: dict[str, float] = {}
    try:
        for _ in range(5):  # warm the connection pool and the code paths
            bench.probe.expect(1)
            await bench.submit(-1)
            await bench.probe.wait_all()
        bench.store.calls.clear()
        if rate is None:
            for n in range(jobs):
                bench.probe.expect(1)
                job_id = await bench.submit(n)
                returned[job_id] = time.perf_counter()
                await bench.probe.wait_all()
        else:
            bench.probe.expect(jobs)
            t0 = time.perf_counter()
            for n in range(jobs):
                delay = t0 + n / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                job_id = await bench.submit(n)
                returned[job_id] = time.perf_counter()
            await bench.probe.wait_all()
    finally:
        await bench.service.stop(grace=0)
    # A worker polling on its own timer may claim a job between the INSERT's commit and submit()
    # returning: that job started before it was "submitted", a latency of zero, not negative.
    samples = [max(0.0, bench.probe.started[job_id] - t) for job_id, t in returned.items()]
    return Latency(samples, rate, dict(bench.store.calls))
