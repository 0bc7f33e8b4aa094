"""The gemini provider over real HTTP, against the Gemini API fake on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from easel.catalog.entry import Capabilities, ModelEntry
from easel.config import Settings
from easel.errors import (
    EaselError,
    MissingCredentials,
    UpstreamBadRequest,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from easel.providers.gemini import DEFAULT_BASE_URL, GeminiProvider, create_providers
from easel.tasks.chat import ChatRequest, ChatResult, TextDelta
from tests.fakes.gemini_fake import create_app
from tests.fakes.server import serve

KEY = "test-key"
WEATHER: dict[str, Any] = {"type": "function", "function": {
    "name": "weather", "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "additionalProperties": False}}}


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[Starlette, str]]:
    app = create_app(api_key=KEY)
    with serve(app) as base_url:
        yield app, f"{base_url}/v1beta"


@pytest.fixture
def app(fake: tuple[Starlette, str]) -> Starlette:
    app = fake[0]
    app.state.requests.clear()
    app.state.streams.clear()
    return app


@pytest.fixture(autouse=True)
def no_env_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)


def make_provider(fake: tuple[Starlette, str], **settings: Any) -> GeminiProvider:
    settings.setdefault("keys", {"gemini": KEY})
    return GeminiProvider(Settings(base_urls={"gemini": fake[1]}, **settings))


@pytest.fixture
async def provider(fake: tuple[Starlette, str]) -> AsyncIterator[GeminiProvider]:
    provider = make_provider(fake)
    yield provider
    await provider.aclose()


def entry(name: str = "gemini-2.5-flash", reasoning: bool = False) -> ModelEntry:
    return ModelEntry(id=f"gemini:{name}", provider="gemini", upstream_name=name, task="chat",
                      display_name=name, capabilities=Capabilities(reasoning=reasoning, tools=True))


def ask(text: str = "hello there world", **kw: Any) -> ChatRequest:
    return ChatRequest.model_validate({"model": "gemini:x", "messages": [{"role": "user", "content": text}], **kw})


async def collect(provider: GeminiProvider, model: ModelEntry, request: ChatRequest) -> tuple[ChatResult, list[Any]]:
    result, events = ChatResult(), []
    async for event in provider.stream_chat(model, request):
        events.append(event)
        result.add(event)
    return result, events


# ---- answers ------------------------------------------------------------------


async def test_text_streams_in_pieces(provider: GeminiProvider, app: Starlette) -> None:
    result, events = await collect(provider, entry(), ask("hello there world", max_tokens=100, temperature=0.2))
    assert result.text == "Echo: hello there world"
    assert len([e for e in events if isinstance(e, TextDelta)]) == 2
    assert result.finish_reason == "stop" and result.reasoning == ""
    assert result.usage.prompt_tokens == 3 and result.usage.completion_tokens == 4
    sent = app.state.requests[0]
    assert (sent["model"], sent["method"], sent["alt"], sent["api_key"]) == (
        "gemini-2.5-flash", "streamGenerateContent", "sse", KEY)
    assert sent["body"]["generationConfig"] == {"maxOutputTokens": 100, "temperature": 0.2}


async def test_thoughts_arrive_as_reasoning_apart_from_the_answer(provider: GeminiProvider, app: Starlette) -> None:
    result, _ = await collect(provider, entry("gemini-2.5-thinking", reasoning=True), ask("why is the sky blue"))
    assert result.reasoning.startswith("The user wrote 'why is the sky blue'")
    assert result.text == "Echo: why is the sky blue"
    assert "user wrote" not in result.text
    usage = result.usage
    assert usage.reasoning_tokens > 0
    assert usage.completion_tokens == 6 + usage.reasoning_tokens
    assert app.state.requests[0]["body"]["generationConfig"]["thinkingConfig"] == {"includeThoughts": True}


async def test_reasoning_effort_none_turns_thinking_off(provider: GeminiProvider, app: Starlette) -> None:
    result, _ = await collect(provider, entry("gemini-2.5-thinking", reasoning=True),
                              ask("hi", reasoning_effort="none"))
    assert result.reasoning == "" and result.usage.reasoning_tokens == 0
    assert app.state.requests[0]["body"]["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 0}


async def test_max_tokens_finishes_with_length(provider: GeminiProvider) -> None:
    result, _ = await collect(provider, entry(), ask("one two three four five", max_tokens=3))
    assert result.text == "Echo: one two" and result.finish_reason == "length"


async def test_function_call_then_answer(provider: GeminiProvider, app: Starlette) -> None:
    first, _ = await collect(provider, entry("gemini-3-flash"), ask("Paris", tools=[WEATHER], tool_choice="auto"))
    assert first.finish_reason == "tool_calls"
    [call] = first.tool_calls
    assert call["function"]["name"] == "weather" and json.loads(call["function"]["arguments"]) == {"city": "Paris"}
    assert call["id"].startswith("call_")
    declared = app.state.requests[0]["body"]["tools"][0]["functionDeclarations"][0]
    assert declared["parametersJsonSchema"]["additionalProperties"] is False

    follow_up = ChatRequest.model_validate({"model": "gemini:x", "tools": [WEATHER], "messages": [
        {"role": "user", "content": "Paris"},
        {"role": "assistant", "content": None, "tool_calls": first.tool_calls},
        {"role": "tool", "tool_call_id": call["id"], "content": '{"temp": 21}'},
    ]})
    # gemini-3 refuses replayed calls without a thought signature: the adapter supplies one
    second, _ = await collect(provider, entry("gemini-3-flash"), follow_up)
    assert second.text == 'Result: {"temp": 21}' and second.finish_reason == "stop"


async def test_tool_choice_none_answers_in_text(provider: GeminiProvider) -> None:
    result, _ = await collect(provider, entry(), ask("Paris", tools=[WEATHER], tool_choice="none"))
    assert result.tool_calls == [] and result.text == "Echo: Paris"


# ---- errors -------------------------------------------------------------------


async def test_missing_key_names_the_variable(fake: tuple[Starlette, str], app: Starlette) -> None:
    provider = GeminiProvider(Settings(base_urls={"gemini": fake[1]}))
    with pytest.raises(MissingCredentials) as info:
        await collect(provider, entry(), ask())
    assert "GEMINI_API_KEY" in info.value.message and info.value.status_code == 401
    assert app.state.requests == []
    assert provider.availability(entry()).reason == "set GEMINI_API_KEY"


async def test_google_api_key_is_the_fallback(fake: tuple[Starlette, str], app: Starlette,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    provider = GeminiProvider(Settings(base_urls={"gemini": fake[1]}))
    try:
        result, _ = await collect(provider, entry(), ask("hi"))
    finally:
        await provider.aclose()
    assert result.text == "Echo: hi" and provider.availability(entry()).usable


async def test_wrong_key_is_a_credentials_error(fake: tuple[Starlette, str], app: Starlette) -> None:
    provider = make_provider(fake, keys={"gemini": "wrong"})
    try:
        with pytest.raises(UpstreamError) as info:
            await collect(provider, entry(), ask())
    finally:
        await provider.aclose()
    assert info.value.code == "upstream_authentication_failed" and info.value.upstream_status == 400
    assert "GEMINI_API_KEY" in info.value.message


@pytest.mark.parametrize("model, kind, status, code", [
    ("error-400", UpstreamBadRequest, 400, "upstream_bad_request"),
    ("error-403", UpstreamError, 502, "upstream_authentication_failed"),
    ("error-404", UpstreamError, 502, "upstream_not_found"),
    ("missing-model", UpstreamError, 502, "upstream_not_found"),
    ("error-429", UpstreamRateLimited, 429, "rate_limit_exceeded"),
    ("error-500", UpstreamError, 502, "upstream_error"),
    ("error-503", UpstreamUnavailable, 503, "upstream_overloaded"),
    ("error-504", UpstreamTimeout, 504, "upstream_timeout"),
])
async def test_errors_map_to_easel_errors(provider: GeminiProvider, model: str, kind: type[EaselError],
                                          status: int, code: str) -> None:
    with pytest.raises(kind) as info:
        await collect(provider, entry(model), ask())
    error = info.value
    assert type(error) is kind and error.status_code == status and error.code == code
    assert error.message.startswith("gemini: ")
    if kind is UpstreamRateLimited:
        assert error.headers["Retry-After"] == "7"


async def test_invalid_body_is_a_bad_request(provider: GeminiProvider) -> None:
    request = ChatRequest.model_validate({"model": "gemini:x",
                                          "messages": [{"role": "system", "content": "only a system prompt"}]})
    with pytest.raises(UpstreamBadRequest) as info:
        await collect(provider, entry(), request)
    assert "contents is not specified" in info.value.message


async def test_blocked_prompt(provider: GeminiProvider) -> None:
    with pytest.raises(UpstreamBadRequest) as info:
        await collect(provider, entry("blocked"), ask())
    assert "prompt was blocked (SAFETY)" in info.value.message


async def test_safety_stop_is_content_filter(provider: GeminiProvider) -> None:
    result, _ = await collect(provider, entry("safety"), ask("a b c d e f"))
    assert result.finish_reason == "content_filter" and result.text == "Echo: a "


async def test_error_inside_a_200_stream(provider: GeminiProvider) -> None:
    with pytest.raises(UpstreamUnavailable):
        await collect(provider, entry("stream-error"), ask())


# ---- broken streams -----------------------------------------------------------


async def test_stream_cut_midway(provider: GeminiProvider) -> None:
    seen: list[Any] = []
    with pytest.raises(UpstreamError) as info:
        async for event in provider.stream_chat(entry("stream-cut"), ask("a b c d e f g h")):
            seen.append(event)
    assert info.value.code == "upstream_stream_cut" and seen


async def test_stream_without_finish_reason_is_cut(provider: GeminiProvider) -> None:
    with pytest.raises(UpstreamError) as info:
        await collect(provider, entry("stream-no-finish"), ask())
    assert info.value.code == "upstream_stream_cut"


@pytest.mark.parametrize("model", ["hang", "hang-mid"])
async def test_hang_times_out(fake: tuple[Starlette, str], app: Starlette, model: str) -> None:
    provider = make_provider(fake, upstream_timeout_seconds=0.3)
    try:
        with pytest.raises(UpstreamTimeout) as info:
            await asyncio.wait_for(collect(provider, entry(model), ask()), timeout=5)
    finally:
        await provider.aclose()
    assert info.value.status_code == 504


async def test_early_close_stops_the_upstream_stream(provider: GeminiProvider, app: Starlette) -> None:
    stream = provider.stream_chat(entry("slow"), ask())
    first = await stream.__anext__()
    assert first == TextDelta("tick0 ")
    await stream.aclose()  # type: ignore[attr-defined]
    for _ in range(100):
        if app.state.streams and app.state.streams[0].get("finished"):
            break
        await asyncio.sleep(0.02)
    assert app.state.streams[0] == {"model": "slow", "completed": False, "finished": True}


# ---- plumbing -----------------------------------------------------------------


async def test_one_client_reused_and_closed(provider: GeminiProvider) -> None:
    await collect(provider, entry(), ask("a"))
    client = provider._client
    await collect(provider, entry(), ask("b"))
    assert isinstance(client, httpx.AsyncClient) and provider._client is client
    await provider.aclose()
    assert client.is_closed and provider._client is None


def test_registration_and_defaults() -> None:
    [provider] = create_providers(Settings())
    assert isinstance(provider, GeminiProvider) and provider.name == "gemini"
    assert provider.base_url == DEFAULT_BASE_URL
    assert provider._client is None  # nothing is built until the first call
