"""A server stand-in for the SIGKILL test: `python -m tests.jobs.crash_worker URL TASK N`.

Runs a worker pool whose TASK handler reports progress, prints `RUNNING <job id>` and then
blocks forever; it exits only when killed. It claims at most N jobs (N workers, limit N).
"""

from __future__ import annotations

import asyncio
import sys

from easel.jobs import HandlerRegistry, JobContext, JobOutcome, JobRecord, JobService
from easel.storage.db import Database


async def main(url: str, task: str, workers: int) -> None:
    async def block(ctx: JobContext, job: JobRecord) -> JobOutcome:
        ctx.progress(0.5, "halfway")
        print(f"RUNNING {job.id}", flush=True)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    registry = HandlerRegistry()
    registry.register(task, block)
    database = Database(url)
    service = JobService.create(database, registry, workers=workers, limit_for=lambda _: workers, poll_interval=0.05)
    await service.start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
