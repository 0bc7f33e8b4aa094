"""Nouns to drawable subjects: the curated table, plurals and synonyms, and a fallback
that finds any other emoji by its Unicode name ("giraffe", "octopus", "saxophone").

`Lexicon` is built once per art set (it needs to know which glyphs the artwork has) and
answers `lookup(phrase)` with a `Thing` and whether the phrase was plural.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from easel.illustrator.things import TABLE
from easel.illustrator.words import COLORS, MOODS, RELATIONS, SETTINGS, STOPWORDS, STYLES, TIMES, WEATHER

Place = Literal["ground", "sky", "air", "water", "underwater", "land", "floor", "table"]
PLACES: tuple[str, ...] = ("ground", "sky", "air", "water", "underwater", "land", "floor", "table")

IRREGULAR_PLURALS = {
    "people": "person", "men": "man", "women": "woman", "children": "child", "kids": "kid",
    "mice": "mouse", "geese": "goose", "feet": "foot", "teeth": "tooth", "cacti": "cactus",
    "fungi": "fungus", "wolves": "wolf", "leaves": "leaf", "knives": "knife", "loaves": "loaf",
    "shelves": "shelf", "elves": "elf", "calves": "calf", "oxen": "ox", "fish": "fish", "sheep": "sheep",
    "deer": "deer", "bison": "bison", "moose": "moose", "aircraft": "aircraft", "octopi": "octopus",
    "octopuses": "octopus", "cherries": "cherries", "fries": "fries", "pancakes": "pancakes", "books": "books",
    "grapes": "grapes", "noodles": "noodles", "drums": "drums", "glasses": "glasses", "dunes": "dunes",
}
#: name words too generic to stand for an emoji on their own in the fallback
FALLBACK_STOP = frozenset("""
face sign symbol with and of the mark button light hand hands man woman person people on in at up
down left right black white red blue green yellow orange purple brown large small medium heavy squared
circled negative latin letter digit keycap flag regional indicator combining variation selector open
closed old new full last first back end top soon cool free ok id sos vs ng up top no not
""".split())
FALLBACK_SIZE = 1.2
#: Unicode blocks of food, drink and tableware: found by name, they sit on a table
TABLETOP_RANGES = ((0x1F32D, 0x1F37F), (0x1F950, 0x1F96F), (0x1F9C0, 0x1F9CB), (0x1FAD0, 0x1FADF))
RESERVED = frozenset(w for table in (COLORS, MOODS, RELATIONS, SETTINGS, STYLES, TIMES, WEATHER)
                     for phrase in table for w in phrase.split()) | STOPWORDS


@dataclass(frozen=True, slots=True)
class Thing:
    """A subject the illustrator can draw."""

    key: str
    art: str  # the emoji text to draw, or "prop:NAME"
    size: float
    place: Place
    flippable: bool = True
    implies: str | None = None
    time: str | None = None
    surface: float | None = None
    canopy: bool = False
    edge: bool = False
    glow: tuple[float, float] | None = None
    span: tuple[float, float] | None = None
    crop: tuple[float, float, float, float] | None = None
    skin: bool = False
    knockout: bool = False
    curated: bool = True

    @property
    def prop(self) -> str | None:
        return self.art[5:] if self.art.startswith("prop:") else None


def art_text(codes: str) -> str:
    """'1F9D1-200D-1F680' -> the emoji text."""
    return "".join(chr(int(code, 16)) for code in codes.split("-"))


def _parse_flags(text: str) -> dict[str, object]:
    flags: dict[str, object] = {}
    for raw in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = raw.partition("=")
        if name == "fixed":
            flags["flippable"] = False
        elif name in ("canopy", "edge", "skin", "knockout"):
            flags[name] = True
        elif name in ("implies", "time"):
            flags[name] = value
        elif name == "surface":
            flags["surface"] = float(value)
        elif name in ("glow", "span", "crop"):
            flags[name] = tuple(float(v) for v in value.split(":"))
        else:
            raise ValueError(f"unknown flag {name!r} in the things table")
    return flags


def parse_table(text: str = TABLE) -> list[tuple[Thing, list[str]]]:
    """The curated table as Things with their synonyms."""
    rows: list[tuple[Thing, list[str]]] = []
    for line in text.strip().splitlines():
        key, art, size, place, flags, synonyms = (cell.strip() for cell in line.split("|"))
        if place not in PLACES:
            raise ValueError(f"unknown place {place!r} for {key!r}")
        art_value = art if art.startswith("prop:") else art_text(art)
        thing = Thing(key=key, art=art_value, size=float(size), place=place,  # type: ignore[arg-type]
                      **_parse_flags(flags))  # type: ignore[arg-type]
        rows.append((thing, synonyms.split()))
    return rows


def singular(word: str) -> str:
    """A plural's singular, by rule ("cacti" -> "cactus", "boxes" -> "box", "cats" -> "cat")."""
    if word in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[word]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes", "zes", "oes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@dataclass(slots=True)
class Lexicon:
    """Phrase -> Thing for the curated table plus emoji names, limited to available artwork."""

    phrases: dict[str, Thing] = field(default_factory=dict)
    longest: int = 1

    @classmethod
    def build(cls, available: Iterable[str] | None = None) -> Lexicon:
        """`available`: emoji texts the artwork has (None: trust the table, skip the fallback)."""
        have = set(available) if available is not None else None
        lexicon = cls()
        for thing, synonyms in parse_table():
            if thing.prop is None and have is not None and thing.art not in have:
                continue
            # a key already taken ("cup" is coffee before it is a trophy) keeps its first meaning
            for phrase in (thing.key, *(s.replace("_", " ") for s in synonyms)):
                lexicon.phrases.setdefault(phrase, thing)
        if have is not None:
            lexicon._add_unicode_names(have)
        lexicon.longest = max(len(p.split()) for p in lexicon.phrases)
        return lexicon

    def _add_unicode_names(self, have: set[str]) -> None:
        for text in sorted(have):
            if len(text) != 1:
                continue
            try:
                name = unicodedata.name(text).lower()
            except ValueError:
                continue
            if "component" in name or "modifier" in name:
                continue  # hair and skin swatches, not things
            name = re.sub(r"\b(face|symbol|sign|emoji)\b", "", name).strip()
            words = [w for w in re.split(r"[\s-]+", name) if w]
            if not words:
                continue
            place: Place = "table" if any(lo <= ord(text) <= hi for lo, hi in TABLETOP_RANGES) else "ground"
            size = FALLBACK_SIZE / 2 if place == "table" else FALLBACK_SIZE
            thing = Thing(key=" ".join(words), art=text, size=size, place=place, curated=False)
            # a long name ("night with stars") must not swallow words the parser reads itself
            if len(words) <= 3 and not any(w in RESERVED for w in words):
                self.phrases.setdefault(" ".join(words), thing)
            head = words[-1]
            if any(w in ("with", "and", "of", "in", "on", "without") for w in words):
                continue  # "person with blond hair" is not a hair
            if len(head) > 2 and head not in FALLBACK_STOP | RESERVED and singular(head) not in self.phrases:
                self.phrases.setdefault(head, thing)

    def lookup(self, phrase: str) -> tuple[Thing, bool] | None:
        """The Thing a phrase names and whether it was plural, or None."""
        thing = self.phrases.get(phrase)
        if thing is not None:
            return thing, phrase in IRREGULAR_PLURALS and IRREGULAR_PLURALS[phrase] != phrase
        words = phrase.split()
        last = singular(words[-1])
        if last != words[-1]:
            thing = self.phrases.get(" ".join([*words[:-1], last]))
            if thing is not None:
                return thing, True
        return None
