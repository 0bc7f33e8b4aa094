"""Structured answers from chat models that may not follow instructions: find the JSON, or the list.

Providers differ in how (and whether) they can be made to answer JSON, and the embedded
local model is tiny, so a step that asks for a list reads the answer leniently: the first
JSON array or object in the text; failing that, numbered or bulleted lines outside code
blocks; failing that, nothing (the workflow's padding fills the list). `fit` then trims or pads the list to the count the workflow asked for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
# "- x", "1. x", "a) x", and the labelled form small models drift into: "Title 2: x", "Section 3 - x".
_ITEM_LINE = re.compile(
    r"^\s*(?:[-*•]|\d+[.)]|[A-Za-z][.)]|(?:title|section|prompt|item|idea)\s*\d+\s*[:.)-])\s+(.*\S)\s*$",
    re.IGNORECASE)
MAX_ITEM_CHARS = 2000
# A label a small model puts before the item itself: "Prompt 2: ...", "**Title 1:** ...".
_LABEL = re.compile(r"^\**(?:title|section|prompt|item|idea|scene)\s*\d*\s*:\**\s*", re.IGNORECASE)


def first_json(text: str) -> Any | None:
    """The first JSON array or object in the text (inside a code fence or not), else None."""
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    for candidate in candidates:
        for start, char in enumerate(candidate):
            if char not in "[{":
                continue
            try:
                value, _ = decoder.raw_decode(candidate, start)
            except json.JSONDecodeError:
                continue
            if isinstance(value, (list, dict)):
                return value
    return None


def _clean(item: Any) -> str:
    if isinstance(item, dict):
        # {"title": ...} or {"prompt": ...}: the first text value is the item.
        item = next((v for v in item.values() if isinstance(v, str) and v.strip()), json.dumps(item))
    text = str(item).strip().strip('"').strip()
    text = _LABEL.sub("", text).strip().strip('"').strip()  # "Prompt 2: a runner at dawn" -> the item itself
    text = re.sub(r"^\*\*(.*)\*\*$", r"\1", text)
    return text[:MAX_ITEM_CHARS]


def as_list(text: str) -> list[str]:
    """The items the answer lists, in order, as plain strings."""
    value = first_json(text)
    if isinstance(value, dict):
        value = next((v for v in value.values() if isinstance(v, list)), None)
    if isinstance(value, list):
        items = [_clean(v) for v in value]
        items = [i for i in items if i]
        if items:
            return items
    # No JSON: numbered or bulleted lines outside code blocks. Anything else (prose, code) is
    # not a list, and the caller pads with its defaults rather than inventing items from it.
    prose = _FENCE.sub("", text).split("```")[0]
    marked = [m.group(1) for line in prose.splitlines() if (m := _ITEM_LINE.match(line))]
    return [c for c in (_clean(line) for line in marked) if c]


def fit(items: list[str], count: int | None, pad: Callable[[int], str]) -> list[str]:
    """Trim to `count`, or pad with `pad(index)` (1-based) up to it; None keeps the list."""
    if count is None:
        return items
    items = items[:count]
    while len(items) < count:
        items.append(pad(len(items) + 1))
    return items


def as_json(text: str) -> Any:
    """A JSON value from the answer: the first array or object, else the whole text as a string."""
    value = first_json(text)
    return value if value is not None else text.strip()
