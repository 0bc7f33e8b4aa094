"""Assets: stored images (later video and documents) with the prompt, model and seed that made them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-01-03

Handwritten and portable (SQLite and PostgreSQL). Constraint and index names follow
`easel.storage.tables.NAMING_CONVENTION`. `(owner_id, created_at)` serves the gallery's
newest-first pages, `(owner_id, kind)` its kind filter; `sha256` and `thumbnail_sha256`
let the store ask "does any row still name this file?" before removing it; `job_id` and
`source_asset_id` serve "what did this job make" and "the upscales of this image", and
make their ON DELETE SET NULL cheap.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_assets_owner_id_created_at": ["owner_id", "created_at"],
    "ix_assets_owner_id_kind": ["owner_id", "kind"],
    "ix_assets_sha256": ["sha256"],
    "ix_assets_thumbnail_sha256": ["thumbnail_sha256"],
    "ix_assets_job_id": ["job_id"],
    "ix_assets_source_asset_id": ["source_asset_id"],
}


def upgrade() -> None:
    op.create_table(
        "assets",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("mime_type", sa.String(100), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("thumbnail_sha256", sa.String(64), nullable=True),
        sa.Column("filename", sa.String(255), nullable=True),
        sa.Column("prompt", sa.Text(), nullable=True),
        sa.Column("model", sa.String(255), nullable=True),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("job_id", sa.String(64), nullable=True),
        sa.Column("source_asset_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_assets"),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["accounts.id"], name="fk_assets_owner_id_accounts", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name="fk_assets_job_id_jobs", ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["source_asset_id"], ["assets.id"], name="fk_assets_source_asset_id_assets", ondelete="SET NULL"
        ),
        sa.CheckConstraint("kind IN ('image', 'video', 'document')", name="ck_assets_kind"),
        sa.CheckConstraint("origin IN ('generated', 'upload')", name="ck_assets_origin"),
    )
    for name, columns in INDEXES.items():
        op.create_index(name, "assets", columns)


def downgrade() -> None:
    for name in reversed(INDEXES):
        op.drop_index(name, table_name="assets")
    op.drop_table("assets")
