"""Comparisons: one prompt on several models, its columns and turns (issue 5).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

Handwritten and portable (SQLite and PostgreSQL); names follow
`easel.storage.tables.NAMING_CONVENTION`. `(owner_id, updated_at)` serves the newest-first
list; `comparison_answers.job_id` finds the answer an image job belongs to.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "comparisons",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("task", sa.String(16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("models", sa.JSON(), nullable=False),
        sa.Column("system_prompt", sa.Text(), nullable=True),
        sa.Column("history", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_comparisons"),
        sa.ForeignKeyConstraint(["owner_id"], ["accounts.id"], name="fk_comparisons_owner_id_accounts",
                                ondelete="CASCADE"),
        sa.CheckConstraint("task IN ('chat', 'image')", name="ck_comparisons_task"),
    )
    op.create_index("ix_comparisons_owner_id_updated_at", "comparisons", ["owner_id", "updated_at"])
    op.create_table(
        "comparison_turns",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("comparison_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("best_column", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_comparison_turns"),
        sa.ForeignKeyConstraint(["comparison_id"], ["comparisons.id"],
                                name="fk_comparison_turns_comparison_id_comparisons", ondelete="CASCADE"),
        sa.UniqueConstraint("comparison_id", "seq", name="uq_comparison_turns_comparison_id_seq"),
    )
    op.create_table(
        "comparison_answers",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("turn_id", sa.String(64), nullable=False),
        sa.Column("column", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("reasoning", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("finish_reason", sa.String(32), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("reasoning_tokens", sa.Integer(), nullable=True),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("ttft_ms", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_comparison_answers"),
        sa.ForeignKeyConstraint(["turn_id"], ["comparison_turns.id"],
                                name="fk_comparison_answers_turn_id_comparison_turns", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name="fk_comparison_answers_job_id_jobs",
                                ondelete="SET NULL"),
        sa.UniqueConstraint("turn_id", "column", name="uq_comparison_answers_turn_id_column"),
        sa.CheckConstraint("status IN ('running', 'complete', 'failed')", name="ck_comparison_answers_status"),
    )
    op.create_index("ix_comparison_answers_job_id", "comparison_answers", ["job_id"])


def downgrade() -> None:
    op.drop_index("ix_comparison_answers_job_id", table_name="comparison_answers")
    op.drop_table("comparison_answers")
    op.drop_table("comparison_turns")
    op.drop_index("ix_comparisons_owner_id_updated_at", table_name="comparisons")
    op.drop_table("comparisons")
