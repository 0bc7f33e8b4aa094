"""A conversation's image model: what draws the pictures asked for inside it (issue 7).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25

Handwritten and portable (SQLite and PostgreSQL). `conversations.image_model` is a catalog
id; NULL (conversations from before this revision) means the studio's default image model.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("image_model", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("image_model")
