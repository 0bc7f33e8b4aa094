"""Chat: resolve the model, check the request against it, stream from its provider, account usage.

The hot path of /v1/chat/completions. Everything here is in-memory work (dict lookups,
a few comparisons); usage goes to a buffered recorder, never awaited on the request.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any, Protocol

from easel.catalog.catalog import Catalog
from easel.catalog.entry import ModelEntry
from easel.errors import ContextWindowExceeded, EaselError, InvalidRequest, ModelNotFound
from easel.providers.base import Provider, ProviderRegistry
from easel.services.reasoning import THINK_FIRST_MODE, ThinkTagSplitter, think_first, think_first_warnings
from easel.tasks.chat import (
    ChatEvent,
    ChatRequest,
    Citations,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
    UsageEvent,
)
from easel.websearch.context import mark_cited

# A deliberately low estimate of characters per token: the check below only refuses prompts
# that are certainly too long; borderline ones go to the provider, which has the real tokenizer.
_CHARS_PER_TOKEN_FLOOR = 4


class UsageSink(Protocol):
    """Where usage goes; `record` must not block (the storage recorder buffers and batches)."""

    def record(self, *, owner_id: str, model: str, provider: str, endpoint: str, usage: Usage | None = None,
               cost: float | None = None, latency_ms: int | None = None, status: str = "succeeded") -> None: ...


class Grounding(Protocol):
    """Puts live web sources into a prepared request (services.web_context.WebContextService)."""

    async def ground(self, prepared: PreparedChat) -> None: ...


@dataclass(slots=True)
class PreparedChat:
    entry: ModelEntry
    provider: Provider
    request: ChatRequest
    warnings: list[str] = field(default_factory=list)
    #: what the answer's message records about how it was made (messages.extras; each part owns its keys)
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ChatTimings:
    """Filled in while a stream runs; read after it ends."""

    started: float = field(default_factory=time.perf_counter)
    first_token_ms: float | None = None
    total_ms: float | None = None
    usage: Usage | None = None


def estimate_prompt_tokens(request: ChatRequest) -> int:
    chars = sum(len(m.text()) for m in request.messages)
    return chars // _CHARS_PER_TOKEN_FLOOR


class ChatService:
    def __init__(self, *, catalog: Catalog, providers: ProviderRegistry, usage: UsageSink,
                 web: Grounding | None = None) -> None:
        self.catalog = catalog
        self.providers = providers
        self.usage = usage
        self.web = web

    def prepare(self, request: ChatRequest) -> PreparedChat:
        """Resolve and check a request; every refusal here is a 4xx with a message that says what to fix."""
        entry = self.catalog.resolve(request.model, task="chat")
        provider = self.providers.get(entry.provider)
        if provider is None:
            raise ModelNotFound(
                f"Model '{entry.id}' needs the provider '{entry.provider}', which is not installed.", param="model"
            )
        availability = provider.availability(entry)
        if not availability.usable:
            if provider.credentials_env:
                provider.require_api_key()  # raises MissingCredentials naming the variable
            raise InvalidRequest(f"Model '{entry.id}' is not usable now: {availability.reason}.",
                                 param="model", code="model_not_available")
        warnings: list[str] = []
        updates: dict[str, object] = {"model": entry.id}
        output_limit = entry.max_output_tokens or entry.context_window
        if request.max_tokens is not None and output_limit and request.max_tokens > output_limit:
            raise InvalidRequest(
                f"max_tokens is too large: {request.max_tokens}. Model '{entry.id}' writes at most "
                f"{output_limit} tokens per answer.", param="max_tokens", code="invalid_value")
        if entry.context_window:
            estimate = estimate_prompt_tokens(request)
            if estimate > entry.context_window:
                raise ContextWindowExceeded(
                    f"Model '{entry.id}' has a context window of {entry.context_window} tokens; these messages "
                    f"are at least {estimate} tokens. Shorten them or pick a model with a larger window.",
                    param="messages")
        if request.reasoning_effort is not None and not entry.capabilities.reasoning:
            warnings.append(f"reasoning_effort ignored: '{entry.id}' has no reasoning control")
            updates["reasoning_effort"] = None
        elif request.reasoning_effort is not None:  # the host's own levels (provider profiles declare them)
            updates["reasoning_effort"], note = provider.reasoning_effort(entry, request.reasoning_effort)
            warnings += [note] if note else []
        extras: dict[str, Any] = {}
        if request.think_first:
            warnings += think_first_warnings(entry)
            extras["mode"] = THINK_FIRST_MODE
        if request.tools and not entry.capabilities.tools:
            raise InvalidRequest(f"Model '{entry.id}' does not support tools.", param="tools",
                                 code="unsupported_parameter")
        return PreparedChat(entry, provider, request.model_copy(update=updates), warnings, extras)

    async def stream(
        self, prepared: PreparedChat, *, owner_id: str, endpoint: str, timings: ChatTimings | None = None
    ) -> AsyncGenerator[ChatEvent, None]:
        """The provider's events, measured and accounted. Closing this closes the provider stream."""
        timings = timings or ChatTimings()
        if prepared.request.web_search and self.web is not None:  # live web: read before the model answers
            await self.web.ground(prepared)
            if prepared.extras.get("citations"):
                yield Citations(prepared.extras["citations"])
                # the answer (the web is consumed: not searched again), then the sources it cited
                answer, text = self.stream(prepared, owner_id=owner_id, endpoint=endpoint, timings=timings), []
                try:
                    async for event in answer:
                        if isinstance(event, TextDelta):
                            text.append(event.text)
                        yield event
                finally:
                    await answer.aclose()
                prepared.extras["citations"] = mark_cited(prepared.extras["citations"], "".join(text))
                yield Citations(prepared.extras["citations"])
                return
        if prepared.request.think_first:  # two passes, each accounted on its own as it runs through here
            passes = think_first(self, prepared, owner_id=owner_id, endpoint=endpoint, timings=timings)
            try:
                async for event in passes:
                    yield event
            finally:
                await passes.aclose()  # type: ignore[attr-defined]
            return
        status = "succeeded"
        events = prepared.provider.stream_chat(prepared.entry, prepared.request)
        splitter = ThinkTagSplitter()  # `<think>` text opening an answer is reasoning, whoever serves it
        try:
            async for raw in events:
                for event in splitter.split(raw):
                    if timings.first_token_ms is None and isinstance(event, (TextDelta, ReasoningDelta, ToolCallDelta)):
                        timings.first_token_ms = (time.perf_counter() - timings.started) * 1000
                    elif isinstance(event, UsageEvent):
                        timings.usage = event.usage
                    elif isinstance(event, Citations):  # a server-side search's sources, stored with the answer
                        prepared.extras["citations"] = event.items
                    yield event
        except EaselError:
            status = "failed"
            raise
        except BaseException:
            status = "canceled"
            raise
        finally:
            await events.aclose()  # type: ignore[attr-defined]  # providers implement it as a generator
            timings.total_ms = (time.perf_counter() - timings.started) * 1000
            usage = timings.usage or Usage()
            self.usage.record(
                owner_id=owner_id,
                model=prepared.entry.id,
                provider=prepared.entry.provider,
                endpoint=endpoint,
                usage=usage,
                cost=prepared.entry.cost(usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens),
                latency_ms=round(timings.total_ms),
                status=status,
            )
