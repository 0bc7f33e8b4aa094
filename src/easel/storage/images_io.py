"""Image checks, conversion and thumbnails for the asset store: pure functions over bytes.

Whatever comes in, a provider's picture or a user's upload, is checked before anything
is stored, and each refusal is an `InvalidRequest` on param "file" whose code says why:

- `empty_file`, `file_too_large`: the byte count is bounded (`ImageLimits.max_bytes`);
- `unsupported_file_type`: the type is read from the content (magic bytes, then Pillow
  restricted to that one format), never from a file name; PNG, JPEG and WebP only;
- `image_too_large`: the pixel count is bounded, checked from the header before a single
  pixel is decoded, so a 50000x50000 "decompression bomb" costs microseconds and no memory;
- `invalid_image`: the file is decoded in full (and a PNG's chunks and CRCs walked), so a
  truncated or corrupt file is refused rather than stored.

Generated pictures come out as PNG with their prompt, model, seed and settings in text
chunks (`png_text`); a PNG gets the chunks spliced in without re-encoding, other formats are
converted unless the caller keeps them. Thumbnails are WebP, at most 256 px a side.
Everything here is CPU-bound and blocking: async callers run it in a thread.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from PIL import Image, ImageOps

from easel.errors import InvalidRequest
from easel.storage.png_text import PngStructureError, check_structure, embed_text, generation_text

ImageFormat = Literal["PNG", "JPEG", "WEBP"]
MIME_TYPES: dict[str, str] = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
THUMBNAIL_SIZE = 256
THUMBNAIL_MIME = "image/webp"
THUMBNAIL_QUALITY = 80
_PNG_MODES = frozenset({"1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"})
_EXIF_ORIENTATION = 0x0112
# What Pillow raises on malformed input, by format and version; anything else is our bug.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error, IndexError, KeyError,
                  TypeError)


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """Bounds on what is accepted: bytes in the file, pixels in the picture (width x height)."""

    max_bytes: int
    max_pixels: int


# Uploads: generous for photos (a 40 MP camera), tight against abuse.
UPLOAD_LIMITS = ImageLimits(max_bytes=20 * 1024 * 1024, max_pixels=40_000_000)
# Our own outputs: a 4x upscale of a 2048 px picture is 67 MP. Kept under Pillow's own
# warning threshold (Image.MAX_IMAGE_PIXELS, ~89 MP) so Pillow never warns about what we allow.
GENERATED_LIMITS = ImageLimits(max_bytes=256 * 1024 * 1024, max_pixels=80_000_000)


@dataclass(frozen=True, slots=True)
class PreparedImage:
    """An image ready to store: its bytes (with metadata where it is PNG), type, size and thumbnail."""

    data: bytes
    mime_type: str
    width: int
    height: int
    thumbnail: bytes


def _refuse(message: str, code: str) -> InvalidRequest:
    return InvalidRequest(message, param="file", code=code)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def sniff_format(data: bytes) -> ImageFormat | None:
    """The image type by magic bytes: PNG, JPEG or WEBP, or None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def decode(data: bytes, limits: ImageLimits) -> tuple[ImageFormat, Image.Image]:
    """Check `data` against `limits` and decode it in full; answers its format and the loaded image."""
    if not data:
        raise _refuse("The file is empty.", "empty_file")
    if len(data) > limits.max_bytes:
        raise _refuse(f"The file is {_megabytes(len(data))}; the limit is {_megabytes(limits.max_bytes)}.",
                      "file_too_large")
    fmt = sniff_format(data)
    if fmt is None:
        raise _refuse("The file is not a PNG, JPEG or WebP image (its content was checked, not its name).",
                      "unsupported_file_type")
    limit = f"{limits.max_pixels / 1e6:g} megapixels"
    try:
        image = Image.open(io.BytesIO(data), formats=[fmt])  # reads the header only
    except Image.DecompressionBombError:
        raise _refuse(f"The image's dimensions exceed the limit of {limit} (a decompression bomb?).",
                      "image_too_large") from None
    except _DECODE_ERRORS as exc:
        raise _refuse(f"The file starts like a {fmt} image but cannot be read ({exc}).", "invalid_image") from None
    width, height = image.size
    if width < 1 or height < 1:
        image.close()
        raise _refuse(f"The {fmt} image has no pixels ({width}x{height}).", "invalid_image")
    if width * height > limits.max_pixels:
        image.close()
        raise _refuse(f"The image is {width}x{height} ({width * height / 1e6:.1f} megapixels); the limit is {limit}.",
                      "image_too_large")
    try:
        if fmt == "PNG":
            check_structure(data)  # Pillow stops at the last IDAT; the CRCs and IEND are checked here
        image.load()
    except (PngStructureError, *_DECODE_ERRORS) as exc:
        image.close()
        raise _refuse(f"The {fmt} image is truncated or corrupt ({exc}).", "invalid_image") from None
    return fmt, image


