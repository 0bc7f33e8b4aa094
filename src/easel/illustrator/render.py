"""The illustrator end to end: a prompt parsed to a scene, planned, painted and finished.

`Illustrator` holds the artwork and the vocabulary built from it (both are made once and
shared by threads). `render` is deterministic: the same scene, size and seed give the
same pixels; another seed moves, mirrors and recounts things.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageOps

from easel.illustrator.art import ATTRIBUTION, ArtSet, recolor
from easel.illustrator.effects import bed_in, lamp_glow, light_sprite, mood, shadow, style, weather
from easel.illustrator.grounds import paint_backdrop
from easel.illustrator.frame import GROUNDED, Frame, Placed, frame_for
from easel.illustrator.layout import plan
from easel.illustrator.lexicon import Lexicon, Thing
from easel.illustrator.parse import parse
from easel.illustrator.props import ASPECT, draw_prop
from easel.illustrator.scene import Scene
from easel.illustrator.words import INDOOR_SETTINGS

#: stage name -> how far into one picture it starts
STAGES = {"layout": 0.05, "backdrop": 0.15, "subjects": 0.45, "finishing": 0.85}
Stage = Callable[[str, float], None]
#: OpenMoji's water blue, cut out of boats so the scene's own sea shows through
WATER_LOW, WATER_HIGH = (110, 180, 215), (185, 235, 255)
ALWAYS_GLOWING = frozenset({"campfire", "candle", "lantern", "sun"})


@dataclass(slots=True)
class Illustration:
    image: Image.Image
    scene: Scene
    counts: list[int]  # how many of each subject were drawn
    placed: list[Placed]  # where, in drawing order

    def describe(self) -> dict[str, object]:
        described = self.scene.describe()
        subjects = described["subjects"]
        assert isinstance(subjects, list)
        for item, count in zip(subjects, self.counts, strict=True):
            item["drawn"] = count
        return described


def _knockout(sprite: Image.Image) -> Image.Image:
    r, g, b, a = sprite.split()
    inside = [band.point(lambda v, lo=lo, hi=hi: 255 if lo <= v <= hi else 0)
              for band, lo, hi in zip((r, g, b), WATER_LOW, WATER_HIGH, strict=True)]
    water = ImageChops.multiply(ImageChops.multiply(inside[0], inside[1]), inside[2])
    return Image.merge("RGBA", (r, g, b, ImageChops.subtract(a, water)))


class Illustrator:
    """The artwork and its vocabulary; parse prompts and render scenes."""

    def __init__(self, art: ArtSet) -> None:
        self.art = art
        self.lexicon = Lexicon.build(art.available)

    @classmethod
    def locate(cls) -> Illustrator:
        """With the installed artwork; raises ArtMissing naming the package to install."""
        return cls(ArtSet.locate())

    @property
    def attribution(self) -> str:
        return ATTRIBUTION

    def parse(self, prompt: str) -> Scene:
        return parse(prompt, self.lexicon)

    def aspect_of(self, thing: Thing) -> float:
        if thing.prop is not None:
            return ASPECT[thing.prop]
        aspect = self.art.metrics(thing.art).aspect
        if thing.crop is not None:
            x0, y0, x1, y1 = thing.crop
            aspect *= (x1 - x0) / (y1 - y0)
        return aspect

    def sprite(self, p: Placed) -> Image.Image:
        thing = p.thing
        if thing.prop is not None:
            sprite = draw_prop(thing.prop, round(p.width), round(p.height))
        else:
            text = self.art.with_skin(thing.art, p.skin) if p.skin is not None else thing.art
            if thing.crop is None:
                sprite = self.art.sprite(text, max(6, round(p.height)))
            else:
                x0, y0, x1, y1 = thing.crop
                full = self.art.sprite(text, max(6, round(p.height / (y1 - y0))))
                sprite = full.crop((round(x0 * full.width), round(y0 * full.height),
                                    round(x1 * full.width), round(y1 * full.height)))
            if thing.knockout:
                sprite = _knockout(sprite)
        if p.color is not None:
            sprite = recolor(sprite, p.color)
        return ImageOps.mirror(sprite) if p.flip else sprite

    def render(self, scene: Scene, width: int, height: int, seed: int, stage: Stage | None = None) -> Illustration:
        """The scene drawn at width x height with the seed's choices."""
        report = stage or (lambda name, fraction: None)
        rng = random.Random(seed)
        report("layout", STAGES["layout"])
        frame = frame_for(scene, width, height)
        placed, counts = plan(scene, frame, self.aspect_of, rng)
        report("backdrop", STAGES["backdrop"])
        canvas = paint_backdrop(frame, scene, self.art, rng, [p.box for p in placed])
        report("subjects", STAGES["subjects"])
        self._paint_subjects(canvas, frame, scene, placed, rng)
        report("finishing", STAGES["finishing"])
        if scene.setting not in INDOOR_SETTINGS and frame.ground not in ("seabed",) and scene.setting != "space":
            canvas = weather(canvas, scene.weather, frame.horizon, rng)
        canvas = style(mood(canvas, scene.moods), scene.styles, rng)
        return Illustration(canvas, scene, counts, placed)

    def _paint_subjects(self, canvas: Image.Image, frame: Frame, scene: Scene, placed: list[Placed],
                        rng: random.Random) -> None:
        indoor = scene.setting in INDOOR_SETTINGS
        dark = scene.time in ("night", "evening")
        # in space and under the sea the subjects are lit as by day, whatever the hour
        light_time = "day" if scene.setting in ("space", "underwater") else scene.time
        lights: list[tuple[Placed, Image.Image]] = []
        for p in placed:
            sprite = light_sprite(self.sprite(p), light_time, indoor)
            x, y = round(p.cx - sprite.width / 2), round(p.base - sprite.height)
            relation = scene.subjects[p.subject].relation if scene.subjects[p.subject].anchor is not None else None
            if p.thing.place in GROUNDED and relation not in ("on", "in", "above", "riding") and frame.ground != "none":
                shadow(canvas, (x, y, x + sprite.width, y + sprite.height), scene.time)
            ground = None
            if p.thing.place == "land" and not p.thing.edge and frame.horizon < frame.height:
                ground = canvas.getpixel((min(frame.width - 1, max(0, round(p.cx))),
                                          min(frame.height - 1, round(p.base + 0.03 * frame.height))))
            canvas.paste(sprite, (x, y), sprite)
            if isinstance(ground, tuple):
                bed_in(canvas, (x, y, x + sprite.width, y + sprite.height), (ground[0], ground[1], ground[2]))
            if p.thing.glow is not None and (dark or p.thing.key in ALWAYS_GLOWING):
                lights.append((p, sprite))
        for p, sprite in lights:
            assert p.thing.glow is not None
            gx, gy = p.thing.glow
            point = (p.cx - sprite.width / 2 + gx * sprite.width, p.base - sprite.height + gy * sprite.height)
            size = max(sprite.width, sprite.height * 0.2) * (0.6 if p.thing.key == "sun" else 1.0)
            lamp_glow(canvas, point, size, p.thing.key == "lighthouse" and dark, rng)
