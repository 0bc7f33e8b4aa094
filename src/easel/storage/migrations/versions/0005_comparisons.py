"""Comparisons: one prompt on several models, its columns and turns (issue 5).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

Handwritten and portable (SQLite and PostgreSQL); names follow
`easel.storage.tables.NAMING_CONVENTION`. (Placeholder in the chain until its feature
fills it in; an empty revision is harmless.)
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
