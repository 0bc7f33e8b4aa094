"""The in-process event hub and the event types: fan-out per job, bounded backlog that
drops progress but never an end, and the wire shape (`type` names the event)."""

from __future__ import annotations

from pydantic import TypeAdapter

from easel.jobs import JobCanceled, JobEvent, JobEvents, JobProgress, JobStarted, JobSucceeded, is_terminal


async def test_subscribers_get_their_jobs_events_in_order() -> None:
    hub = JobEvents()
    mine, also_mine, other = hub.subscribe("job_a"), hub.subscribe("job_a"), hub.subscribe("job_b")
    hub.publish(JobStarted(job_id="job_a", attempt=1))
    hub.publish(JobProgress(job_id="job_a", progress=0.5, message="half"))
    hub.publish(JobSucceeded(job_id="job_a", outputs={"k": 1}))
    for subscription in (mine, also_mine):
        got = [await subscription.next(timeout=5) for _ in range(3)]
        assert [e.type for e in got if e is not None] == ["started", "progress", "succeeded"]
    assert await other.next(timeout=0) is None
    for subscription in (mine, also_mine, other):
        subscription.close()
    assert hub.subscriber_count("job_a") == 0 and hub.subscriber_count("job_b") == 0


async def test_a_slow_subscriber_loses_progress_never_the_end() -> None:
    hub = JobEvents(max_pending=3)
    with hub.subscribe("job_a") as subscription:
        for i in range(10):
            hub.publish(JobProgress(job_id="job_a", progress=i / 10))
        hub.publish(JobCanceled(job_id="job_a"))
        got = []
        while (event := await subscription.next(timeout=0)) is not None:
            got.append(event)
    assert [e.type for e in got] == ["progress", "progress", "progress", "canceled"]
    assert is_terminal(got[-1]) and not is_terminal(got[0])


def test_events_round_trip_through_their_json() -> None:
    adapter: TypeAdapter[JobEvent] = TypeAdapter(JobEvent)
    event = JobSucceeded(job_id="job_a", outputs={"assets": ["asset_1"]}, cost=0.04)
    data = event.model_dump_json()
    assert '"type":"succeeded"' in data
    assert adapter.validate_json(data) == event
    assert adapter.json_schema()["discriminator"]["propertyName"] == "type"
