"""The `openai-compatible` provider family: every host that speaks OpenAI's chat completions.

Built-in hosts (OpenAI, xAI, DeepSeek, OpenRouter, Groq, Together, Mistral) and the
servers a user declares under `endpoints` in the config (vLLM, Ollama, LM Studio,
llama.cpp server...) are one class, `OpenAICompatibleProvider`, parametrised by a
`Profile` (`openai_profiles.py`): its name, base URL, key variable and wire `Dialect`.
Adding a host is adding a profile, never a branch.

The provider always streams upstream (`stream: true`, usage requested where the host
accepts it) over one lazily created aiohttp session, and turns the stream into ChatEvents
with `adapters.openai_chat`. A stream is complete only when it says so (`[DONE]` or a
`finish_reason`); one cut short raises UpstreamError(code=upstream_stream_cut), never a
truncated success. Closing the event iterator closes the upstream response, which is
how a client's disconnect stops the upstream generation.

aiohttp rather than httpx because this is the gateway's hot path: bench/gateway measured
httpx's per-request cost at several times the rest of easel's work. Failures map onto
the same EaselErrors that `adapters.upstream` gives the httpx-based providers.
"""

from __future__ import annotations

import asyncio
import codecs
import ssl
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import aiohttp
import httpx
import orjson

from easel.adapters.openai_chat import (
    SSEDecoder,
    UrlCitations,
    error_in_chunk,
    events_from_chunk,
    events_from_completion,
    to_wire,
)
from easel.adapters.sse import SSEvent
from easel.adapters.upstream import error_for_status
from easel.catalog.entry import Capabilities, ModelEntry
from easel.config import Settings
from easel.errors import ContextWindowExceeded, InvalidRequest, UpstreamBadRequest, UpstreamError, UpstreamTimeout
from easel.providers.base import Availability, Provider
from easel.providers.image_openai import OpenAIImagesMixin
from easel.providers.openai_profiles import BUILTIN_PROFILES, Profile
from easel.tasks.chat import ChatEvent, ChatRequest, Finish, FinishReason, Usage, UsageEvent

#: how many upstream connections one provider keeps; a gateway streams many answers at once
_MAX_CONNECTIONS = 512


@lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    """The CA setup httpx uses (certifi, or SSL_CERT_FILE / SSL_CERT_DIR), built once, on first use."""
    return httpx.create_ssl_context()


def env_proxy(url: str) -> str | None:
    """The proxy the environment names for `url` (HTTP(S)_PROXY, ALL_PROXY, minus NO_PROXY).

    Read once per session, as httpx's trust_env did: aiohttp's own trust_env looks it up
    (and ~/.netrc) in a worker thread on every request, which costs more than the request.
    """
    parts = urllib.parse.urlsplit(url)
    if urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    proxies = urllib.request.getproxies()
    return proxies.get(parts.scheme) or proxies.get("all")


def _charset(response: aiohttp.ClientResponse) -> str:
    """The body's declared charset if Python knows it, else UTF-8."""
    charset = response.charset or "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        return "utf-8"
    return charset


@dataclass(slots=True)
class _Progress:
    """What one stream has said so far about its end."""

    finish: FinishReason | None = None
    usage: Usage | None = None
    done: bool = False  # `data: [DONE]` seen
    citations: UrlCitations = field(default_factory=UrlCitations)  # server-side search's sources


@dataclass(frozen=True, slots=True)
class UpstreamCall:
    """One prepared POST to a host: where, what, with which headers."""

    url: str
    body: bytes
    headers: dict[str, str]


