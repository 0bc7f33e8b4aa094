"""Assets: the store behind the gallery, the images and upscales jobs make, and user uploads.

Bytes live in a content-addressed folder (`blobs.BlobStore` under `root/objects`): identical
bytes are stored once, whoever saves them; a thumbnail is one more such file. A row in the
`assets` table names its file by SHA-256 and carries the owner, the prompt, model, seed and
settings. The order of writes is what keeps assets whole across crashes: on save the file
is made durable before the row is committed (a crash in between leaves an unnamed file,
never a row without its bytes); on delete the row goes first and the file after, once no
row names it. `sweep` clears what a crash left behind.

Every request-facing call names the owner; another owner's asset is reported exactly like
a missing one (`NotFound`). Ids are checked against `ASSET_ID_RE` before any query, and
paths are built only from digests stored in rows, so no id can reach outside the folder.

Concurrency: saving and deleting files of one digest are serialised within this process
(a lock per shard of the digest space), so a delete never removes a file a concurrent save
is about to name. Several processes sharing one folder are not serialised against each
other; they are what the S3-compatible store is for.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, delete, func, or_, select

from easel.errors import InvalidRequest, NotFound
from easel.storage.blobs import BlobStore, sha256_hex
from easel.storage.db import Database
from easel.storage.images_io import (
    GENERATED_LIMITS,
    THUMBNAIL_MIME,
    UPLOAD_LIMITS,
    ImageLimits,
    PreparedImage,
    poster_thumbnail,
    prepare_generated,
    prepare_upload,
)
from easel.storage.tables import Asset, Job, new_id, utcnow

AssetKind = Literal["image", "video", "document"]
AssetOrigin = Literal["generated", "upload"]
ASSET_ID_RE = re.compile(r"^asset_[a-z0-9]{1,58}$")
MIME_RE = re.compile(r"^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$")
MAX_PAGE = 500
SWEEP_AFTER_S = 3600.0  # a file younger than this may belong to a save still in progress
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class AssetRecord(BaseModel):
    """One stored asset: what it is, where its bytes are (by digest) and what made it."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    owner_id: str
    kind: AssetKind
    origin: AssetOrigin
    mime_type: str
    sha256: str
    size_bytes: int
    width: int | None = None
    height: int | None = None
    thumbnail_sha256: str | None = None
    filename: str | None = None
    prompt: str | None = None
    model: str | None = None
    seed: int | None = None
    settings: dict[str, Any] = {}
    job_id: str | None = None
    source_asset_id: str | None = None
    created_at: datetime


def _not_found(asset_id: str, param: str = "asset_id") -> NotFound:
    return NotFound(f"No asset with id '{asset_id}'.", param=param)


def _checked_id(asset_id: str, param: str = "asset_id") -> str:
    """The id, if it is one an asset could have; anything else (`../x`, `asset_A/..`) is no asset."""
    if not isinstance(asset_id, str) or not ASSET_ID_RE.fullmatch(asset_id):
        raise _not_found(str(asset_id)[:100], param)
    return asset_id


def _like_pattern(search: str) -> str:
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _clean_filename(name: str | None) -> str | None:
    """The last path part of a client's file name, printable, at most 255 characters; only ever shown."""
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:255] or None


def _as_json(value: Mapping[str, Any] | None) -> dict[str, Any]:
    """The value as the JSON column will give it back (tuples become lists, and so on)."""
    loaded: dict[str, Any] = json.loads(json.dumps(dict(value or {})))
    return loaded


