"""Light, weather, mood and style, applied to sprites or to the finished picture.

`light_sprite` tints a subject for the hour (warm at sunset, blue at night) without losing
its colour; `weather` lays rain, snow, fog or a storm over the scene; `mood` and `style`
shift the whole palette (cozy is warm, noir is black and white, watercolor is soft and
bleeds onto paper). All randomness comes from the seed's `random.Random`.
"""

from __future__ import annotations

import random

from PIL import Image, ImageChops, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from easel.illustrator.grounds import LIGHT
from easel.illustrator.sky import RGB, glow


def light_sprite(sprite: Image.Image, time: str, indoor: bool) -> Image.Image:
    """The sprite under the hour's light (half as strong as on the ground: subjects stay readable)."""
    light, strength = LIGHT.get(time, LIGHT["day"])
    if indoor:
        strength *= 0.5
    if strength <= 0:
        return sprite
    rgb = sprite.convert("RGB")
    multiplied = ImageChops.multiply(rgb, Image.new("RGB", sprite.size, light))
    out = Image.blend(rgb, multiplied, strength * 0.5)
    out.putalpha(sprite.getchannel("A"))
    return out


def shadow(canvas: Image.Image, box: tuple[int, int, int, int], time: str) -> None:
    """A soft contact shadow under a grounded subject."""
    x0, _, x1, y1 = box
    w = max(4, x1 - x0)
    sh = max(3, round(w * 0.07))
    pad = sh * 2
    mask = Image.new("L", (w + pad * 2, sh * 2 + pad * 2), 0)
    strength = 70 if time not in ("night", "evening") else 40
    ImageDraw.Draw(mask).ellipse((pad + w * 0.08, pad, pad + w * 0.92, pad + sh * 2), fill=strength)
    mask = mask.filter(ImageFilter.GaussianBlur(sh * 0.7))
    canvas.paste(Image.new("RGB", mask.size, (20, 20, 30)), (x0 - pad, y1 - sh - pad), mask)


def bed_in(canvas: Image.Image, box: tuple[int, int, int, int], color: tuple[int, int, int]) -> None:
    """Soften where a landform meets the ground: a low drift of the ground's colour over its foot."""
    x0, _, x1, y1 = box
    w = max(4, x1 - x0)
    dh = max(4, round(w * 0.09))
    mask = Image.new("L", (w + dh * 6, dh * 4), 0)
    ImageDraw.Draw(mask).rounded_rectangle((dh, dh * 1.1, w + dh * 5, dh * 3.4), radius=dh, fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(dh * 0.35))
    canvas.paste(Image.new("RGB", mask.size, color), (x0 - dh * 3, y1 - dh * 2), mask)


def lamp_glow(canvas: Image.Image, point: tuple[float, float], size: float, beams: bool, rng: random.Random) -> None:
    """A light at night: a halo, and for a lighthouse two wide beams across the sky."""
    if beams:
        w, _ = canvas.size
        layer = Image.new("L", canvas.size, 0)
        d = ImageDraw.Draw(layer)
        reach = w * 1.2
        for side in (-1, 1):
            spread = size * rng.uniform(0.5, 0.7)
            lift = rng.uniform(-0.1, 0.04) * reach
            d.polygon([point, (point[0] + side * reach, point[1] + lift - spread),
                       (point[0] + side * reach, point[1] + lift + spread)], fill=110)
        layer = layer.filter(ImageFilter.GaussianBlur(max(2.0, size * 0.06)))
        canvas.paste(Image.new("RGB", canvas.size, (255, 240, 170)), (0, 0), layer)
    glow(canvas, point, size * 1.6, (255, 226, 140), 0.7)