class OpenAICompatibleProvider(OpenAIImagesMixin, Provider):
    """One OpenAI-compatible host, described by its Profile."""

    def __init__(self, settings: Settings, profile: Profile) -> None:
        super().__init__(settings)
        self.profile = profile
        self.name = profile.name
        self.display_name = profile.display_name
        self.credentials_env = profile.credentials_env
        self._http: aiohttp.ClientSession | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None
        self._proxy: str | None = None

    @property
    def base_url(self) -> str:
        return self.settings.base_urls.get(self.name, self.profile.base_url).rstrip("/")

    # -- credentials ---------------------------------------------------------

    def api_key(self) -> str | None:
        return self.profile.api_key or super().api_key()

    def reasoning_effort(self, entry: ModelEntry, effort: str) -> tuple[str | None, str | None]:
        return self.profile.effort.apply(entry, effort)

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

    def native_web_search(self, entry: ModelEntry) -> dict[str, Any] | None:
        if self.profile.native_web_search_refusal:
            raise InvalidRequest(f"Model '{entry.id}' cannot use its provider's own web search: "
                                 f"{self.profile.native_web_search_refusal}",
                                 param="web_search_backend", code="unsupported_parameter")
        return dict(self.profile.native_web_search) if self.profile.native_web_search else None

    # -- work ----------------------------------------------------------------

    def _client(self) -> aiohttp.ClientSession:
        """The session, created on first use on the running loop (a session belongs to one loop)."""
        loop = asyncio.get_running_loop()
        if self._http is None or self._http.closed or self._http_loop is not loop:
            # Per-operation limits, as httpx.Timeout(upstream, connect=...) gave: waiting for a pooled
            # connection and each read may take `upstream_timeout_seconds`, opening a socket `connect`.
            timeout = aiohttp.ClientTimeout(total=None, connect=self.settings.upstream_timeout_seconds,
                                            sock_connect=self.settings.upstream_connect_timeout_seconds,
                                            sock_read=self.settings.upstream_timeout_seconds)
            # idle connections close after 5 s, as httpx's did: before a host's own keep-alive limit
            connector = aiohttp.TCPConnector(limit=_MAX_CONNECTIONS, keepalive_timeout=5.0, ssl=_ssl_context())
            self._http = aiohttp.ClientSession(timeout=timeout, connector=connector)
            self._http_loop = loop
            self._proxy = env_proxy(self.base_url)
        return self._http

    def build_request(self, entry: ModelEntry, request: ChatRequest) -> UpstreamCall:
        """The streamed POST {base}/chat/completions for one request (raises MissingCredentials)."""
        key = self.require_api_key() if self.profile.key_required else self.api_key()
        body = to_wire(request, entry.upstream_name, stream=True, dialect=self.profile.dialect)
        headers = {"content-type": "application/json", "accept": "text/event-stream", **dict(self.profile.headers)}
        if key:
            headers["authorization"] = f"Bearer {key}"
        return UpstreamCall(f"{self.base_url}/chat/completions", orjson.dumps(body), headers)

    def _transport_error(self, exc: BaseException) -> UpstreamError:
        """What adapters.upstream.error_for_transport says for the same failure under httpx."""
        if isinstance(exc, TimeoutError):  # aiohttp's timeouts are TimeoutErrors
            kind = "ConnectTimeout" if isinstance(exc, aiohttp.ConnectionTimeoutError) else "ReadTimeout"
            return UpstreamTimeout(f"no answer in time ({kind})", provider=self.name)
        cut = (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientResponseError)
        if isinstance(exc, cut):
            return UpstreamError(f"connection closed mid-answer: {exc}", provider=self.name,
                                 code="upstream_stream_cut")
        return UpstreamError(f"could not reach the provider: {exc}", provider=self.name,
                             code="upstream_unreachable")

    @asynccontextmanager
    async def _open(self, call: UpstreamCall) -> AsyncIterator[aiohttp.ClientResponse]:
        """Send `call`; non-2xx and transport failures become UpstreamErrors.

        Leaving the block closes the connection unless the body was read to its end (then
        it goes back to the pool): a client's disconnect stops the upstream generation.
        """
        try:
            client = self._client()
            response = await client.post(call.url, data=call.body, headers=call.headers, proxy=self._proxy)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self._transport_error(exc) from exc
        try:
            if response.status >= 400:
                try:
                    body = await response.read()
                except (aiohttp.ClientError, TimeoutError) as exc:
                    raise self._transport_error(exc) from exc
                headers = httpx.Headers(list(response.headers.items()))
                raise error_for_status(self.name, response.status, body, headers, self.credentials_env)
            try:
                yield response
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise self._transport_error(exc) from exc
        finally:
            if response.content.at_eof():
                response.release()
            else:
                response.close()

    async def stream_chat(self, entry: ModelEntry, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        """Text, reasoning and tool-call deltas as they come; then the usage, if given; Finish last, once."""
        call = self.build_request(entry, request)
        try:
            async with self._open(call) as response:
                if response.headers.get("content-type", "").startswith("application/json"):
                    # a host that ignored `stream: true` answered the whole completion at once
                    events = events_from_completion(self._payload((await response.read()).decode()))
                    finishes = [e for e in events if isinstance(e, Finish)]
                    for event in events:
                        if not isinstance(event, Finish):
                            yield event
                    yield finishes[0] if finishes else Finish("stop")
                    return
                progress = _Progress()
                decoder = SSEDecoder(_charset(response))
                async for data in response.content.iter_any():
                    # after [DONE], read to the end of the body, as OpenAI's SDK does, so the
                    # connection can be reused
                    if not progress.done:
                        for event in self._chat_events(decoder.feed(data), progress):
                            yield event
                if not progress.done:
                    for event in self._chat_events(decoder.close(), progress):
                        yield event
                if not progress.done and progress.finish is None:
                    raise UpstreamError("the stream ended before the answer was complete (no finish_reason, "
                                        "no [DONE])", provider=self.name, code="upstream_stream_cut")
                if progress.usage is not None:
                    yield UsageEvent(progress.usage)
                yield Finish(progress.finish or "stop")
        except UpstreamBadRequest as exc:
            # OpenAI words it "maximum context length"; vLLM and others "context length".
            if "context length" in exc.message or "context_length_exceeded" in exc.message:
                raise ContextWindowExceeded(exc.message, param="messages") from exc
            raise

    def _chat_events(self, sse_events: list[SSEvent], progress: _Progress) -> Iterator[ChatEvent]:
        """The deltas in some SSE events, as they come; finish and usage are kept in `progress`."""
        for sse in sse_events:
            data = sse.data.strip()
            if not data:  # an empty keep-alive event
                continue
            if data == "[DONE]":
                progress.done = True
                return
            chunk = self._payload(data, error_event=sse.event == "error")
            for event in events_from_chunk(chunk, progress.citations):
                if isinstance(event, Finish):
                    progress.finish = progress.finish or event.reason
                elif isinstance(event, UsageEvent):
                    progress.usage = event.usage  # hosts that repeat usage send running totals: keep the last
                else:
                    yield event

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
            if self._http_loop is asyncio.get_running_loop():
                await self._http.close()
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
