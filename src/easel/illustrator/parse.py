"""A deterministic prompt parser: words to a `Scene`.

The prompt is split into tokens and matched longest-phrase-first against the vocabulary
(relations, colours, counts, sizes, settings, time, weather, styles, moods, then nouns).
Noun phrases collect the modifiers before them ("three red cars"); a relation between two
noun phrases links every subject of the first group to the second ("a cup and a croissant
on a table"); a relation followed by a setting word sets the scene ("in the city").
No language model is involved: the same prompt always gives the same scene.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from easel.illustrator.lexicon import Lexicon, Thing
from easel.illustrator.scene import Scene, Subject
from easel.illustrator.words import (
    COLORS,
    INDOOR_SETTINGS,
    MAX_COUNT,
    MOODS,
    NUMBERS,
    PLURAL_COUNT,
    RELATIONS,
    SETTING_WEATHER,
    SETTINGS,
    SIZES,
    STOPWORDS,
    STYLES,
    TIMES,
    VAGUE_COUNTS,
    WEATHER,
)

TOKEN = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*|[,.;:!?]")
MAX_PHRASE = 4
#: (rider, ridden) -> the single glyph that shows both
COMBOS: dict[tuple[str, str], str] = {
    ("person", "bicycle"): "cyclist", ("person", "horse"): "horse rider", ("person", "wave"): "surfer",
}
#: relations that make the new noun a companion rather than the anchor of the previous group
COMPANION = frozenset({"with", "of"})
#: vessels that "of" fills: the thing inside is drawn instead ("a cup of tea" is tea)
CONTAINERS = frozenset({"fruit bowl", "coffee", "bucket", "bottle"})
SKY_PLURAL = (5, 9)  # "stars", "clouds": a sky holds more of them than a bare plural says
CATEGORIES: tuple[tuple[str, Mapping[str, object]], ...] = (
    ("relation", RELATIONS), ("color", COLORS), ("count", NUMBERS), ("vague", VAGUE_COUNTS),
    ("size", SIZES), ("setting", SETTINGS), ("time", TIMES), ("weather", WEATHER),
    ("style", STYLES), ("mood", MOODS),
)


@dataclass(frozen=True, slots=True)
class Item:
    kind: str  # relation, color, count, vague, size, setting, ..., thing, break, unknown
    text: str
    thing: Thing | None = None
    plural: bool = False


def tokenize(prompt: str) -> list[str]:
    return TOKEN.findall(prompt.lower().replace("’", "'"))


def classify(tokens: list[str], lexicon: Lexicon) -> list[Item]:
    """Tokens to vocabulary items, longest phrase first; punctuation becomes a break."""
    items: list[Item] = []
    i = 0
    while i < len(tokens):
        if not tokens[i][0].isalnum():
            items.append(Item("break", tokens[i]))
            i += 1
            continue
        found: Item | None = None
        for n in range(min(max(MAX_PHRASE, lexicon.longest), len(tokens) - i), 0, -1):
            words = tokens[i:i + n]
            if any(not w[0].isalnum() for w in words):
                continue
            phrase = " ".join(words)
            found = _match(phrase, lexicon)
            if found is not None:
                i += n
                break
        if found is None:
            word = tokens[i]
            kind = "count" if word.isdigit() else "skip" if word in STOPWORDS else "unknown"
            found = Item(kind, word)
            i += 1
        items.append(found)
    return items


def _match(phrase: str, lexicon: Lexicon) -> Item | None:
    for kind, table in CATEGORIES:
        if phrase in table:
            return Item(kind, phrase)
    hit = lexicon.lookup(phrase)
    if hit is not None:
        return Item("thing", phrase, hit[0], hit[1])
    return None


class _Builder:
    """The state of one left-to-right pass over the items."""

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self.group: list[int] = []  # the noun phrase group a relation would apply to
        self.relation: str | None = None
        self.count: int | None = None
        self.vague: tuple[int, int] | None = None
        self.color: str | None = None
        self.scale = 1.0

    def modifier(self, item: Item) -> None:
        if item.kind == "count":
            value = NUMBERS.get(item.text) if item.text in NUMBERS else int(item.text)
            self.count = max(1, min(MAX_COUNT, int(value or 1)))
        elif item.kind == "vague":
            self.vague = VAGUE_COUNTS[item.text]
        elif item.kind == "color":
            self.color = item.text
        elif item.kind == "size":
            self.scale *= SIZES[item.text]

    def noun(self, item: Item) -> None:
        assert item.thing is not None
        subject = Subject(thing=item.thing, word=item.text, color_name=self.color,
                          color=COLORS.get(self.color) if self.color else None, scale=round(self.scale, 3))
        if self.vague is not None:
            subject.count, subject.count_range = None, self.vague
        elif self.count is not None:
            subject.count = self.count
            subject.count_range = (self.count, self.count)
        elif item.plural:
            subject.count, subject.count_range = None, SKY_PLURAL if item.thing.place == "sky" else PLURAL_COUNT
        subjects = self.scene.subjects
        relation = self.relation
        previous = subjects[self.group[-1]] if self.group else None
        if relation == "of" and previous is not None and previous.thing.key in CONTAINERS:
            # "a bowl of ramen", "a cup of tea": the vessel is drawn by what it holds
            previous.thing, previous.word = item.thing, f"{previous.word} of {item.text}"
            self.relation = None
            self.count = self.vague = self.color = None
            self.scale = 1.0
            return
        index = len(subjects)
        subjects.append(subject)
        if relation in (None, "and") or not self.group:
            self.group = [*self.group, index] if relation == "and" else [index]
        elif relation in COMPANION or relation == "among":
            if item.thing.place != "sky":  # "a lighthouse with stars": the stars are simply in the sky
                subject.relation, subject.anchor = "with", self.group[0]
            self.group = [*self.group, index]
        else:
            for member in self.group:
                if subjects[member].anchor is None:
                    subjects[member].relation, subjects[member].anchor = relation, index
            self.group = [index]
        self.relation = None
        self.count = self.vague = self.color = None
        self.scale = 1.0

    def context(self, item: Item) -> None:
        """A setting, time, weather, style or mood word: it consumes a pending preposition."""
        scene = self.scene
        if item.kind == "setting":
            setting = SETTINGS[item.text]
            if "setting" not in scene.stated:
                scene.setting = setting
                scene.stated["setting"] = item.text
            if setting in SETTING_WEATHER and "weather" not in scene.stated:
                scene.weather = SETTING_WEATHER[setting]
        elif item.kind == "time" and "time" not in scene.stated:
            scene.time = TIMES[item.text]
            scene.stated["time"] = item.text
        elif item.kind == "weather" and "weather" not in scene.stated:
            scene.weather = WEATHER[item.text]
            scene.stated["weather"] = item.text
        elif item.kind == "style" and STYLES[item.text] not in scene.styles:
            scene.styles.append(STYLES[item.text])
        elif item.kind == "mood" and MOODS[item.text] not in scene.moods:
            scene.moods.append(MOODS[item.text])
        self.relation = None
        self.count = self.vague = self.color = None


def parse(prompt: str, lexicon: Lexicon) -> Scene:
    """The scene a prompt describes (subjects, relations, setting, time, weather, styles)."""
    scene = Scene(prompt=prompt)
    builder = _Builder(scene)
    items = classify(tokenize(prompt), lexicon)
    for position, item in enumerate(items):
        if item.kind == "thing":
            builder.noun(item)
        elif item.kind in ("count", "vague", "color", "size"):
            builder.modifier(item)
        elif item.kind == "relation":
            relation = RELATIONS[item.text]
            # "and" after a relation keeps the relation ("under a tree and ..." stays a list)
            builder.relation = relation if not (relation == "and" and builder.relation) else builder.relation
        elif item.kind == "break":
            builder.relation = "and" if item.text == "," else None
            if item.text != ",":
                builder.group = []
        elif item.kind == "unknown":
            if item.text not in scene.unknown:
                scene.unknown.append(item.text)
            following = items[position + 1] if position + 1 < len(items) else None
            if following is None or following.kind != "thing":
                # "a woman with red hair": the colour was for the hair, not for the next thing named
                builder.count = builder.vague = builder.color = None
                builder.scale = 1.0
        elif item.kind != "skip":
            builder.context(item)
    _merge_combos(scene, lexicon)
    _infer(scene, lexicon)
    return scene


def _merge_combos(scene: Scene, lexicon: Lexicon) -> None:
    """'a person riding a bicycle' -> one cyclist; the ridden subject is dropped."""
    for index, subject in enumerate(scene.subjects):
        if subject.anchor is None or subject.relation not in ("riding", "on"):
            continue
        anchor = scene.subjects[subject.anchor]
        combined = COMBOS.get((subject.thing.key, anchor.thing.key))
        if combined is None or (subject.relation == "on" and anchor.thing.key not in ("bicycle", "horse")):
            if subject.relation == "riding":
                subject.relation = "on"
            continue
        hit = lexicon.lookup(combined)
        if hit is None:
            continue
        subject.thing = hit[0]
        subject.word = f"{subject.word} + {anchor.word}"
        _drop(scene, subject.anchor, into=index)


def _drop(scene: Scene, removed: int, *, into: int) -> None:
    """Remove one subject; whatever related to it now relates to `into`'s anchor."""
    target = scene.subjects[into]
    target.relation, target.anchor = scene.subjects[removed].relation, scene.subjects[removed].anchor
    del scene.subjects[removed]
    for subject in scene.subjects:
        if subject.anchor == removed:
            subject.anchor = into
        if subject.anchor is not None and subject.anchor > removed:
            subject.anchor -= 1
        if subject.anchor is not None and scene.subjects[subject.anchor] is subject:
            subject.relation = subject.anchor = None