class AssetStore:
    """Assets in one `Database`, their bytes under `root` (the app passes `settings.home / "assets"`).

    Keyword-only async methods; results are frozen `AssetRecord`s.
    """

    def __init__(
        self,
        database: Database,
        root: Path,
        *,
        upload_limits: ImageLimits = UPLOAD_LIMITS,
        generated_limits: ImageLimits = GENERATED_LIMITS,
    ) -> None:
        self.database = database
        self.root = Path(root)
        self.blobs = BlobStore(self.root / "objects")
        self.upload_limits = upload_limits
        self.generated_limits = generated_limits
        self._shard_locks = [asyncio.Lock() for _ in range(256)]

    # -- saving -----------------------------------------------------------------------

    async def save_image(
        self,
        *,
        owner_id: str,
        data: bytes,
        prompt: str | None = None,
        model: str | None = None,
        seed: int | None = None,
        settings: Mapping[str, Any] | None = None,
        job_id: str | None = None,
        source_asset_id: str | None = None,
        keep_format: bool = False,
    ) -> AssetRecord:
        """Store a generated picture (or an upscale of `source_asset_id`) as PNG with its prompt,
        model, seed and settings in text chunks and in the row. Refuses a bad image with
        `InvalidRequest` (param "file") and leaves nothing behind."""
        settings_json = _as_json(settings)
        prepared = await asyncio.to_thread(
            prepare_generated, data, prompt=prompt, model=model, seed=seed, settings=settings_json,
            keep_format=keep_format, limits=self.generated_limits,
        )
        in_range = seed is not None and _INT64_MIN <= seed <= _INT64_MAX
        return await self._store(
            prepared, owner_id=owner_id, kind="image", origin="generated", prompt=prompt, model=model,
            seed=seed if in_range else None, settings=settings_json, job_id=job_id, source_asset_id=source_asset_id,
        )

    async def save_upload(self, *, owner_id: str, data: bytes, filename: str | None = None) -> AssetRecord:
        """Store a user's image exactly as sent, after the checks in `images_io` (type by content:
        PNG, JPEG or WebP; byte and pixel limits; a full decode). A refusal is an `InvalidRequest`
        (param "file") with a message saying why, and leaves no file and no row."""
        prepared = await asyncio.to_thread(prepare_upload, data, self.upload_limits)
        return await self._store(prepared, owner_id=owner_id, kind="image", origin="upload",
                                 filename=_clean_filename(filename))

    async def save_file(
        self,
        *,
        owner_id: str,
        kind: AssetKind,
        data: bytes,
        mime_type: str,
        width: int | None = None,
        height: int | None = None,
        poster: bytes | None = None,
        prompt: str | None = None,
        model: str | None = None,
        seed: int | None = None,
        settings: Mapping[str, Any] | None = None,
        job_id: str | None = None,
        source_asset_id: str | None = None,
        filename: str | None = None,
    ) -> AssetRecord:
        """Store an output our own code produced (an encoded video, a rendered document) as it is.
        Not for user uploads: nothing but `poster` (a still in PNG, JPEG or WebP, from which the
        thumbnail is made) is checked."""
        if kind not in get_args(AssetKind):
            raise InvalidRequest(f"Unknown asset kind '{kind}'.", param="kind")
        if not MIME_RE.fullmatch(mime_type) or len(mime_type) > 100:
            raise InvalidRequest(f"'{mime_type}' is not a media type.", param="mime_type")
        thumb = b"" if poster is None else await asyncio.to_thread(poster_thumbnail, poster, self.generated_limits)
        prepared = PreparedImage(data=data, mime_type=mime_type, width=width or 0, height=height or 0,
                                 thumbnail=thumb)
        return await self._store(prepared, owner_id=owner_id, kind=kind, origin="generated", prompt=prompt,
                                 model=model, seed=seed, settings=_as_json(settings), job_id=job_id,
                                 source_asset_id=source_asset_id, filename=_clean_filename(filename))

    # -- reading ----------------------------------------------------------------------

    async def get(self, *, owner_id: str, asset_id: str) -> AssetRecord:
        _checked_id(asset_id)
        async with self.database.session() as session:
            row = await session.scalar(select(Asset).where(Asset.id == asset_id, Asset.owner_id == owner_id))
        if row is None:
            raise _not_found(asset_id)
        return AssetRecord.model_validate(row)

    async def list_assets(
        self,
        *,
        owner_id: str,
        kind: AssetKind | None = None,
        model: str | None = None,
        search: str | None = None,
        job_id: str | None = None,
        source_asset_id: str | None = None,
        origin: AssetOrigin | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[AssetRecord], int]:
        """A page of the owner's assets, newest first, and the total matching. `search` matches
        text in the prompt or the uploaded file's name, case-insensitively."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE}.", param="limit")
        if offset < 0:
            raise InvalidRequest("offset must not be negative.", param="offset")
        if kind is not None and kind not in get_args(AssetKind):
            raise InvalidRequest(f"Unknown asset kind '{kind}'; use one of image, video, document.", param="kind")
        if origin is not None and origin not in get_args(AssetOrigin):
            raise InvalidRequest(f"Unknown origin '{origin}'; use generated or upload.", param="origin")
        where: list[ColumnElement[bool]] = [Asset.owner_id == owner_id]
        for column, value in ((Asset.kind, kind), (Asset.model, model), (Asset.job_id, job_id),
                              (Asset.source_asset_id, source_asset_id), (Asset.origin, origin)):
            if value is not None:
                where.append(column == value)
        if search:
            pattern = _like_pattern(search)
            where.append(or_(Asset.prompt.ilike(pattern, escape="\\"), Asset.filename.ilike(pattern, escape="\\")))
        page = select(Asset).where(*where).order_by(Asset.created_at.desc(), Asset.id.desc()).limit(limit)
        async with self.database.session() as session:
            rows = (await session.scalars(page.offset(offset))).all()
            total = await session.scalar(select(func.count()).select_from(Asset).where(*where))
        return [AssetRecord.model_validate(r) for r in rows], int(total or 0)

    async def open_content(self, *, owner_id: str, asset_id: str) -> tuple[Path, str]:
        """The file holding the asset's bytes, and its media type (to stream, never to write)."""
        record = await self.get(owner_id=owner_id, asset_id=asset_id)
        return await self._existing(record.sha256, asset_id), record.mime_type

    async def open_thumbnail(self, *, owner_id: str, asset_id: str) -> tuple[Path, str]:
        """The asset's thumbnail file and its media type; NotFound when it has none."""
        record = await self.get(owner_id=owner_id, asset_id=asset_id)
        if record.thumbnail_sha256 is None:
            raise NotFound(f"Asset '{asset_id}' has no thumbnail.", param="asset_id", code="no_thumbnail")
        return await self._existing(record.thumbnail_sha256, asset_id), THUMBNAIL_MIME

    async def read_bytes(self, *, owner_id: str, asset_id: str) -> bytes:
        """The asset's bytes (an upscale's input, an inline b64_json answer)."""
        path, _ = await self.open_content(owner_id=owner_id, asset_id=asset_id)
        return await asyncio.to_thread(path.read_bytes)

    # -- removing ---------------------------------------------------------------------

    async def delete(self, *, owner_id: str, asset_id: str) -> AssetRecord:
        """Delete the asset and answer what it was. Its file (and thumbnail) go when no other
        row names them; upscales made from it keep their bytes and lose only the link."""
        _checked_id(asset_id)
        stmt = (
            delete(Asset)
            .where(Asset.id == asset_id, Asset.owner_id == owner_id)
            .returning(Asset)
            .execution_options(synchronize_session=False)
        )
        async with self.database.session() as session, session.begin():
            row = (await session.execute(stmt)).scalar_one_or_none()
        if row is None:
            raise _not_found(asset_id)
        record = AssetRecord.model_validate(row)
        async with self._holding(record.sha256, record.thumbnail_sha256):
            await self._forget_unreferenced(record.sha256, record.thumbnail_sha256)
        return record

    async def sweep(self, *, older_than: float = SWEEP_AFTER_S) -> int:
        """Remove what crashes left: temporary files, and stored files no row names, older than
        `older_than` seconds (younger ones may belong to a save in progress). Answers how many."""
        removed = await asyncio.to_thread(self.blobs.sweep_temporary, older_than=older_than)
        cutoff = time.time() - older_than
        stored = await asyncio.to_thread(lambda: [sha for sha, mtime in self.blobs.stored() if mtime <= cutoff])
        for start in range(0, len(stored), MAX_PAGE):
            batch = stored[start : start + MAX_PAGE]
            async with self.database.session() as session:
                named = set((await session.scalars(select(Asset.sha256).where(Asset.sha256.in_(batch)))).all())
                thumbs = select(Asset.thumbnail_sha256).where(Asset.thumbnail_sha256.in_(batch))
                named.update(t for t in (await session.scalars(thumbs)).all() if t is not None)
            for sha in batch:
                if sha not in named:
                    async with self._holding(sha):
                        removed += len(await self._forget_unreferenced(sha))
        return removed

    # -- internals --------------------------------------------------------------------

    async def _store(
        self,
        prepared: PreparedImage,
        *,
        owner_id: str,
        kind: AssetKind,
        origin: AssetOrigin,
        filename: str | None = None,
        prompt: str | None = None,
        model: str | None = None,
        seed: int | None = None,
        settings: dict[str, Any] | None = None,
        job_id: str | None = None,
        source_asset_id: str | None = None,
    ) -> AssetRecord:
        """Files first (durable), then the row; if the row cannot be written, the files it would
        have named go again unless another row names them."""
        if source_asset_id is not None:
            _checked_id(source_asset_id, "source_asset_id")
        sha, thumb_sha = await asyncio.to_thread(
            lambda: (sha256_hex(prepared.data), sha256_hex(prepared.thumbnail) if prepared.thumbnail else None)
        )
        row = Asset(
            id=new_id("asset"), owner_id=owner_id, kind=kind, origin=origin, mime_type=prepared.mime_type,
            sha256=sha, size_bytes=len(prepared.data), width=prepared.width or None, height=prepared.height or None,
            thumbnail_sha256=thumb_sha, filename=filename, prompt=prompt, model=model, seed=seed,
            settings=settings or {}, job_id=job_id, source_asset_id=source_asset_id, created_at=utcnow(),
        )
        async with self._holding(sha, thumb_sha):
            try:
                await asyncio.to_thread(self._put_files, prepared)
                await self._insert(row)
            except BaseException:
                await self._forget_unreferenced(sha, thumb_sha)
                raise
        return AssetRecord.model_validate(row)

    def _put_files(self, prepared: PreparedImage) -> None:
        self.blobs.put(prepared.data)
        if prepared.thumbnail:
            self.blobs.put(prepared.thumbnail)

    async def _insert(self, row: Asset) -> None:
        async with self.database.session() as session, session.begin():
            if row.job_id is not None:
                job_owner = await session.scalar(select(Job.owner_id).where(Job.id == row.job_id))
                if job_owner != row.owner_id:
                    raise NotFound(f"No job with id '{row.job_id}'.", param="job_id")
            if row.source_asset_id is not None:
                mine = (Asset.id == row.source_asset_id, Asset.owner_id == row.owner_id)
                if await session.scalar(select(Asset.id).where(*mine)) is None:
                    raise _not_found(row.source_asset_id, "source_asset_id")
            session.add(row)

    @asynccontextmanager
    async def _holding(self, *digests: str | None) -> AsyncIterator[None]:
        """Hold the locks of the digests' shards (in a fixed order, so two holders never deadlock)."""
        shards = sorted({int(d[:2], 16) for d in digests if d})
        async with AsyncExitStack() as stack:
            for shard in shards:
                await stack.enter_async_context(self._shard_locks[shard])
            yield

    async def _forget_unreferenced(self, *digests: str | None) -> list[str]:
        """Remove the files of `digests` that no row names. Call with their shards held."""
        removed: list[str] = []
        for sha in {d for d in digests if d}:
            named = or_(Asset.sha256 == sha, Asset.thumbnail_sha256 == sha)
            async with self.database.session() as session:
                still_named = await session.scalar(select(Asset.id).where(named).limit(1))
            if still_named is None and await asyncio.to_thread(self.blobs.remove, sha):
                removed.append(sha)
        return removed

    async def _existing(self, sha: str, asset_id: str) -> Path:
        path = self.blobs.path(sha)
        if not await asyncio.to_thread(path.is_file):
            # The row outlived its file (the folder was edited by hand, or restored without it).
            raise NotFound(f"The content of asset '{asset_id}' is missing from the store.", param="asset_id",
                           code="content_missing")
        return path

    # The name the routers use. Last in the class: below it, `list` would mean this method to a type checker.
    list = list_assets
