"""Tables for workflows (issue 6): saved workflow definitions, runs and their steps.

- `workflows`: a user's saved definitions, by (owner, name); the YAML text is the truth,
  title and description are copies for listing.
- `workflow_runs`: one execution: a snapshot of the definition's source (so editing a saved
  workflow never changes a run), inputs, per-step model overrides, status, the job that runs
  it, and what it made (Markdown, asset ids).
- `workflow_steps`: one row per step of a run: status, model, timings, cost, error and its
  output; `details` keeps what the bundle's record needs (prompts, settings, usage).
- `workflow_step_items`: one row per item of a `for_each` step, each persisted as it ends,
  so a resumed run redoes only the items that had not finished.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from easel.storage.tables import Base, utcnow

RUN_STATUSES = ("queued", "running", "succeeded", "failed", "canceled")
STEP_STATUSES = ("pending", "running", "succeeded", "failed", "canceled", "skipped")


class SavedWorkflow(Base):
    __tablename__ = "workflows"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkflowRun(Base):
    __tablename__ = "workflow_runs"
    __table_args__ = (
        Index("ix_workflow_runs_owner_id_created_at", "owner_id", "created_at"),
        Index("ix_workflow_runs_job_id", "job_id"),
        CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed', 'canceled')", name="status"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    workflow: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    models: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(Text)
    cost: Mapped[float | None] = mapped_column(Float)
    markdown: Mapped[str | None] = mapped_column(Text)
    assets: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()


class _StepStateColumns:
    """What a step and an item both record (a mixin: SQLAlchemy copies the columns into each table)."""

    status: Mapped[str] = mapped_column(String(16), default="pending")
    model: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    cost: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    output: Mapped[dict[str, Any]] = mapped_column(JSON)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class WorkflowStepState(_StepStateColumns, Base):
    __tablename__ = "workflow_steps"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'running', 'succeeded', 'failed', 'canceled', 'skipped')",
                        name="status"),
    )

    run_id: Mapped[str] = mapped_column(ForeignKey("workflow_runs.id", ondelete="CASCADE"), primary_key=True)
    step_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class WorkflowStepItem(_StepStateColumns, Base):
    __tablename__ = "workflow_step_items"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'running', 'succeeded', 'failed', 'canceled', 'skipped')",
                        name="status"),
    )

    run_id: Mapped[str] = mapped_column(ForeignKey("workflow_runs.id", ondelete="CASCADE"), primary_key=True)
    step_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
