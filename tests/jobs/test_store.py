"""JobStore on SQLite and PostgreSQL: submit and idempotency, owner scoping, listing, claiming
(including concurrent claims from separate connection pools), leases, cancel, release and
recovery of interrupted jobs."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import update

from easel.errors import InvalidRequest, NotFound
from easel.storage.db import Database
from easel.storage.jobs import INTERRUPTED_REASON, JobStore
from easel.storage.tables import LOCAL_ACCOUNT_ID, Job, utcnow

OWNER = LOCAL_ACCOUNT_ID
IMAGE = {"prompt": "a lighthouse at dusk", "size": [1024, 1024]}


async def _submit(store: JobStore, model: str = "local:tiny", task: str = "image", **kw: object) -> str:
    job, created = await store.submit(owner_id=OWNER, task=task, model=model, request=IMAGE, **kw)  # type: ignore[arg-type]
    assert created
    return job.id


async def _backdate_heartbeat(database: Database, job_id: str, *, seconds: float = 3600) -> None:
    """What a crash leaves behind: a running row whose heartbeat stopped long ago."""
    async with database.session() as session, session.begin():
        await session.execute(
            update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow() - timedelta(seconds=seconds))
        )


async def test_submit_get_and_defaults(store: JobStore) -> None:
    job, created = await store.submit(owner_id=OWNER, task="image", model="local:tiny", request=IMAGE)
    assert created
    assert job.id.startswith("job_")
    assert (job.status, job.progress, job.attempts, job.max_attempts) == ("queued", 0.0, 0, 2)
    assert job.request == {"prompt": "a lighthouse at dusk", "size": [1024, 1024]}
    assert not job.done and not job.cancel_requested
    assert await store.get(owner_id=OWNER, job_id=job.id) == job


async def test_another_owner_cannot_see_or_cancel(store: JobStore, other_owner: str) -> None:
    job_id = await _submit(store)
    with pytest.raises(NotFound):
        await store.get(owner_id=other_owner, job_id=job_id)
    with pytest.raises(NotFound):
        await store.request_cancel(owner_id=other_owner, job_id=job_id)
    assert await store.list_jobs(owner_id=other_owner) == ([], 0)
    assert (await store.get(owner_id=OWNER, job_id=job_id)).status == "queued"


async def test_list_filters_and_pages(store: JobStore) -> None:
    ids = [await _submit(store, task="image" if i % 2 else "video") for i in range(5)]
    page, total = await store.list_jobs(owner_id=OWNER, limit=2)
    assert total == 5 and [j.id for j in page] == ids[::-1][:2]
    page, total = await store.list_jobs(owner_id=OWNER, limit=2, offset=4)
    assert total == 5 and [j.id for j in page] == [ids[0]]
    videos, total = await store.list_jobs(owner_id=OWNER, task="video")
    assert total == 3 and {j.task for j in videos} == {"video"}
    await store.request_cancel(owner_id=OWNER, job_id=ids[0])
    canceled, total = await store.list_jobs(owner_id=OWNER, status="canceled")
    assert total == 1 and canceled[0].id == ids[0]
    _, total = await store.list_jobs(owner_id=OWNER, status=["queued", "canceled"])
    assert total == 5
    with pytest.raises(InvalidRequest, match="Unknown job status 'done'"):
        await store.list_jobs(owner_id=OWNER, status="done")  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest):
        await store.list_jobs(owner_id=OWNER, limit=0)


async def test_idempotency_key_gives_one_job(store: JobStore, other_owner: str) -> None:
    first, created = await store.submit(owner_id=OWNER, task="image", model="m", request=IMAGE, idempotency_key="k1")
    again, created_again = await store.submit(
        owner_id=OWNER, task="image", model="m", request=dict(IMAGE), idempotency_key="k1"
    )
    assert created and not created_again and again == first
    # Keys belong to an owner; no key means no deduplication.
    theirs, created = await store.submit(
        owner_id=other_owner, task="image", model="m", request=IMAGE, idempotency_key="k1"
    )
    assert created and theirs.id != first.id
    a, _ = await store.submit(owner_id=OWNER, task="image", model="m", request=IMAGE)
    b, _ = await store.submit(owner_id=OWNER, task="image", model="m", request=IMAGE)
    assert a.id != b.id
    with pytest.raises(InvalidRequest, match="already used for a different request") as info:
        await store.submit(owner_id=OWNER, task="image", model="m", request={"prompt": "other"}, idempotency_key="k1")
    assert info.value.code == "idempotency_key_reused"


async def test_concurrent_submits_with_one_key_make_one_job(database_url: str, database: Database) -> None:
    # Two connection pools, as two server processes would have.
    second = Database(database_url)
    try:
        stores = [JobStore(database), JobStore(second)]
        results = await asyncio.gather(
            *(
                stores[i % 2].submit(owner_id=OWNER, task="image", model="m", request=IMAGE, idempotency_key="same")
                for i in range(12)
            )
        )
    finally:
        await second.dispose()
    assert sum(created for _, created in results) == 1
    assert len({job.id for job, _ in results}) == 1
    assert (await stores[0].list_jobs(owner_id=OWNER))[1] == 1


async def test_unknown_owner_is_refused(store: JobStore) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        await store.submit(owner_id="acct_nobody", task="image", model="m", request={}, idempotency_key="k")


async def test_claim_is_fifo_and_honours_tasks_and_excluded_models(store: JobStore) -> None:
    a = await _submit(store, model="local:a")
    b = await _submit(store, model="local:b", task="video")
    c = await _submit(store, model="local:a")
    assert await store.claim(worker_id="w", tasks=[]) is None
    got = await store.claim(worker_id="w", tasks=["image", "video"], exclude_models=["local:a"])
    assert got is not None and got.id == b
    assert (got.status, got.worker_id, got.attempts) == ("running", "w", 1)
    assert got.started_at is not None and got.heartbeat_at is not None
    assert await store.claim(worker_id="w", tasks=["video"]) is None
    first = await store.claim(worker_id="w", tasks=["image"])
    second = await store.claim(worker_id="w", tasks=["image"])
    assert first is not None and second is not None and [first.id, second.id] == [a, c]
    assert await store.claim(worker_id="w", tasks=["image"]) is None


async def test_concurrent_claims_never_share_a_job(database_url: str, database: Database) -> None:
    second = Database(database_url)
    try:
        stores = [JobStore(database), JobStore(second)]
        ids = {await _submit(stores[0]) for _ in range(20)}
        claims = await asyncio.gather(*(stores[i % 2].claim(worker_id=f"w{i % 2}", tasks=["image"]) for i in range(30)))
    finally:
        await second.dispose()
    claimed = [job.id for job in claims if job is not None]
    assert len(claimed) == 20 and set(claimed) == ids


async def test_lease_writes_need_the_lease(store: JobStore) -> None:
    job_id = await _submit(store)
    assert await store.heartbeat(job_id=job_id, worker_id="w") is None  # queued: nobody holds it
    await store.claim(worker_id="w", tasks=["image"])
    assert await store.heartbeat(job_id=job_id, worker_id="intruder", progress=0.9) is None
    assert await store.finish(job_id=job_id, worker_id="intruder", status="succeeded") is None
    beat = await store.heartbeat(job_id=job_id, worker_id="w", progress=1.5, message="denoising")
    assert beat is not None and (beat.progress, beat.progress_message) == (1.0, "denoising")
    beat = await store.heartbeat(job_id=job_id, worker_id="w", progress=0.5)
    assert beat is not None and (beat.progress, beat.progress_message) == (0.5, "denoising")
    done = await store.finish(job_id=job_id, worker_id="w", status="succeeded", outputs={"assets": ["a"]}, cost=0.04)
    assert done is not None and done.done
    assert (done.status, done.outputs, done.cost, done.progress) == ("succeeded", {"assets": ["a"]}, 0.04, 1.0)
    assert done.finished_at is not None
    # Finished is final: no second end, no heartbeat.
    assert await store.finish(job_id=job_id, worker_id="w", status="failed", error="late") is None
    assert await store.heartbeat(job_id=job_id, worker_id="w") is None


async def test_finish_failed_keeps_the_error(store: JobStore) -> None:
    job_id = await _submit(store)
    await store.claim(worker_id="w", tasks=["image"])
    failed = await store.finish(job_id=job_id, worker_id="w", status="failed", error="nsfw filter", error_code="x")
    assert failed is not None and (failed.status, failed.error, failed.error_code) == ("failed", "nsfw filter", "x")


async def test_request_cancel_queued_running_and_finished(store: JobStore) -> None:
    running, waiting = await _submit(store), await _submit(store)
    await store.claim(worker_id="w", tasks=["image"])  # takes `running`, the oldest
    flagged = await store.request_cancel(owner_id=OWNER, job_id=running)
    assert (flagged.status, flagged.cancel_requested, flagged.finished_at) == ("running", True, None)
    canceled = await store.request_cancel(owner_id=OWNER, job_id=waiting)
    assert canceled.status == "canceled" and canceled.finished_at is not None
    assert await store.claim(worker_id="w", tasks=["image"]) is None  # a canceled job is never claimed
    beat = await store.heartbeat(job_id=running, worker_id="w")  # how the worker learns of it
    assert beat is not None and beat.cancel_requested
    await store.finish(job_id=running, worker_id="w", status="canceled")
    again = await store.request_cancel(owner_id=OWNER, job_id=running)  # finished: answered as it is
    assert again.status == "canceled"


async def test_release_requeues_without_spending_an_attempt(store: JobStore) -> None:
    kept, dropped = await _submit(store), await _submit(store)
    await store.claim(worker_id="w", tasks=["image"])
    await store.claim(worker_id="w", tasks=["image"])
    await store.request_cancel(owner_id=OWNER, job_id=dropped)
    back = await store.release(job_id=kept, worker_id="w")
    assert back is not None and (back.status, back.attempts, back.worker_id) == ("queued", 0, None)
    gone = await store.release(job_id=dropped, worker_id="w")
    assert gone is not None and gone.status == "canceled"


async def test_recover_interrupted(database: Database, store: JobStore) -> None:
    retry = await _submit(store)
    exhausted = await _submit(store, max_attempts=1)
    cancel = await _submit(store)
    alive = await _submit(store)
    dead_worker = await _submit(store)
    held = await _submit(store)
    for _ in range(4):
        await store.claim(worker_id="crashed", tasks=["image"])
    await store.claim(worker_id="gone-host:1:x", tasks=["image"])  # fresh heartbeat, but known dead
    await store.claim(worker_id="me", tasks=["image"])
    await store.request_cancel(owner_id=OWNER, job_id=cancel)
    for job_id in (retry, exhausted, cancel, held):
        await _backdate_heartbeat(database, job_id)

    result = await store.recover_interrupted(stale_after=60, dead_workers=["gone-host:1:x"], held=[held])

    assert sorted(result.requeued) == sorted([retry, dead_worker])
    assert {j.id: j.status for j in result.ended} == {exhausted: "failed", cancel: "canceled"}
    jobs = {j.id: j for j in (await store.list_jobs(owner_id=OWNER))[0]}
    assert (jobs[retry].status, jobs[retry].worker_id, jobs[retry].attempts) == ("queued", None, 1)
    assert jobs[exhausted].error == INTERRUPTED_REASON and jobs[exhausted].error_code == "interrupted"
    assert jobs[exhausted].finished_at is not None
    assert jobs[alive].status == "running" and jobs[held].status == "running"
    # The re-queued job runs again, as attempt 2; then it too is out of attempts.
    again = await store.claim(worker_id="next", tasks=["image"])
    assert again is not None and again.id == retry and again.attempts == 2
