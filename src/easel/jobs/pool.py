"""The worker pool: N asyncio workers that claim queued jobs and run their handlers.

- Claiming: a worker claims the oldest queued job whose task has a handler and whose
  model is below its concurrency limit in this pool (`limit_for(model)`, at least 1;
  a local model loads into this process's memory, so the limit is per pool). Idle
  workers poll every `poll_interval` seconds (jobs submitted by other processes) and
  wake at once on `wake()` (a submit in this process).
- Leases: while a job runs, a keeper task renews its heartbeat every
  `heartbeat_interval` seconds and writes progress (coalesced to one write per
  `progress_interval`). Each write answers the job's `cancel_requested`, which is how
  a cancel made in another process reaches this one; `cancel(job_id)` is the
  in-process shortcut. A lost lease (another process judged us dead and re-queued the
  job) stops the handler without writing anything.
- Outcomes: a returned `JobOutcome` -> succeeded; `JobStopped` for a cancel ->
  canceled; `EaselError` -> failed with its message; anything else -> logged, failed
  with a generic message.
- Recovery: at start and every `stale_after / 2` seconds, running jobs whose worker
  is gone are re-queued or failed (`JobStore.recover_interrupted`). A worker is gone
  when its heartbeat is older than `stale_after`, or at once when it ran on this host
  under a process id that no longer exists (worker ids are `host:pid:random`).
- Shutdown: `stop(grace)` claims nothing more, lets running jobs finish for `grace`
  seconds, then stops the rest and puts them back in the queue without spending an
  attempt.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from easel.errors import EaselError
from easel.jobs.context import JobContext, JobStopped
from easel.jobs.events import JobEvents, JobProgress, JobStarted, terminal_event
from easel.jobs.handlers import HandlerRegistry, JobOutcome
from easel.jobs.queue_base import JobQueue
from easel.storage.jobs import FinalStatus, JobRecord

log = logging.getLogger(__name__)

INTERNAL_ERROR = "The job failed because of an internal error; the server log has the details."


def new_worker_id() -> str:
    """`host:pid:random`: unique per pool, and tells a later process on this host whether we died."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def worker_is_dead(worker_id: str) -> bool:
    """True only when certain: the worker ran on this host, in another process that is gone."""
    rest, _, _token = worker_id.rpartition(":")
    host, _, pid_text = rest.rpartition(":")
    if not host or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if host != socket.gethostname() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists, under another user
    return False


@dataclass(eq=False)
class _Lease:
    job: JobRecord
    ctx: JobContext
    task: asyncio.Task[JobOutcome] | None = None
    pending: tuple[float, str | None] | None = None  # progress not yet written
    dirty: asyncio.Event = field(default_factory=asyncio.Event)
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    lost: bool = False


