"""The offline description of images for models without vision: OCR on a real picture, plain labels, cache."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw, ImageFont

from easel.services.vision_fallback import VisionFallback, labels_of


def text_picture(text: str = "INVOICE 4721", size: tuple[int, int] = (640, 200), fmt: str = "PNG") -> bytes:
    """Clear, large black text on white, as a scanned document or a screenshot would show it."""
    image = Image.new("RGB", size, "white")
    ImageDraw.Draw(image).text((30, 60), text, fill="black", font=ImageFont.load_default(size=64))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


@pytest.fixture(scope="module")
def fallback() -> VisionFallback:
    return VisionFallback()


def test_ocr_reads_the_text_in_a_picture(fallback: VisionFallback) -> None:
    description = fallback.describe_sync(text_picture())
    assert description.ocr_text == "INVOICE 4721"
    assert description.labels[:2] == ["640x200 pixels", "landscape"]
    assert "white" in description.labels[2] and "drawing, screenshot or document" in description.labels[3]
    assert description.sentence().startswith('contains this text: "INVOICE 4721". It is 640x200 pixels')


def test_other_formats_are_read_too(fallback: VisionFallback) -> None:
    assert fallback.describe_sync(text_picture("TOTAL 88", fmt="WEBP")).ocr_text == "TOTAL 88"


def test_a_picture_without_text_says_so(fallback: VisionFallback) -> None:
    image = Image.new("RGB", (300, 400), (200, 30, 30))
    out = io.BytesIO()
    image.save(out, "PNG")
    description = fallback.describe_sync(out.getvalue())
    assert description.ocr_text == ""
    assert description.sentence().startswith("has no text easel could read. It is 300x400 pixels, portrait, mostly red")


def test_a_noisy_picture_is_labelled_a_photo() -> None:
    image = Image.effect_noise((128, 128), 80).convert("RGB")
    assert labels_of(image)[-1] == "a photo or detailed picture"


def test_descriptions_are_cached_per_image(fallback: VisionFallback) -> None:
    data = text_picture("CACHE 5")
    first = fallback.describe_sync(data)
    fallback._engine = None  # a second read of the same bytes must not need the engine (nor load it again)
    assert fallback.describe_sync(data) is first
    assert fallback._engine is None
