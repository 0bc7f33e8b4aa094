"""The `gemini` provider: Google's Gemini API (generativelanguage.googleapis.com).

Who serves it: the key (GEMINI_API_KEY, or GOOGLE_API_KEY as Google's own SDKs accept),
the base URL (`settings.base_urls["gemini"]` overrides it), one lazily created HTTP client.
How it is spoken lives in `easel.adapters.gemini_generate`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from easel.adapters.gemini_errors import error_from_body
from easel.adapters.gemini_generate import MIN_THINKING_BUDGET, GeminiStreamParser, to_wire
from easel.adapters.gemini_grounding import GOOGLE_SEARCH_TOOL
from easel.adapters.sse import iter_sse
from easel.adapters.upstream import open_stream
from easel.catalog.entry import ModelEntry
from easel.config import Settings
from easel.errors import UpstreamError
from easel.providers.base import Provider
from easel.providers.image_gemini import GeminiImagesMixin
from easel.tasks.chat import ChatEvent, ChatRequest

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/v1beta"
FALLBACK_ENV = "GOOGLE_API_KEY"


class GeminiProvider(GeminiImagesMixin, Provider):
    """Streams chat answers from `models/{model}:streamGenerateContent?alt=sse`."""

    name = "gemini"
    display_name = "Google Gemini"
    credentials_env = "GEMINI_API_KEY"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._client: httpx.AsyncClient | None = None

    def api_key(self) -> str | None:
        return super().api_key() or self.settings.credential(self.name, FALLBACK_ENV)

    @property
    def base_url(self) -> str:
        return self.settings.base_urls.get(self.name, DEFAULT_BASE_URL).rstrip("/")

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            timeout = httpx.Timeout(self.settings.upstream_timeout_seconds,
                                    connect=self.settings.upstream_connect_timeout_seconds)
            self._client = httpx.AsyncClient(timeout=timeout, event_hooks={"response": [self._raise_for_error]})
        return self._client

    async def _raise_for_error(self, response: httpx.Response) -> None:
        """Map an error answer from Google's body before the shared mapping sees only its status.

        A response hook, so that open_stream still owns sending, transport errors and
        closing; httpx closes the response when a hook raises.
        """
        if response.status_code >= 400:
            body = await response.aread()
            raise error_from_body(response.status_code, body, response.headers,
                                  provider=self.name, credentials_env=self.credentials_env)

    def reasoning_effort(self, entry: ModelEntry, effort: str) -> tuple[str | None, str | None]:
        """As asked; "none" on a model that cannot stop thinking is sent as the least thinking it
        accepts (the catalog says which: capabilities.reasoning_off), with a warning saying so."""
        if effort == "none" and not entry.capabilities.reasoning_off:
            return effort, (f"reasoning_effort 'none' sent as the smallest thinking budget "
                            f"({MIN_THINKING_BUDGET} tokens): '{entry.id}' cannot turn thinking off")
        return effort, None

    def native_web_search(self, entry: ModelEntry) -> dict[str, Any] | None:
        """Grounding with Google Search, for the models the catalog says can search (capabilities.web_search)."""
        return copy.deepcopy(GOOGLE_SEARCH_TOOL) if entry.capabilities.web_search else None

    async def stream_chat(self, entry: ModelEntry, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        key = self.require_api_key()
        body = to_wire(request, include_thoughts=entry.capabilities.reasoning,
                       thinking_off=entry.capabilities.reasoning_off)
        model = entry.upstream_name.removeprefix("models/")
        client = self._http()
        http_request = client.build_request(
            "POST",
            f"{self.base_url}/models/{model}:streamGenerateContent",
            params={"alt": "sse"},
            json=body,
            headers={"x-goog-api-key": key},
        )
        parser = GeminiStreamParser(self.name)
        async with open_stream(client, http_request, provider=self.name,
                               credentials_env=self.credentials_env) as response:
            async for sse in iter_sse(response.aiter_lines()):
                try:
                    chunk = json.loads(sse.data)
                except ValueError as exc:
                    raise UpstreamError(f"sent a stream chunk that is not JSON: {sse.data[:200]!r}",
                                        provider=self.name) from exc
                if not isinstance(chunk, dict):
                    raise UpstreamError(f"sent a stream chunk that is not an object: {sse.data[:200]!r}",
                                        provider=self.name)
                for event in parser.feed(chunk):
                    yield event
        if not parser.finished:
            raise UpstreamError("the stream ended before the answer was finished (no finishReason)",
                                provider=self.name, code="upstream_stream_cut")
        for event in parser.close():
            yield event

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def create_providers(settings: Settings) -> list[GeminiProvider]:
    return [GeminiProvider(settings)]
