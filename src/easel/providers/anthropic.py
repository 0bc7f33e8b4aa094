"""The `anthropic` provider: Claude models over the Messages API (POST {base}/v1/messages).

A thin async shell: `adapters.anthropic_messages` builds the body and parses the stream,
`adapters.upstream` maps HTTP failures. One httpx client per provider, created on first
use and closed in aclose().
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from easel.adapters.anthropic_messages import MessagesStreamParser, to_wire
from easel.adapters.anthropic_web_search import WEB_SEARCH_TOOL
from easel.adapters.sse import iter_sse
from easel.adapters.upstream import open_stream
from easel.catalog.entry import ModelEntry
from easel.config import Settings
from easel.errors import ContextWindowExceeded, UpstreamBadRequest, UpstreamError
from easel.providers.base import Provider
from easel.providers.http_base import HttpProvider
from easel.tasks.chat import ChatEvent, ChatRequest

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
#: max_tokens sent when the request sets none (Anthropic requires one), capped by the
#: model's own output limit when the catalog knows it.
DEFAULT_MAX_TOKENS = 4096


class AnthropicProvider(HttpProvider):
    name = "anthropic"
    display_name = "Anthropic"
    credentials_env = "ANTHROPIC_API_KEY"
    default_base_url = DEFAULT_BASE_URL

    def native_web_search(self, entry: ModelEntry) -> dict[str, Any] | None:
        """The web_search server tool, for the models the catalog says can search (capabilities.web_search)."""
        return copy.deepcopy(WEB_SEARCH_TOOL) if entry.capabilities.web_search else None

    def build_request(self, entry: ModelEntry, request: ChatRequest) -> httpx.Request:
        key = self.require_api_key()
        default = DEFAULT_MAX_TOKENS
        if entry.max_output_tokens:
            default = min(default, entry.max_output_tokens)
        body = to_wire(request, entry.upstream_name, default_max_tokens=default,
                       max_output_tokens=entry.max_output_tokens)
        headers = {
            "x-api-key": key,
            "anthropic-version": API_VERSION,
            "content-type": "application/json",
            "accept": "text/event-stream",
        }
        return self._client().build_request("POST", f"{self.base_url}/v1/messages", json=body, headers=headers)

    async def stream_chat(self, entry: ModelEntry, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        http_request = self.build_request(entry, request)
        parser = MessagesStreamParser(self.name)
        try:
            async with open_stream(self._client(), http_request, provider=self.name,
                                   credentials_env=self.credentials_env) as response:
                async for sse in iter_sse(response.aiter_lines()):
                    try:
                        payload = json.loads(sse.data)
                    except ValueError as exc:
                        raise UpstreamError(f"sent an event that is not JSON: {sse.data[:200]!r}",
                                            provider=self.name, code="upstream_bad_payload") from exc
                    for event in parser.feed(payload):
                        yield event
                    if parser.finished:
                        return
        except UpstreamBadRequest as exc:
            # Anthropic words an over-long prompt as "prompt is too long: N tokens > M maximum".
            if "prompt is too long" in exc.message:
                raise ContextWindowExceeded(exc.message, param="messages") from exc
            raise
        raise UpstreamError("the stream ended before message_stop", provider=self.name,
                            code="upstream_stream_cut")



def create_providers(settings: Settings) -> list[Provider]:
    return [AnthropicProvider(settings)]
