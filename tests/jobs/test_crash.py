"""Jobs survive a real crash: a server process is killed with SIGKILL while it runs jobs and
others wait; the next start re-runs the interrupted job (or fails it with a clear reason
when it is out of attempts) and runs the queued ones. Deterministic: the test waits for the
process to say it is running, and recovery knows the dead process by its id, not a timeout."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from easel.jobs import HandlerRegistry, JobContext, JobOutcome, JobRecord
from easel.storage.jobs import INTERRUPTED_REASON, JobStore
from easel.storage.tables import LOCAL_ACCOUNT_ID
from tests.jobs.conftest import DEADLINE, MakeService

OWNER = LOCAL_ACCOUNT_ID
ROOT = Path(__file__).resolve().parents[2]


async def test_jobs_survive_sigkill(database_url: str, store: JobStore, make_service: MakeService) -> None:
    retried, _ = await store.submit(owner_id=OWNER, task="render", model="local:a", request={"n": 1})
    exhausted, _ = await store.submit(owner_id=OWNER, task="render", model="local:a", request={"n": 2}, max_attempts=1)
    waiting = [
        (await store.submit(owner_id=OWNER, task="caption", model="m", request={"n": i}))[0].id for i in range(3)
    ]

    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.jobs.crash_worker",
        database_url,
        "render",
        "2",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(DEADLINE):
            assert server.stdout is not None
            running = {(await server.stdout.readline()).decode().split()[-1] for _ in range(2)}
    finally:
        server.send_signal(signal.SIGKILL)
        await server.wait()  # reaped: its process id is gone now
    assert running == {retried.id, exhausted.id}
    assert server.returncode == -signal.SIGKILL
    for job_id in running:
        assert (await store.get(owner_id=OWNER, job_id=job_id)).status == "running"

    async def render(ctx: JobContext, job: JobRecord) -> JobOutcome:
        return JobOutcome(outputs={"n": job.request["n"], "attempt": job.attempts})

    async def caption(ctx: JobContext, job: JobRecord) -> JobOutcome:
        return JobOutcome(outputs={"n": job.request["n"]})

    registry = HandlerRegistry()
    registry.register("render", render)
    registry.register("caption", caption)
    restarted = make_service(registry)  # stale_after is 30 s: only the dead process id can free the jobs
    await restarted.start()

    again = await restarted.wait(owner_id=OWNER, job_id=retried.id, timeout=DEADLINE)
    assert (again.status, again.attempts, again.outputs) == ("succeeded", 2, {"n": 1, "attempt": 2})
    failed = await restarted.get(owner_id=OWNER, job_id=exhausted.id)
    assert (failed.status, failed.error, failed.error_code) == ("failed", INTERRUPTED_REASON, "interrupted")
    for n, job_id in enumerate(waiting):
        done = await restarted.wait(owner_id=OWNER, job_id=job_id, timeout=DEADLINE)
        assert (done.status, done.outputs, done.attempts) == ("succeeded", {"n": n}, 1)
