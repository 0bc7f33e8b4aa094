"""Message extras: citations, image descriptions, generated images, modes (issue 7).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25

Handwritten and portable (SQLite and PostgreSQL); names follow
`easel.storage.tables.NAMING_CONVENTION`. `messages.extras` is one JSON object
with optional keys: `citations` (web sources), `attachments_described` (what easel read
from an image for a model without vision), `images` (pictures drawn in the turn),
`mode` (e.g. think-first). Readers ignore keys they do not know.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("extras", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("extras")
