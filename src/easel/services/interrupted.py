"""Answers a crash cut off: telling them apart from answers another live process is writing.

A chat answer (a comparison column, a battle side) is streamed by one process and stored when
it ends; if that process dies first, the answer would stay "running" forever. Each service
marks the answers it starts with its own writer id (`host:pid:random`, the job workers' form,
see `easel.jobs.pool`). An answer is judged cut off when its writer is certainly gone (same
host, process no longer exists), or, for a writer we cannot check (another host, a row from
before writers were recorded), when it started longer ago than `grace`: with several API
replicas, a young answer from another host may be one that replica is still writing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from easel.jobs.pool import new_worker_id, worker_is_dead
from easel.storage.tables import utcnow

INTERRUPTED_MESSAGE = "interrupted: the server stopped while this answer was being written"
INTERRUPTED_CODE = "interrupted"
# Longer than any chat answer runs; only for writers whose life cannot be checked.
DEFAULT_GRACE = timedelta(minutes=30)


@dataclass(slots=True)
class Writers:
    """This process's writer id and the rule for judging other writers gone."""

    grace: timedelta = DEFAULT_GRACE
    own: str = field(default_factory=new_worker_id)

    def gone(self, writer: str | None, started_at: datetime, now: datetime | None = None) -> bool:
        if writer == self.own:
            return False
        if writer is not None and worker_is_dead(writer):
            return True
        return (now or utcnow()) - started_at > self.grace
