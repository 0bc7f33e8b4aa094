"""What the parser understood from a prompt: subjects with counts, colours and relations,
and the setting, time of day, weather, styles and moods. Plain data, shared by the
parser, the layout planner, the renderer and the provider's recorded settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from easel.illustrator.lexicon import Thing
from easel.illustrator.words import RGB

DEFAULT_SETTING = "meadow"
DEFAULT_TIME = "day"


@dataclass(slots=True)
class Subject:
    """One subject (possibly several copies of it) and how it relates to another subject."""

    thing: Thing
    word: str
    count: int | None = 1  # None: vague ("some", a bare plural); the layout picks from count_range
    count_range: tuple[int, int] = (1, 1)
    color_name: str | None = None
    color: RGB | None = None
    scale: float = 1.0
    relation: str | None = None  # on, under, above, beside, front, behind, in, with, riding
    anchor: int | None = None  # index of the subject `relation` refers to

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"word": self.word, "subject": self.thing.key}
        out["count"] = self.count if self.count is not None else f"{self.count_range[0]}-{self.count_range[1]}"
        if self.color_name:
            out["color"] = self.color_name
        if self.scale != 1.0:
            out["scale"] = self.scale
        if not self.thing.curated:
            out["matched_by"] = "emoji name"
        return out


@dataclass(slots=True)
class Scene:
    """A parsed prompt. `setting`, `time` and `weather` are filled with defaults when unsaid."""

    prompt: str
    subjects: list[Subject] = field(default_factory=list)
    setting: str = DEFAULT_SETTING
    time: str = DEFAULT_TIME
    weather: str | None = None
    styles: list[str] = field(default_factory=list)
    moods: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    #: which of setting/time/weather the prompt said, as opposed to defaults or inferences
    stated: dict[str, str] = field(default_factory=dict)

    @property
    def recognised(self) -> bool:
        return bool(self.subjects)

    def subject_keys(self) -> list[str]:
        return [s.thing.key for s in self.subjects]

    def has(self, key: str) -> bool:
        return any(s.thing.key == key for s in self.subjects)

    def describe(self) -> dict[str, Any]:
        """The scene as the settings recorded with each picture (what was understood)."""
        subjects = []
        for subject in self.subjects:
            item = subject.describe()
            if subject.relation and subject.anchor is not None:
                item["relation"] = f"{subject.relation} {self.subjects[subject.anchor].thing.key}"
            subjects.append(item)
        out: dict[str, Any] = {
            "subjects": subjects,
            "setting": self.setting,
            "time_of_day": self.time,
            "weather": self.weather,
            "styles": self.styles,
            "moods": self.moods,
            "stated": self.stated,
            "not_understood": self.unknown,
        }
        if not self.subjects:
            out["note"] = ("no subject in the prompt matched the illustrator's vocabulary; "
                           "drew the setting as a generic scene")
        return out
