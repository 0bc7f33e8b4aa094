"""Skies: a gradient for the time of day and the weather, the sun low or high, the moon and
stars at night, and soft clouds. Everything takes the seed's `random.Random`.
"""

from __future__ import annotations

import math
import random

from PIL import Image, ImageDraw, ImageFilter

RGB = tuple[int, int, int]

#: time -> gradient stops (position from the top of the sky, colour)
SKIES: dict[str, list[tuple[float, RGB]]] = {
    "day": [(0.0, (62, 132, 214)), (1.0, (176, 216, 245))],
    "morning": [(0.0, (108, 164, 226)), (0.7, (206, 224, 238)), (1.0, (252, 226, 188))],
    "sunrise": [(0.0, (52, 62, 140)), (0.45, (214, 128, 156)), (0.8, (250, 170, 120)), (1.0, (255, 206, 120))],
    "sunset": [(0.0, (34, 42, 110)), (0.4, (164, 76, 120)), (0.75, (240, 118, 64)), (1.0, (255, 178, 72))],
    "evening": [(0.0, (16, 22, 64)), (0.6, (70, 62, 130)), (1.0, (176, 112, 140))],
    "night": [(0.0, (6, 8, 26)), (0.7, (18, 26, 64)), (1.0, (36, 48, 92))],
}
#: weather -> (grey to blend towards, how much)
OVERCAST: dict[str, tuple[RGB, float]] = {
    "cloudy": ((158, 164, 174), 0.55), "rain": ((108, 114, 126), 0.72), "storm": ((56, 60, 76), 0.82),
    "snow": ((198, 204, 214), 0.6), "fog": ((200, 204, 210), 0.5),
}
DARK_TIMES = frozenset({"night", "evening"})


def mix(a: RGB, b: RGB, t: float) -> RGB:
    t = min(1.0, max(0.0, t))
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def gradient(size: tuple[int, int], stops: list[tuple[float, RGB]]) -> Image.Image:
    """A vertical gradient through `stops` (drawn as a 1-pixel column, then stretched)."""
    w, h = size
    column = Image.new("RGB", (1, max(1, h)))
    pixels = column.load()
    assert pixels is not None
    for y in range(max(1, h)):
        t = y / max(1, h - 1)
        for (p0, c0), (p1, c1) in zip(stops, stops[1:], strict=False):
            if p0 <= t <= p1:
                pixels[0, y] = mix(c0, c1, (t - p0) / max(1e-6, p1 - p0))
                break
        else:
            pixels[0, y] = stops[-1][1] if t > stops[-1][0] else stops[0][1]
    return column.resize((max(1, w), max(1, h)), Image.Resampling.BILINEAR)


def sky_stops(time: str, weather: str | None) -> list[tuple[float, RGB]]:
    stops = SKIES.get(time, SKIES["day"])
    if weather in OVERCAST:
        grey, amount = OVERCAST[weather]
        if time in DARK_TIMES:
            grey, amount = mix(grey, (20, 22, 30), 0.75), amount * 0.6
        stops = [(p, mix(c, grey, amount)) for p, c in stops]
    return stops


def paint_sky(canvas: Image.Image, bottom: int, time: str, weather: str | None) -> None:
    """The sky gradient over the top `bottom` pixels (the whole canvas when bottom >= height)."""
    bottom = max(1, min(canvas.height, bottom))
    canvas.paste(gradient((canvas.width, bottom), sky_stops(time, weather)), (0, 0))


def glow(canvas: Image.Image, center: tuple[float, float], radius: float, color: RGB, strength: float = 0.6) -> None:
    """A soft round light added over the canvas (sun haze, a lamp at night)."""
    size = max(4, int(radius * 2))
    spot = Image.new("L", (size, size), 0)
    # the blur must fade to nothing inside the square, or its edges show as seams
    ImageDraw.Draw(spot).ellipse((size * 0.3, size * 0.3, size * 0.7, size * 0.7), fill=round(255 * strength))
    spot = spot.filter(ImageFilter.GaussianBlur(size * 0.08))
    x, y = round(center[0] - size / 2), round(center[1] - size / 2)
    canvas.paste(Image.new("RGB", (size, size), color), (x, y), spot)


Box = tuple[int, int, int, int]


def free_x(choices: list[float], cy: float, r: float, avoid: list[Box]) -> float:
    """The first of `choices` where a disc of radius r at height cy clears every box in `avoid`."""
    for cx in choices:
        if not any(x0 - r < cx < x1 + r and y0 - r < cy < y1 + r for x0, y0, x1, y1 in avoid):
            return cx
    return choices[0]


def paint_sun(canvas: Image.Image, horizon: int, time: str, rng: random.Random,
              avoid: list[Box] | None = None) -> tuple[float, float]:
    """A sun disc: sitting on the horizon at sunrise and sunset, high at day, clear of the
    subjects' boxes in `avoid` where it can be. Returns its centre."""
    w, h = canvas.size
    low = time in ("sunrise", "sunset")
    r = h * (0.085 if low else 0.06)
    cy = horizon - h * 0.075 if low else min(h * 0.16, horizon * 0.3)
    if low:
        choices = [w * rng.uniform(0.3, 0.7), w * 0.15, w * 0.85]
    else:
        choices = [w * x for x in rng.sample((0.18, 0.82, 0.5), 3)]
    cx = free_x(choices, cy, r, avoid or [])
    color: RGB = (255, 214, 110) if low else (255, 244, 190)
    glow(canvas, (cx, cy), r * 6, mix(color, (255, 160, 80), 0.4) if low else (255, 250, 220), 0.55)
    layer = Image.new("L", canvas.size, 0)
    ImageDraw.Draw(layer).ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
    layer = Image.composite(layer, Image.new("L", canvas.size, 0), _above(canvas.size, horizon))
    canvas.paste(Image.new("RGB", canvas.size, color), (0, 0), layer.filter(ImageFilter.GaussianBlur(1.2)))
    return cx, cy


