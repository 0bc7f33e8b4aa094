"""Render the illustrator's visual check: ten varied prompts at the default size (1024x1024), seed 1.

Run from the repository root with the venv active: `python docs/illustrator/render_check.py`.
It rewrites the PNGs beside this file and the table of what was understood in README.md
(between the `<!-- table -->` markers); the notes on what each picture shows are written by
a person who looked at them, and must be checked again after the illustrator changes.
"""

from __future__ import annotations

import re
from pathlib import Path

from easel.illustrator.render import Illustrator
from easel.tasks.image import dimensions_for

HERE = Path(__file__).resolve().parent
SEED = 1
PROMPTS = [
    "a red car under a tree at sunset",
    "three cats on a sofa in a cozy living room",
    "a lighthouse on a cliff at night with stars",
    "a person riding a bicycle in the city in the rain",
    "a rocket above the moon in space",
    "a castle on a mountain in the snow",
    "a coffee cup and a croissant on a table, morning light",
    "a sailboat on the ocean at sunrise, watercolor",
    "a dog playing with a ball in a park",
    "a desert with cacti and a camel under a blazing sun",
]


def slug(prompt: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", prompt.lower()).strip("-")[:48]


def row(number: int, prompt: str, described: dict[str, object], name: str) -> str:
    subjects = []
    for item in described["subjects"]:  # type: ignore[attr-defined]
        text = f"{item['drawn']} {item['subject']}"
        if item.get("color"):
            text = f"{item['drawn']} {item['color']} {item['subject']}"
        if item.get("relation"):
            text += f" ({item['relation']})"
        subjects.append(text)
    scene = ", ".join(subjects) or "nothing"
    context = f"{described['setting']}, {described['time_of_day']}"
    if described["weather"]:
        context += f", {described['weather']}"
    extras = ", ".join([*described["styles"], *described["moods"]])  # type: ignore[misc]
    return f"| {number} | {prompt} | {scene} | {context} | {extras or '-'} | [{name}]({name}) |"


def main() -> None:
    illustrator = Illustrator.locate()
    width, height = dimensions_for("1:1")
    rows = ["| # | prompt | subjects drawn | setting, time, weather | style, mood | picture |",
            "| --- | --- | --- | --- | --- | --- |"]
    for number, prompt in enumerate(PROMPTS, 1):
        illustration = illustrator.render(illustrator.parse(prompt), width, height, SEED)
        name = f"{number:02d}-{slug(prompt)}.png"
        illustration.image.save(HERE / name, optimize=True)
        rows.append(row(number, prompt, illustration.describe(), name))
    readme = HERE / "README.md"
    text = readme.read_text(encoding="utf-8")
    table = "\n".join(rows)
    text = re.sub(r"<!-- table -->.*<!-- /table -->", f"<!-- table -->\n{table}\n<!-- /table -->", text, flags=re.S)
    readme.write_text(text, encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
