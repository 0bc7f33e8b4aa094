"""Workflows: the repository of saved definitions, runs, and each run's steps and items.

Request-facing calls name the owner; another owner's workflow or run is `NotFound`, exactly
like a missing one. The runner writes through `update_run`, `update_step` and `put_item`,
keyed by the run it holds the job of (it never sees another owner's data because it only
gets run ids from its own job). Records are frozen pydantic objects; a run carries its steps
in run order, and each `for_each` step its items in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, func, select, update

from easel.errors import InvalidRequest, NotFound
from easel.storage.db import Database
from easel.storage.tables import new_id, utcnow
from easel.storage.tables_workflows import SavedWorkflow, WorkflowRun, WorkflowStepItem, WorkflowStepState

RunStatus = Literal["queued", "running", "succeeded", "failed", "canceled"]
StepStatus = Literal["pending", "running", "succeeded", "failed", "canceled", "skipped"]
RUN_FINAL: frozenset[str] = frozenset({"succeeded", "failed", "canceled"})
MAX_PAGE = 200


class SavedWorkflowRecord(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    owner_id: str
    name: str
    title: str
    description: str
    source: str
    created_at: datetime
    updated_at: datetime


class _StateRecord(BaseModel):
    """What a step and an item both record."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    status: StepStatus
    model: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    cost: float | None = None
    error: str | None = None
    output: dict[str, Any] = {}
    details: dict[str, Any] = {}


class ItemRecord(_StateRecord):
    index: int


class StepRecord(_StateRecord):
    step_id: str
    position: int
    kind: str
    title: str
    attempts: int = 0
    items: list[ItemRecord] = []


