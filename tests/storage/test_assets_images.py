"""The asset store's pure parts, no database: image checks (`images_io`), PNG text chunks
(`png_text`) and the content-addressed folder (`blobs`)."""

from __future__ import annotations

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

from easel.errors import InvalidRequest
from easel.storage.blobs import TEMP_PREFIX, BlobStore, sha256_hex
from easel.storage.images_io import (
    UPLOAD_LIMITS,
    ImageLimits,
    decode,
    prepare_generated,
    prepare_upload,
    sniff_format,
    thumbnail,
)
from easel.storage.png_text import (
    PngStructureError,
    a1111_parameters,
    check_structure,
    embed_text,
    iter_chunks,
)


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def gradient(width: int = 64, height: int = 48, mode: str = "RGB") -> Image.Image:
    image = Image.linear_gradient("L").resize((width, height))
    return image.convert(mode)


def noise(width: int = 64, height: int = 48) -> Image.Image:
    """Incompressible pixels, so a cut through the file cuts through the image data."""
    return Image.frombytes("RGB", (width, height), random.Random(0).randbytes(width * height * 3))


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG claiming `width` x `height` RGB pixels with almost no data: a decompression bomb's header."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


# -- images_io ----------------------------------------------------------------------------


def test_sniff_format_reads_content() -> None:
    image = gradient()
    assert sniff_format(encode(image, "PNG")) == "PNG"
    assert sniff_format(encode(image, "JPEG")) == "JPEG"
    assert sniff_format(encode(image, "WEBP")) == "WEBP"
    assert sniff_format(encode(image, "GIF")) is None
    assert sniff_format(b"just some text, named cat.png") is None
    assert sniff_format(b"") is None