class WorkerPool:
    """Runs queued jobs with registered handlers. `await start()`, `await stop()`."""

    def __init__(
        self,
        store: JobQueue,
        registry: HandlerRegistry,
        events: JobEvents,
        *,
        workers: int = 4,
        limit_for: Callable[[str], int] | None = None,
        poll_interval: float = 1.0,
        heartbeat_interval: float = 5.0,
        stale_after: float = 30.0,
        progress_interval: float = 0.25,
        worker_id: str | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError("a worker pool needs at least one worker")
        if stale_after <= 2 * heartbeat_interval:
            raise ValueError("stale_after must be well above heartbeat_interval (a live job would look dead)")
        self.store = store
        self.registry = registry
        self.events = events
        self.workers = workers
        self.limit_for = limit_for or (lambda _model: 1)
        self.poll_interval = poll_interval
        self.heartbeat_interval = heartbeat_interval
        self.stale_after = stale_after
        self.progress_interval = progress_interval
        self.worker_id = worker_id or new_worker_id()
        self._running: Counter[str] = Counter()  # model -> jobs running in this pool
        self._leases: dict[str, _Lease] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._wake: asyncio.Event | None = None
        self._claim_lock: asyncio.Lock | None = None
        self._stopping = False

    @property
    def running_jobs(self) -> frozenset[str]:
        """Ids of the jobs this pool is running now."""
        return frozenset(self._leases)

    async def start(self) -> None:
        if self._tasks:
            return
        self._stopping = False
        self._wake = asyncio.Event()
        self._claim_lock = asyncio.Lock()
        await self.recover()
        self._tasks = [asyncio.create_task(self._work(), name=f"job-worker-{i}") for i in range(self.workers)]
        self._tasks.append(asyncio.create_task(self._recover_periodically(), name="job-recovery"))

    async def stop(self, *, grace: float = 5.0) -> None:
        """Claim nothing more; give running jobs `grace` seconds, then re-queue the rest."""
        if not self._tasks:
            return
        self._stopping = True
        self.wake()
        running = [lease.task for lease in self._leases.values() if lease.task is not None]
        if running and grace > 0:
            await asyncio.wait(running, timeout=grace)
        for lease in list(self._leases.values()):
            lease.ctx.interrupt("shutdown")
            if lease.task is not None:
                lease.task.cancel()
        self._tasks[-1].cancel()  # the recovery loop
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def wake(self) -> None:
        """Tell idle workers to look for work now (a job was just submitted here)."""
        if self._wake is not None:
            self._wake.set()

    def cancel(self, job_id: str) -> bool:
        """Ask the handler of a job running here to stop; False when it does not run here."""
        lease = self._leases.get(job_id)
        if lease is None:
            return False
        lease.ctx.interrupt("canceled")
        return True

    async def recover(self) -> None:
        """Re-queue or end jobs interrupted by a worker that is gone; publish their ends."""
        dead = [w for w in await self.store.running_workers() if worker_is_dead(w)]
        result = await self.store.recover_interrupted(
            stale_after=self.stale_after, dead_workers=dead, held=list(self._leases)
        )
        for job in result.ended:
            log.warning("job %s ended after its worker stopped: %s", job.id, job.status)
            self.events.publish(terminal_event(job))
        if result.requeued:
            log.warning("re-queued %d interrupted job(s): %s", len(result.requeued), ", ".join(result.requeued))
            self.wake()

    # -- workers ----------------------------------------------------------------------

    async def _work(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            self._wake.clear()
            try:
                job = await self._claim()
            except Exception:
                log.exception("claiming a job failed; trying again in %.1fs", self.poll_interval)
                job = None
            if job is not None:
                self._wake.set()  # there may be more: let another idle worker look
                await self._run(job)
                continue
            if self._stopping:
                return
            try:
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def _claim(self) -> JobRecord | None:
        assert self._claim_lock is not None
        async with self._claim_lock:
            if self._stopping:
                return None
            full = [model for model, n in self._running.items() if n >= max(1, self.limit_for(model))]
            job = await self.store.claim(worker_id=self.worker_id, tasks=self.registry.tasks, exclude_models=full)
            if job is not None:
                self._running[job.model] += 1
            return job

    async def _run(self, job: JobRecord) -> None:
        ctx = JobContext(job, on_progress=lambda f, m: self._progress(job.id, f, m), loop=asyncio.get_running_loop())
        lease = _Lease(job=job, ctx=ctx)
        if job.cancel_requested:
            ctx.interrupt("canceled")
        if self._stopping:  # claimed while stop() began: give it straight back
            ctx.interrupt("shutdown")
        self._leases[job.id] = lease
        keeper = asyncio.create_task(self._keep(lease), name=f"job-lease-{job.id}")
        try:
            if not ctx.is_canceled():
                self.events.publish(JobStarted(job_id=job.id, attempt=job.attempts))
            lease.task = asyncio.create_task(self._call(job, ctx), name=f"job-{job.id}")
            await asyncio.wait([lease.task])
            lease.closing.set()
            lease.dirty.set()
            await asyncio.gather(keeper, return_exceptions=True)
            await self._settle(lease)
        except Exception:
            log.exception("recording the end of job %s failed; recovery will run it again", job.id)
        finally:
            keeper.cancel()
            del self._leases[job.id]
            self._running[job.model] -= 1
            if self._running[job.model] <= 0:
                del self._running[job.model]
            self.wake()

    async def _call(self, job: JobRecord, ctx: JobContext) -> JobOutcome:
        ctx.raise_if_canceled()  # canceled, or claimed just as stop() began: don't start at all
        outcome = await self.registry.get(job.task)(ctx, job)
        if not isinstance(outcome, JobOutcome):
            raise TypeError(f"the {job.task!r} handler returned {type(outcome).__name__}, not a JobOutcome")
        return outcome

    async def _settle(self, lease: _Lease) -> None:
        """Write the job's end from how its handler task ended."""
        job, task = lease.job, lease.task
        assert task is not None
        if lease.lost:
            log.warning("job %s was taken over by another worker; this attempt's result is dropped", job.id)
            return
        error = None if task.cancelled() else task.exception()
        stopped = (lease.ctx.stop_reason or "shutdown") if task.cancelled() else None
        if isinstance(error, JobStopped):
            stopped = error.reason
        record: JobRecord | None
        if stopped == "canceled":
            record = await self._finish(job, status="canceled")
        elif stopped is not None:
            record = await self.store.release(job_id=job.id, worker_id=self.worker_id)
            if record is None or not record.done:
                log.info("job %s put back in the queue: the server is stopping", job.id)
                return
        elif isinstance(error, EaselError):
            code = error.code or error.error_type
            record = await self._finish(job, status="failed", error=error.message, error_code=code)
        elif error is not None:
            log.error("job %s (%s, %s) failed", job.id, job.task, job.model, exc_info=error)
            record = await self._finish(job, status="failed", error=INTERNAL_ERROR, error_code="internal_error")
        else:
            outcome = task.result()
            record = await self._finish(job, status="succeeded", outputs=outcome.outputs, cost=outcome.cost)
        if record is not None:
            self.events.publish(terminal_event(record))

    async def _finish(
        self,
        job: JobRecord,
        *,
        status: FinalStatus,
        outputs: dict[str, Any] | None = None,
        cost: float | None = None,
        error: str | None = None,
        error_code: str | None = None,
    ) -> JobRecord | None:
        record = await self.store.finish(
            job_id=job.id,
            worker_id=self.worker_id,
            status=status,
            outputs=outputs,
            cost=cost,
            error=error,
            error_code=error_code,
        )
        if record is None:
            log.warning("job %s was taken over by another worker before it finished here", job.id)
        return record

    # -- leases -----------------------------------------------------------------------

    def _progress(self, job_id: str, fraction: float, message: str | None) -> None:
        lease = self._leases.get(job_id)
        if lease is None or lease.closing.is_set():
            return
        lease.pending = (fraction, message)
        lease.dirty.set()
        self.events.publish(JobProgress(job_id=job_id, progress=fraction, message=message))

    async def _keep(self, lease: _Lease) -> None:
        """Renew the lease and write progress until the handler ends."""
        while not lease.closing.is_set():
            try:
                async with asyncio.timeout(self.heartbeat_interval):
                    await lease.dirty.wait()
            except TimeoutError:
                pass
            if lease.closing.is_set():
                return
            lease.dirty.clear()
            pending, lease.pending = lease.pending, None
            progress, message = pending if pending is not None else (None, None)
            try:
                record = await self.store.heartbeat(
                    job_id=lease.job.id, worker_id=self.worker_id, progress=progress, message=message
                )
            except Exception:
                log.warning("heartbeat for job %s failed; will retry", lease.job.id, exc_info=True)
                if lease.pending is None:
                    lease.pending = pending  # write it next time
                continue
            if record is None:
                lease.lost = True
                lease.ctx.interrupt("lost")
                if lease.task is not None:
                    lease.task.cancel()
                return
            if record.cancel_requested:
                lease.ctx.interrupt("canceled")
            if pending is not None:
                try:  # coalesce a burst of progress into one write per interval
                    async with asyncio.timeout(self.progress_interval):
                        await lease.closing.wait()
                except TimeoutError:
                    pass

    async def _recover_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.stale_after / 2)
            try:
                await self.recover()
            except Exception:
                log.exception("recovering interrupted jobs failed; will retry")
