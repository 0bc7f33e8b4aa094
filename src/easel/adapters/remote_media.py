"""What polling media providers (Replicate, fal) share once the wire format is spoken.

- `to_data_url` / `sniff_mime`: an input image sent inline (both providers accept data URLs);
- `fetch_file`: an output URL (or data URL) downloaded with a size cap, never with our key;
- `probe_image`: the bytes decoded with Pillow: type and size, or an UpstreamError when
  the provider sent something that is not a picture;
- `log_percent`: the last progress percentage in a model's logs (tqdm's " 45%|" lines);
- `MonotonicProgress`: progress that never moves backwards, whatever the provider says;
- `download_images` / `image_cost`: the outputs fetched, decoded and priced.

Pillow is imported lazily, on the first image decoded.
"""

from __future__ import annotations

import base64
import binascii
import io
import re

import httpx

from easel.adapters.upstream import error_for_status, error_for_transport
from easel.catalog.entry import ModelEntry
from easel.errors import UpstreamError
from easel.tasks.image import GeneratedImage
from easel.tasks.progress import Progress

#: the most bytes one output file may have (a 4K PNG is ~25 MB)
MAX_FILE_BYTES = 64 * 1024 * 1024

_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF8", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
)
_PIL_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
# tqdm bars (" 45%|####   | 9/20") first; then any "NN%" as a fallback.
_TQDM = re.compile(r"(\d{1,3}(?:\.\d+)?)%\|")
_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*%")


def sniff_mime(data: bytes) -> str | None:
    """The image type by its magic bytes, or None."""
    for magic, offset, mime in _MAGIC:
        if data[offset:offset + len(magic)] == magic:
            return mime
    return None


def to_data_url(data: bytes, mime: str | None = None) -> str:
    """`data:<mime>;base64,...` for an image sent inline."""
    mime = mime or sniff_mime(data) or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def decode_data_url(url: str, *, provider: str) -> bytes:
    header, _, payload = url.partition(",")
    try:
        if header.endswith(";base64"):
            return base64.b64decode(payload, validate=True)
        return payload.encode("utf-8")
    except (binascii.Error, ValueError) as exc:
        raise UpstreamError("sent a data URL that does not decode", provider=provider,
                            code="upstream_bad_payload") from exc


async def fetch_file(client: httpx.AsyncClient, url: str, *, provider: str,
                     max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """Download one output file. No Authorization header: file hosts are public, and our
    key must not travel to them. Over `max_bytes` is an UpstreamError, not a full disk."""
    if url.startswith("data:"):
        data = decode_data_url(url, provider=provider)
        if len(data) > max_bytes:
            raise UpstreamError(f"sent a file over {max_bytes} bytes", provider=provider,
                                code="upstream_file_too_large")
        return data
    if not url.startswith(("http://", "https://")):
        raise UpstreamError(f"sent an output that is not a URL: {url[:100]!r}", provider=provider,
                            code="upstream_bad_payload")
    try:
        async with client.stream("GET", url) as response:
            if response.status_code >= 400:
                body = await response.aread()
                raise error_for_status(provider, response.status_code, body, response.headers)
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise UpstreamError(f"sent a file of {declared} bytes (the limit is {max_bytes})",
                                    provider=provider, code="upstream_file_too_large")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise UpstreamError(f"sent a file over {max_bytes} bytes", provider=provider,
                                        code="upstream_file_too_large")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise error_for_transport(provider, exc) from exc
    return b"".join(chunks)


def probe_image(data: bytes, *, provider: str) -> tuple[str, int, int]:
    """(mime type, width, height) of an image, decoding all of it; UpstreamError if it is broken."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError as exc:  # a packaging defect, not the provider's fault
        raise RuntimeError("decoding provider images needs Pillow: pip install pillow") from exc
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # decode the pixels: a truncated file fails here, not later in the asset store
            mime = _PIL_FORMATS.get(image.format or "") or sniff_mime(data) or "application/octet-stream"
            return mime, image.width, image.height
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise UpstreamError(f"sent an image that does not decode ({len(data)} bytes: {exc})",
                            provider=provider, code="upstream_bad_image") from exc


def log_percent(logs: str | None) -> float | None:
    """The last percentage in `logs` as a fraction (0.45 for " 45%|"), or None."""
    if not logs:
        return None
    found = _TQDM.findall(logs) or _PERCENT.findall(logs)
    if not found:
        return None
    return min(100.0, float(found[-1])) / 100.0


def last_line(logs: str | None, limit: int = 200) -> str | None:
    """The last non-empty log line (tqdm redraws with \\r, so split on both), shortened."""
    if not logs:
        return None
    lines = [line.strip() for line in re.split(r"[\r\n]+", logs) if line.strip()]
    return lines[-1][:limit] if lines else None


class MonotonicProgress:
    """Reports through a Progress, never moving the fraction backwards (a provider's logs
    restart their bar per image, and a status can be read out of order)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.fraction = 0.0

    def report(self, fraction: float, message: str | None = None) -> None:
        self.fraction = max(self.fraction, min(1.0, fraction))
        self.progress.progress(self.fraction, message)


async def download_images(client: httpx.AsyncClient, urls: list[str], *, provider: str, tracker: MonotonicProgress,
                          settings: dict[str, object], seeds: list[int | None] | None = None,
                          max_bytes: int = MAX_FILE_BYTES, start: float = 0.9) -> list[GeneratedImage]:
    """Fetch and decode each output, reporting from `start` to 1.0 as they arrive."""
    images: list[GeneratedImage] = []
    for index, url in enumerate(urls):
        data = await fetch_file(client, url, provider=provider, max_bytes=max_bytes)
        mime, width, height = probe_image(data, provider=provider)
        seed = seeds[index] if seeds and index < len(seeds) else None
        images.append(GeneratedImage(data=data, mime_type=mime, width=width, height=height, seed=seed,
                                     settings=dict(settings)))
        tracker.report(start + (1.0 - start) * (index + 1) / len(urls), f"downloaded {index + 1}/{len(urls)}")
    return images


def image_cost(entry: ModelEntry, images: list[GeneratedImage]) -> float | None:
    """Dollars for these outputs by the catalog's price: per image, else per output megapixel."""
    pricing = entry.pricing
    if pricing.per_image is not None:
        return round(pricing.per_image * len(images), 6)
    if pricing.per_megapixel is not None:
        return round(sum(pricing.per_megapixel * i.width * i.height / 1_000_000 for i in images), 6)
    return None
