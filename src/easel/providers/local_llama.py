"""The `local` provider: chat models run in-process by llama.cpp through the `xllamacpp` wheel.

Serves the built-in `local:smollm2-135m` and `local:qwen2.5-coder-0.5b` (their catalog
entries are curated data; this module only finds their weights) and every GGUF declared
under `local_models` in the settings, which `extra_models()` turns into `local:<name>`.
llama.cpp speaks OpenAI's chat format, so requests and chunks go through
`adapters.openai_chat`; loading, slots and idle unloading live in `local_runtime`,
finding weights in `local_weights`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from easel.adapters.openai_chat import events_from_chunk, to_wire
from easel.catalog.entry import Capabilities, ModelEntry, Pricing
from easel.config import LocalModelConfig, Settings
from easel.errors import (
    ContextWindowExceeded,
    EaselError,
    InvalidRequest,
    UpstreamBadRequest,
    UpstreamError,
    UpstreamUnavailable,
)
from easel.providers.base import Availability, Provider
from easel.providers.local_runtime import (
    LoadedInfo,
    LoadError,
    ModelManager,
    RuntimeConfig,
    build_server,
    runtime_config,
)
from easel.providers.local_weights import LocalWeights, locate
from easel.tasks.chat import ChatEvent, ChatRequest, Usage, UsageEvent

PROVIDER = "local"


def entry_for_config(model: LocalModelConfig) -> ModelEntry:
    """The catalog entry of a GGUF declared in the settings."""
    return ModelEntry(
        id=f"{PROVIDER}:{model.name}",
        provider=PROVIDER,
        upstream_name=model.name,
        task="chat",
        display_name=f"{model.name} (local GGUF)",
        context_window=model.context_window,
        capabilities=Capabilities(seed=True),
        pricing=Pricing(input_per_mtok=0.0, output_per_mtok=0.0),
        description=f"GGUF file {model.path}, run by llama.cpp",
    )


def request_body(request: ChatRequest, entry: ModelEntry) -> dict[str, Any]:
    """The OpenAI-shaped body llama.cpp takes; `model` is dropped (the server holds one model)."""
    body = to_wire(request, entry.upstream_name, stream=True, send_reasoning_effort=False)
    body.pop("model", None)
    if request.max_tokens is None and entry.max_output_tokens:
        body["max_tokens"] = entry.max_output_tokens
    return body


def usage_from_timings(timings: dict[str, Any]) -> Usage:
    """Usage from the last chunk's timings, when no usage chunk came."""
    cached = int(timings.get("cache_n") or 0)
    return Usage(
        prompt_tokens=int(timings.get("prompt_n") or 0) + cached,
        completion_tokens=int(timings.get("predicted_n") or 0),
        cached_tokens=cached,
    )


def error_from_wire(error: dict[str, Any], entry: ModelEntry) -> EaselError:
    """llama.cpp's `{"error": {...}}` as an easel error."""
    kind = error.get("type")
    code = error.get("code")
    status = code if isinstance(code, int) else None
    message = str(error.get("message") or "llama.cpp failed")
    if kind == "exceed_context_size_error":
        return ContextWindowExceeded(
            f"The conversation is {error.get('n_prompt_tokens', '?')} tokens but {entry.id} holds "
            f"{error.get('n_ctx', '?')} tokens per request: shorten it or start a new conversation.",
            param="messages",
        )
    if status == 400 or kind == "invalid_request_error":
        return UpstreamBadRequest(message, provider=PROVIDER, upstream_status=status)
    if status == 503 or kind == "unavailable_error":
        return UpstreamUnavailable(message, provider=PROVIDER, upstream_status=status)
    return UpstreamError(message, provider=PROVIDER, upstream_status=status)


