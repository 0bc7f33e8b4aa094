"""The `openai-compatible` provider family: every host that speaks OpenAI's chat completions.

Built-in hosts (OpenAI, xAI, DeepSeek, OpenRouter, Groq, Together, Mistral) and the
servers a user declares under `endpoints` in the config (vLLM, Ollama, LM Studio,
llama.cpp server...) are one class, `OpenAICompatibleProvider`, parametrised by a
`Profile`: its name, base URL, key variable and wire `Dialect`. Adding a host is adding
a profile, never a branch.

The provider always streams upstream (`stream: true`, usage requested where the host
accepts it) over one lazily created httpx client, and turns the stream into ChatEvents
with `adapters.openai_chat`. A stream is complete only when it says so (`[DONE]` or a
`finish_reason`); one cut short raises UpstreamError(code=upstream_stream_cut), never a
truncated success. Closing the event iterator closes the upstream response, which is
how a client's disconnect stops the upstream generation.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
import orjson

from easel.adapters.openai_chat import Dialect, error_in_chunk, events_from_chunk, events_from_completion, to_wire
from easel.adapters.sse import SSEvent, iter_sse
from easel.adapters.upstream import error_for_status, open_stream
from easel.catalog.entry import Capabilities, ModelEntry
from easel.config import EndpointConfig, Settings
from easel.errors import ContextWindowExceeded, UpstreamBadRequest, UpstreamError
from easel.providers.base import Availability, Provider
from easel.tasks.chat import ChatEvent, ChatRequest, Finish, FinishReason, Usage, UsageEvent

#: how many upstream connections one provider keeps; a gateway streams many answers at once
_LIMITS = httpx.Limits(max_connections=512, max_keepalive_connections=64)


@dataclass(frozen=True, slots=True)
class Profile:
    """Who one OpenAI-compatible host is and how it bends the wire format."""

    name: str
    display_name: str
    base_url: str
    #: the environment variable that holds the key; None when the host needs none
    credentials_env: str | None = None
    #: a key written in the config itself (declared endpoints)
    api_key: str | None = None
    #: False for servers that take requests without a key (a local vLLM or Ollama)
    key_required: bool = True
    dialect: Dialect = field(default_factory=Dialect)
    #: extra request headers (OpenRouter's app attribution)
    headers: tuple[tuple[str, str], ...] = ()
    #: models served by a declared endpoint, as the server names them
    models: tuple[str, ...] = ()
    context_window: int | None = None

    @classmethod
    def from_endpoint(cls, endpoint: EndpointConfig) -> Profile:
        """A config-declared server. It needs a key only when the config names one."""
        return cls(
            name=endpoint.name,
            display_name=endpoint.name,
            base_url=endpoint.base_url,
            credentials_env=endpoint.api_key_env,
            api_key=endpoint.api_key,
            key_required=bool(endpoint.api_key_env or endpoint.api_key),
            models=tuple(endpoint.models),
            context_window=endpoint.context_window,
        )


# Reasoning already given back to OpenAI-style hosts is refused (OpenAI, Mistral) or
# ignored; DeepSeek requires it on tool-call turns, so only it and declared servers keep it.
_NO_HISTORY = Dialect(reasoning_history_field=None)

BUILTIN_PROFILES: tuple[Profile, ...] = (
    Profile("openai", "OpenAI", "https://api.openai.com/v1", "OPENAI_API_KEY",
            dialect=Dialect(max_tokens_field="max_completion_tokens", reasoning_history_field=None)),
    Profile("xai", "xAI", "https://api.x.ai/v1", "XAI_API_KEY", dialect=_NO_HISTORY),
    Profile("deepseek", "DeepSeek", "https://api.deepseek.com", "DEEPSEEK_API_KEY"),
    Profile("openrouter", "OpenRouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY",
            dialect=Dialect(reasoning_effort="object", reasoning_history_field=None),
            headers=(("X-Title", "easel"),)),
    Profile("groq", "Groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY", dialect=_NO_HISTORY),
    Profile("together", "Together AI", "https://api.together.xyz/v1", "TOGETHER_API_KEY", dialect=_NO_HISTORY),
    Profile("mistral", "Mistral AI", "https://api.mistral.ai/v1", "MISTRAL_API_KEY",
            dialect=Dialect(reasoning_effort=None, seed_field="random_seed", stream_usage=False,
                            reasoning_history_field=None)),
)


class OpenAICompatibleProvider(Provider):
    """One OpenAI-compatible host, described by its Profile."""

    def __init__(self, settings: Settings, profile: Profile) -> None:
        super().__init__(settings)
        self.profile = profile
        self.name = profile.name
        self.display_name = profile.display_name
        self.credentials_env = profile.credentials_env
        self._http: httpx.AsyncClient | None = None

    @property
    def base_url(self) -> str:
        return self.settings.base_urls.get(self.name, self.profile.base_url).rstrip("/")

    # -- credentials ---------------------------------------------------------

    def api_key(self) -> str | None:
        return self.profile.api_key or super().api_key()

    def availability(self, entry: ModelEntry) -> Availability:
        if not self.profile.key_required:
            return Availability(True)
        return super().availability(entry)

    # -- models --------------------------------------------------------------

    def extra_models(self) -> list[ModelEntry]:
        """A declared endpoint's models, as `<endpoint name>:<model>`."""
        return [
            ModelEntry(
                id=f"{self.name}:{model}",
                provider=self.name,
                upstream_name=model,
                task="chat",
                display_name=f"{model} ({self.display_name})",
                context_window=self.profile.context_window,
                # What a declared server's model can do is unknown: let its requests through and
                # let the server itself refuse what it cannot do.
                capabilities=Capabilities(tools=True, structured_output=True, seed=True),
                description=f"Served by the OpenAI-compatible endpoint at {self.base_url}.",
            )
            for model in self.profile.models
        ]

    # -- work ----------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            timeout = httpx.Timeout(self.settings.upstream_timeout_seconds,
                                    connect=self.settings.upstream_connect_timeout_seconds)
            self._http = httpx.AsyncClient(timeout=timeout, limits=_LIMITS)
        return self._http

    def build_request(self, entry: ModelEntry, request: ChatRequest) -> httpx.Request:
        """The streamed POST {base}/chat/completions for one request (raises MissingCredentials)."""
        key = self.require_api_key() if self.profile.key_required else self.api_key()
        body = to_wire(request, entry.upstream_name, stream=True, dialect=self.profile.dialect)
        headers = {"content-type": "application/json", "accept": "text/event-stream", **dict(self.profile.headers)}
        if key:
            headers["authorization"] = f"Bearer {key}"
        return self._client().build_request("POST", f"{self.base_url}/chat/completions",
                                            content=orjson.dumps(body), headers=headers)

    async def stream_chat(self, entry: ModelEntry, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        """Text, reasoning and tool-call deltas as they come; then the usage, if given; Finish last, once."""
        http_request = self.build_request(entry, request)
        try:
            async with open_stream(self._client(), http_request, provider=self.name,
                                   credentials_env=self.credentials_env) as response:
                if response.headers.get("content-type", "").startswith("application/json"):
                    # a host that ignored `stream: true` answered the whole completion at once
                    events = events_from_completion(self._payload((await response.aread()).decode()))
                    finishes = [e for e in events if isinstance(e, Finish)]
                    for event in events:
                        if not isinstance(event, Finish):
                            yield event
                    yield finishes[0] if finishes else Finish("stop")
                    return
                # aclosing: an early close must reach the inner generators too, not wait for the GC
                async with aclosing(self._events(response)) as events_:
                    async for event in events_:
                        yield event
        except UpstreamBadRequest as exc:
            # OpenAI words it "maximum context length"; vLLM and others "context length".
            if "context length" in exc.message or "context_length_exceeded" in exc.message:
                raise ContextWindowExceeded(exc.message, param="messages") from exc
            raise

    async def _events(self, response: httpx.Response) -> AsyncGenerator[ChatEvent, None]:
        finish: FinishReason | None = None
        usage: Usage | None = None
        done = False
        sse_events = cast(AsyncGenerator[SSEvent, None], iter_sse(response.aiter_lines()))  # it is a generator
        async with aclosing(sse_events) as stream:
            async for sse in stream:
                data = sse.data.strip()
                if not data:  # an empty keep-alive event
                    continue
                if data == "[DONE]":
                    # read to the end of the body, as OpenAI's SDK does, so the connection can be reused
                    async for _ in stream:
                        pass
                    done = True
                    break
                chunk = self._payload(data, error_event=sse.event == "error")
                for event in events_from_chunk(chunk):
                    if isinstance(event, Finish):
                        finish = finish or event.reason
                    elif isinstance(event, UsageEvent):
                        usage = event.usage  # hosts that repeat usage send running totals: keep the last
                    else:
                        yield event
        if not done and finish is None:
            raise UpstreamError("the stream ended before the answer was complete (no finish_reason, no [DONE])",
                                provider=self.name, code="upstream_stream_cut")
        if usage is not None:
            yield UsageEvent(usage)
        yield Finish(finish or "stop")

    def _payload(self, data: str, *, error_event: bool = False) -> dict[str, Any]:
        """One JSON payload from the host; an error inside it (a 200 that failed) is raised."""
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise UpstreamError(f"sent data that is not JSON: {data[:200]!r}", provider=self.name,
                                code="upstream_bad_payload") from exc
        if not isinstance(payload, dict):
            raise UpstreamError(f"sent an unexpected payload: {data[:200]!r}", provider=self.name,
                                code="upstream_bad_payload")
        problem = error_in_chunk(payload)
        if problem is None and error_event:
            problem = error_in_chunk({"error": payload})
        if problem is None:
            return payload
        if problem.status is None:
            raise UpstreamError(f"reported an error mid-stream: {problem.message}", provider=self.name,
                                code="upstream_stream_error")
        raise error_for_status(self.name, problem.status, problem.message, credentials_env=self.credentials_env)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None


def create_providers(settings: Settings) -> list[Provider]:
    """The built-in hosts, then one provider per `settings.endpoints` entry."""
    providers: list[Provider] = [OpenAICompatibleProvider(settings, p) for p in BUILTIN_PROFILES]
    taken = {p.name for p in BUILTIN_PROFILES}
    for endpoint in settings.endpoints:
        if endpoint.name in taken or ":" in endpoint.name or not endpoint.name:
            raise ValueError(f"endpoint name {endpoint.name!r} is taken or invalid: choose a unique name "
                             "without ':' (it becomes the provider part of '<name>:<model>' ids)")
        taken.add(endpoint.name)
        providers.append(OpenAICompatibleProvider(settings, Profile.from_endpoint(endpoint)))
    return providers
