"""Battles: the repository the arena service keeps blind matches in.

Every call names the owner; a battle owned by someone else is reported exactly like a
missing one (`NotFound`). Recording a vote is one transaction that sets the battle's outcome
only if it has none yet and writes its row in `votes`, so two racing votes give one vote and
one `Conflict`. `unfinished_chat` lists the chat battles an answer of which may be left
pending by a crash, for the arena's recovery.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Text, cast, or_, select, update

from easel.errors import Conflict, NotFound
from easel.storage.db import Database
from easel.storage.tables import new_id, utcnow
from easel.storage.tables_arena import Battle, Vote
from easel.storage.votes import NewVote, VoteOutcome, VoteTask

Side = Literal["a", "b"]
AnswerStatus = Literal["pending", "complete", "failed"]
MAX_PAGE = 200


class Answer(BaseModel):
    """One side's answer. `images` are asset ids (image battles), served by the battle, not the gallery."""

    model_config = ConfigDict(frozen=True)

    status: AnswerStatus = "pending"
    text: str = ""
    images: list[str] = Field(default_factory=list)
    job_id: str | None = None
    error: str | None = None
    error_code: str | None = None
    stripped: int = 0  # self-identifying sentences removed before showing
    writer: str | None = None  # the process streaming a chat answer (see services.interrupted); never shown


class BattleRecord(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    owner_id: str
    task: VoteTask
    prompt: str
    model_a: str
    model_b: str
    answer_a: Answer
    answer_b: Answer
    outcome: VoteOutcome | None = None
    leaked: bool = False
    created_at: datetime
    voted_at: datetime | None = None

    def answer(self, side: Side) -> Answer:
        return self.answer_a if side == "a" else self.answer_b


def _not_found(battle_id: str) -> NotFound:
    return NotFound(f"No battle with id '{battle_id}'.", param="battle_id")


class BattleStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def create(self, *, owner_id: str, task: VoteTask, prompt: str, model_a: str, model_b: str,
                     answers: tuple[Answer, Answer] = (Answer(), Answer())) -> BattleRecord:
        row = Battle(id=new_id("bat"), owner_id=owner_id, task=task, prompt=prompt, model_a=model_a,
                     model_b=model_b, answer_a=answers[0].model_dump(), answer_b=answers[1].model_dump(),
                     outcome=None, leaked=False, created_at=utcnow(), voted_at=None)
        async with self.database.session() as session, session.begin():
            session.add(row)
        return BattleRecord.model_validate(row)

    async def get(self, *, owner_id: str, battle_id: str) -> BattleRecord:
        async with self.database.session() as session:
            row = await session.scalar(select(Battle).where(Battle.id == battle_id, Battle.owner_id == owner_id))
        if row is None:
            raise _not_found(battle_id)
        return BattleRecord.model_validate(row)

    async def list(self, *, owner_id: str, task: VoteTask | None = None, limit: int = 50,
                   offset: int = 0) -> list[BattleRecord]:
        query = select(Battle).where(Battle.owner_id == owner_id)
        if task is not None:
            query = query.where(Battle.task == task)
        query = query.order_by(Battle.created_at.desc(), Battle.id.desc()).limit(min(limit, MAX_PAGE)).offset(offset)
        async with self.database.session() as session:
            rows = (await session.scalars(query)).all()
        return [BattleRecord.model_validate(row) for row in rows]

    async def unfinished_chat(self) -> list[BattleRecord]:
        """Every owner's unvoted chat battles with an answer still pending."""
        # A textual pre-filter that works on both backends' JSON; the status is checked on the records.
        query = select(Battle).where(Battle.task == "chat", Battle.outcome.is_(None),
                                     or_(cast(Battle.answer_a, Text).like("%pending%"),
                                         cast(Battle.answer_b, Text).like("%pending%")))
        async with self.database.session() as session:
            rows = (await session.scalars(query)).all()
        records = [BattleRecord.model_validate(row) for row in rows]
        return [b for b in records if "pending" in (b.answer_a.status, b.answer_b.status)]

    async def set_answer(self, *, owner_id: str, battle_id: str, side: Side, answer: Answer,
                         leaked: bool = False) -> None:
        """Store one side's answer; `leaked` can only turn the battle's flag on, never off."""
        values: dict[str, Any] = {f"answer_{side}": answer.model_dump()}
        if leaked:
            values["leaked"] = True
        async with self.database.session() as session, session.begin():
            await session.execute(update(Battle).where(Battle.id == battle_id, Battle.owner_id == owner_id)
                                  .values(**values))

    async def record_vote(self, *, owner_id: str, battle_id: str, outcome: VoteOutcome) -> BattleRecord:
        """Set the outcome once and write the vote (excluded when the battle leaked); Conflict on a second vote."""
        now = utcnow()
        async with self.database.session() as session, session.begin():
            result = await session.execute(
                update(Battle).where(Battle.id == battle_id, Battle.owner_id == owner_id, Battle.outcome.is_(None))
                .values(outcome=outcome, voted_at=now).returning(Battle)
                .execution_options(synchronize_session=False))
            row = result.scalar_one_or_none()
            if row is None:
                exists = await session.scalar(select(Battle.id).where(Battle.id == battle_id,
                                                                      Battle.owner_id == owner_id))
                if exists is None:
                    raise _not_found(battle_id)
                raise Conflict(f"Battle '{battle_id}' already has a vote; one vote per battle.", param="battle_id",
                               code="already_voted")
            battle = BattleRecord.model_validate(row)
            vote = NewVote(task=battle.task, model_a=battle.model_a, model_b=battle.model_b, outcome=outcome,
                           source="battle", source_id=battle.id, excluded=battle.leaked)
            session.add(Vote(id=new_id("vote"), owner_id=owner_id, created_at=now, **vote.model_dump()))
        return battle
