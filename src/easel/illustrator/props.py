"""Props the emoji set lacks, drawn in code in OpenMoji's manner (flat colours, black outlines):
a table, a lighthouse, a cliff, a bench, a fence, a street lamp and a cratered moon.

`draw_prop(name, width, height)` returns an RGBA sprite; `ASPECT` gives each prop's
width/height so the layout can size it before it is drawn. Everything is drawn at 2x and
scaled down, which smooths the edges the way the font's anti-aliasing does.
"""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image, ImageDraw

RGB = tuple[int, int, int]
OUTLINE = (0, 0, 0, 255)
ASPECT: dict[str, float] = {
    "table": 1.7, "lighthouse": 0.42, "cliff": 1.25, "bench": 1.9, "fence": 2.6, "streetlamp": 0.3, "moon": 1.0,
}
#: horizontal span (fractions of the width) on which things set "on" a prop may stand
SURFACE_SPAN: dict[str, tuple[float, float]] = {
    "table": (0.1, 0.9), "cliff": (0.2, 0.6), "bench": (0.1, 0.9), "lighthouse": (0.4, 0.6),
}
SUPERSAMPLE = 2

Painter = Callable[[ImageDraw.ImageDraw, int, int, float], None]


def _table(d: ImageDraw.ImageDraw, w: int, h: int, lw: float) -> None:
    top = h * 0.16
    wood, dark, light = (166, 112, 60, 255), (118, 76, 38, 255), (201, 148, 92, 255)
    for x in (w * 0.12, w * 0.82):
        d.rectangle((x, top, x + w * 0.06, h - lw), fill=dark, outline=OUTLINE, width=round(lw))
    d.rectangle((w * 0.14, top, w * 0.86, top + h * 0.14), fill=dark, outline=OUTLINE, width=round(lw))
    d.rounded_rectangle((lw, lw, w - lw, top + lw), radius=lw * 2, fill=wood, outline=OUTLINE, width=round(lw))
    d.line((lw * 3, lw * 2.6, w - lw * 3, lw * 2.6), fill=light, width=round(lw))


def _lighthouse(d: ImageDraw.ImageDraw, w: int, h: int, lw: float) -> None:
    cx = w / 2
    base_y, top_y = h - lw, h * 0.26
    half_base, half_top = w * 0.36, w * 0.22
    body = [(cx - half_base, base_y), (cx - half_top, top_y), (cx + half_top, top_y), (cx + half_base, base_y)]
    d.polygon(body, fill=(245, 245, 245, 255))
    bands = 4
    for i in range(bands):
        y0 = top_y + (base_y - top_y) * (2 * i + 1) / (2 * bands)
        y1 = top_y + (base_y - top_y) * (2 * i + 2) / (2 * bands)

        def half(y: float) -> float:
            return half_top + (half_base - half_top) * (y - top_y) / (base_y - top_y)

        d.polygon([(cx - half(y0), y0), (cx + half(y0), y0), (cx + half(y1), y1), (cx - half(y1), y1)],
                  fill=(210, 47, 39, 255))
    d.polygon(body, outline=OUTLINE, width=round(lw))
    door_w = w * 0.12
    d.rounded_rectangle((cx - door_w / 2, base_y - h * 0.09, cx + door_w / 2, base_y), radius=door_w / 2,
                        fill=(90, 60, 30, 255), outline=OUTLINE, width=round(lw * 0.8))
    gallery_y = top_y
    d.rectangle((cx - w * 0.34, gallery_y - h * 0.025, cx + w * 0.34, gallery_y + h * 0.01), fill=(60, 60, 60, 255),
                outline=OUTLINE, width=round(lw * 0.8))
    lamp_top = h * 0.12
    d.rectangle((cx - w * 0.17, lamp_top, cx + w * 0.17, gallery_y - h * 0.025), fill=(252, 234, 43, 255),
                outline=OUTLINE, width=round(lw * 0.8))
    d.line((cx, lamp_top, cx, gallery_y - h * 0.025), fill=OUTLINE, width=round(lw * 0.6))
    d.pieslice((cx - w * 0.22, lamp_top - h * 0.09, cx + w * 0.22, lamp_top + h * 0.09), 180, 360,
               fill=(160, 30, 30, 255), outline=OUTLINE, width=round(lw * 0.8))
    d.line((cx, lamp_top - h * 0.09, cx, lamp_top - h * 0.115), fill=OUTLINE, width=round(lw))


