"""AssetStore on SQLite and PostgreSQL: saving with metadata, dedupe, thumbnails, upload checks
that leave nothing behind, listing, ownership, ids that cannot traverse, delete with shared
files, upscale links, and what a crash leaves (never an asset)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import random
import struct
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image

from easel.errors import InvalidRequest, NotFound
from easel.storage.accounts import AccountStore
from easel.storage.assets import AssetStore
from easel.storage.blobs import TEMP_PREFIX
from easel.storage.db import Database
from easel.storage.images_io import ImageLimits
from easel.storage.jobs import JobStore
from easel.storage.tables import LOCAL_ACCOUNT_ID

ME = LOCAL_ACCOUNT_ID
SETTINGS = {"steps": 4, "guidance": 3.5, "negative_prompt": "blur", "aspect_ratio": "1:1"}


def encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def noise(width: int = 96, height: int = 64, seed: int = 0) -> Image.Image:
    return Image.frombytes("RGB", (width, height), random.Random(seed).randbytes(width * height * 3))


def png(seed: int = 0, width: int = 96, height: int = 64) -> bytes:
    return encode(noise(width, height, seed), "PNG")


def bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "assets"


@pytest.fixture
def store(database: Database, root: Path) -> AssetStore:
    return AssetStore(database, root, upload_limits=ImageLimits(max_bytes=200_000, max_pixels=40_000_000))


@pytest.fixture
async def other(database: Database) -> str:
    return (await AccountStore(database).create_account(name="mallory")).id


async def test_save_image_round_trip_with_metadata(store: AssetStore) -> None:
    prompt = "a lighthouse at dusk — café lights, 夜"
    asset = await store.save_image(owner_id=ME, data=png(), prompt=prompt, model="local:tiny", seed=42,
                                   settings=SETTINGS)
    assert asset.id.startswith("asset_") and asset.owner_id == ME
    assert (asset.kind, asset.origin, asset.mime_type, asset.width, asset.height) == ("image", "generated",
                                                                                       "image/png", 96, 64)
    assert (asset.prompt, asset.model, asset.seed, asset.settings) == (prompt, "local:tiny", 42, SETTINGS)
    assert await store.get(owner_id=ME, asset_id=asset.id) == asset

    path, mime = await store.open_content(owner_id=ME, asset_id=asset.id)
    assert mime == "image/png" and path.stat().st_size == asset.size_bytes
    with Image.open(path) as image:
        text = image.text  # type: ignore[attr-defined]
        assert image.tobytes() == noise().tobytes()
    assert text["prompt"] == prompt
    assert (text["easel:model"], text["easel:seed"], text["Software"]) == ("local:tiny", "42", "easel")
    assert json.loads(text["easel:settings"]) == SETTINGS
    assert text["parameters"].endswith("Steps: 4, CFG scale: 3.5, Seed: 42, Size: 96x64, Model: local:tiny")
    assert await store.read_bytes(owner_id=ME, asset_id=asset.id) == path.read_bytes()


async def test_save_image_converts_jpeg_to_png_unless_kept(store: AssetStore) -> None:
    jpeg = encode(noise(), "JPEG")
    converted = await store.save_image(owner_id=ME, data=jpeg, prompt="p", model="m", seed=1)
    assert converted.mime_type == "image/png"
    with Image.open((await store.open_content(owner_id=ME, asset_id=converted.id))[0]) as image:
        assert image.format == "PNG" and image.text["prompt"] == "p"  # type: ignore[attr-defined]
    kept = await store.save_image(owner_id=ME, data=jpeg, prompt="p", model="m", seed=1, keep_format=True)
    assert kept.mime_type == "image/jpeg"
    assert await store.read_bytes(owner_id=ME, asset_id=kept.id) == jpeg


async def test_identical_bytes_are_stored_once(store: AssetStore, root: Path) -> None:
    data = png()
    first = await store.save_upload(owner_id=ME, data=data, filename="a.png")
    second = await store.save_upload(owner_id=ME, data=data, filename="b.png")
    assert first.id != second.id and first.sha256 == second.sha256
    assert first.thumbnail_sha256 == second.thumbnail_sha256
    assert len(files_under(root)) == 2  # the image and its thumbnail
    again = [await store.save_image(owner_id=ME, data=data, prompt="same", model="m", seed=3) for _ in range(2)]
    assert again[0].sha256 == again[1].sha256 != first.sha256  # the metadata makes different bytes
    assert len(files_under(root)) == 3  # one more PNG; the thumbnail was already there


async def test_thumbnail_is_made_at_save_time(store: AssetStore) -> None:
    big = png(width=1200, height=600)
    asset = await store.save_image(owner_id=ME, data=big, prompt="wide", model="m")
    path, mime = await store.open_thumbnail(owner_id=ME, asset_id=asset.id)
    assert mime == "image/webp"
    with Image.open(path) as image:
        assert (image.format, image.size) == ("WEBP", (256, 128))
    assert path.stat().st_size < len(big) / 20


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
async def test_uploads_of_each_type_are_accepted_as_sent(store: AssetStore, fmt: str) -> None:
    data = encode(noise(), fmt)
    asset = await store.save_upload(owner_id=ME, data=data, filename=f"../../etc/photo.{fmt.lower()}")
    assert (asset.origin, asset.mime_type) == ("upload", f"image/{fmt.lower()}")
    assert (asset.filename, asset.prompt, asset.model, asset.seed, asset.settings) == (
        f"photo.{fmt.lower()}", None, None, None, {})
    assert await store.read_bytes(owner_id=ME, asset_id=asset.id) == data


async def test_upload_type_comes_from_content_not_name(store: AssetStore) -> None:
    asset = await store.save_upload(owner_id=ME, data=encode(noise(), "JPEG"), filename="really.png")
    assert asset.mime_type == "image/jpeg"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"Dear diary, today I renamed a text file to .png", "unsupported_file_type"),
        (png()[:5000], "invalid_image"),
        (encode(noise(), "JPEG")[:3000], "invalid_image"),
        (bomb(), "image_too_large"),
        (bomb(8_000, 8_000), "image_too_large"),
        (png(width=400, height=400), "file_too_large"),  # ~480 KB against the fixture's 200 KB limit
        (b"", "empty_file"),
    ],
    ids=["text-as-png", "truncated-png", "truncated-jpeg", "bomb-50000", "bomb-8000", "oversize", "empty"],
)
async def test_bad_uploads_are_refused_and_leave_nothing(store: AssetStore, root: Path, data: bytes,
                                                          code: str) -> None:
    started = time.perf_counter()
    with pytest.raises(InvalidRequest) as caught:
        await store.save_upload(owner_id=ME, data=data, filename="upload.png")
    assert time.perf_counter() - started < 2.0
    assert (caught.value.status_code, caught.value.param, caught.value.code) == (400, "file", code)
    assert files_under(root) == []
    assert await store.list(owner_id=ME) == ([], 0)


@pytest.mark.parametrize("bad_id", ["../../etc/passwd", "asset_../../x", "asset_ABC", "asset_", "", "asset_a/b",
                                    "asset_" + "a" * 80])
async def test_ids_that_could_traverse_are_no_asset(store: AssetStore, bad_id: str) -> None:
    for call in (store.get, store.open_content, store.open_thumbnail, store.read_bytes, store.delete):
        with pytest.raises(NotFound):
            await call(owner_id=ME, asset_id=bad_id)


async def test_other_owners_see_nothing(store: AssetStore, other: str, root: Path) -> None:
    asset = await store.save_image(owner_id=ME, data=png(), prompt="mine", model="m")
    for call in (store.get, store.open_content, store.open_thumbnail, store.read_bytes, store.delete):
        with pytest.raises(NotFound, match=asset.id):
            await call(owner_id=other, asset_id=asset.id)
    assert await store.list(owner_id=other) == ([], 0)
    with pytest.raises(NotFound) as caught:
        await store.save_image(owner_id=other, data=png(1), prompt="x", model="m", source_asset_id=asset.id)
    assert caught.value.param == "source_asset_id"
    assert await store.get(owner_id=ME, asset_id=asset.id) == asset  # untouched
    assert len(files_under(root)) == 2  # the refused save left nothing


async def test_job_link_must_be_the_owners_job(store: AssetStore, database: Database, other: str, root: Path) -> None:
    job, _ = await JobStore(database).submit(owner_id=ME, task="image", model="m", request={"prompt": "p"})
    made = await store.save_image(owner_id=ME, data=png(), prompt="p", model="m", job_id=job.id)
    await store.save_image(owner_id=ME, data=png(1), prompt="q", model="m")
    assert [a.id for a in (await store.list(owner_id=ME, job_id=job.id))[0]] == [made.id]
    with pytest.raises(NotFound) as caught:
        await store.save_image(owner_id=other, data=png(2), prompt="p", model="m", job_id=job.id)
    assert caught.value.param == "job_id"
    assert len(files_under(root)) == 4  # two images, two thumbnails: nothing from the refused save


async def test_list_filters_pages_and_counts(store: AssetStore) -> None:
    made = [
        await store.save_image(owner_id=ME, data=png(0), prompt="A red Fox in snow", model="local:a", seed=1),
        await store.save_image(owner_id=ME, data=png(1), prompt="a blue whale", model="local:b", seed=2),
        await store.save_image(owner_id=ME, data=png(2), prompt="100% fox_like", model="local:a", seed=3),
        await store.save_upload(owner_id=ME, data=png(3), filename="Fox-photo.png"),
        await store.save_file(owner_id=ME, kind="video", data=b"\x00\x00\x00\x18ftypmp42", mime_type="video/mp4",
                              width=96, height=64, poster=png(4), prompt="fox video", model="local:anim"),
    ]
    newest_first = [a.id for a in reversed(made)]
    items, total = await store.list(owner_id=ME)
    assert ([a.id for a in items], total) == (newest_first, 5)

    async def ids(**filters: object) -> list[str]:
        return [a.id for a in (await store.list(owner_id=ME, **filters))[0]]  # type: ignore[arg-type]

    assert await ids(kind="video") == [made[4].id]
    assert await ids(kind="image", model="local:a") == [made[2].id, made[0].id]
    assert await ids(search="FOX") == [made[4].id, made[3].id, made[2].id, made[0].id]  # prompt or file name
    assert await ids(search="100%") == [made[2].id]  # % and _ are literal
    assert await ids(search="x_l") == [made[2].id]
    assert await ids(origin="upload") == [made[3].id]
    page, total = await store.list(owner_id=ME, limit=2, offset=2)
    assert ([a.id for a in page], total) == (newest_first[2:4], 5)
    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"kind": "audio"}):
        with pytest.raises(InvalidRequest):
            await store.list(owner_id=ME, **bad)
    video_thumb, mime = await store.open_thumbnail(owner_id=ME, asset_id=made[4].id)
    assert mime == "image/webp" and video_thumb.is_file()


async def test_delete_removes_files_only_when_unreferenced(store: AssetStore, root: Path) -> None:
    data = png()
    first = await store.save_upload(owner_id=ME, data=data)
    second = await store.save_upload(owner_id=ME, data=data)
    path, _ = await store.open_content(owner_id=ME, asset_id=first.id)
    thumb, _ = await store.open_thumbnail(owner_id=ME, asset_id=first.id)

    assert (await store.delete(owner_id=ME, asset_id=first.id)).id == first.id
    assert path.is_file() and thumb.is_file()  # the second row still names them
    with pytest.raises(NotFound):
        await store.get(owner_id=ME, asset_id=first.id)
    with pytest.raises(NotFound):
        await store.delete(owner_id=ME, asset_id=first.id)

    await store.delete(owner_id=ME, asset_id=second.id)
    assert not path.exists() and not thumb.exists()
    assert files_under(root) == []


async def test_a_delete_racing_a_save_of_the_same_bytes_never_loses_the_file(store: AssetStore) -> None:
    data = png()
    for _ in range(5):
        doomed = await store.save_upload(owner_id=ME, data=data)
        _, saved = await asyncio.gather(store.delete(owner_id=ME, asset_id=doomed.id),
                                        store.save_upload(owner_id=ME, data=data))
        assert await store.read_bytes(owner_id=ME, asset_id=saved.id) == data
        assert (await store.open_thumbnail(owner_id=ME, asset_id=saved.id))[0].is_file()
        await store.delete(owner_id=ME, asset_id=saved.id)


async def test_concurrent_saves_of_the_same_bytes_share_one_file(store: AssetStore, root: Path) -> None:
    made = await asyncio.gather(*(store.save_upload(owner_id=ME, data=png()) for _ in range(4)))
    assert len({a.id for a in made}) == 4 and len({a.sha256 for a in made}) == 1
    assert len(files_under(root)) == 2


async def test_deleting_a_source_keeps_its_upscales(store: AssetStore) -> None:
    source = await store.save_upload(owner_id=ME, data=png(0))
    upscale = await store.save_image(owner_id=ME, data=png(1, width=384, height=256), prompt="", model="local:x4",
                                     settings={"scale": 4}, source_asset_id=source.id)
    assert upscale.source_asset_id == source.id
    assert [a.id for a in (await store.list(owner_id=ME, source_asset_id=source.id))[0]] == [upscale.id]
    await store.delete(owner_id=ME, asset_id=source.id)
    kept = await store.get(owner_id=ME, asset_id=upscale.id)
    assert kept.source_asset_id is None
    assert (await store.read_bytes(owner_id=ME, asset_id=upscale.id))[:8] == b"\x89PNG\r\n\x1a\n"


async def test_a_crash_never_shows_up_as_an_asset(store: AssetStore, root: Path) -> None:
    kept = await store.save_image(owner_id=ME, data=png(0), prompt="kept", model="m")
    # What a crash leaves: a half-written temporary file, and a whole file whose row was never written.
    shard = store.blobs.path(kept.sha256).parent
    (shard / f"{TEMP_PREFIX}x1y2").write_bytes(png(1)[:100])
    orphan = store.blobs.put(png(2))
    assert await store.list(owner_id=ME) == ([kept], 1)

    assert await store.sweep() == 0  # too young: it could be a save in progress
    old = time.time() - 7200
    for path in files_under(root):
        os.utime(path, (old, old))
    assert await store.sweep() == 2
    assert not store.blobs.exists(orphan)
    assert files_under(root) == sorted([store.blobs.path(kept.sha256), store.blobs.path(kept.thumbnail_sha256 or "")])
    assert await store.read_bytes(owner_id=ME, asset_id=kept.id)


@pytest.mark.parametrize("failing_write", [1, 2], ids=["image", "thumbnail"])
async def test_a_failed_write_leaves_no_file_and_no_row(store: AssetStore, root: Path, failing_write: int,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    real_replace, calls = os.replace, []

    def disk_full_at_last(src: str, dst: str) -> None:
        calls.append(dst)
        if len(calls) == failing_write:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", disk_full_at_last)
    with pytest.raises(OSError, match="No space left"):
        await store.save_image(owner_id=ME, data=png(), prompt="p", model="m")
    monkeypatch.undo()
    assert files_under(root) == []
    assert await store.list(owner_id=ME) == ([], 0)


async def test_content_missing_from_the_folder_is_reported(store: AssetStore) -> None:
    asset = await store.save_upload(owner_id=ME, data=png())
    store.blobs.path(asset.sha256).unlink()
    with pytest.raises(NotFound) as caught:
        await store.open_content(owner_id=ME, asset_id=asset.id)
    assert caught.value.code == "content_missing"


async def test_huge_seeds_are_kept_in_the_png_only(store: AssetStore) -> None:
    asset = await store.save_image(owner_id=ME, data=png(), prompt="p", model="m", seed=2**64 - 1)
    assert asset.seed is None
    with Image.open((await store.open_content(owner_id=ME, asset_id=asset.id))[0]) as image:
        assert image.text["easel:seed"] == str(2**64 - 1)  # type: ignore[attr-defined]
