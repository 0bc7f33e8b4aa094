"""Comparisons, their turns and answers: the repository the compare service and the API use.

Every request-facing call names the owner; a comparison owned by someone else is reported
exactly like a missing one (`NotFound`). `finish_answer` is the one exception: the compare
service calls it for an answer it created itself in `add_turn`, after the owner was checked.
A turn's `seq` is assigned in the write transaction after the comparison row is updated
(which locks it), so concurrent follow-ups never collide; in the same transaction a turn is
refused (`Conflict`) while the previous turn still has chat answers running, so a follow-up
always reads every earlier answer whole, across processes too. `running_chat_answers` and
`fail_running` are for the compare service's recovery of answers a crash cut off.
Results are frozen pydantic records.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from easel.errors import Conflict, InvalidRequest, NotFound
from easel.storage.db import Database
from easel.storage.tables import new_id, utcnow
from easel.storage.tables_compare import Comparison, ComparisonAnswer, ComparisonTurn

AnswerStatus = Literal["running", "complete", "failed"]
CompareTask = Literal["chat", "image"]
MAX_PAGE = 200


class AnswerRecord(BaseModel):
    """One column's answer to one turn."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    turn_id: str
    column: int
    model: str
    status: AnswerStatus = "running"
    content: str = ""
    reasoning: str | None = None
    error: str | None = None
    error_code: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None
    cost: float | None = None
    latency_ms: int | None = None
    ttft_ms: int | None = None
    job_id: str | None = None
    writer: str | None = Field(default=None, exclude=True)  # internal: never shown, see tables_compare
    created_at: datetime


