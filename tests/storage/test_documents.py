"""DocumentStore on SQLite and PostgreSQL: Markdown saved as a `document` asset and read back,
saved once per origin (the same text and settings again is the same asset), listed apart from
images, owner-checked, with no thumbnail, and removed like any asset."""

from __future__ import annotations

from pathlib import Path

import pytest

from easel.errors import InvalidRequest, NotFound
from easel.storage.accounts import AccountStore
from easel.storage.assets import AssetStore
from easel.storage.db import Database
from easel.storage.documents import DocumentStore
from easel.storage.jobs import JobStore
from easel.storage.tables import LOCAL_ACCOUNT_ID
from tests.storage.test_assets import files_under, png

ME = LOCAL_ACCOUNT_ID
ARTICLE = "# Tides\n\n## Why the sea rises\n\nThe moon pulls — and the café floods. 潮\n"
ORIGIN = {"workflow": "article", "run_id": "run_abc", "step_id": "article"}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "assets"


@pytest.fixture
def assets(database: Database, root: Path) -> AssetStore:
    return AssetStore(database, root)


@pytest.fixture
def documents(assets: AssetStore) -> DocumentStore:
    return DocumentStore(assets)


async def test_markdown_round_trips_as_a_document_asset(database: Database, assets: AssetStore,
                                                        documents: DocumentStore) -> None:
    job, _ = await JobStore(database).submit(owner_id=ME, task="workflow", model="workflow:article", request={})
    saved = await documents.save_markdown(owner_id=ME, text=ARTICLE, filename="article-run_abc.md",
                                          settings=ORIGIN, job_id=job.id)
    assert (saved.kind, saved.origin, saved.mime_type) == ("document", "generated", "text/markdown")
    assert (saved.filename, saved.settings, saved.job_id) == ("article-run_abc.md", ORIGIN, job.id)
    assert saved.size_bytes == len(ARTICLE.encode()) and saved.width is None and saved.thumbnail_sha256 is None
    assert await documents.read_markdown(owner_id=ME, asset_id=saved.id) == ARTICLE
    path, mime = await assets.open_content(owner_id=ME, asset_id=saved.id)
    assert mime == "text/markdown" and path.read_text(encoding="utf-8") == ARTICLE
    with pytest.raises(NotFound) as missing:
        await assets.open_thumbnail(owner_id=ME, asset_id=saved.id)
    assert missing.value.code == "no_thumbnail"


async def test_the_same_text_from_the_same_origin_is_stored_once(assets: AssetStore, documents: DocumentStore,
                                                                 root: Path) -> None:
    first = await documents.save_markdown(owner_id=ME, text=ARTICLE, filename="a.md", settings=ORIGIN)
    again = await documents.save_markdown(owner_id=ME, text=ARTICLE, filename="a.md", settings=dict(ORIGIN))
    assert again == first
    rewritten = await documents.save_markdown(owner_id=ME, text=ARTICLE + "\nMore.\n", filename="a.md",
                                              settings=ORIGIN)
    other_run = await documents.save_markdown(owner_id=ME, text=ARTICLE, filename="b.md",
                                              settings={**ORIGIN, "run_id": "run_other"})
    assert len({first.id, rewritten.id, other_run.id}) == 3
    assert other_run.sha256 == first.sha256  # another row, the same bytes on disk
    listed, total = await assets.list_assets(owner_id=ME, kind="document")
    assert total == 3 and {a.id for a in listed} == {first.id, rewritten.id, other_run.id}
    assert len(files_under(root / "objects")) == 2


async def test_documents_are_not_images_and_belong_to_their_owner(database: Database, assets: AssetStore,
                                                                  documents: DocumentStore) -> None:
    image = await assets.save_image(owner_id=ME, data=png(), prompt="a wave", model="m", seed=1)
    document = await documents.save_markdown(owner_id=ME, text=ARTICLE, filename="a.md", settings=ORIGIN)
    images, image_count = await assets.list_assets(owner_id=ME, kind="image")
    assert [a.id for a in images] == [image.id] and image_count == 1
    everything, _ = await assets.list_assets(owner_id=ME)
    assert {a.id for a in everything} == {image.id, document.id}
    with pytest.raises(InvalidRequest) as not_text:
        await documents.read_markdown(owner_id=ME, asset_id=image.id)
    assert not_text.value.code == "not_a_document"

    mallory = (await AccountStore(database).create_account(name="mallory")).id
    with pytest.raises(NotFound):
        await documents.read_markdown(owner_id=mallory, asset_id=document.id)
    theirs = await documents.save_markdown(owner_id=mallory, text=ARTICLE, filename="a.md", settings=ORIGIN)
    assert theirs.id != document.id and theirs.owner_id == mallory  # never someone else's row

    await assets.delete(owner_id=ME, asset_id=document.id)
    with pytest.raises(NotFound):
        await documents.read_markdown(owner_id=ME, asset_id=document.id)
    assert await documents.read_markdown(owner_id=mallory, asset_id=theirs.id) == ARTICLE  # shared bytes kept
