"""In-process events of workflow runs: each step's state as the runner writes it.

The runner publishes a step's record after every write to it (the step's own state, or one of
its items'), so a follower sees every transition, even a step that goes from running to
succeeded faster than anyone could read the table twice. A run-level write publishes a
`None` ("read the run again"). Nothing is kept for runs nobody follows: the runner asks
`watched(run_id)` before reading the record it would publish.

This is one process's view; a run executed by another process is followed by re-reading the
tables (see `WorkflowService.events`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from easel.jobs.mailbox import Mailbox
from easel.storage.workflows import StepRecord


class RunFeed(Mailbox[StepRecord | None]):
    """One follower's queue of changes to one run: a step record, or None for "read the run".

    `next(timeout)` gives None both when told to re-read the run and after `timeout` seconds of quiet.
    """

    def drain(self) -> list[StepRecord]:
        """The step changes still queued (at the run's end), without waiting."""
        steps = [c for c in self._pending if c is not None]
        self._pending.clear()
        return steps


class RunEvents:
    """Followers of runs in this process, by run id. Event-loop thread only."""

    def __init__(self) -> None:
        self._feeds: dict[str, set[RunFeed]] = {}

    def watched(self, run_id: str) -> bool:
        return bool(self._feeds.get(run_id))

    def publish(self, run_id: str, change: StepRecord | None = None) -> None:
        for feed in tuple(self._feeds.get(run_id, ())):
            feed.put(change)

    @contextmanager
    def follow(self, run_id: str) -> Iterator[RunFeed]:
        feed = RunFeed()
        self._feeds.setdefault(run_id, set()).add(feed)
        try:
            yield feed
        finally:
            feeds = self._feeds.get(run_id, set())
            feeds.discard(feed)
            if not feeds:
                self._feeds.pop(run_id, None)
