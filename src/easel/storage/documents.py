"""Documents: Markdown our own code writes (a workflow run's article, brief or report), stored as
assets of kind `document` (`text/markdown`) beside the images, in the same content-addressed files.

A document has no pixels and no thumbnail; its row carries the name a download gets and the
settings that say where it came from (for a workflow: the workflow, run and step). Saving is
idempotent per origin: the same text saved again with the same settings answers the asset already
stored, so a step that runs a second time (resumed after a crash, or retried and rendering the same
Markdown) leaves one asset, not two. The same text from another origin is another asset (its row
is its own; the bytes are still stored once).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from easel.errors import InvalidRequest
from easel.storage.assets import AssetRecord, AssetStore
from easel.storage.blobs import sha256_hex
from easel.storage.tables import Asset

DOCUMENT_KIND = "document"
MARKDOWN_MIME = "text/markdown"


class DocumentStore:
    """Markdown documents in an `AssetStore` (which owns the files, the rows' lifecycle and listing)."""

    def __init__(self, assets: AssetStore) -> None:
        self.assets = assets

    async def save_markdown(
        self,
        *,
        owner_id: str,
        text: str,
        filename: str,
        settings: Mapping[str, Any] | None = None,
        job_id: str | None = None,
    ) -> AssetRecord:
        """Store `text` as the owner's Markdown document named `filename`, or answer the one already
        stored with exactly this text and these settings."""
        data = text.encode("utf-8")
        # Compared as the JSON column gives settings back (tuples become lists, keys strings).
        wanted: dict[str, Any] = json.loads(json.dumps(dict(settings or {})))
        stored = await self._stored(owner_id=owner_id, sha256=sha256_hex(data), settings=wanted)
        if stored is not None:
            return stored
        return await self.assets.save_file(owner_id=owner_id, kind=DOCUMENT_KIND, data=data,
                                           mime_type=MARKDOWN_MIME, settings=wanted, job_id=job_id,
                                           filename=filename)

    async def read_markdown(self, *, owner_id: str, asset_id: str) -> str:
        """The document's text; `NotFound` for another owner's or a missing asset, `InvalidRequest`
        for an asset that is not a document (an image has no text to read)."""
        record = await self.assets.get(owner_id=owner_id, asset_id=asset_id)
        if record.kind != DOCUMENT_KIND:
            raise InvalidRequest(f"Asset '{asset_id}' is not a document (it is an asset of kind {record.kind}).", param="asset_id",
                                 code="not_a_document")
        data = await self.assets.read_bytes(owner_id=owner_id, asset_id=asset_id)
        return data.decode("utf-8")

    async def _stored(self, *, owner_id: str, sha256: str, settings: dict[str, Any]) -> AssetRecord | None:
        """The owner's oldest document with these bytes and settings. Settings are compared here,
        not in SQL, because JSON equality is not portable between SQLite and PostgreSQL; the rows
        with one digest are few."""
        same_bytes = (select(Asset)
                      .where(Asset.owner_id == owner_id, Asset.kind == DOCUMENT_KIND, Asset.sha256 == sha256)
                      .order_by(Asset.created_at, Asset.id))
        async with self.assets.database.session() as session:
            rows = (await session.scalars(same_bytes)).all()
        for row in rows:
            if row.settings == settings:
                return AssetRecord.model_validate(row)
        return None