def oriented(image: Image.Image) -> Image.Image:
    """The image as it is meant to be seen: EXIF orientation applied (a copy only when needed)."""
    if image.getexif().get(_EXIF_ORIENTATION, 1) in (None, 1):
        return image
    return ImageOps.exif_transpose(image)


def to_png(image: Image.Image) -> bytes:
    """Encode as PNG, converting modes PNG cannot hold (CMYK, YCbCr...) and keeping an RGB ICC profile."""
    icc = image.info.get("icc_profile")
    if image.mode not in _PNG_MODES:
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
        icc = None  # a CMYK profile would describe the wrong colours now
    buffer = io.BytesIO()
    extra: dict[str, Any] = {"icc_profile": icc} if icc else {}
    image.save(buffer, format="PNG", **extra)
    return buffer.getvalue()


def _displayable(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "RGBA"):
        return image
    if image.mode.startswith("I") or image.mode == "F":
        # 16-bit (and wider) greyscale: scale to 8 bits, where a plain convert would clip to white.
        return image.convert("I").point(lambda value: value / 256).convert("L").convert("RGB")
    return image.convert("RGBA" if image.has_transparency_data else "RGB")


def thumbnail(image: Image.Image, size: int = THUMBNAIL_SIZE) -> bytes:
    """A WebP no larger than `size` on either side (never enlarged), aspect ratio kept."""
    width, height = image.size
    scale = min(1.0, size / max(width, height))
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = image if target == image.size else image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    buffer = io.BytesIO()
    _displayable(small).save(buffer, format="WEBP", quality=THUMBNAIL_QUALITY)
    return buffer.getvalue()


def poster_thumbnail(data: bytes, limits: ImageLimits = GENERATED_LIMITS) -> bytes:
    """The thumbnail of a still (a video's poster frame, a document's first page), checked like any image."""
    _, image = decode(data, limits)
    with image:
        return thumbnail(oriented(image))


def prepare_upload(data: bytes, limits: ImageLimits = UPLOAD_LIMITS) -> PreparedImage:
    """Check a user's upload; its bytes are kept exactly as sent. Width and height are as displayed."""
    fmt, image = decode(data, limits)
    with image:
        shown = oriented(image)
        return PreparedImage(data=data, mime_type=MIME_TYPES[fmt], width=shown.width, height=shown.height,
                             thumbnail=thumbnail(shown))


def prepare_generated(
    data: bytes,
    *,
    prompt: str | None,
    model: str | None,
    seed: int | None,
    settings: Mapping[str, Any],
    keep_format: bool = False,
    limits: ImageLimits = GENERATED_LIMITS,
) -> PreparedImage:
    """Check a generated picture and write what made it into it.

    A PNG keeps its pixels byte for byte and gains the text chunks; JPEG and WebP are
    converted to PNG (orientation applied) unless `keep_format`, in which case they are
    stored as they came and the metadata lives in the database only.
    """
    fmt, image = decode(data, limits)
    with image:
        shown = oriented(image)
        if fmt != "PNG" and keep_format:
            out, mime = data, MIME_TYPES[fmt]
        else:
            png = data if fmt == "PNG" else to_png(shown)
            text = generation_text(prompt=prompt, model=model, seed=seed, settings=settings, width=shown.width,
                                   height=shown.height)
            out, mime = embed_text(png, text), MIME_TYPES["PNG"]
        return PreparedImage(data=out, mime_type=mime, width=shown.width, height=shown.height,
                             thumbnail=thumbnail(shown))
