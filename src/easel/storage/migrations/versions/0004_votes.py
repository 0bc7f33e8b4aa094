"""Votes: pairwise outcomes between two models, the leaderboard's input.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

Handwritten and portable (SQLite and PostgreSQL); names follow
`easel.storage.tables.NAMING_CONVENTION`. `(owner_id, task, created_at)` serves the
leaderboard's "all votes for this task"; `source_id` serves "the votes of this battle".
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "votes",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("task", sa.String(16), nullable=False),
        sa.Column("model_a", sa.String(255), nullable=False),
        sa.Column("model_b", sa.String(255), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("excluded", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_votes"),
        sa.ForeignKeyConstraint(["owner_id"], ["accounts.id"], name="fk_votes_owner_id_accounts",
                                ondelete="CASCADE"),
        sa.CheckConstraint("outcome IN ('a', 'b', 'tie', 'both_bad')", name="ck_votes_outcome"),
        sa.CheckConstraint("source IN ('battle', 'comparison')", name="ck_votes_source"),
    )
    op.create_index("ix_votes_owner_id_task_created_at", "votes", ["owner_id", "task", "created_at"])
    op.create_index("ix_votes_source_id", "votes", ["source_id"])


def downgrade() -> None:
    op.drop_index("ix_votes_source_id", table_name="votes")
    op.drop_index("ix_votes_owner_id_task_created_at", table_name="votes")
    op.drop_table("votes")
