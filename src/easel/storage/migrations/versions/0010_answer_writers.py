"""Who is writing a comparison answer: the process id that streams it (issue 5 follow-up).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26

Handwritten and portable (SQLite and PostgreSQL). `comparison_answers.writer` is the
`host:pid:random` id of the process streaming a running chat answer, so a later process can
tell an answer cut off by a crash (its writer is gone) from one another replica is still
writing. NULL for answers from before this revision and for image answers (their job says).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("comparison_answers") as batch:
        batch.add_column(sa.Column("writer", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("comparison_answers") as batch:
        batch.drop_column("writer")
