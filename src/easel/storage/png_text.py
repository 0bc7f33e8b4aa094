"""PNG at the chunk level: a strict structure check, and the generation metadata written into
text chunks without re-encoding a single pixel.

Every saved picture carries what made it, readable by any PNG tool (Pillow's `.text`,
exiftool, `identify -verbose`) and by other studios:

    prompt           the prompt
    easel:model      the catalog id, e.g. "xai:grok-2-image"
    easel:seed       the seed, when known
    easel:settings   the settings as JSON (negative prompt, steps, guidance, size...)
    parameters       the same in the AUTOMATIC1111 style that many tools import
    Software         "easel"

Keys are written as tEXt where the value is Latin-1 and as uncompressed iTXt (UTF-8)
otherwise; earlier chunks with the same keys are dropped, so re-saving never duplicates.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")
SOFTWARE = "easel"
KEY_PROMPT = "prompt"
KEY_MODEL = "easel:model"
KEY_SEED = "easel:seed"
KEY_SETTINGS = "easel:settings"
KEY_PARAMETERS = "parameters"
KEY_SOFTWARE = "Software"
_MAX_CHUNK = 2**31 - 1  # the PNG specification's bound on a chunk's length


class PngStructureError(ValueError):
    """The bytes are not a complete, intact PNG (bad signature, truncated, bad CRC, no IEND)."""


def iter_chunks(png: bytes) -> Iterator[tuple[bytes, int, int]]:
    """Every chunk as (type, start, end) byte offsets of the whole chunk (length, type, data, CRC).

    Checks as it goes: the signature, IHDR first, each length and CRC, and that IEND ends
    the file (trailing bytes after IEND are tolerated, as every decoder does).
    """
    if not png.startswith(PNG_SIGNATURE):
        raise PngStructureError("not a PNG signature")
    offset = len(PNG_SIGNATURE)
    first = True
    while True:
        if offset + 8 > len(png):
            raise PngStructureError("truncated: the file ends before IEND")
        length, kind = struct.unpack(">I4s", png[offset : offset + 8])
        end = offset + 12 + length
        if length > _MAX_CHUNK or end > len(png):
            raise PngStructureError(f"truncated: chunk {kind!r} runs past the end of the file")
        (crc,) = struct.unpack(">I", png[end - 4 : end])
        if zlib.crc32(png[offset + 4 : end - 4]) != crc:
            raise PngStructureError(f"corrupt: chunk {kind!r} fails its CRC check")
        if first and kind != b"IHDR":
            raise PngStructureError("corrupt: the first chunk is not IHDR")
        first = False
        yield kind, offset, end
        if kind == b"IEND":
            return
        offset = end


def check_structure(png: bytes) -> None:
    """Raise `PngStructureError` unless `png` is a whole PNG with intact chunks."""
    for _ in iter_chunks(png):
        pass


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def text_chunk(key: str, value: str) -> bytes:
    """One tEXt chunk (Latin-1 value) or uncompressed iTXt chunk (anything else) for `key`."""
    keyword = key.encode("latin-1")
    if not 1 <= len(keyword) <= 79 or b"\x00" in keyword:
        raise ValueError(f"a PNG text key has 1 to 79 Latin-1 characters: {key!r}")
    try:
        return _chunk(b"tEXt", keyword + b"\x00" + value.encode("latin-1"))
    except UnicodeEncodeError:
        # keyword, NUL, compression flag 0, method 0, empty language tag NUL, empty translated keyword NUL
        return _chunk(b"iTXt", keyword + b"\x00\x00\x00\x00\x00" + value.encode("utf-8"))


def _text_key(kind: bytes, data: bytes) -> str | None:
    if kind not in TEXT_CHUNKS:
        return None
    return data.split(b"\x00", 1)[0].decode("latin-1")


def embed_text(png: bytes, text: Mapping[str, str]) -> bytes:
    """`png` with `text` in text chunks right after IHDR, replacing any chunks with the same keys.
    The image data is copied byte for byte. Raises `PngStructureError` for a damaged PNG."""
    keys = set(text)
    parts = [PNG_SIGNATURE]
    for kind, start, end in iter_chunks(png):
        if _text_key(kind, png[start + 8 : end - 4]) in keys:
            continue
        parts.append(png[start:end])
        if kind == b"IHDR":
            parts.extend(text_chunk(key, value) for key, value in text.items())
    return b"".join(parts)


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def a1111_parameters(
    *, prompt: str, model: str | None, seed: int | None, settings: Mapping[str, Any], width: int, height: int
) -> str:
    """The "parameters" text AUTOMATIC1111 writes, which many tools read back:
    the prompt, a "Negative prompt:" line, then "Key: value" pairs on one line."""
    lines = [prompt]
    negative = settings.get("negative_prompt")
    if negative:
        lines.append(f"Negative prompt: {negative}")
    pairs: list[str] = []
    for key, label in (("steps", "Steps"), ("sampler", "Sampler"), ("scheduler", "Schedule type"),
                       ("guidance", "CFG scale")):
        if settings.get(key) is not None:
            pairs.append(f"{label}: {_number(settings[key])}")
    if seed is not None:
        pairs.append(f"Seed: {seed}")
    pairs.append(f"Size: {width}x{height}")
    if model:
        pairs.append(f"Model: {model}")
    lines.append(", ".join(pairs))
    return "\n".join(lines)


def generation_text(
    *, prompt: str | None, model: str | None, seed: int | None, settings: Mapping[str, Any], width: int, height: int
) -> dict[str, str]:
    """The text chunks for a generated picture (see the module docstring); absent values are left out."""
    text: dict[str, str] = {}
    if prompt:
        text[KEY_PROMPT] = prompt
    if model:
        text[KEY_MODEL] = model
    if seed is not None:
        text[KEY_SEED] = str(seed)
    text[KEY_SETTINGS] = json.dumps(settings, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    text[KEY_PARAMETERS] = a1111_parameters(
        prompt=prompt or "", model=model, seed=seed, settings=settings, width=width, height=height
    )
    text[KEY_SOFTWARE] = SOFTWARE
    return text
