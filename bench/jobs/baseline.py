"""The floor the queue is compared with: the writes one job needs, made with bare SQLAlchemy Core.

A job's life is at least three writes, each its own transaction as in the store: INSERT the
row (submit), UPDATE it to running (claim), UPDATE it to succeeded (finish). Here they are
plain statements by primary key on the same `Database` (same engine, same SQLite pragmas,
same psycopg driver): no ORM session, no RETURNING, no SKIP LOCKED subquery, no pool, no
events. What the queue costs beyond this is its overhead.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update

from easel.storage.db import Database
from easel.storage.tables import LOCAL_ACCOUNT_ID, Job, new_id, utcnow

from bench.jobs.queue import MODEL, TASK


def _row(n: int, now: datetime) -> dict[str, Any]:
    return {
        "id": new_id("job"),
        "owner_id": LOCAL_ACCOUNT_ID,
        "task": TASK,
        "model": MODEL,
        "request": {"n": n},
        "status": "queued",
        "progress": 0.0,
        "attempts": 0,
        "max_attempts": 2,
        "cancel_requested": False,
        "created_at": now,
    }


async def _insert(database: Database, n: int) -> str:
    row = _row(n, utcnow())
    async with database.engine.begin() as conn:
        await conn.execute(insert(Job).values(**row))
    job_id: str = row["id"]
    return job_id


async def _to_running(database: Database, job_id: str) -> None:
    now = utcnow()
    stmt = (
        update(Job)
        .where(Job.id == job_id, Job.status == "queued")
        .values(status="running", worker_id="bench", attempts=Job.attempts + 1, started_at=now, heartbeat_at=now)
    )
    async with database.engine.begin() as conn:
        await conn.execute(stmt)


async def _to_succeeded(database: Database, job_id: str) -> None:
    stmt = (
        update(Job)
        .where(Job.id == job_id, Job.status == "running")
        .values(status="succeeded", outputs={}, progress=1.0, finished_at=utcnow(), heartbeat_at=None)
    )
    async with database.engine.begin() as conn:
        await conn.execute(stmt)


async def insert_rate(database: Database, jobs: int) -> float:
    """Seconds for `jobs` bare INSERTs, one transaction each (the floor under `submit`)."""
    t0 = time.perf_counter()
    for n in range(jobs):
        await _insert(database, n)
    return time.perf_counter() - t0


async def claim_finish_rate(database: Database, jobs: int) -> float:
    """Seconds for `jobs` x (UPDATE to running, UPDATE to succeeded) on rows inserted beforehand
    (the floor under a drain, which starts with the jobs already queued)."""
    ids = [await _insert(database, n) for n in range(jobs)]
    t0 = time.perf_counter()
    for job_id in ids:
        await _to_running(database, job_id)
        await _to_succeeded(database, job_id)
    return time.perf_counter() - t0


async def job_writes(database: Database, jobs: int) -> float:
    """Seconds for `jobs` x (INSERT, UPDATE to running, UPDATE to succeeded), one after another."""
    t0 = time.perf_counter()
    for n in range(jobs):
        job_id = await _insert(database, n)
        await _to_running(database, job_id)
        await _to_succeeded(database, job_id)
    return time.perf_counter() - t0


async def statement_latency(database: Database, samples: int) -> dict[str, list[float]]:
    """Seconds of each bare write, one job at a time, `samples` times: the floor under the
    store's `submit`, `claim` and `finish` calls."""
    timings: dict[str, list[float]] = {"insert": [], "update to running": [], "update to succeeded": []}
    for n in range(samples):
        t0 = time.perf_counter()
        job_id = await _insert(database, n)
        t1 = time.perf_counter()
        await _to_running(database, job_id)
        t2 = time.perf_counter()
        await _to_succeeded(database, job_id)
        t3 = time.perf_counter()
        for name, seconds in zip(timings, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            timings[name].append(seconds)
    return timings
