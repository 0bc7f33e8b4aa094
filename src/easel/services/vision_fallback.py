"""Images for models that cannot see: what easel reads from a picture offline, said in words.

A model without vision input (the offline `local:smollm2-135m` among them) gets, for each
image, a text part saying what easel read from it: the text in it, by OCR, and a few plain
labels (size, orientation, main colours, whether it looks like a drawing or a photo).

OCR is RapidOCR (PP-OCRv4 detection and recognition run by onnxruntime). The package
`rapidocr-onnxruntime` ships its ONNX models inside the wheel, so nothing is downloaded at
run time (the newer `rapidocr` 3.x fetches its models on first use, which an offline studio
cannot do). The engine is loaded on first use, never at import, and descriptions are cached
in memory per image sha256, so history images are read once per process.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

OCR_METHOD = "ocr+labels"
#: below this confidence a recognised line is more likely noise than text
MIN_OCR_CONFIDENCE = 0.5
#: a picture whose 8 commonest colours (in a small copy) cover this share of it is a drawing, a screenshot or
#: a document (flat fills, antialiased edges); a photo's colours spread far wider
FLAT_SHARE = 0.6
CACHE_SIZE = 256

# A small named palette: the labels say "white", "dark blue", not RGB triples.
_PALETTE: dict[str, tuple[int, int, int]] = {
    "black": (0, 0, 0), "white": (255, 255, 255), "grey": (128, 128, 128), "light grey": (200, 200, 200),
    "dark grey": (64, 64, 64), "red": (220, 30, 30), "dark red": (128, 0, 0), "orange": (255, 140, 0),
    "yellow": (240, 220, 40), "green": (40, 170, 60), "dark green": (0, 90, 30), "light green": (150, 230, 140),
    "blue": (40, 90, 220), "dark blue": (0, 0, 120), "light blue": (150, 200, 250), "cyan": (0, 200, 220),
    "purple": (130, 50, 170), "pink": (250, 160, 200), "magenta": (220, 40, 180), "brown": (130, 80, 40),
    "beige": (225, 205, 170),
}


@dataclass(frozen=True, slots=True)
class ImageDescription:
    """What easel read from one image."""

    ocr_text: str
    labels: list[str] = field(default_factory=list)
    method: str = OCR_METHOD

    def sentence(self) -> str:
        """What follows "The attached image 1 ": the text first, since that is what is asked about most."""
        text = f'contains this text: "{self.ocr_text}"' if self.ocr_text else "has no text easel could read"
        return f"{text}. It is {', '.join(self.labels)}" if self.labels else text


def _colour_name(rgb: tuple[int, int, int]) -> str:
    return min(_PALETTE, key=lambda name: sum((a - b) ** 2 for a, b in zip(_PALETTE[name], rgb, strict=True)))


def labels_of(image: Image.Image) -> list[str]:
    """Size, orientation, main colours and drawing-or-photo, from the pixels alone."""
    width, height = image.size
    ratio = width / height if height else 1.0
    orientation = "square" if 0.9 <= ratio <= 1.1 else "landscape" if ratio > 1 else "portrait"
    small = image.convert("RGB")
    small.thumbnail((64, 64))
    commonest = sorted((count for count, _ in small.getcolors(64 * 64) or []), reverse=True)[:8]
    flat = sum(commonest) >= FLAT_SHARE * small.width * small.height
    quantised = small.quantize(colors=4, method=Image.Quantize.MEDIANCUT)
    palette = quantised.getpalette() or []
    counts = sorted(quantised.getcolors() or [], reverse=True)
    names: list[str] = []
    for count, index in counts:
        name = _colour_name(tuple(palette[index * 3:index * 3 + 3]))  # type: ignore[arg-type]
        if name not in names and count * 10 >= small.width * small.height:  # at least a tenth of the picture
            names.append(name)
    kind = "a drawing, screenshot or document" if flat else "a photo or detailed picture"
    return [f"{width}x{height} pixels", orientation, "mostly " + " and ".join(names[:3]), kind]


class VisionFallback:
    """Describes images offline for models without vision input; thread-safe, cached per sha256."""

    def __init__(self, *, cache_size: int = CACHE_SIZE) -> None:
        self._cache: OrderedDict[str, ImageDescription] = OrderedDict()
        self._cache_size = cache_size
        self._engine: Any = None
        self._lock = threading.Lock()  # one OCR at a time: the engine is loaded once and is not cheap to run

    def _ocr(self, data: bytes) -> str:
        with self._lock:
            if self._engine is None:
                from rapidocr_onnxruntime import RapidOCR  # noqa: PLC0415  (heavy: loaded on first use)

                self._engine = RapidOCR()
            result, _ = self._engine(data)
        lines = [text for _, text, score in result or [] if float(score) >= MIN_OCR_CONFIDENCE]
        return " ".join(line.strip() for line in lines if line.strip())

    def describe_sync(self, data: bytes) -> ImageDescription:
        key = hashlib.sha256(data).hexdigest()
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            labels = labels_of(image)
            rgb = io.BytesIO()
            image.convert("RGB").save(rgb, "PNG")  # OCR reads one format, whatever was sent (WebP, GIF, RGBA...)
        description = ImageDescription(ocr_text=self._ocr(rgb.getvalue()), labels=labels)
        self._cache[key] = description
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return description

    async def describe(self, data: bytes) -> ImageDescription:
        return await asyncio.to_thread(self.describe_sync, data)
