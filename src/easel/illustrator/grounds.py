"""Grounds and settings: grass and hills, streets under a skyline, sand and sea, snow, dunes,
space, the sea floor and rooms with a window. `paint_backdrop` draws the whole background
for a frame (sky included) before any subject is placed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from easel.illustrator.art import ArtSet
from easel.illustrator.frame import Frame
from easel.illustrator.scene import Scene
from easel.illustrator.sky import (
    DARK_TIMES,
    RGB,
    gradient,
    mix,
    paint_clouds,
    paint_moon,
    paint_sky,
    paint_stars,
    paint_sun,
    sun_rays,
)

GROUND_COLORS: dict[str, tuple[RGB, RGB]] = {
    "grass": ((140, 196, 92), (76, 146, 58)), "street": ((120, 122, 128), (86, 88, 94)),
    "sand": ((240, 214, 160), (222, 184, 120)), "snow": ((236, 242, 250), (206, 220, 238)),
    "water": ((92, 160, 214), (30, 86, 150)), "floor": ((176, 122, 74), (140, 92, 52)),
    "seabed": ((214, 196, 150), (180, 160, 116)),
}
DESERT: tuple[RGB, RGB] = ((238, 196, 128), (214, 160, 92))
#: time -> the colour a lit scene is multiplied by (and how strongly), for grounds and sprites
LIGHT: dict[str, tuple[RGB, float]] = {
    "day": ((255, 255, 255), 0.0), "morning": ((255, 246, 226), 0.5), "sunrise": ((255, 206, 180), 0.55),
    "sunset": ((255, 190, 150), 0.6), "evening": ((150, 150, 200), 0.6), "night": ((96, 110, 170), 0.75),
}
WALLS: dict[str, RGB] = {"room": (226, 206, 176), "bedroom": (206, 214, 232), "kitchen": (232, 236, 226),
                         "cafe": (168, 98, 72), "office": (222, 226, 230)}


def lit(color: RGB, time: str, amount: float = 1.0) -> RGB:
    light, strength = LIGHT.get(time, LIGHT["day"])
    multiplied = (color[0] * light[0] // 255, color[1] * light[1] // 255, color[2] * light[2] // 255)
    return mix(color, multiplied, strength * amount)


def _ridge(canvas: Image.Image, base: float, height: float, color: RGB, rng: random.Random,
           waves: int = 3, sharp: bool = False) -> None:
    """A band of hills or mountains standing on `base`."""
    w = canvas.width
    phases = [rng.uniform(0, math.tau) for _ in range(waves)]
    points = [(0.0, float(canvas.height)), (0.0, base)]
    for x in range(0, w + 8, 8):
        t = x / w
        v = sum(math.sin(t * math.tau * (k + 1) * 1.3 + phases[k]) / (k + 1) for k in range(waves))
        if sharp:
            v = 1 - abs(math.sin(t * math.tau * 2.2 + phases[0])) * 1.6 + v * 0.4
        points.append((float(x), base - height * (0.55 + 0.45 * v / 1.8)))
    points += [(float(w), base), (float(w), float(canvas.height))]
    ImageDraw.Draw(canvas).polygon(points, fill=color)


def _ground(canvas: Image.Image, top: int, colors: tuple[RGB, RGB], time: str) -> None:
    if top >= canvas.height:
        return
    near, far = lit(colors[1], time), lit(colors[0], time)
    canvas.paste(gradient((canvas.width, canvas.height - top), [(0.0, far), (1.0, near)]), (0, top))


def _scatter(canvas: Image.Image, art: ArtSet, glyphs: str, top: float, bottom: float, size: float,
             count: int, rng: random.Random, haze: RGB, amount: float, time: str) -> None:
    """Small faded glyphs (a far tree line, flowers) laid along a band, back to front."""
    items = sorted((rng.uniform(top, bottom), rng.uniform(-0.03, 1.03) * canvas.width) for _ in range(count))
    for y, x in items:
        glyph = rng.choice(glyphs)
        if glyph not in art.available:
            continue
        sprite = art.sprite(glyph, max(4, round(size * rng.uniform(0.8, 1.2))))
        light, strength = LIGHT.get(time, LIGHT["day"])
        rgb = sprite.convert("RGB")
        rgb = Image.blend(rgb, ImageChops.multiply(rgb, Image.new("RGB", sprite.size, light)), strength)
        faded = Image.blend(rgb, Image.new("RGB", sprite.size, haze), amount)
        canvas.paste(faded, (round(x - sprite.width / 2), round(y - sprite.height)), sprite)


def _skyline(canvas: Image.Image, base: int, time: str, rng: random.Random) -> None:
    w, h = canvas.size
    d = ImageDraw.Draw(canvas)
    night = time in DARK_TIMES
    for layer, (shade, tall) in enumerate((((150, 160, 182), 0.34), ((104, 112, 134), 0.26))):
        x = -rng.uniform(0, 0.05) * w
        color = lit(shade, time) if not night else mix(shade, (24, 28, 48), 0.75 - layer * 0.1)
        while x < w:
            bw, bh = w * rng.uniform(0.05, 0.11), h * tall * rng.uniform(0.4, 1.0)
            d.rectangle((x, base - bh, x + bw, base), fill=color)
            if rng.random() < 0.3:
                d.rectangle((x + bw * 0.4, base - bh - h * 0.03, x + bw * 0.48, base - bh), fill=color)
            step_x, step_y = max(4.0, bw / 5), max(5.0, h * 0.022)
            wy = base - bh + step_y
            while wy < base - step_y:
                wx = x + step_x * 0.5
                while wx < x + bw - step_x * 0.6:
                    if rng.random() < (0.55 if night else 0.8):
                        lamp = (255, 220, 120) if night else mix(color, (210, 226, 240), 0.45)
                        d.rectangle((wx, wy, wx + step_x * 0.45, wy + step_y * 0.45), fill=lamp)
                    wx += step_x
                wy += step_y
            x += bw + w * rng.uniform(0.0, 0.02)


def _street(canvas: Image.Image, top: int, time: str) -> None:
    w, h = canvas.size
    d = ImageDraw.Draw(canvas)
    walk = top + (h - top) * 0.12
    d.rectangle((0, top, w, walk), fill=lit((170, 170, 172), time))
    d.line((0, walk, w, walk), fill=lit((80, 80, 84), time), width=max(2, h // 200))
    lane = top + (h - top) * 0.6
    for x in range(0, w, max(20, w // 10)):
        d.rectangle((x, lane, x + w / 20, lane + max(3, h // 140)), fill=lit((236, 232, 200), time))


def _sea(canvas: Image.Image, top: int, bottom: int, time: str, rng: random.Random,
         sun: tuple[float, float] | None) -> None:
    w, h = canvas.size
    if bottom <= top:
        return
    far, near = GROUND_COLORS["water"]
    if time in ("sunset", "sunrise"):
        far = mix(far, (236, 150, 110), 0.45)
    canvas.paste(gradient((w, bottom - top), [(0.0, lit(far, time, 0.7)), (1.0, lit(near, time, 0.7))]), (0, top))
    d = ImageDraw.Draw(canvas)
    foam = lit((206, 232, 250), time, 0.7)
    for _ in range(int(w * (bottom - top) / 9000)):
        y = rng.uniform(top + 2, bottom)
        length = w * rng.uniform(0.02, 0.06) * (0.4 + (y - top) / max(1, bottom - top))
        x = rng.uniform(0, w)
        d.arc((x, y - 3, x + length, y + 5), 200, 340, fill=foam, width=max(1, round(h / 450)))
    if sun is not None:
        shine = (255, 214, 140) if time in ("sunset", "sunrise") else (250, 250, 230)
        for i in range(int((bottom - top) / max(3, h / 120))):
            y = top + 2 + i * max(3, h / 120)
            spread = w * (0.02 + 0.1 * (y - top) / max(1, bottom - top)) * rng.uniform(0.4, 1.0)
            d.line((sun[0] - spread, y, sun[0] + spread, y), fill=shine, width=max(1, round(h / 400)))


def _room(canvas: Image.Image, frame: Frame, scene: Scene, rng: random.Random, art: ArtSet) -> None:
    w, h = canvas.size
    top = frame.horizon
    wall = WALLS.get(scene.setting, WALLS["room"])
    if "cozy" in scene.moods:
        wall = mix(wall, (236, 176, 120), 0.35)
    dim = "night" if scene.time in DARK_TIMES else "day"
    canvas.paste(gradient((w, top), [(0.0, lit(mix(wall, (0, 0, 0), 0.12), dim)), (1.0, lit(wall, dim))]), (0, 0))
    d = ImageDraw.Draw(canvas)
    stripe = lit(mix(wall, (255, 255, 255), 0.12), dim)
    for x in range(0, w, max(12, w // 24)):
        d.line((x, 0, x, top), fill=stripe, width=max(1, w // 300))
    # a window showing the sky of the hour
    ww, wh = w * 0.22, top * 0.5
    wx, wy = w * rng.choice((0.08, 0.7)), top * 0.14
    pane = Image.new("RGB", (round(ww), round(wh)))
    paint_sky(pane, pane.height, scene.time, scene.weather)
    if scene.time in DARK_TIMES:
        paint_stars(pane, pane.height, rng, 2.0)
    canvas.paste(pane, (round(wx), round(wy)))
    frame_color = (250, 250, 246)
    d.rectangle((wx, wy, wx + ww, wy + wh), outline=frame_color, width=max(4, w // 90))
    d.line((wx + ww / 2, wy, wx + ww / 2, wy + wh), fill=frame_color, width=max(3, w // 140))
    d.line((wx, wy + wh / 2, wx + ww, wy + wh / 2), fill=frame_color, width=max(3, w // 140))
    d.rectangle((wx - w * 0.015, wy + wh, wx + ww + w * 0.015, wy + wh + h * 0.015), fill=frame_color)
    if "\U0001F5BC" in art.available and rng.random() < 0.8:  # a framed picture on the other side
        sprite = art.sprite("\U0001F5BC", round(top * 0.22))
        px = w * 0.78 if wx < w / 2 else w * 0.14
        canvas.paste(sprite, (round(px - sprite.width / 2), round(top * 0.22)), sprite)
    floor_near, floor_far = GROUND_COLORS["floor"]
    canvas.paste(gradient((w, h - top), [(0.0, lit(floor_far, dim)), (1.0, lit(floor_near, dim))]), (0, top))
    for i in range(1, 9):
        y = top + (h - top) * (i / 9) ** 1.3
        d.line((0, y, w, y), fill=lit((120, 78, 44), dim), width=max(1, h // 400))
    d.rectangle((0, top - h * 0.02, w, top), fill=lit((250, 246, 236), dim))
    if scene.time in ("morning", "sunrise", "day"):
        sun_rays(canvas, (wx + ww / 2, wy + wh / 2), (255, 236, 190), rng, 0.16)
    if scene.setting in ("room", "bedroom") and rng.random() < 0.7:  # a rug
        rx, ry = w * rng.uniform(0.35, 0.65), top + (h - top) * 0.7
        rug = (160, 62, 52) if "cozy" in scene.moods else (176, 150, 110)
        d.ellipse((rx - w * 0.3, ry - (h - top) * 0.14, rx + w * 0.3, ry + (h - top) * 0.14), fill=lit(rug, dim))


def _underwater(canvas: Image.Image, frame: Frame, rng: random.Random) -> None:
    w, h = canvas.size
    canvas.paste(gradient((w, h), [(0.0, (40, 150, 196)), (1.0, (8, 46, 92))]), (0, 0))
    sun_rays(canvas, (w * rng.uniform(0.3, 0.7), -h * 0.1), (200, 240, 255), rng, 0.14)
    seabed = round(0.84 * h)
    _ridge(canvas, seabed + h * 0.03, h * 0.04, GROUND_COLORS["seabed"][0], rng)
    d = ImageDraw.Draw(canvas)
    for _ in range(rng.randint(5, 9)):
        x, tall = rng.uniform(0, w), h * rng.uniform(0.12, 0.3)
        pts = [(x + math.sin(t / 3 + x) * w * 0.012, seabed + h * 0.05 - tall * t / 10) for t in range(11)]
        d.line(pts, fill=rng.choice(((46, 140, 80), (70, 160, 90), (30, 110, 70))), width=max(3, w // 120))
    for _ in range(rng.randint(12, 24)):
        x, y, r = rng.uniform(0, w), rng.uniform(0.05, 0.8) * h, rng.uniform(0.003, 0.012) * w
        d.ellipse((x - r, y - r, x + r, y + r), outline=(200, 236, 250), width=max(1, w // 500))


def paint_backdrop(frame: Frame, scene: Scene, art: ArtSet, rng: random.Random,
                   avoid: list[tuple[int, int, int, int]] | None = None) -> Image.Image:
    """The background for `scene` in `frame`: sky, lights, ground and the setting's scenery.
    `avoid`: the subjects' boxes, which the sun and the moon keep clear of."""
    w, h = frame.width, frame.height
    canvas = Image.new("RGB", (w, h), (0, 0, 0))
    setting, time, weather = scene.setting, scene.time, scene.weather
    if frame.ground == "floor":
        _room(canvas, frame, scene, rng, art)
        return canvas
    if frame.ground == "seabed":
        _underwater(canvas, frame, rng)
        return canvas
    if setting == "space":
        canvas.paste(gradient((w, h), [(0.0, (4, 4, 16)), (0.6, (16, 10, 40)), (1.0, (10, 8, 28))]), (0, 0))
        _nebula(canvas, rng)
        paint_stars(canvas, h, rng, 2.2)
        return canvas
    horizon = frame.horizon
    paint_sky(canvas, horizon, time, weather)
    clear = weather not in ("cloudy", "rain", "storm", "snow", "fog")
    sun: tuple[float, float] | None = None
    if time in DARK_TIMES:
        paint_stars(canvas, horizon, rng, 1.0 if time == "night" else 0.3)
        if time == "night" and not scene.has("moon") and not scene.has("crescent moon") and clear:
            paint_moon(canvas, horizon, rng, avoid)
    elif clear and not scene.has("sun"):
        sun = paint_sun(canvas, horizon, time, rng, avoid)
    if time not in DARK_TIMES or not clear:
        paint_clouds(canvas, horizon, time, weather, rng)
    SCENERY.get(setting, _meadow)(canvas, frame, scene, rng, art, sun)
    return canvas


