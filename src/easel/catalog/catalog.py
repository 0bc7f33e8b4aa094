"""Catalog: every known model by id, alias and bare name, and resolve() with "did you mean".

The entries come from two data files in `easel/catalog/data/` (the generated facts in
models.json, the hand-written curated.json laid over them) plus whatever providers add at
run time. The files are parsed once per process; each Catalog builds its own indexes so
that resolve(), which runs on every request, is a couple of dict lookups. Suggestions for
an unknown name are computed only when a lookup fails.
"""

from __future__ import annotations

import builtins
import difflib
import json
import logging
from collections.abc import Iterable, Iterator
from functools import lru_cache
from importlib import resources
from typing import Any

from easel.catalog.entry import ModelEntry, Task
from easel.errors import InvalidRequest, ModelNotFound

log = logging.getLogger(__name__)

GENERATED_FILE = "models.json"
CURATED_FILE = "curated.json"
MEDIA_DIR = "media"
SUGGESTION_LIMIT = 5


# ---- the data files ------------------------------------------------------------


def read_data_file(name: str) -> dict[str, Any]:
    """One JSON file from easel/catalog/data, as shipped in the package."""
    text = resources.files("easel.catalog").joinpath("data", *name.split("/")).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` laid on `base`: nested objects merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def merge_curated(generated: list[dict[str, Any]], curated: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lay each curated record over the generated one with its id (or the one named by `_from`).

    A curated record with no generated base must be complete on its own. Keys starting with
    "_" are maintainers' notes and are dropped. The result is sorted by id.
    """
    by_id = {record["id"]: record for record in generated}
    for raw in curated:
        base_id = raw.get("_from", raw["id"])
        base = by_id.get(base_id)
        if "_from" in raw and base is None:
            raise ValueError(f"curated entry {raw['id']!r} is based on unknown id {base_id!r}")
        record = {k: v for k, v in raw.items() if not k.startswith("_")}
        if base is not None:
            base = {k: v for k, v in base.items() if k != "aliases"} if base_id != raw["id"] else base
            record = _deep_merge(base, record)
        by_id[record["id"]] = record
    return [by_id[key] for key in sorted(by_id)]


@lru_cache(maxsize=1)
def _data_records() -> tuple[dict[str, Any], ...]:
    """The merged records of both data files, parsed once per process and never mutated."""
    generated = read_data_file(GENERATED_FILE)["models"]
    curated = read_data_file(CURATED_FILE)["models"]
    # Image, upscale and video models: hand-written, one file per provider under data/media/.
    media_dir = resources.files("easel.catalog").joinpath("data", MEDIA_DIR)
    for item in sorted(media_dir.iterdir(), key=lambda p: p.name) if media_dir.is_dir() else ():
        if item.name.endswith(".json"):
            curated = [*curated, *read_data_file(f"{MEDIA_DIR}/{item.name}")["models"]]
    return tuple(merge_curated(generated, curated))


def data_entries() -> list[ModelEntry]:
    """Fresh ModelEntry objects for the shipped data (curated over generated)."""
    return [ModelEntry.model_validate(record) for record in _data_records()]


# ---- the catalog ---------------------------------------------------------------


def _article(task: str) -> str:
    return "an" if task[0] in "aeiou" else "a"


class Catalog:
    """Models by id. Later entries with the same id replace earlier ones, and so do their aliases.

    (Annotations say `builtins.list` because the `list` method shadows the builtin here.)
    """

    def __init__(self, entries: Iterable[ModelEntry] = ()) -> None:
        by_id: dict[str, ModelEntry] = {}
        for entry in entries:
            by_id[entry.id] = entry
        self._by_id = {key: by_id[key] for key in sorted(by_id)}
        # name -> id for aliases and bare names that are unique across providers
        self._names: dict[str, str] = {}
        # bare names several providers share: the ids to choose from
        self._ambiguous: dict[str, tuple[str, ...]] = {}
        # case-insensitive fallback for all of the above and the ids
        self._folded: dict[str, str] = {}
        self._suggest_keys: dict[str, tuple[str, ...]] | None = None
        self._index()

    @classmethod
    def load(cls, extra: Iterable[ModelEntry] = ()) -> Catalog:
        """The shipped data plus entries that providers contribute at run time (which win on clashes)."""
        return cls([*data_entries(), *extra])

    def _index(self) -> None:
        bare: dict[str, list[str]] = {}
        for entry in self._by_id.values():
            bare.setdefault(entry.name, []).append(entry.id)
        for name, ids in bare.items():
            if name in self._by_id:
                continue
            if len(ids) == 1:
                self._names[name] = ids[0]
            else:
                self._ambiguous[name] = tuple(ids)
        for entry in self._by_id.values():
            for alias in entry.aliases:
                if alias in self._by_id:
                    continue  # an id always means itself
                previous = self._names.get(alias)
                if previous is not None and previous != entry.id and alias not in bare:
                    log.warning("alias %r moves from %s to %s", alias, previous, entry.id)
                self._names[alias] = entry.id
                self._ambiguous.pop(alias, None)
        folded: dict[str, set[str]] = {}
        for key, target in [*((k, k) for k in self._by_id), *self._names.items()]:
            folded.setdefault(key.casefold(), set()).add(target)
        self._folded = {key: next(iter(ids)) for key, ids in folded.items() if len(ids) == 1}

    # -- lookups -------------------------------------------------------------

    def get(self, id: str) -> ModelEntry | None:
        """The entry with exactly this id, or None."""
        return self._by_id.get(id)

    def resolve(self, name: str, task: Task | None = None) -> ModelEntry:
        """The entry a user means by `name`: an id, an alias, or a bare name unique across providers.

        Raises ModelNotFound (suggesting the nearest ids) for an unknown name, and
        InvalidRequest(code="wrong_task") when the model serves another task than `task`.
        """
        entry = self._by_id.get(name)
        if entry is None:
            target = self._names.get(name) or self._folded.get(name.casefold())
            if target is None:
                raise self._not_found(name, task)
            entry = self._by_id[target]
        if task is not None and entry.task != task:
            raise InvalidRequest(
                f"Model '{entry.id}' is {_article(entry.task)} {entry.task} model, "
                f"not {_article(task)} {task} model.",
                param="model",
                code="wrong_task",
            )
        return entry

    def list(self, task: Task | None = None, provider: str | None = None) -> builtins.list[ModelEntry]:
        """Entries sorted by id, optionally only one task's or one provider's."""
        return [
            entry
            for entry in self._by_id.values()
            if (task is None or entry.task == task) and (provider is None or entry.provider == provider)
        ]

    def providers(self) -> builtins.list[str]:
        """The provider names that have at least one entry, sorted."""
        return sorted({entry.provider for entry in self._by_id.values()})

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[ModelEntry]:
        return iter(self._by_id.values())

    def __contains__(self, id: object) -> bool:
        return id in self._by_id

    # -- failure path ----------------------------------------------------------

    def suggest(self, name: str, task: Task | None = None, limit: int = SUGGESTION_LIMIT) -> builtins.list[str]:
        """The ids nearest to `name` (by id, alias or bare name), best first; of `task` when given."""
        keys = self._suggestion_keys()
        matches = difflib.get_close_matches(name.casefold(), keys, n=limit * 4, cutoff=0.6)
        found: builtins.list[str] = []
        for match in matches:
            for id in keys[match]:
                if id in found or (task is not None and self._by_id[id].task != task):
                    continue
                found.append(id)
        return found[:limit]

    def _suggestion_keys(self) -> dict[str, tuple[str, ...]]:
        """Casefolded id, alias and bare name -> ids; built on the first failed lookup."""
        if self._suggest_keys is None:
            keys: dict[str, builtins.list[str]] = {}
            for entry in self._by_id.values():
                for key in (entry.id, entry.name, *entry.aliases):
                    ids = keys.setdefault(key.casefold(), [])
                    if entry.id not in ids:
                        ids.append(entry.id)
            self._suggest_keys = {key: tuple(ids) for key, ids in keys.items()}
        return self._suggest_keys

    def _not_found(self, name: str, task: Task | None) -> ModelNotFound:
        choices = self._ambiguous.get(name)
        if choices:
            return ModelNotFound(
                f"Model '{name}' is offered by several providers; use a full id: {', '.join(choices)}.",
                param="model",
            )
        near = self.suggest(name, task)
        hint = f" Did you mean: {', '.join(near)}?" if near else " List the models with `easel models`."
        return ModelNotFound(f"Unknown model '{name}'.{hint}", param="model")