class RunRecord(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    owner_id: str
    workflow: str
    source: str
    inputs: dict[str, Any]
    models: dict[str, Any]
    status: RunStatus
    job_id: str | None = None
    error: str | None = None
    cost: float | None = None
    markdown: str | None = None
    assets: list[str] = []
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    steps: list[StepRecord] = []

    @property
    def done(self) -> bool:
        return self.status in RUN_FINAL

    def step(self, step_id: str) -> StepRecord | None:
        return next((s for s in self.steps if s.step_id == step_id), None)


class NewStep(BaseModel):
    """A step of a new run: its id, kind and title, in run order."""

    model_config = ConfigDict(frozen=True)

    step_id: str
    kind: str
    title: str


def _run_not_found(run_id: str) -> NotFound:
    return NotFound(f"No run with id '{run_id}'.", param="run_id")


class WorkflowStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    # -- saved workflows -----------------------------------------------------------------

    async def save_workflow(self, *, owner_id: str, name: str, title: str, description: str,
                            source: str) -> SavedWorkflowRecord:
        """Save (or replace) the owner's workflow of this name."""
        now = utcnow()
        async with self.database.session() as session, session.begin():
            row = await session.scalar(select(SavedWorkflow).where(SavedWorkflow.owner_id == owner_id,
                                                                   SavedWorkflow.name == name))
            if row is None:
                row = SavedWorkflow(id=new_id("wf"), owner_id=owner_id, name=name, created_at=now)
                session.add(row)
            row.title, row.description, row.source, row.updated_at = title, description, source, now
        return SavedWorkflowRecord.model_validate(row)

    async def get_workflow(self, *, owner_id: str, name: str) -> SavedWorkflowRecord | None:
        async with self.database.session() as session:
            row = await session.scalar(select(SavedWorkflow).where(SavedWorkflow.owner_id == owner_id,
                                                                   SavedWorkflow.name == name))
        return None if row is None else SavedWorkflowRecord.model_validate(row)

    async def list_workflows(self, *, owner_id: str) -> list[SavedWorkflowRecord]:
        query = select(SavedWorkflow).where(SavedWorkflow.owner_id == owner_id).order_by(SavedWorkflow.name)
        async with self.database.session() as session:
            rows = (await session.scalars(query)).all()
        return [SavedWorkflowRecord.model_validate(r) for r in rows]

    async def delete_workflow(self, *, owner_id: str, name: str) -> bool:
        async with self.database.session() as session, session.begin():
            result = await session.execute(delete(SavedWorkflow).where(SavedWorkflow.owner_id == owner_id,
                                                                       SavedWorkflow.name == name))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- runs ------------------------------------------------------------------------------

    async def create_run(self, *, owner_id: str, workflow: str, source: str, inputs: dict[str, Any],
                         models: dict[str, str], steps: Sequence[NewStep]) -> RunRecord:
        run_id = new_id("run")
        async with self.database.session() as session, session.begin():
            session.add(WorkflowRun(id=run_id, owner_id=owner_id, workflow=workflow, source=source, inputs=inputs,
                                    models=models, status="queued", assets=[], created_at=utcnow()))
            await session.flush()  # the run row before the rows that reference it (PostgreSQL checks at once)
            session.add_all(WorkflowStepState(run_id=run_id, step_id=s.step_id, position=i, kind=s.kind,
                                              title=s.title, status="pending", attempts=0, output={}, details={})
                            for i, s in enumerate(steps))
        return await self.fetch_run(run_id)  # type: ignore[return-value]

    async def get_run(self, *, owner_id: str, run_id: str) -> RunRecord:
        run = await self.fetch_run(run_id)
        if run is None or run.owner_id != owner_id:
            raise _run_not_found(run_id)
        return run

    async def fetch_run(self, run_id: str) -> RunRecord | None:
        """A run with its steps and items, whoever owns it: for the runner, never for a client."""
        async with self.database.session() as session:
            row = await session.get(WorkflowRun, run_id)
            if row is None:
                return None
            steps = (await session.scalars(select(WorkflowStepState).where(WorkflowStepState.run_id == run_id)
                                           .order_by(WorkflowStepState.position))).all()
            items = (await session.scalars(select(WorkflowStepItem).where(WorkflowStepItem.run_id == run_id)
                                           .order_by(WorkflowStepItem.step_id, WorkflowStepItem.index))).all()
        by_step: dict[str, list[ItemRecord]] = {}
        for item in items:
            by_step.setdefault(item.step_id, []).append(ItemRecord.model_validate(item))
        step_records = [StepRecord.model_validate(s).model_copy(update={"items": by_step.get(s.step_id, [])})
                        for s in steps]
        return RunRecord.model_validate(row).model_copy(update={"steps": step_records})

    async def list_runs(self, *, owner_id: str, workflow: str | None = None, limit: int = 20,
                        offset: int = 0) -> tuple[list[RunRecord], int]:
        """A page of the owner's runs, newest first (steps without their items), and how many match."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE}.", param="limit")
        if offset < 0:
            raise InvalidRequest("offset must not be negative.", param="offset")
        where = [WorkflowRun.owner_id == owner_id]
        if workflow:
            where.append(WorkflowRun.workflow == workflow)
        page = (select(WorkflowRun).where(*where).order_by(WorkflowRun.created_at.desc(), WorkflowRun.id.desc())
                .limit(limit).offset(offset))
        async with self.database.session() as session:
            rows = (await session.scalars(page)).all()
            total = await session.scalar(select(func.count()).select_from(WorkflowRun).where(*where))
            steps = (await session.scalars(
                select(WorkflowStepState).where(WorkflowStepState.run_id.in_([r.id for r in rows]))
                .order_by(WorkflowStepState.position))).all() if rows else []
        by_run: dict[str, list[StepRecord]] = {}
        for step in steps:
            by_run.setdefault(step.run_id, []).append(StepRecord.model_validate(step))
        runs = [RunRecord.model_validate(r).model_copy(update={"steps": by_run.get(r.id, [])}) for r in rows]
        return runs, int(total or 0)

    async def run_ids_of_job(self, job_id: str) -> str | None:
        async with self.database.session() as session:
            return await session.scalar(select(WorkflowRun.id).where(WorkflowRun.job_id == job_id))

    # -- the runner's writes -----------------------------------------------------------------

    async def update_run(self, run_id: str, **values: Any) -> None:
        async with self.database.session() as session, session.begin():
            await session.execute(update(WorkflowRun).where(WorkflowRun.id == run_id).values(**values))

    async def update_step(self, run_id: str, step_id: str, **values: Any) -> None:
        async with self.database.session() as session, session.begin():
            await session.execute(update(WorkflowStepState).where(WorkflowStepState.run_id == run_id,
                                                                  WorkflowStepState.step_id == step_id)
                                  .values(**values))

    async def put_item(self, run_id: str, step_id: str, index: int, **values: Any) -> None:
        """Write one item's state, creating its row the first time."""
        where = (WorkflowStepItem.run_id == run_id, WorkflowStepItem.step_id == step_id,
                 WorkflowStepItem.index == index)
        async with self.database.session() as session, session.begin():
            result = await session.execute(update(WorkflowStepItem).where(*where).values(**values))
            if not result.rowcount:  # type: ignore[attr-defined]
                fields: dict[str, Any] = {"status": "pending", "output": {}, "details": {}, **values}
                session.add(WorkflowStepItem(run_id=run_id, step_id=step_id, index=index, **fields))

    async def drop_items(self, run_id: str, step_id: str, *, from_index: int = 0,
                         unfinished_only: bool = False) -> None:
        """Forget a step's items (from `from_index` on; or only those that did not succeed)."""
        where = [WorkflowStepItem.run_id == run_id, WorkflowStepItem.step_id == step_id,
                 WorkflowStepItem.index >= from_index]
        if unfinished_only:
            where.append(WorkflowStepItem.status != "succeeded")
        async with self.database.session() as session, session.begin():
            await session.execute(delete(WorkflowStepItem).where(*where))
