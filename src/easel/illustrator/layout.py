"""The layout planner: a Scene and a canvas size to placed sprites, seeded.

The frame (`frame.py`) puts a horizon where the setting wants it (low for the ocean, none
in space). Subjects that relate to nothing are roots: sky things scatter in the sky, landforms stand
on the horizon, ground things are packed left to right on the ground band with their
companions, at a depth the seed picks. Related subjects are placed from their anchor:
`on` sits on its surface, `under` by its trunk or between its legs, `above` over it, `with`
and `beside` next to it, `front`/`behind` nearer or farther. Sizes follow each thing's
visual size, so a tree stands taller than the car under it.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from easel.illustrator.frame import GROUNDED, Frame, Placed
from easel.illustrator.lexicon import Thing
from easel.illustrator.props import SURFACE_SPAN
from easel.illustrator.scene import Scene, Subject
from easel.illustrator.words import RGB

TARGET = {"ground": 0.5, "land": 0.44, "none": 0.4, "seabed": 0.36, "floor": 0.46}
STILL_LIFE_TARGET = 0.3  # the largest object on a table, when the table is the scene
#: colours for the second, third... copy of a subject whose colour the prompt left open
VARIANTS: dict[str, list[RGB]] = {
    "cat": [(128, 128, 134), (70, 66, 64), (236, 226, 210)], "dog": [(150, 104, 60), (70, 66, 64), (230, 218, 196)],
    "horse": [(90, 60, 40), (236, 230, 220), (60, 56, 54)], "rabbit": [(150, 120, 90), (90, 90, 96)],
    "car": [(40, 90, 220), (250, 210, 30), (236, 236, 236), (50, 160, 60)], "bird": [(214, 40, 40), (250, 210, 30)],
    "fish": [(245, 130, 20), (130, 50, 180), (214, 40, 40)], "balloon": [(40, 90, 220), (250, 210, 30), (50, 160, 60)],
    "flower": [(250, 210, 30), (130, 50, 180), (245, 130, 180)], "house": [(240, 180, 60), (120, 180, 230)],
}
SKY_UNITS = 0.06  # a sky thing's height per size unit, as a fraction of the picture's height
MIN_ROW_SHRINK = 0.6
COPY_STEP = 0.7  # copies of one subject stand this many of their widths apart
LAND_ON_SCALE = 0.7  # a castle on a mountain is drawn smaller than its own size would say

AspectOf = Callable[[Thing], float]


def _effective_relation(scene: Scene, index: int) -> str | None:
    subject = scene.subjects[index]
    if subject.anchor is None or subject.relation is None:
        return None
    anchor = scene.subjects[subject.anchor].thing
    if anchor.place == "sky" and subject.relation not in ("above", "on") and subject.thing.place != "sky":
        return None  # "under a blazing sun" says where the sun is, not where the camel stands
    if subject.thing.place == "sky" and subject.relation != "above":
        return None  # "a lighthouse with stars": the stars are in the sky, not beside the lighthouse
    if subject.relation == "at":
        return "beside"
    if subject.relation == "among":
        return "with"
    # a chain that comes back to itself is cut
    seen: set[int] = {index}
    cursor: int | None = subject.anchor
    while cursor is not None:
        if cursor in seen:
            return None
        seen.add(cursor)
        cursor = scene.subjects[cursor].anchor
    return subject.relation


class Planner:
    """One plan: the frame, the seed's choices, and the sprites placed so far."""

    def __init__(self, scene: Scene, frame: Frame, aspect_of: AspectOf, rng: random.Random) -> None:
        self.scene, self.frame, self.aspect_of, self.rng = scene, frame, aspect_of, rng
        self.relations = [_effective_relation(scene, i) for i in range(len(scene.subjects))]
        self.counts = [s.count if s.count is not None else rng.randint(*s.count_range) for s in scene.subjects]
        self.placed: dict[int, list[Placed]] = {}
        self.side: dict[int, int] = {}
        self.edges: dict[tuple[int, int], float] = {}  # (anchor, side) -> where its next companion goes
        self.rows: list[list[int]] = [self._ground_roots()]
        self.unit = self._unit()

    # -- sizes ---------------------------------------------------------------------

    def dependents(self, index: int, *relations: str) -> list[int]:
        return [i for i, s in enumerate(self.scene.subjects)
                if s.anchor == index and self.relations[i] in relations]

    def _eff(self, subject: Subject) -> float:
        return float(subject.thing.size ** 0.8 * subject.scale)

    def still_life(self) -> int | None:
        """The table, when the picture is things set on one table and nothing else on the ground."""
        roots = self._ground_roots()
        if len(roots) != 1 or self.scene.subjects[roots[0]].thing.prop != "table":
            return None
        on = self.dependents(roots[0], "on", "in")
        if not on or any(self.scene.subjects[i].thing.place != "table" for i in on):
            return None
        return roots[0]

    def _unit(self) -> float:
        h, w = self.frame.height, self.frame.width
        table = self.still_life()
        if table is not None:
            items = self.dependents(table, "on", "in")
            return STILL_LIFE_TARGET * h / max(self._eff(self.scene.subjects[i]) for i in items)
        sized = [i for i, s in enumerate(self.scene.subjects) if s.thing.place != "sky"
                 and (self.relations[i] is None or self.scene.subjects[s.anchor or 0].thing.place != "land")]
        if not sized:
            return h * 0.1
        largest = max(sized, key=lambda i: self._eff(self.scene.subjects[i]))
        kind = "land" if self.scene.subjects[largest].thing.place == "land" else self.frame.ground
        unit = TARGET.get(kind, TARGET["ground"]) * h / self._eff(self.scene.subjects[largest])
        # each row of the ground band must fit the width side by side; a crowded one splits in two
        self.rows = self._rows(unit)
        widest = max((sum(self._cluster_width(i, 1.0) for i in row) for row in self.rows), default=0.0)
        if widest * unit > 0.94 * w:
            unit = 0.94 * w / widest
        return unit

    def _rows(self, unit: float) -> list[list[int]]:
        """The ground roots in one row, or in a front and a back row when one would not fit the width."""
        roots = self._ground_roots()
        widths = {i: self._cluster_width(i, 1.0) for i in roots}
        # shrinking a little keeps one row; two rows only when one would make everything tiny
        if len(roots) < 2 or sum(widths.values()) * unit <= 0.94 * self.frame.width / MIN_ROW_SHRINK:
            return [roots]
        rows: list[list[int]] = [[], []]
        sums = [0.0, 0.0]
        for i in sorted(roots, key=lambda i: (-widths[i], i)):
            k = 0 if sums[0] <= sums[1] else 1
            rows[k].append(i)
            sums[k] += widths[i]
        return rows

    def height_of(self, index: int) -> float:
        subject = self.scene.subjects[index]
        if subject.thing.place == "sky" and self.relations[index] is None:
            return max(0.035, subject.thing.size * SKY_UNITS * subject.scale) * self.frame.height
        return self._eff(subject) * self.unit

    def _width_at(self, index: int, unit: float) -> float:
        subject = self.scene.subjects[index]
        return self._eff(subject) * unit * self.aspect_of(subject.thing)

    def _cluster_width(self, index: int, unit: float) -> float:
        n = self.counts[index]
        own = self._width_at(index, unit) * (1 + COPY_STEP * (n - 1))
        for dep in self.dependents(index, "beside", "with", "and"):
            own += self._width_at(dep, unit) * (1 + COPY_STEP * (self.counts[dep] - 1)) + 0.02 * unit
        if self.dependents(index, "under"):
            own = max(own, self._width_at(index, unit) * 0.5
                      + max(self._width_at(d, unit) for d in self.dependents(index, "under")) * 1.1)
        return own

    def _ground_roots(self) -> list[int]:
        return [i for i, s in enumerate(self.scene.subjects)
                if self.relations[i] is None and s.thing.place in GROUNDED and not s.thing.edge]

    # -- placing -------------------------------------------------------------------

    def add(self, index: int, cx: float, base: float, height: float, z: float) -> Placed:
        subject = self.scene.subjects[index]
        thing = subject.thing
        color = subject.color
        copy = len(self.placed.get(index, ()))
        if color is None and copy and thing.key in VARIANTS:  # three cats are not three clones
            palette = VARIANTS[thing.key]
            color = palette[(copy - 1) % len(palette)]
        placed = Placed(index, thing, cx, base, height, height * self.aspect_of(thing), z,
                        flip=thing.flippable and self.rng.random() < 0.5, color=color,
                        skin=self.rng.randrange(5) if thing.skin else None)
        self.placed.setdefault(index, []).append(placed)
        return placed

    def run(self) -> list[Placed]:
        subjects = self.scene.subjects
        self._place_ground_roots()
        # landforms first, then the rest, so the sky's things can keep clear of what stands below
        free = [i for i, s in enumerate(subjects) if self.relations[i] is None and s.thing.place not in GROUNDED]
        for index in sorted(free, key=lambda i: subjects[i].thing.place != "land"):
            self._place_free(index)
        pending = [i for i in range(len(subjects)) if self.relations[i] is not None]
        for _ in range(len(subjects) + 1):  # anchors first; each pass places what it can
            waiting = []
            for index in pending:
                anchor = subjects[index].anchor
                if anchor is not None and anchor in self.placed:
                    self._place_dependent(index, self.placed[anchor])
                else:
                    waiting.append(index)
            pending = waiting
        placed = [p for group in self.placed.values() for p in group]
        for p in placed:
            self._clamp(p)
        return sorted(placed, key=lambda p: p.z)

    def _place_free(self, index: int) -> None:
        """Sky, air, water, underwater things and landforms, which stand on no one."""
        rng, frame, subject = self.rng, self.frame, self.scene.subjects[index]
        w, h = frame.width, frame.height
        place, n = subject.thing.place, self.counts[index]
        height = self.height_of(index)
        sky_bottom = (frame.horizon if frame.horizon < h else 0.75 * h) - 0.06 * h
        has_above = bool(self.dependents(index, "above", "on"))
        for k in range(n):
            slot = (k + rng.uniform(0.25, 0.75)) / n
            if subject.thing.edge:
                side = rng.random() < 0.5
                width = height * self.aspect_of(subject.thing) * 1.15
                cx, base = (width * 0.38 if side else w - width * 0.38), h + 0.02 * h
                p = self.add(index, cx, base, height * 1.15, -2000.0)
                p.width, p.flip = width, not side
                continue
            if place == "sky" and has_above:
                self.add(index, w * rng.uniform(0.4, 0.6), h * 0.98 if frame.ground == "none" else sky_bottom,
                         max(height, 0.42 * h if frame.ground == "none" else height), -3000.0)
            elif place == "sky":
                low = self.scene.time in ("sunset", "sunrise") and subject.thing.key == "sun"
                high = 0.1 * h + height
                base = sky_bottom + 0.05 * h if low else rng.uniform(high, max(high, sky_bottom))
                choices = [rng.uniform(0.08, 0.92) * w for _ in range(6)]
                cx = min(choices, key=lambda x: self._overlap(x, base, height))
                self.add(index, cx, base, height, -3000.0 + base)
            elif place == "land":
                base = frame.horizon + 0.35 * (h - frame.horizon) if frame.horizon < h else 0.95 * h
                self.add(index, w * (0.5 + rng.uniform(-0.18, 0.18) if n == 1 else slot), base, height, -2000.0 + base)
            elif place == "water" and frame.ground in ("water", "sand") and frame.horizon < h:
                lo, hi = frame.water_band
                base = rng.uniform(lo + 0.35 * (hi - lo), hi)
                depth = 0.8 + 0.2 * (base - lo) / max(1, hi - lo)
                self.add(index, w * (slot * 0.8 + 0.1), base, height * depth, base)
            elif place == "underwater" or frame.ground == "seabed":
                base = rng.uniform(0.25 * h + height, 0.82 * h)
                self.add(index, w * (slot * 0.8 + 0.1), base, height, base)
            else:  # air, or water things with no water: in the air band
                top_room = 0.06 * h + height
                if has_above or frame.ground == "none":
                    base = rng.uniform(0.55 * h, 0.85 * h) if not has_above else 0.92 * h
                else:
                    base = rng.uniform(top_room, max(top_room, sky_bottom))
                self.add(index, w * (slot * 0.8 + 0.1), base, height, 5000.0 + base)

    def _overlap(self, cx: float, base: float, height: float) -> float:
        """How much a square sprite at (cx, base) would cover what is already placed."""
        x0, x1, y0 = cx - height / 2, cx + height / 2, base - height
        total = 0.0
        for group in self.placed.values():
            for p in group:
                px0, py0, px1, py1 = p.box
                total += max(0.0, min(x1, px1) - max(x0, px0)) * max(0.0, min(base, py1) - max(y0, py0))
        return total

    def _place_ground_roots(self) -> None:
        rng, frame = self.rng, self.frame
        roots = self._ground_roots()
        table = self.still_life()
        if table is not None:  # a close view: the table top fills the width, its legs run out of the picture
            width = frame.width * 0.96
            height = width / self.aspect_of(self.scene.subjects[table].thing)
            top = frame.height * rng.uniform(0.6, 0.66)
            p = self.add(table, frame.width / 2, top + height, height, top + height)
            p.width, p.bleed = width, True
            return
        lo, hi = frame.band
        for row, members in enumerate(self.rows):
            # the front row stands low and near; a back row higher up, farther and smaller
            near = (lo + 0.45 * (hi - lo), hi) if row == 0 else (lo, lo + 0.3 * (hi - lo))
            if len(self.rows) == 1 and len(members) == 1:
                near = (lo + 0.55 * (hi - lo), hi)
            self._place_row(list(members), near)

    def _place_row(self, roots: list[int], near: tuple[float, float]) -> None:
        rng, frame = self.rng, self.frame
        lo, hi = frame.band
        rng.shuffle(roots)
        widths = [self._cluster_width(i, self.unit) for i in roots]
        free = max(0.0, frame.width - sum(widths))
        weights = [rng.uniform(0.6, 1.4) for _ in range(len(roots) + 1)]
        x = free * weights[0] / sum(weights)
        for index, width, weight in zip(roots, widths, weights[1:], strict=True):
            base = rng.uniform(*near)
            depth = 0.82 + 0.18 * (base - lo) / max(1.0, hi - lo)
            height = self.height_of(index) * depth
            own = height * self.aspect_of(self.scene.subjects[index].thing)
            n = self.counts[index]
            side = 1 if rng.random() < 0.5 else -1  # which side its first companion takes
            self.side[index] = side
            left = 0.0
            for k, dep in enumerate(self.dependents(index, "beside", "with", "and")):
                self.side[dep] = side if k % 2 == 0 else -side  # companions alternate sides
                if self.side[dep] < 0:
                    left += self._width_at(dep, self.unit) * depth * (1 + COPY_STEP * (self.counts[dep] - 1))
                    left += 0.02 * frame.width
            if self.dependents(index, "under") and side < 0:
                left = max(left, width - own * (1 + COPY_STEP * (n - 1)))
            start = x + left
            for k in range(n):
                # copies stand at a little depth from each other, so their overlap reads as a crowd
                jitter = rng.uniform(-0.06, 0.02) * frame.height if n > 1 else 0.0
                scale = 1 + jitter / frame.height * 1.5
                self.add(index, start + own / 2 + k * own * COPY_STEP, base + jitter, height * scale, base + jitter)
            x += width + free * weight / sum(weights)

    def _place_dependent(self, index: int, anchors: list[Placed]) -> None:
        rng, frame, subject = self.rng, self.frame, self.scene.subjects[index]
        relation, n = self.relations[index], self.counts[index]
        anchor = anchors[0]
        depth = 1.0 if anchor.bleed else anchor.height / max(1.0, self.height_of(anchor.subject))
        height = self._eff(subject) * self.unit * min(1.0, depth)
        aspect = self.aspect_of(subject.thing)
        if anchor.thing.place == "land" and not anchor.thing.edge:
            height *= LAND_ON_SCALE
        if relation in ("on", "riding", "in") and anchor.thing.place != "sky":
            span = anchor.thing.span or SURFACE_SPAN.get(anchor.thing.prop or "", (0.2, 0.8))
            if anchor.flip:
                span = (1 - span[1], 1 - span[0])
            left = anchor.cx - anchor.width / 2 + span[0] * anchor.width
            room = (span[1] - span[0]) * anchor.width
            # everything set on this anchor shares its surface, one slot per copy
            sharing = self.dependents(anchor.subject, "on", "riding", "in")
            total = sum(self.counts[i] for i in sharing)
            first = sum(self.counts[i] for i in sharing[:sharing.index(index)])
            slot = room / max(1, total)
            if relation == "in":
                height = min(height, anchor.height * 0.6)
            height = min(height, slot * 1.7 / max(0.1, aspect))  # neighbours may overlap a little
            surface = anchor.top + (anchor.thing.surface if anchor.thing.surface is not None else 0.1) * anchor.height
            base = surface + 0.04 * height if relation != "in" else anchor.base - 0.12 * anchor.height
            for k in range(n):
                cx = left + slot * (first + k + 0.5) + rng.uniform(-0.08, 0.08) * slot
                sit = base + rng.uniform(0, 0.01) * frame.height
                self.add(index, cx, sit, height, anchor.z + 0.5 + (first + k) * 0.01)
            return
        if relation == "above" or (relation == "on" and anchor.thing.place == "sky"):
            gap = 0.03 * frame.height
            height = min(height, max(0.05 * frame.height, anchor.top - gap - 0.03 * frame.height))
            for k in range(n):
                cx = anchor.cx + (k - (n - 1) / 2) * height * aspect * 1.1 + rng.uniform(-0.1, 0.1) * anchor.width
                self.add(index, cx, anchor.top - gap, height, anchor.z + 6000.0)
            return
        if relation == "under":
            if anchor.thing.canopy:
                side = self.side.get(anchor.subject) or (-1 if rng.random() < 0.5 else 1)
                offset = anchor.width * rng.uniform(0.12, 0.22) + height * aspect * 0.35
                base = min(frame.height * 0.985, anchor.base + 0.025 * frame.height)
            else:
                side, offset = 1, 0.0
                height = min(height, anchor.height * 0.65)
                base = anchor.base
            for k in range(n):
                cx = anchor.cx + side * (offset + k * height * aspect * 0.9)
                self.add(index, cx, base, height, anchor.z + 0.5 + k * 0.01)
            return
        if relation in ("front", "behind"):
            sign = 1 if relation == "front" else -1
            base = anchor.base + sign * 0.06 * frame.height
            scale = 1.05 if relation == "front" else 0.88
            for k in range(n):
                cx = anchor.cx + rng.uniform(-0.25, 0.25) * anchor.width + k * height * aspect * 0.9
                self.add(index, cx, base, height * scale, anchor.z + sign * 0.5)
            return
        # beside / with / and: next to the anchor, on the side its cluster kept free
        side = self.side.get(index) or (1 if anchor.cx < frame.width / 2 else -1)
        anchor = max(anchors, key=lambda a: side * a.cx)  # the outermost copy on that side
        edge = self.edges.get((anchor.subject, side), anchor.cx + side * anchor.width / 2)
        if subject.thing.place in ("air", "sky"):
            base = anchor.top - 0.02 * frame.height
        else:
            base = anchor.base + rng.uniform(-0.01, 0.02) * frame.height
        cx = edge
        for k in range(n):
            cx = edge + side * (0.02 * frame.width + height * aspect * (0.5 + COPY_STEP * k))
            self.add(index, cx, base, height, anchor.z + 0.3 + k * 0.01)
        self.edges[(anchor.subject, side)] = cx + side * height * aspect / 2

    def _clamp(self, p: Placed) -> None:
        if p.thing.edge or p.bleed:
            return
        w, h = self.frame.width, self.frame.height
        if p.width > 0.98 * w:
            p.height, p.width = p.height * 0.98 * w / p.width, 0.98 * w
        p.cx = min(max(p.cx, p.width / 2 + 0.01 * w), w - p.width / 2 - 0.01 * w)
        if p.top < 0.01 * h:
            if p.thing.place in GROUNDED:
                shrink = (p.base - 0.01 * h) / p.height
                p.width, p.height = p.width * shrink, p.height * shrink
            else:
                p.base = p.height + 0.01 * h
        p.base = min(p.base, h * 1.0)


def plan(scene: Scene, frame: Frame, aspect_of: AspectOf, rng: random.Random) -> tuple[list[Placed], list[int]]:
    """The placed sprites in drawing order, and how many of each subject were drawn."""
    planner = Planner(scene, frame, aspect_of, rng)
    return planner.run(), planner.counts