def _above(size: tuple[int, int], horizon: int) -> Image.Image:
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rectangle((0, 0, size[0], horizon), fill=255)
    return mask


def paint_moon(canvas: Image.Image, horizon: int, rng: random.Random,
               avoid: list[Box] | None = None) -> tuple[float, float]:
    """A crescent moon with a faint halo, high in the night sky, clear of the subjects where it can be."""
    w, h = canvas.size
    r = h * 0.055
    cy = min(h * 0.16, max(r * 1.5, horizon * 0.3))
    jitter = rng.uniform(-0.05, 0.05) * w
    cx = free_x([w * x + jitter for x in rng.sample((0.2, 0.8, 0.5), 3)], cy, r * 1.5, avoid or [])
    glow(canvas, (cx, cy), r * 5, (120, 130, 170), 0.35)
    disc = Image.new("L", canvas.size, 0)
    d = ImageDraw.Draw(disc)
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
    d.ellipse((cx - r * 0.55, cy - r * 1.1, cx + r * 1.45, cy + r * 0.9), fill=0)
    canvas.paste(Image.new("RGB", canvas.size, (250, 244, 210)), (0, 0), disc.filter(ImageFilter.GaussianBlur(0.8)))
    return cx, cy


def paint_stars(canvas: Image.Image, bottom: int, rng: random.Random, density: float = 1.0) -> None:
    w = canvas.width
    d = ImageDraw.Draw(canvas)
    count = int(w * bottom / 2600 * density)
    for _ in range(count):
        x, y = rng.uniform(0, w), rng.uniform(0, bottom) ** 1.0
        fade = 1 - y / max(1, bottom)
        level = round(130 + 125 * rng.random() * fade)
        r = rng.choice((0.6, 0.8, 1.0, 1.0, 1.4, 2.0)) * max(1.0, w / 1024)
        d.ellipse((x - r, y - r, x + r, y + r), fill=(level, level, min(255, level + 20)))
    for _ in range(max(2, count // 60)):  # a few bright ones with a cross of light
        x, y = rng.uniform(0, w), rng.uniform(0, bottom * 0.7)
        r = 3.0 * max(1.0, w / 1024)
        d.line((x - r * 2, y, x + r * 2, y), fill=(255, 255, 235), width=1)
        d.line((x, y - r * 2, x, y + r * 2), fill=(255, 255, 235), width=1)
        d.ellipse((x - r / 2, y - r / 2, x + r / 2, y + r / 2), fill=(255, 255, 240))


def paint_clouds(canvas: Image.Image, bottom: int, time: str, weather: str | None, rng: random.Random) -> None:
    """Soft clouds: a few on a fair day, a sky full of them when it is grey."""
    w, h = canvas.size
    many = weather in ("cloudy", "rain", "storm", "snow")
    count = rng.randint(6, 9) if many else rng.randint(2, 4)
    base: RGB = {"sunset": (250, 190, 170), "sunrise": (252, 206, 200), "evening": (120, 110, 150),
                 "night": (60, 66, 90)}.get(time, (255, 255, 255))
    if weather in ("rain", "storm"):
        base = mix(base, (90, 94, 104), 0.6)
    elif many:
        base = mix(base, (200, 204, 212), 0.4)
    layer = Image.new("L", canvas.size, 0)
    d = ImageDraw.Draw(layer)
    top_limit = max(h * 0.04, 1.0)
    for _ in range(count):
        cw = w * rng.uniform(0.14, 0.3)
        cx, cy = rng.uniform(-0.05, 1.05) * w, rng.uniform(top_limit, max(top_limit + 1, bottom * 0.55))
        for _ in range(rng.randint(4, 7)):
            bw = cw * rng.uniform(0.3, 0.55)
            bx, by = cx + rng.uniform(-0.5, 0.5) * cw, cy + rng.uniform(-0.25, 0.15) * cw * 0.4
            d.ellipse((bx - bw / 2, by - bw * 0.32, bx + bw / 2, by + bw * 0.32), fill=235)
    layer = layer.filter(ImageFilter.GaussianBlur(max(2.0, w * 0.006)))
    layer = Image.composite(layer, Image.new("L", canvas.size, 0), _above(canvas.size, bottom))
    canvas.paste(Image.new("RGB", canvas.size, base), (0, 0), layer)


def sun_rays(canvas: Image.Image, origin: tuple[float, float], color: RGB, rng: random.Random,
             strength: float = 0.18) -> None:
    """Wide soft beams from a point (morning light through a window, a low sun)."""
    w, h = canvas.size
    layer = Image.new("L", canvas.size, 0)
    d = ImageDraw.Draw(layer)
    for _ in range(5):
        angle = rng.uniform(0.35, 1.2) * math.pi / 2
        spread = rng.uniform(0.04, 0.09)
        length = math.hypot(w, h)
        a, b = angle - spread, angle + spread
        d.polygon([origin, (origin[0] + math.cos(a) * length, origin[1] + math.sin(a) * length),
                   (origin[0] + math.cos(b) * length, origin[1] + math.sin(b) * length)], fill=round(255 * strength))
    layer = layer.filter(ImageFilter.GaussianBlur(w * 0.02))
    canvas.paste(Image.new("RGB", canvas.size, color), (0, 0), layer)