class LocalLlamaProvider(Provider):
    """Local GGUF chat models, loaded on first use and unloaded when idle."""

    name = PROVIDER
    display_name = "Local (llama.cpp)"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._manager = ModelManager(settings.local_idle_unload_seconds)

    # -- models -----------------------------------------------------------------

    def weights(self, entry: ModelEntry) -> LocalWeights:
        return locate(self.settings, entry.name)

    def availability(self, entry: ModelEntry) -> Availability:
        weights = self.weights(entry)
        return Availability(weights.installed, weights.missing_reason)

    def extra_models(self) -> list[ModelEntry]:
        return [entry_for_config(model) for model in self.settings.local_models]

    def runtime_config(self, entry: ModelEntry) -> RuntimeConfig:
        """How `entry` is loaded; raises InvalidRequest when its weights are missing."""
        weights = self.weights(entry)
        if weights.path is None:
            raise InvalidRequest(f"{entry.id} is not available: {weights.missing_reason}",
                                 param="model", code="model_not_installed")
        return runtime_config(
            weights.path,
            context_window=weights.context_window or entry.context_window or 4096,
            n_parallel=self.settings.local_parallel,
            threads=self.settings.local_threads,
            chat_template=weights.chat_template,
        )

    # -- lifecycle ----------------------------------------------------------------

    async def load(self, entry: ModelEntry) -> LoadedInfo:
        """Load `entry` now (a no-op when warm) and return what was loaded."""
        try:
            model = await self._manager.acquire(entry.name, self.runtime_config(entry))
        except LoadError as exc:
            raise UpstreamError(str(exc), provider=PROVIDER) from exc
        info = model.info()
        self._manager.release(model)
        return info

    async def unload(self, entry: ModelEntry | None = None) -> list[str]:
        """Unload one model or all; returns the names unloaded."""
        return await self._manager.unload(entry.name if entry is not None else None)

    def loaded_models(self) -> list[LoadedInfo]:
        return self._manager.loaded()

    async def aclose(self) -> None:
        await self._manager.aclose()

    # -- work ---------------------------------------------------------------------

    async def stream_chat(self, entry: ModelEntry, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        config = self.runtime_config(entry)
        body = request_body(request, entry)
        chunks = self._manager.stream(entry.name, config, body)
        timings: dict[str, Any] | None = None
        usage_seen = False
        try:
            async for chunk in chunks:
                if "error" in chunk:
                    raise error_from_wire(chunk["error"] or {}, entry)
                if chunk.get("timings"):
                    timings = chunk["timings"]
                for event in events_from_chunk(chunk):
                    usage_seen = usage_seen or isinstance(event, UsageEvent)
                    yield event
        except LoadError as exc:
            raise UpstreamError(str(exc), provider=PROVIDER) from exc
        finally:
            # closes the worker too when our consumer left early: generation stops there
            await chunks.aclose()
        if not usage_seen and timings is not None:
            yield UsageEvent(usage_from_timings(timings))


def create_providers(settings: Settings) -> list[Provider]:
    """Entry point `easel.providers: local`."""
    return [LocalLlamaProvider(settings)]


# ---- direct use, for benchmarks -------------------------------------------------


@dataclass(frozen=True, slots=True)
class DirectRun:
    """One generation run straight through xllamacpp."""

    text: str
    completion_tokens: int
    seconds: float  # wall time from request to the last chunk
    tokens_per_second: float  # completion tokens / wall time
    timings: dict[str, Any]  # llama.cpp's own timings (predicted_per_second etc.)


def generate_direct(server: Any, body: dict[str, Any]) -> DirectRun:
    """One streamed generation on an `xllamacpp.Server`, no easel in between (blocking)."""
    body = {**body, "stream": True, "stream_options": {"include_usage": True}}
    parts: list[str] = []
    final: dict[str, Any] = {}

    def on_chunk(chunk: dict[str, Any]) -> bool:
        for choice in chunk.get("choices") or []:
            parts.append((choice.get("delta") or {}).get("content") or "")
        final.update({k: v for k, v in chunk.items() if k in ("usage", "timings", "error")})
        return False

    started = time.perf_counter()
    server.handle_chat_completions(body, on_chunk)
    seconds = time.perf_counter() - started
    if "error" in final:
        raise RuntimeError(f"llama.cpp: {final['error'].get('message')}")
    tokens = int((final.get("usage") or {}).get("completion_tokens") or 0)
    return DirectRun("".join(parts), tokens, seconds, tokens / seconds if seconds else 0.0,
                     dict(final.get("timings") or {}))


def direct_generations(settings: Settings, entry: ModelEntry, request: ChatRequest,
                       *, runs: int = 1, warmup: bool = True) -> list[DirectRun]:
    """Run `request` `runs` times straight through xllamacpp, loaded exactly as the provider
    loads it (same path, context, slots, threads). Blocking; for benchmarks that compare
    tokens/s with and without easel in between.
    """
    config = LocalLlamaProvider(settings).runtime_config(entry)
    body = request_body(request, entry)
    server = build_server(config)
    try:
        if warmup:
            generate_direct(server, {**body, "max_tokens": 4})
        return [generate_direct(server, body) for _ in range(runs)]
    finally:
        del server  # frees the model now rather than at the next garbage collection
