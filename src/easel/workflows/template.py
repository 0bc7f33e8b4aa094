"""The `{{ ... }}` substitution in workflow fields: dotted paths and a few filters, nothing more.

    {{ inputs.product }}                    an input
    {{ steps.brief.text }}                  an earlier step's output (text, json, assets, markdown, items)
    {{ steps.prompts.json[0] }}             an element of a list
    {{ item }} / {{ index }}                in a for_each step: the current item and its 1-based position
    {{ steps.pictures.assets | first }}     filters, chained left to right
    {{ steps.outline.json | join(", ") }}   a filter with arguments: strings, integers or paths

Filters: json, join(sep), first, last, pick(n), length, default(v), upper, lower, trim,
numbered, bullets, and for Markdown: images (asset ids as pictures), gallery (an image
step's items with their prompts), sections (a chat step's items under their titles).

It is an evaluator of paths, not a language: no attribute access beyond dict keys and list
indexes, no calls but the filters below, so a shared workflow file cannot run code. A field
that is exactly one `{{ ... }}` evaluates to the value itself (a list stays a list, for
`for_each`); anywhere else values are written as text (lists and mappings as JSON).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from easel.errors import InvalidRequest

_BLOCK = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_TOKEN = re.compile(r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<int>-?\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)
                        |(?P<op>[.|()\[\],]))""", re.VERBOSE)


class TemplateError(InvalidRequest):
    """A template that cannot be read, or names something that is not there."""

    default_code = "invalid_template"


@dataclass(frozen=True, slots=True)
class Path:
    """A dotted path: `steps.brief.text` is ("steps", "brief", "text"); `json[0]` adds 0."""

    parts: tuple[str | int, ...]

    def __str__(self) -> str:
        text = ""
        for part in self.parts:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
        return text


@dataclass(frozen=True, slots=True)
class Filter:
    name: str
    args: tuple[Any, ...]  # literals or Paths


@dataclass(frozen=True, slots=True)
class Expression:
    path: Path
    filters: tuple[Filter, ...]

    def paths(self) -> Iterator[Path]:
        yield self.path
        for f in self.filters:
            yield from (a for a in f.args if isinstance(a, Path))


def _tokens(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            raise TemplateError(f"cannot read '{text.strip()}' near '{text[pos:].strip()[:20]}'")
        pos = match.end()
        kind = match.lastgroup or ""
        value: Any = match.group(kind)
        if kind == "str":
            value = json.loads('"' + value[1:-1].replace('"', '\\"').replace("\\'", "'") + '"')
        elif kind == "int":
            value = int(value)
        tokens.append((kind, value))
    return tokens


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text.strip()
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind: str, value: Any = None) -> Any:
        token = self.peek()
        if token is None or token[0] != kind or (value is not None and token[1] != value):
            want = value if value is not None else kind
            raise TemplateError(f"cannot read '{{{{ {self.text} }}}}': expected {want!s}")
        self.pos += 1
        return token[1]

    def path(self) -> Path:
        parts: list[str | int] = [self.take("name")]
        while (token := self.peek()) is not None and token[1] in (".", "["):
            self.pos += 1
            if token[1] == ".":
                parts.append(self.take("name"))
            else:
                parts.append(self.take("int"))
                self.take("op", "]")
        return Path(tuple(parts))

    def argument(self) -> Any:
        token = self.peek()
        if token is not None and token[0] in ("str", "int"):
            self.pos += 1
            return token[1]
        return self.path()

    def expression(self) -> Expression:
        path = self.path()
        filters: list[Filter] = []
        while self.peek() == ("op", "|"):
            self.pos += 1
            name = self.take("name")
            if name not in FILTERS:
                raise TemplateError(f"unknown filter '{name}' in '{{{{ {self.text} }}}}'; "
                                    f"filters: {', '.join(sorted(FILTERS))}")
            args: list[Any] = []
            if self.peek() == ("op", "("):
                self.pos += 1
                while self.peek() != ("op", ")"):
                    args.append(self.argument())
                    if self.peek() == ("op", ","):
                        self.pos += 1
                self.take("op", ")")
            filters.append(Filter(name, tuple(args)))
        if self.peek() is not None:
            raise TemplateError(f"cannot read '{{{{ {self.text} }}}}': unexpected '{self.peek()[1]}'")  # type: ignore[index]
        return Expression(path, tuple(filters))


def parse_expressions(template: str) -> list[Expression]:
    """Every `{{ ... }}` in a template, parsed; `TemplateError` for one that cannot be read."""
    return [_Reader(block).expression() for block in _BLOCK.findall(template)]