@pytest.mark.parametrize(
    ("data", "limits", "code"),
    [
        (b"", UPLOAD_LIMITS, "empty_file"),
        (b"hello, I am text renamed to .png", UPLOAD_LIMITS, "unsupported_file_type"),
        (encode(gradient(), "GIF"), UPLOAD_LIMITS, "unsupported_file_type"),
        (encode(gradient(), "PNG"), ImageLimits(max_bytes=100, max_pixels=10**6), "file_too_large"),
        (encode(gradient(), "PNG"), ImageLimits(max_bytes=10**6, max_pixels=1000), "image_too_large"),
        (png_header_only(50_000, 50_000), UPLOAD_LIMITS, "image_too_large"),  # Pillow's own bomb guard
        (png_header_only(8_000, 8_000), UPLOAD_LIMITS, "image_too_large"),  # ours, below Pillow's
        (png_header_only(0, 10), UPLOAD_LIMITS, "invalid_image"),
        (encode(noise(), "PNG")[:2000], UPLOAD_LIMITS, "invalid_image"),
        (encode(noise(), "JPEG")[:2000], UPLOAD_LIMITS, "invalid_image"),
        (encode(noise(), "WEBP")[:2000], UPLOAD_LIMITS, "invalid_image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, UPLOAD_LIMITS, "invalid_image"),
    ],
    ids=["empty", "text", "gif", "bytes", "pixels", "bomb-50000", "bomb-8000", "no-pixels", "cut-png", "cut-jpeg",
         "cut-webp", "garbage-png"],
)
def test_decode_refuses_with_a_clear_code(data: bytes, limits: ImageLimits, code: str) -> None:
    started = time.perf_counter()
    with pytest.raises(InvalidRequest) as caught:
        decode(data, limits)
    assert time.perf_counter() - started < 1.0
    assert (caught.value.param, caught.value.code, caught.value.status_code) == ("file", code, 400)
    assert caught.value.message.endswith((".", ")"))


def test_bomb_message_names_the_size_and_limit() -> None:
    with pytest.raises(InvalidRequest, match=r"8000x8000 \(64\.0 megapixels\); the limit is 40 megapixels"):
        decode(png_header_only(8_000, 8_000), UPLOAD_LIMITS)


def test_png_with_a_flipped_bit_is_refused() -> None:
    data = bytearray(encode(noise(), "PNG"))
    data[len(data) // 2] ^= 0x01
    with pytest.raises(InvalidRequest) as caught:
        decode(bytes(data), UPLOAD_LIMITS)
    assert caught.value.code == "invalid_image"


def test_upload_keeps_bytes_and_reports_displayed_size() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90°: stored 40x20, shown 20x40
    data = encode(gradient(40, 20), "JPEG", exif=exif)
    prepared = prepare_upload(data)
    assert prepared.data == data
    assert (prepared.mime_type, prepared.width, prepared.height) == ("image/jpeg", 20, 40)
    with Image.open(io.BytesIO(prepared.thumbnail)) as thumb:
        assert (thumb.format, thumb.size) == ("WEBP", (20, 40))


def test_thumbnail_is_small_webp_and_never_enlarged() -> None:
    big = thumbnail(gradient(1000, 500))
    with Image.open(io.BytesIO(big)) as image:
        assert (image.format, image.size) == ("WEBP", (256, 128))
    with Image.open(io.BytesIO(thumbnail(gradient(10, 30)))) as image:
        assert image.size == (10, 30)


def test_thumbnail_of_16_bit_greyscale_is_not_clipped_to_white() -> None:
    deep = Image.new("I;16", (32, 32), 20_000)  # about 30% grey
    with Image.open(io.BytesIO(thumbnail(deep))) as image:
        red, green, blue = image.convert("RGB").getpixel((16, 16))  # type: ignore[misc]
    assert 60 < red < 100 and red == green == blue


def test_thumbnail_keeps_transparency() -> None:
    clear = Image.new("RGBA", (20, 20), (255, 0, 0, 0))
    with Image.open(io.BytesIO(thumbnail(clear))) as image:
        assert image.mode == "RGBA"


def test_generated_png_keeps_pixels_and_gains_metadata() -> None:
    source = encode(gradient(), "PNG")
    prepared = prepare_generated(source, prompt="a lighthouse", model="local:tiny", seed=7,
                                 settings={"steps": 4, "negative_prompt": "fog"})
    assert prepared.mime_type == "image/png"
    with Image.open(io.BytesIO(prepared.data)) as out, Image.open(io.BytesIO(source)) as original:
        assert out.tobytes() == original.tobytes()
        assert out.text["prompt"] == "a lighthouse"  # type: ignore[attr-defined]
        settings = json.loads(out.text["easel:settings"])  # type: ignore[attr-defined]
    assert settings == {"steps": 4, "negative_prompt": "fog"}
    idat = [source[s:e] for kind, s, e in iter_chunks(source) if kind == b"IDAT"]
    assert idat == [prepared.data[s:e] for kind, s, e in iter_chunks(prepared.data) if kind == b"IDAT"]


def test_generated_cmyk_jpeg_becomes_rgb_png() -> None:
    prepared = prepare_generated(encode(gradient(mode="CMYK"), "JPEG"), prompt="p", model="m", seed=None,
                                 settings={})
    with Image.open(io.BytesIO(prepared.data)) as out:
        assert (out.format, out.mode, out.size) == ("PNG", "RGB", (64, 48))
        assert "easel:seed" not in out.text  # type: ignore[attr-defined]


def test_generated_keep_format_stores_the_original() -> None:
    data = encode(gradient(), "WEBP")
    prepared = prepare_generated(data, prompt="p", model="m", seed=1, settings={}, keep_format=True)
    assert (prepared.data, prepared.mime_type) == (data, "image/webp")


# -- png_text -----------------------------------------------------------------------------


def test_embed_text_replaces_its_keys_and_handles_unicode() -> None:
    png = encode(gradient(), "PNG")
    once = embed_text(png, {"prompt": "first", "Software": "easel"})
    twice = embed_text(once, {"prompt": "un café — 夜"})
    kinds = [kind for kind, _, _ in iter_chunks(twice)]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    assert kinds.count(b"iTXt") == 1 and kinds.count(b"tEXt") == 1  # one prompt (UTF-8), one Software
    with Image.open(io.BytesIO(twice)) as image:
        assert image.text == {"prompt": "un café — 夜", "Software": "easel"}  # type: ignore[attr-defined]


@pytest.mark.parametrize("cut", [8, 20, 40, -12, -1])
def test_check_structure_refuses_truncation(cut: int) -> None:
    with pytest.raises(PngStructureError):
        check_structure(encode(gradient(), "PNG")[:cut])


def test_a1111_parameters() -> None:
    text = a1111_parameters(prompt="a cat", model="local:sd", seed=42,
                            settings={"negative_prompt": "dogs", "steps": 20, "guidance": 7.5}, width=512, height=768)
    assert text == "a cat\nNegative prompt: dogs\nSteps: 20, CFG scale: 7.5, Seed: 42, Size: 512x768, Model: local:sd"


# -- blobs --------------------------------------------------------------------------------


def test_blob_put_is_content_addressed_and_idempotent(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "objects")
    sha = blobs.put(b"hello")
    assert sha == sha256_hex(b"hello")
    assert blobs.path(sha) == tmp_path / "objects" / sha[:2] / sha[2:]
    assert blobs.put(b"hello") == sha and blobs.read(sha) == b"hello"
    assert [name for name in os.listdir(blobs.path(sha).parent)] == [sha[2:]]
    assert blobs.remove(sha) and not blobs.remove(sha) and not blobs.exists(sha)


@pytest.mark.parametrize("bad", ["../" * 10 + "etc/passwd", "A" * 64, "ab", "0" * 63 + "/", ""])
def test_blob_paths_accept_only_digests(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError):
        BlobStore(tmp_path).path(bad)


def test_blob_write_failure_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blobs = BlobStore(tmp_path)

    def no_rename(src: str, dst: str) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(OSError, match="disk gone"):
        blobs.put(b"bytes")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_sweep_temporary_spares_young_files(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    sha = blobs.put(b"kept")
    temp = blobs.path(sha).parent / f"{TEMP_PREFIX}crashed"
    temp.write_bytes(b"half")
    assert blobs.sweep_temporary(older_than=3600) == 0
    assert blobs.sweep_temporary(older_than=0, now=time.time() + 1) == 1
    assert not temp.exists() and blobs.exists(sha)
    assert list(blobs.stored()) == [(sha, blobs.path(sha).stat().st_mtime)]
