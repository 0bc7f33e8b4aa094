"""Real pictures for the media fakes (Replicate, fal): small, at the asked aspect, made with Pillow.

Sizes are scaled down (the long side is `LONG_SIDE` pixels) so tests stay fast while the
aspect ratio stays what the request asked for; an upscale really is `scale` x the input.
"""

from __future__ import annotations

import base64
import io

from PIL import Image, ImageDraw

LONG_SIDE = 96
FORMATS = {"png": ("PNG", "image/png"), "jpg": ("JPEG", "image/jpeg"), "jpeg": ("JPEG", "image/jpeg"),
           "webp": ("WEBP", "image/webp")}


def ratio_size(ratio: str) -> tuple[int, int]:
    w, h = (int(x) for x in ratio.split(":"))
    return w, h


def thumb_size(width: float, height: float) -> tuple[int, int]:
    """(width, height) with the same aspect, the long side LONG_SIDE."""
    scale = LONG_SIDE / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def render(width: int, height: int, fmt: str = "png", seed: int = 0) -> tuple[bytes, str]:
    """A picture (a gradient and a disc, varied by `seed`) as bytes, and its mime type."""
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        shade = int(255 * y / max(1, height - 1))
        draw.line([(0, y), (width, y)], fill=((seed * 40) % 256, shade, 255 - shade))
    r = min(width, height) // 3
    draw.ellipse([width // 2 - r, height // 2 - r, width // 2 + r, height // 2 + r], fill=(250, 200, 40))
    pil_format, mime = FORMATS.get(fmt, FORMATS["png"])
    out = io.BytesIO()
    image.save(out, format=pil_format)
    return out.getvalue(), mime


def upscale(data_url: str, scale: float, fmt: str = "png") -> tuple[bytes, str]:
    """The image in a data URL, resized by `scale`."""
    header, _, payload = data_url.partition(",")
    if not header.startswith("data:") or not header.endswith(";base64"):
        raise ValueError("not a base64 data URL")
    with Image.open(io.BytesIO(base64.b64decode(payload))) as source:
        image = source.convert("RGB").resize((round(source.width * scale), round(source.height * scale)))
    pil_format, mime = FORMATS.get(fmt, FORMATS["png"])
    out = io.BytesIO()
    image.save(out, format=pil_format)
    return out.getvalue(), mime


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.width, image.height


def broken_png() -> bytes:
    """Starts like a PNG, then stops: sniffs as an image, does not decode."""
    good, _ = render(32, 32)
    return good[:60]