def _nebula(canvas: Image.Image, rng: random.Random) -> None:
    w, h = canvas.size
    layer = Image.new("RGB", canvas.size, (0, 0, 0))
    d = ImageDraw.Draw(layer)
    for _ in range(4):
        x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.15, 0.35) * w
        tone = rng.choice(((90, 40, 130), (30, 60, 130), (120, 40, 90)))
        d.ellipse((x - r, y - r * 0.6, x + r, y + r * 0.6), fill=tone)
    layer = layer.filter(ImageFilter.GaussianBlur(w * 0.08))
    canvas.paste(Image.blend(canvas, layer, 0.5), (0, 0))


Scenery = Callable[[Image.Image, Frame, Scene, random.Random, ArtSet, "tuple[float, float] | None"], None]


def _meadow(canvas: Image.Image, frame: Frame, scene: Scene, rng: random.Random, art: ArtSet,
            sun: tuple[float, float] | None) -> None:
    w, h, top, time = frame.width, frame.height, frame.horizon, scene.time
    far = lit(mix((110, 150, 120), (160, 190, 220), 0.4), time)
    _ridge(canvas, top, h * 0.1, far, rng)
    _ridge(canvas, top + h * 0.02, h * 0.05, lit((120, 176, 84), time), rng)
    colors = GROUND_COLORS["snow"] if scene.weather == "snow" else GROUND_COLORS["grass"]
    _ground(canvas, top + round(h * 0.02), colors, time)
    haze = lit((150, 180, 160), time)
    if scene.setting == "park":
        _scatter(canvas, art, "\U0001F333\U0001F333\U0001F332", top + h * 0.01, top + h * 0.05, h * 0.1, 14, rng,
                 haze, 0.45, time)
        d = ImageDraw.Draw(canvas)
        d.polygon([(w * 0.42, top + h * 0.06), (w * 0.5, top + h * 0.06), (w * 0.8, h), (w * 0.25, h)],
                  fill=lit((222, 206, 168), time))
    elif scene.setting in ("forest", "jungle"):
        glyphs = "\U0001F332\U0001F332\U0001F333" if scene.setting == "forest" else "\U0001F334\U0001F333"
        _scatter(canvas, art, glyphs, top - h * 0.02, top + h * 0.04, h * 0.2, 22, rng, haze, 0.55, time)
        _scatter(canvas, art, glyphs, top + h * 0.04, top + h * 0.12, h * 0.28, 10, rng, haze, 0.3, time)
    elif scene.setting == "garden":
        _scatter(canvas, art, "\U0001F337\U0001F33C\U0001F339", h * 0.93, h * 1.0, h * 0.07, 16, rng, haze, 0.0, time)
    elif scene.setting == "farm":
        d = ImageDraw.Draw(canvas)
        for i in range(6):
            y = top + h * 0.03 + (h - top) * (i / 6) ** 1.5
            d.line((0, y, w, y + h * 0.02), fill=lit((110, 160, 70), time), width=max(2, h // 160))


def _mountains(canvas: Image.Image, frame: Frame, scene: Scene, rng: random.Random, art: ArtSet,
               sun: tuple[float, float] | None) -> None:
    h, top, time = frame.height, frame.horizon, scene.time
    _ridge(canvas, top, h * 0.3, lit((120, 134, 170), time), rng, sharp=True)
    _ridge(canvas, top + h * 0.01, h * 0.18, lit((90, 120, 120), time), rng, sharp=True)
    colors = GROUND_COLORS["snow"] if scene.weather == "snow" else GROUND_COLORS["grass"]
    _ground(canvas, top + round(h * 0.01), colors, time)


def _snow(canvas: Image.Image, frame: Frame, scene: Scene, rng: random.Random, art: ArtSet,
          sun: tuple[float, float] | None) -> None:
    h, top, time = frame.height, frame.horizon, scene.time
    _ridge(canvas, top, h * 0.16, lit((176, 190, 214), time), rng, sharp=True)
    _ridge(canvas, top + h * 0.015, h * 0.05, lit((222, 230, 242), time), rng)
    _ground(canvas, top + round(h * 0.015), GROUND_COLORS["snow"], time)


def _desert(canvas: Image.Image, frame: Frame, scene: Scene, rng: random.Random, art: ArtSet,
            sun: tuple[float, float] | None) -> None:
    h, top, time = frame.height, frame.horizon, scene.time
    _ridge(canvas, top, h * 0.07, lit((226, 176, 116), time), rng)
    _ground(canvas, top, DESERT, time)
    _ridge(canvas, top + h * 0.12, h * 0.05, lit((230, 184, 112), time), rng, waves=2)
    _ridge(canvas, top + h * 0.26, h * 0.06, lit((240, 200, 132), time), rng, waves=2)


def _city(canvas: Image.Image, frame: Frame, scene: Scene, rng: random.Random, art: ArtSet,
          sun: tuple[float, float] | None) -> None:
    _skyline(canvas, frame.horizon, scene.time, rng)
    _ground(canvas, frame.horizon, GROUND_COLORS["street"], scene.time)
    _street(canvas, frame.horizon, scene.time)


def _water(canvas: Image.Image, frame: Frame, scene: Scene, rng: random.Random, art: ArtSet,
           sun: tuple[float, float] | None) -> None:
    h, top = frame.height, frame.horizon
    if scene.setting == "lake":
        _ridge(canvas, top, h * 0.06, lit((96, 140, 104), scene.time), rng)
    bottom = frame.shore or h
    _sea(canvas, top, bottom, scene.time, rng, sun)
    if frame.shore:
        sand = GROUND_COLORS["snow"] if scene.weather == "snow" else GROUND_COLORS["sand"]
        _ground(canvas, frame.shore, sand, scene.time)
        d = ImageDraw.Draw(canvas)
        foam = lit((236, 244, 250), scene.time)
        d.line((0, frame.shore, frame.width, frame.shore), fill=foam, width=max(2, h // 150))


SCENERY: dict[str, Scenery] = {
    "meadow": _meadow, "park": _meadow, "garden": _meadow, "farm": _meadow, "forest": _meadow, "jungle": _meadow,
    "mountains": _mountains, "snow": _snow, "desert": _desert, "city": _city, "road": _city,
    "beach": _water, "ocean": _water, "lake": _water, "sky": lambda *args: None,
}