def _infer(scene: Scene, lexicon: Lexicon) -> None:
    """Fill in what the prompt left unsaid from its subjects (a boat implies water)."""
    table_things = [i for i, s in enumerate(scene.subjects) if s.thing.place == "table" and s.anchor is None]
    all_small = all(s.thing.place == "table" for s in scene.subjects)
    if table_things and all_small and "setting" not in scene.stated:
        # small things alone ("a bowl of ramen") are set on a table indoors, as a still life
        table = lexicon.lookup("table")
        if table is not None:
            scene.subjects.append(Subject(thing=table[0], word="(implied)"))
            for i in table_things:
                scene.subjects[i].relation, scene.subjects[i].anchor = "on", len(scene.subjects) - 1
    if "setting" not in scene.stated:
        implied = next((s.thing.implies for s in scene.subjects if s.thing.implies), None)
        if implied is None and any(s.thing.place == "floor" for s in scene.subjects):
            implied = "room"
        if implied is not None:
            scene.setting = implied
            if implied in SETTING_WEATHER and "weather" not in scene.stated:
                scene.weather = SETTING_WEATHER[implied]
    if "time" not in scene.stated and scene.setting not in INDOOR_SETTINGS:
        implied_time = next((s.thing.time for s in scene.subjects if s.thing.time), None)
        if implied_time is not None:
            scene.time = implied_time
    if scene.weather == "snow" or scene.setting == "snow":  # mountains in the snow wear snow caps
        snowy = lexicon.lookup("snowy mountain")
        for subject in scene.subjects:
            if subject.thing.key == "mountain" and snowy is not None:
                subject.thing = snowy[0]