def _cliff(d: ImageDraw.ImageDraw, w: int, h: int, lw: float) -> None:
    # a rock mass with a flat grassy top on the left, dropping in steps to the right
    rock = [(0, h * 0.08), (w * 0.62, h * 0.08), (w * 0.7, h * 0.22), (w * 0.74, h * 0.2), (w * 0.8, h * 0.42),
            (w * 0.86, h * 0.5), (w * 0.9, h * 0.72), (w * 0.97, h * 0.8), (w, h), (0, h)]
    d.polygon(rock, fill=(128, 112, 98, 255))
    shade = [(w * 0.55, h * 0.3), (w * 0.7, h * 0.22), (w * 0.74, h * 0.2), (w * 0.8, h * 0.42),
             (w * 0.86, h * 0.5), (w * 0.9, h * 0.72), (w * 0.97, h * 0.8), (w, h), (w * 0.6, h)]
    d.polygon(shade, fill=(98, 86, 76, 255))
    for y, x0, x1 in ((0.35, 0.1, 0.4), (0.55, 0.25, 0.6), (0.75, 0.05, 0.45), (0.62, 0.66, 0.82)):
        d.line((w * x0, h * y, w * x1, h * (y + 0.04)), fill=(70, 60, 52, 255), width=round(lw * 0.8))
    d.polygon(rock, outline=OUTLINE, width=round(lw))
    d.rounded_rectangle((-lw * 4, h * 0.04, w * 0.64, h * 0.1), radius=lw * 2, fill=(92, 160, 55, 255),
                        outline=OUTLINE, width=round(lw))


def _bench(d: ImageDraw.ImageDraw, w: int, h: int, lw: float) -> None:
    wood, metal = (176, 116, 58, 255), (60, 60, 60, 255)
    for x in (w * 0.12, w * 0.82):
        d.rectangle((x, h * 0.45, x + w * 0.06, h - lw), fill=metal, outline=OUTLINE, width=round(lw * 0.8))
    for y in (h * 0.05, h * 0.2):
        d.rounded_rectangle((lw, y, w - lw, y + h * 0.11), radius=lw, fill=wood, outline=OUTLINE, width=round(lw))
    d.rounded_rectangle((lw, h * 0.42, w - lw, h * 0.55), radius=lw, fill=wood, outline=OUTLINE, width=round(lw))


def _fence(d: ImageDraw.ImageDraw, w: int, h: int, lw: float) -> None:
    paint = (245, 240, 228, 255)
    for y in (h * 0.3, h * 0.68):
        d.rectangle((lw, y, w - lw, y + h * 0.1), fill=paint, outline=OUTLINE, width=round(lw * 0.8))
    n = 7
    pw = w / (n * 1.6)
    for i in range(n):
        x = lw + i * (w - pw - 2 * lw) / (n - 1)
        d.polygon([(x, h * 0.12), (x + pw / 2, lw), (x + pw, h * 0.12), (x + pw, h - lw), (x, h - lw)],
                  fill=paint, outline=OUTLINE, width=round(lw * 0.8))


def _streetlamp(d: ImageDraw.ImageDraw, w: int, h: int, lw: float) -> None:
    cx = w / 2
    d.rectangle((cx - w * 0.08, h * 0.12, cx + w * 0.08, h - lw), fill=(50, 55, 60, 255), outline=OUTLINE,
                width=round(lw * 0.8))
    d.rectangle((cx - w * 0.22, h * 0.93, cx + w * 0.22, h - lw), fill=(50, 55, 60, 255), outline=OUTLINE,
                width=round(lw * 0.8))
    d.polygon([(cx - w * 0.4, h * 0.1), (cx + w * 0.4, h * 0.1), (cx + w * 0.25, h * 0.02), (cx - w * 0.25, h * 0.02)],
              fill=(50, 55, 60, 255), outline=OUTLINE, width=round(lw * 0.8))
    d.rectangle((cx - w * 0.3, h * 0.1, cx + w * 0.3, h * 0.16), fill=(255, 236, 150, 255), outline=OUTLINE,
                width=round(lw * 0.8))


def _moon(d: ImageDraw.ImageDraw, w: int, h: int, lw: float) -> None:
    d.ellipse((lw, lw, w - lw, h - lw), fill=(226, 226, 218, 255))
    d.chord((lw, lw, w - lw, h - lw), 300, 120, fill=(200, 200, 192, 255))
    for fx, fy, fr in ((0.32, 0.3, 0.12), (0.62, 0.25, 0.07), (0.55, 0.6, 0.15), (0.28, 0.66, 0.08),
                       (0.75, 0.5, 0.06), (0.45, 0.45, 0.05)):
        d.ellipse((w * (fx - fr), h * (fy - fr), w * (fx + fr), h * (fy + fr)), fill=(176, 176, 168, 255),
                  outline=(140, 140, 134, 255), width=round(lw * 0.6))
    d.ellipse((lw, lw, w - lw, h - lw), outline=OUTLINE, width=round(lw))


PAINTERS: dict[str, Painter] = {
    "table": _table, "lighthouse": _lighthouse, "cliff": _cliff, "bench": _bench, "fence": _fence,
    "streetlamp": _streetlamp, "moon": _moon,
}


def draw_prop(name: str, width: int, height: int) -> Image.Image:
    """The prop `name` as an RGBA sprite of about width x height pixels."""
    w, h = max(4, width) * SUPERSAMPLE, max(4, height) * SUPERSAMPLE
    canvas = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    line_width = max(2.0, min(w, h) * 0.028) if name != "cliff" else max(2.0, h * 0.018)
    PAINTERS[name](ImageDraw.Draw(canvas), w, h, line_width)
    return canvas.resize((max(1, width), max(1, height)), Image.Resampling.LANCZOS)
