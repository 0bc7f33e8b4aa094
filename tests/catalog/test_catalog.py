"""Catalog: resolve() by id, alias and bare name; did-you-mean; wrong task; run-time extras."""

from __future__ import annotations

import pytest

from easel.catalog.catalog import Catalog, merge_curated
from easel.catalog.entry import ModelEntry, Task
from easel.errors import InvalidRequest, ModelNotFound


def entry(id: str, task: Task = "chat", **fields: object) -> ModelEntry:
    provider, name = id.split(":", 1)
    return ModelEntry(id=id, provider=provider, upstream_name=name, task=task, display_name=name, **fields)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gpt-5", "openai:gpt-5"),
        ("grok-4", "xai:grok-4"),
        ("claude-sonnet-4-5", "anthropic:claude-sonnet-4-5"),
        ("sonnet-4.5", "anthropic:claude-sonnet-4-5"),
        ("deepseek-reasoner", "deepseek:deepseek-reasoner"),
        ("smollm2", "local:smollm2-135m"),
        ("grok-4.20", "xai:grok-4.20"),
        ("o4-mini", "openai:o4-mini"),
        ("gemini-2.5-pro", "gemini:gemini-2.5-pro"),
        ("xai:grok-4", "xai:grok-4"),
        ("local:qwen2.5-coder-0.5b", "local:qwen2.5-coder-0.5b"),
    ],
)
def test_ids_and_aliases_resolve(catalog: Catalog, name: str, expected: str) -> None:
    assert catalog.resolve(name).id == expected
    assert catalog.resolve(name, task="chat").id == expected


def test_grok_4_20_names_its_real_upstream_model(catalog: Catalog) -> None:
    grok = catalog.resolve("grok-4.20")
    assert grok.upstream_name == "grok-4.20-0309-reasoning"
    assert grok.capabilities.reasoning
    assert not catalog.resolve("grok-4.20-non-reasoning").capabilities.reasoning


def test_bare_upstream_names_resolve_when_unique(catalog: Catalog) -> None:
    assert catalog.resolve("gpt-4o").id == "openai:gpt-4o"
    assert catalog.resolve("GPT-4o").id == "openai:gpt-4o"
    assert catalog.resolve("claude-sonnet-4-5-20250929").id == "anthropic:claude-sonnet-4-5-20250929"


def test_a_bare_name_several_providers_share_names_the_choices() -> None:
    catalog = Catalog([entry("groq:llama-3-8b"), entry("together:llama-3-8b")])
    with pytest.raises(ModelNotFound) as err:
        catalog.resolve("llama-3-8b")
    assert "groq:llama-3-8b" in err.value.message and "together:llama-3-8b" in err.value.message
    assert catalog.resolve("groq:llama-3-8b").provider == "groq"


def test_unknown_model_suggests_the_nearest_ids(catalog: Catalog) -> None:
    with pytest.raises(ModelNotFound) as err:
        catalog.resolve("gpt5")
    error = err.value
    assert error.status_code == 404 and error.param == "model" and error.code == "model_not_found"
    assert error.message.startswith("Unknown model 'gpt5'. Did you mean: openai:gpt-5,")
    with pytest.raises(ModelNotFound, match="xai:grok-4"):
        catalog.resolve("grok4")
    with pytest.raises(ModelNotFound, match="anthropic:claude-sonnet-4-5"):
        catalog.resolve("claude-sonet-4-5")


def test_nothing_near_says_where_to_look(catalog: Catalog) -> None:
    with pytest.raises(ModelNotFound) as err:
        catalog.resolve("qqqqqqqqqqqqqqqq")
    assert "Did you mean" not in err.value.message


def test_get_is_exact(catalog: Catalog) -> None:
    assert catalog.get("openai:gpt-5") is not None
    assert catalog.get("gpt-5") is None
    assert catalog.get("nope:nothing") is None


def test_wrong_task_raises_invalid_request() -> None:
    catalog = Catalog.load([entry("test:picture", task="image", aliases=["pic"])])
    with pytest.raises(InvalidRequest) as err:
        catalog.resolve("pic", task="chat")
    assert err.value.code == "wrong_task" and err.value.param == "model" and err.value.status_code == 400
    assert "image model" in err.value.message
    assert catalog.resolve("pic", task="image").id == "test:picture"
    with pytest.raises(InvalidRequest, match="is a chat model"):
        catalog.resolve("smollm2", task="image")


def test_suggestions_keep_to_the_task_asked_for() -> None:
    catalog = Catalog([entry("a:flux-pro", task="image"), entry("b:flux-pro-chat")])
    assert catalog.suggest("flux-pr", task="image") == ["a:flux-pro"]
    assert "b:flux-pro-chat" in catalog.suggest("flux-pr")


def test_extra_entries_are_included_and_win_on_clashes(catalog: Catalog) -> None:
    mine = entry("local:my-gguf", context_window=4096, aliases=["mine"])
    override = entry("openai:gpt-5", context_window=123, aliases=["gpt-5"])
    extended = Catalog.load([mine, override])
    assert len(extended) == len(catalog) + 1
    assert extended.resolve("mine") is mine
    assert extended.resolve("gpt-5").context_window == 123
    assert catalog.resolve("gpt-5").context_window == 400_000


def test_alias_moved_by_an_extra_leaves_its_old_owner() -> None:
    catalog = Catalog([entry("a:one", aliases=["fav"]), entry("b:two", aliases=["fav"])])
    assert catalog.resolve("fav").id == "b:two"
    assert catalog.resolve("one").id == "a:one"


def test_list_filters_by_task_and_provider(catalog: Catalog) -> None:
    everything = catalog.list()
    assert len(everything) == len(catalog) >= 300
    assert [e.id for e in everything] == sorted(e.id for e in everything)
    xai = catalog.list(provider="xai")
    assert xai and all(e.provider == "xai" for e in xai)
    assert {e.id for e in catalog.list(task="chat", provider="local")} >= {"local:smollm2-135m"}
    assert catalog.list(task="video") == []
    assert "openrouter" in catalog.providers()
    assert "openai:gpt-5" in catalog


def test_each_load_has_its_own_entries() -> None:
    first, second = Catalog.load(), Catalog.load()
    assert first.get("openai:gpt-5") is not second.get("openai:gpt-5")
    first.resolve("gpt-5").aliases.append("mutated")
    assert "mutated" not in second.resolve("gpt-5").aliases
    assert "mutated" not in Catalog.load().resolve("gpt-5").aliases


def test_curated_records_lay_over_generated_ones() -> None:
    generated = [
        {"id": "x:base-0309", "provider": "x", "upstream_name": "base-0309", "task": "chat",
         "display_name": "Base", "capabilities": {"tools": True, "reasoning": False}, "aliases": ["b"]},
    ]
    curated = [
        {"id": "x:base-0309", "capabilities": {"reasoning": True}, "curated": True},
        {"id": "x:base", "_from": "x:base-0309", "display_name": "Base (latest)", "_source": "notes"},
    ]
    merged = {r["id"]: r for r in merge_curated(generated, curated)}
    assert merged["x:base-0309"]["capabilities"] == {"tools": True, "reasoning": True}
    assert merged["x:base-0309"]["aliases"] == ["b"]
    assert merged["x:base"]["upstream_name"] == "base-0309"
    assert "aliases" not in merged["x:base"] and "_source" not in merged["x:base"]
    with pytest.raises(ValueError, match="unknown id"):
        merge_curated(generated, [{"id": "x:y", "_from": "x:nope"}])