def weather(canvas: Image.Image, kind: str | None, horizon: int, rng: random.Random) -> Image.Image:
    w, h = canvas.size
    if kind in ("rain", "storm"):
        layer = Image.new("L", canvas.size, 0)
        d = ImageDraw.Draw(layer)
        slant = rng.uniform(0.12, 0.25)
        for _ in range(int(w * h / (1800 if kind == "rain" else 1200))):
            x, y, length = rng.uniform(-0.1, 1.0) * w, rng.uniform(0, 1) * h, rng.uniform(0.02, 0.05) * h
            d.line((x, y, x + length * slant, y + length), fill=rng.randint(90, 170), width=max(1, w // 700))
        canvas.paste(Image.new("RGB", canvas.size, (214, 222, 236)), (0, 0), layer)
        if kind == "storm":
            _bolt(canvas, rng, horizon)
    elif kind == "snow":
        d = ImageDraw.Draw(canvas)
        for _ in range(int(w * h / 2600)):
            x, y = rng.uniform(0, w), rng.uniform(0, h)
            r = rng.choice((1.0, 1.5, 2.0, 2.5, 3.5)) * max(1.0, w / 1024)
            d.ellipse((x - r, y - r, x + r, y + r), fill=(250, 252, 255))
    elif kind == "fog":
        mist = Image.new("L", (1, 256))
        top = max(1, horizon)
        for y in range(256):
            t = y / 255 * h
            mist.putpixel((0, y), round(170 * max(0.0, 1 - abs(t - top) / (h * 0.5))))
        canvas.paste(Image.new("RGB", canvas.size, (226, 230, 236)), (0, 0), mist.resize(canvas.size))
    elif kind == "autumn":
        d = ImageDraw.Draw(canvas)
        for _ in range(int(w * h / 30000)):
            x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.004, 0.009) * w
            leaf = rng.choice(((214, 110, 40), (190, 60, 30), (230, 170, 50)))
            d.ellipse((x - r, y - r * 0.6, x + r, y + r * 0.6), fill=leaf)
    return canvas


def _bolt(canvas: Image.Image, rng: random.Random, horizon: int) -> None:
    w, _ = canvas.size
    x, y = rng.uniform(0.2, 0.8) * w, 0.0
    points = [(x, y)]
    while y < horizon * 0.85:
        x, y = x + rng.uniform(-0.04, 0.04) * w, y + rng.uniform(0.05, 0.1) * horizon
        points.append((x, y))
    d = ImageDraw.Draw(canvas)
    d.line(points, fill=(255, 255, 220), width=max(2, w // 250))
    glow(canvas, points[len(points) // 2], w * 0.2, (200, 200, 255), 0.25)


def _tint(image: Image.Image, color: RGB, amount: float) -> Image.Image:
    return Image.blend(image, ImageChops.multiply(image, Image.new("RGB", image.size, color)), amount)


def _vignette(image: Image.Image, strength: float) -> Image.Image:
    w, h = image.size
    mask = Image.new("L", (w, h), 0)
    ImageDraw.Draw(mask).ellipse((-w * 0.15, -h * 0.15, w * 1.15, h * 1.15), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(min(w, h) * 0.12))
    dark = ImageEnhance.Brightness(image).enhance(1 - strength)
    return Image.composite(image, dark, mask)


def mood(image: Image.Image, moods: list[str]) -> Image.Image:
    for name in moods:
        if name == "cozy":
            image = _vignette(_tint(image, (255, 214, 170), 0.25), 0.25)
        elif name == "gloomy":
            image = ImageEnhance.Brightness(ImageEnhance.Color(image).enhance(0.55)).enhance(0.85)
        elif name == "eerie":
            image = _vignette(_tint(ImageEnhance.Color(image).enhance(0.6), (170, 230, 200), 0.35), 0.4)
        elif name == "cheerful":
            image = ImageEnhance.Color(image).enhance(1.25)
        elif name == "dreamy":
            image = ImageChops.screen(image, image.filter(ImageFilter.GaussianBlur(image.width * 0.012)))
            image = Image.blend(image, Image.new("RGB", image.size, (250, 226, 250)), 0.08)
        elif name == "calm":
            image = ImageEnhance.Color(image).enhance(0.85)
        elif name == "dramatic":
            image = _vignette(ImageEnhance.Contrast(image).enhance(1.25), 0.35)
        elif name == "cold":
            image = _tint(image, (190, 214, 255), 0.3)
        elif name == "hot":
            image = _tint(image, (255, 206, 150), 0.3)
    return image


def style(image: Image.Image, styles: list[str], rng: random.Random) -> Image.Image:
    for name in styles:
        if name == "watercolor":
            image = _watercolor(image, rng)
        elif name == "noir":
            grey = ImageOps.grayscale(image)
            image = _vignette(ImageEnhance.Contrast(grey).enhance(1.35).convert("RGB"), 0.45)
        elif name == "sketch":
            grey = ImageOps.grayscale(image)
            edges = ImageOps.invert(grey.filter(ImageFilter.FIND_EDGES).point(lambda v: min(255, v * 3)))
            shade = ImageEnhance.Brightness(grey).enhance(1.4).point(lambda v: 255 - (255 - v) // 3)
            image = _paper(ImageChops.multiply(edges, shade).convert("RGB"), rng, (246, 242, 232))
        elif name == "vintage":
            grey = ImageOps.grayscale(image)
            image = _vignette(ImageOps.colorize(grey, (50, 30, 16), (250, 236, 206)), 0.3)
        elif name == "pastel":
            soft = ImageEnhance.Color(image).enhance(0.7)
            image = Image.blend(soft, Image.new("RGB", image.size, (255, 250, 252)), 0.3)
        elif name == "neon":
            dark = ImageEnhance.Brightness(ImageEnhance.Color(image).enhance(1.8)).enhance(0.7)
            halo = dark.filter(ImageFilter.GaussianBlur(image.width * 0.01))
            image = ImageChops.screen(_tint(dark, (255, 120, 255), 0.3), halo)
        elif name == "pixel":
            small = image.resize((max(1, image.width // 12), max(1, image.height // 12)), Image.Resampling.BILINEAR)
            flat = small.quantize(48, dither=Image.Dither.NONE).convert("RGB")
            image = flat.resize(image.size, Image.Resampling.NEAREST)
        elif name == "oil":
            image = ImageEnhance.Color(image.filter(ImageFilter.ModeFilter(max(3, image.width // 120)))).enhance(1.15)
    return image


def _paper(image: Image.Image, rng: random.Random, color: RGB) -> Image.Image:
    # the grain comes from the seed (Pillow's effect_noise would not repeat from run to run)
    small = (max(1, image.width // 4), max(1, image.height // 4))
    grain = Image.frombytes("L", small, rng.randbytes(small[0] * small[1]))
    noise = grain.resize(image.size, Image.Resampling.BILINEAR)
    paper = Image.merge("RGB", [noise.point(lambda v, c=c: max(0, min(255, c - 6 + v // 20))) for c in color])
    return ImageChops.multiply(image, paper)


def _watercolor(image: Image.Image, rng: random.Random) -> Image.Image:
    w = image.width
    soft = image.filter(ImageFilter.ModeFilter(max(3, w // 220))).filter(ImageFilter.GaussianBlur(w * 0.0012))
    washed = Image.blend(ImageEnhance.Color(soft).enhance(0.85), Image.new("RGB", image.size, (255, 253, 246)), 0.18)
    edges = ImageOps.invert(ImageOps.grayscale(soft).filter(ImageFilter.FIND_EDGES).point(lambda v: min(255, v * 2)))
    bled = ImageChops.multiply(washed, Image.merge("RGB", [edges.point(lambda v: 150 + v * 105 // 255)] * 3))
    return _paper(bled, rng, (255, 250, 240))

