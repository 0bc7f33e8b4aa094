"""Votes: the repository battles and comparisons write pairwise outcomes to, and the
leaderboard reads them from.

Every call names the owner; one account never sees another's votes. Records are plain
pydantic objects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, select, update

from easel.storage.db import Database
from easel.storage.tables import new_id, utcnow
from easel.storage.tables_arena import Vote

VoteOutcome = Literal["a", "b", "tie", "both_bad"]
VoteSource = Literal["battle", "comparison"]
VoteTask = Literal["chat", "image"]


class NewVote(BaseModel):
    """One pairwise outcome to store: `outcome` says which of model_a / model_b did better."""

    model_config = ConfigDict(frozen=True)

    task: VoteTask
    model_a: str
    model_b: str
    outcome: VoteOutcome
    source: VoteSource
    source_id: str
    excluded: bool = False


class VoteRecord(NewVote):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    owner_id: str
    created_at: datetime


class VoteStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def add(self, *, owner_id: str, votes: list[NewVote]) -> list[VoteRecord]:
        """Store votes in one transaction (a comparison pick writes several at once)."""
        now = utcnow()
        rows = [Vote(id=new_id("vote"), owner_id=owner_id, created_at=now, **vote.model_dump()) for vote in votes]
        async with self.database.session() as session, session.begin():
            session.add_all(rows)
        return [VoteRecord.model_validate(row) for row in rows]

    async def list(self, *, owner_id: str, task: VoteTask | None = None,
                   include_excluded: bool = False) -> list[VoteRecord]:
        """The owner's votes, oldest first (the leaderboard's input)."""
        query = select(Vote).where(Vote.owner_id == owner_id)
        if task is not None:
            query = query.where(Vote.task == task)
        if not include_excluded:
            query = query.where(Vote.excluded.is_(False))
        query = query.order_by(Vote.created_at, Vote.id)
        async with self.database.session() as session:
            rows = (await session.scalars(query)).all()
        return [VoteRecord.model_validate(row) for row in rows]

    async def for_source(self, *, owner_id: str, source_id: str) -> list[VoteRecord]:
        query = select(Vote).where(Vote.owner_id == owner_id, Vote.source_id == source_id).order_by(Vote.id)
        async with self.database.session() as session:
            rows = (await session.scalars(query)).all()
        return [VoteRecord.model_validate(row) for row in rows]

    async def set_excluded(self, *, owner_id: str, source_id: str, excluded: bool) -> int:
        """Leave a battle's or comparison's votes out of (or back into) the leaderboard."""
        async with self.database.session() as session, session.begin():
            result = await session.execute(
                update(Vote).where(Vote.owner_id == owner_id, Vote.source_id == source_id).values(excluded=excluded))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def replace(self, *, owner_id: str, source_id: str, votes: list[NewVote]) -> list[VoteRecord]:
        """Swap all of one source's votes for `votes` in one transaction (a comparison's re-pick)."""
        now = utcnow()
        rows = [Vote(id=new_id("vote"), owner_id=owner_id, created_at=now, **vote.model_dump()) for vote in votes]
        async with self.database.session() as session, session.begin():
            await session.execute(delete(Vote).where(Vote.owner_id == owner_id, Vote.source_id == source_id))
            session.add_all(rows)
        return [VoteRecord.model_validate(row) for row in rows]