class TurnRecord(BaseModel):
    """One shared prompt and every column's answer to it, in column order."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    comparison_id: str
    seq: int
    prompt: str
    options: dict[str, Any] = {}
    best_column: int | None = None
    created_at: datetime
    answers: list[AnswerRecord] = []


class ComparisonRecord(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    owner_id: str
    task: CompareTask
    title: str
    models: list[str]
    system_prompt: str | None = None
    history: list[dict[str, Any]] | None = None
    created_at: datetime
    updated_at: datetime


class ComparisonDetail(ComparisonRecord):
    turns: list[TurnRecord]


class NewAnswer(BaseModel):
    """An answer to open with a turn: its column, model and (for images) its job."""

    model_config = ConfigDict(frozen=True)

    column: int
    model: str
    job_id: str | None = None


def _not_found(comparison_id: str) -> NotFound:
    return NotFound(f"No comparison with id '{comparison_id}'.", param="comparison_id")


async def _touch(session: AsyncSession, *, owner_id: str, comparison_id: str) -> Comparison:
    """Bump updated_at (taking the row's write lock) and return the row; NotFound if absent or not owned."""
    stmt = (
        update(Comparison)
        .where(Comparison.id == comparison_id, Comparison.owner_id == owner_id)
        .values(updated_at=utcnow())
        .returning(Comparison)
        .execution_options(synchronize_session=False)
    )
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise _not_found(comparison_id)
    return row


class ComparisonStore:
    """Comparisons in one `Database`; keyword-only, owner-scoped methods."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def create(self, *, owner_id: str, task: CompareTask, models: Sequence[str], title: str = "",
                     system_prompt: str | None = None,
                     history: list[dict[str, Any]] | None = None) -> ComparisonRecord:
        now = utcnow()
        row = Comparison(id=new_id("cmp"), owner_id=owner_id, task=task, title=title, models=list(models),
                         system_prompt=system_prompt, history=history, created_at=now, updated_at=now)
        async with self.database.session() as session, session.begin():
            session.add(row)
        return ComparisonRecord.model_validate(row)

    async def add_turn(self, *, owner_id: str, comparison_id: str, prompt: str, options: dict[str, Any],
                       answers: Sequence[NewAnswer], writer: str | None = None) -> TurnRecord:
        """Append a turn with the next `seq` and its answers (status "running", chat ones marked with
        their `writer` process), in one transaction; `Conflict` while an earlier chat answer runs."""
        now = utcnow()
        async with self.database.session() as session, session.begin():
            await _touch(session, owner_id=owner_id, comparison_id=comparison_id)
            running = await session.scalar(
                select(func.count()).select_from(ComparisonAnswer)
                .join(ComparisonTurn, ComparisonAnswer.turn_id == ComparisonTurn.id)
                .where(ComparisonTurn.comparison_id == comparison_id, ComparisonAnswer.status == "running",
                       ComparisonAnswer.job_id.is_(None)))
            if running:
                raise Conflict(f"A turn is still running in comparison '{comparison_id}'; send the follow-up when "
                               "every column has answered.", param="comparison_id", code="turn_running")
            last = await session.scalar(select(func.coalesce(func.max(ComparisonTurn.seq), 0))
                                        .where(ComparisonTurn.comparison_id == comparison_id))
            turn = ComparisonTurn(id=new_id("cmpt"), comparison_id=comparison_id, seq=int(last or 0) + 1,
                                  prompt=prompt, options=options, created_at=now)
            rows = [ComparisonAnswer(id=new_id("cmpa"), turn_id=turn.id, column=a.column, model=a.model,
                                     status="running", content="", job_id=a.job_id,
                                     writer=writer if a.job_id is None else None, created_at=now)
                    for a in answers]
            session.add(turn)
            await session.flush()  # the turn before its answers: PostgreSQL checks the foreign key per row
            session.add_all(rows)
        return TurnRecord(**TurnRecord.model_validate(turn).model_dump(exclude={"answers"}),
                          answers=[AnswerRecord.model_validate(r) for r in rows])

    async def finish_answer(self, *, answer_id: str, status: AnswerStatus, **fields: Any) -> AnswerRecord:
        """Record how an answer ended (its text, usage, timings or error)."""
        stmt = (update(ComparisonAnswer).where(ComparisonAnswer.id == answer_id)
                .values(status=status, **fields).returning(ComparisonAnswer)
                .execution_options(synchronize_session=False))
        async with self.database.session() as session, session.begin():
            row = (await session.execute(stmt)).scalar_one()
            return AnswerRecord.model_validate(row)

    async def running_chat_answers(self, *, comparison_id: str | None = None) -> list[AnswerRecord]:
        """Chat answers still marked running (every comparison's, or one comparison's)."""
        query = select(ComparisonAnswer).where(ComparisonAnswer.status == "running", ComparisonAnswer.job_id.is_(None))
        if comparison_id is not None:
            query = query.join(ComparisonTurn, ComparisonAnswer.turn_id == ComparisonTurn.id).where(
                ComparisonTurn.comparison_id == comparison_id)
        async with self.database.session() as session:
            return [AnswerRecord.model_validate(row) for row in (await session.scalars(query)).all()]

    async def fail_running(self, *, answer_ids: Sequence[str], error: str, error_code: str) -> int:
        """Mark these answers failed if they are still running (a writer that finished meanwhile wins)."""
        if not answer_ids:
            return 0
        stmt = (update(ComparisonAnswer)
                .where(ComparisonAnswer.id.in_(list(answer_ids)), ComparisonAnswer.status == "running")
                .values(status="failed", error=error, error_code=error_code)
                .execution_options(synchronize_session=False))
        async with self.database.session() as session, session.begin():
            result = await session.execute(stmt)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def get(self, *, owner_id: str, comparison_id: str) -> ComparisonDetail:
        async with self.database.session() as session:
            row = await session.scalar(select(Comparison).where(Comparison.id == comparison_id,
                                                                Comparison.owner_id == owner_id))
            if row is None:
                raise _not_found(comparison_id)
            turns = (await session.scalars(select(ComparisonTurn).where(ComparisonTurn.comparison_id == comparison_id)
                                           .order_by(ComparisonTurn.seq))).all()
            answers = (await session.scalars(
                select(ComparisonAnswer).join(ComparisonTurn, ComparisonAnswer.turn_id == ComparisonTurn.id)
                .where(ComparisonTurn.comparison_id == comparison_id).order_by(ComparisonAnswer.column))).all()
        by_turn: dict[str, list[AnswerRecord]] = {}
        for answer in answers:
            by_turn.setdefault(answer.turn_id, []).append(AnswerRecord.model_validate(answer))
        records = [TurnRecord(**TurnRecord.model_validate(t).model_dump(exclude={"answers"}),
                              answers=by_turn.get(t.id, [])) for t in turns]
        return ComparisonDetail(**ComparisonRecord.model_validate(row).model_dump(), turns=records)

    async def list(self, *, owner_id: str, limit: int = 20, offset: int = 0,
                   task: CompareTask | None = None) -> tuple[list[ComparisonRecord], int]:
        """A page of the owner's comparisons, most recently updated first, and how many there are."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE}.", param="limit")
        where = [Comparison.owner_id == owner_id]
        if task is not None:
            where.append(Comparison.task == task)
        page = (select(Comparison).where(*where).order_by(Comparison.updated_at.desc(), Comparison.id.desc())
                .limit(limit).offset(max(offset, 0)))
        async with self.database.session() as session:
            rows = (await session.scalars(page)).all()
            total = await session.scalar(select(func.count()).select_from(Comparison).where(*where))
        return [ComparisonRecord.model_validate(r) for r in rows], int(total or 0)

    async def set_best(self, *, owner_id: str, comparison_id: str, seq: int, column: int) -> None:
        """Record the user's pick for one turn (replacing an earlier pick)."""
        async with self.database.session() as session, session.begin():
            await _touch(session, owner_id=owner_id, comparison_id=comparison_id)
            result = await session.execute(update(ComparisonTurn)
                                           .where(ComparisonTurn.comparison_id == comparison_id,
                                                  ComparisonTurn.seq == seq)
                                           .values(best_column=column).execution_options(synchronize_session=False))
            if not result.rowcount:  # type: ignore[attr-defined]
                raise NotFound(f"Comparison '{comparison_id}' has no turn {seq}.", param="turn")

    async def delete(self, *, owner_id: str, comparison_id: str) -> None:
        """Delete a comparison with its turns and answers (ON DELETE CASCADE); its jobs and assets stay."""
        stmt = (delete(Comparison).where(Comparison.id == comparison_id, Comparison.owner_id == owner_id)
                .returning(Comparison.id).execution_options(synchronize_session=False))
        async with self.database.session() as session, session.begin():
            if (await session.execute(stmt)).scalar_one_or_none() is None:
                raise _not_found(comparison_id)
