"""Battles: blind pairwise matches between two models (issue 5).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25

Handwritten and portable (SQLite and PostgreSQL); names follow
`easel.storage.tables.NAMING_CONVENTION`. `(owner_id, created_at)` serves "my battles,
newest first"; the votes a battle writes point back at it through `votes.source_id`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "battles",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("task", sa.String(16), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("model_a", sa.String(255), nullable=False),
        sa.Column("model_b", sa.String(255), nullable=False),
        sa.Column("answer_a", sa.JSON(), nullable=False),
        sa.Column("answer_b", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("leaked", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_battles"),
        sa.ForeignKeyConstraint(["owner_id"], ["accounts.id"], name="fk_battles_owner_id_accounts",
                                ondelete="CASCADE"),
        sa.CheckConstraint("task IN ('chat', 'image')", name="ck_battles_task"),
        sa.CheckConstraint("outcome IS NULL OR outcome IN ('a', 'b', 'tie', 'both_bad')", name="ck_battles_outcome"),
    )
    op.create_index("ix_battles_owner_id_created_at", "battles", ["owner_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_battles_owner_id_created_at", table_name="battles")
    op.drop_table("battles")
