"""Workflows: saved definitions, runs and their steps (issue 6).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25

Handwritten and portable (SQLite and PostgreSQL); names follow
`easel.storage.tables.NAMING_CONVENTION`. `(owner_id, name)` is unique for saved workflows;
`(owner_id, created_at)` serves the runs list, newest first; `job_id` finds the run of a job
and makes its ON DELETE SET NULL cheap. Steps and items are keyed by their run, so a run's
whole state is one primary-key range, and goes with the run.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STEP_STATUS_CHECK = "status IN ('pending', 'running', 'succeeded', 'failed', 'canceled', 'skipped')"


def _state_columns() -> list[sa.Column[object]]:
    """What a step and an item both record."""
    return [
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("model", sa.String(255), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("output", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "workflows",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workflows"),
        sa.ForeignKeyConstraint(["owner_id"], ["accounts.id"], name="fk_workflows_owner_id_accounts",
                                ondelete="CASCADE"),
        sa.UniqueConstraint("owner_id", "name", name="uq_workflows_owner_id_name"),
    )
    op.create_table(
        "workflow_runs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("workflow", sa.String(64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("models", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("job_id", sa.String(64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("markdown", sa.Text(), nullable=True),
        sa.Column("assets", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_workflow_runs"),
        sa.ForeignKeyConstraint(["owner_id"], ["accounts.id"], name="fk_workflow_runs_owner_id_accounts",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name="fk_workflow_runs_job_id_jobs", ondelete="SET NULL"),
        sa.CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed', 'canceled')",
                           name="ck_workflow_runs_status"),
    )
    op.create_index("ix_workflow_runs_owner_id_created_at", "workflow_runs", ["owner_id", "created_at"])
    op.create_index("ix_workflow_runs_job_id", "workflow_runs", ["job_id"])
    op.create_table(
        "workflow_steps",
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("step_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        *_state_columns(),
        sa.PrimaryKeyConstraint("run_id", "step_id", name="pk_workflow_steps"),
        sa.ForeignKeyConstraint(["run_id"], ["workflow_runs.id"], name="fk_workflow_steps_run_id_workflow_runs",
                                ondelete="CASCADE"),
        sa.CheckConstraint(STEP_STATUS_CHECK, name="ck_workflow_steps_status"),
    )
    op.create_table(
        "workflow_step_items",
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("step_id", sa.String(64), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        *_state_columns(),
        sa.PrimaryKeyConstraint("run_id", "step_id", "index", name="pk_workflow_step_items"),
        sa.ForeignKeyConstraint(["run_id"], ["workflow_runs.id"],
                                name="fk_workflow_step_items_run_id_workflow_runs", ondelete="CASCADE"),
        sa.CheckConstraint(STEP_STATUS_CHECK, name="ck_workflow_step_items_status"),
    )


def downgrade() -> None:
    op.drop_table("workflow_step_items")
    op.drop_table("workflow_steps")
    op.drop_index("ix_workflow_runs_job_id", table_name="workflow_runs")
    op.drop_index("ix_workflow_runs_owner_id_created_at", table_name="workflow_runs")
    op.drop_table("workflow_runs")
    op.drop_table("workflows")
