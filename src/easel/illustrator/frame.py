"""The canvas's geometry for a scene: where the horizon, the ground band and the shore lie
(`Frame`), and one placed sprite (`Placed`). Shared by the layout planner and the painters.
"""

from __future__ import annotations

from dataclasses import dataclass

from easel.illustrator.lexicon import Thing
from easel.illustrator.scene import Scene
from easel.illustrator.words import RGB

#: setting -> (horizon as a fraction of the height, ground kind)
FRAMES: dict[str, tuple[float, str]] = {
    "meadow": (0.62, "grass"), "park": (0.6, "grass"), "garden": (0.6, "grass"), "farm": (0.6, "grass"),
    "forest": (0.62, "grass"), "jungle": (0.62, "grass"), "mountains": (0.64, "grass"),
    "city": (0.64, "street"), "road": (0.62, "street"), "beach": (0.5, "sand"), "ocean": (0.5, "water"),
    "lake": (0.55, "water"), "desert": (0.6, "sand"), "snow": (0.6, "snow"), "space": (1.0, "none"),
    "sky": (1.0, "none"), "underwater": (0.0, "seabed"), "room": (0.64, "floor"), "bedroom": (0.64, "floor"),
    "kitchen": (0.64, "floor"), "cafe": (0.64, "floor"), "office": (0.64, "floor"),
}
BEACH_SHORE = 0.68
WATER_SHORE = 0.82
GROUNDED = frozenset({"ground", "floor", "table"})


@dataclass(frozen=True, slots=True)
class Frame:
    width: int
    height: int
    setting: str
    horizon: int  # 0: no sky (underwater); height: no ground (space, sky)
    ground: str  # grass, street, sand, snow, water, floor, seabed, none
    shore: int | None = None  # where water gives way to sand (beach), from the top

    @property
    def band(self) -> tuple[float, float]:
        """The vertical range where grounded things stand (their bottoms)."""
        h = self.height
        if self.ground == "none":
            return 0.55 * h, 0.9 * h
        if self.ground == "seabed":
            return 0.86 * h, 0.95 * h
        top = max(self.horizon, self.shore or 0)
        return top + 0.18 * (h - top), h - 0.035 * h

    @property
    def water_band(self) -> tuple[float, float]:
        h = self.height
        bottom = self.shore if self.shore else h
        return self.horizon + 0.3 * (bottom - self.horizon), bottom - 0.02 * h


def frame_for(scene: Scene, width: int, height: int) -> Frame:
    horizon, ground = FRAMES.get(scene.setting, FRAMES["meadow"])
    shore: int | None = None
    if ground == "sand" and scene.setting == "beach":
        shore = round(BEACH_SHORE * height)
    roots_on_ground = any(s.anchor is None and s.thing.place in GROUNDED for s in scene.subjects)
    if ground == "water" and (roots_on_ground or any(s.thing.edge for s in scene.subjects)):
        shore = round(WATER_SHORE * height) if roots_on_ground else None
    return Frame(width, height, scene.setting, round(horizon * height), ground, shore)


@dataclass(slots=True)
class Placed:
    """One sprite: where it stands (centre x, bottom y), how big, and how it is drawn."""

    subject: int
    thing: Thing
    cx: float
    base: float
    height: float
    width: float
    z: float
    flip: bool = False
    color: RGB | None = None
    skin: int | None = None
    bleed: bool = False  # may run out of the picture (a close view's table)

    @property
    def top(self) -> float:
        return self.base - self.height

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (round(self.cx - self.width / 2), round(self.top), round(self.cx + self.width / 2), round(self.base))