def _lookup(path: Path, context: Mapping[str, Any]) -> Any:
    value: Any = context
    for depth, part in enumerate(path.parts):
        here = Path(path.parts[: depth + 1])
        if isinstance(part, int):
            if not isinstance(value, list):
                raise TemplateError(f"'{Path(path.parts[:depth])}' is not a list, so '{here}' has no value")
            if not -len(value) <= part < len(value):
                raise TemplateError(f"'{here}' is out of range: the list has {len(value)} items")
            value = value[part]
        else:
            if not isinstance(value, Mapping) or part not in value:
                raise TemplateError(f"'{here}' has no value")
            value = value[part]
    return value


def as_text(value: Any) -> str:
    """How a value is written into text: strings as they are, lists and mappings as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _as_list(value: Any, name: str) -> list[Any]:
    if isinstance(value, list):
        return value
    if value is None:
        return []
    raise TemplateError(f"the filter '{name}' needs a list")


def _sections(value: Any, level: int = 2) -> str:
    """for_each items of a chat step -> "## <item>\n\n<text>" blocks."""
    blocks = []
    for entry in _as_list(value, "sections"):
        entry = entry if isinstance(entry, Mapping) else {"text": as_text(entry)}
        heading = as_text(entry.get("item")).strip()
        body = as_text(entry.get("text")).strip()
        blocks.append((f"{'#' * level} {heading}\n\n" if heading else "") + body)
    return "\n\n".join(blocks)


def _images(value: Any, alt: str = "Image") -> str:
    ids = [value] if isinstance(value, str) else _as_list(value, "images")
    def label(number: int) -> str:
        return f"{alt} {number}" if len(ids) > 1 else alt
    return "\n\n".join(f"![{label(i)}](/api/assets/{asset_id}/content)" for i, asset_id in enumerate(ids, 1))


def _gallery(value: Any) -> str:
    """for_each items of an image step -> each picture with its prompt as the caption."""
    blocks = []
    for number, entry in enumerate(_as_list(value, "gallery"), 1):
        entry = entry if isinstance(entry, Mapping) else {"assets": [entry]}
        caption = as_text(entry.get("item")).strip()
        pictures = _images(entry.get("assets") or [], f"Image {number}")
        blocks.append(pictures + (f"\n\n*{caption}*" if caption else ""))
    return "\n\n".join(blocks)


def _pick(value: Any, choice: Any = 1) -> Any:
    """The element a 1-based number names; the number may be inside text ("Prompt 2 is best").
    Out of range or no number: the first element."""
    items = _as_list(value, "pick")
    if not items:
        return None
    found = re.search(r"\d+", as_text(choice))
    number = int(found.group()) if found else 1
    return items[number - 1] if 1 <= number <= len(items) else items[0]


FILTERS: dict[str, Callable[..., Any]] = {
    "gallery": _gallery,
    "pick": _pick,
    "json": lambda v: json.dumps(v, ensure_ascii=False),
    "join": lambda v, sep=", ": sep.join(as_text(x) for x in _as_list(v, "join")),
    "first": lambda v: _as_list(v, "first")[0] if _as_list(v, "first") else None,
    "last": lambda v: _as_list(v, "last")[-1] if _as_list(v, "last") else None,
    "length": lambda v: len(v) if isinstance(v, (list, str, dict)) else 0,
    "default": lambda v, fallback="": fallback if v in (None, "", []) else v,
    "upper": lambda v: as_text(v).upper(),
    "lower": lambda v: as_text(v).lower(),
    "trim": lambda v: as_text(v).strip(),
    "numbered": lambda v: "\n".join(f"{i}. {as_text(x)}" for i, x in enumerate(_as_list(v, "numbered"), 1)),
    "bullets": lambda v: "\n".join(f"- {as_text(x)}" for x in _as_list(v, "bullets")),
    "sections": _sections,
    "images": _images,
}


def _evaluate(expression: Expression, context: Mapping[str, Any]) -> Any:
    value = _lookup(expression.path, context)
    for f in expression.filters:
        args = [_lookup(a, context) if isinstance(a, Path) else a for a in f.args]
        try:
            value = FILTERS[f.name](value, *args)
        except TypeError as exc:
            raise TemplateError(f"the filter '{f.name}' got the wrong arguments ({len(args)} given)") from exc
    return value


def evaluate(template: str, context: Mapping[str, Any]) -> Any:
    """A field's value: one whole `{{ ... }}` gives the value itself; otherwise the text with
    each block replaced."""
    whole = _BLOCK.fullmatch(template.strip())
    if whole is not None:
        return _evaluate(_Reader(whole.group(1)).expression(), context)
    return render(template, context)


def render(template: str, context: Mapping[str, Any]) -> str:
    """The template as text, each `{{ ... }}` replaced by its value written as text."""
    return _BLOCK.sub(lambda m: as_text(_evaluate(_Reader(m.group(1)).expression(), context)), template)
