"""The anthropic provider over real HTTP, against the Messages fake on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from easel.adapters.anthropic_messages import events_from_message
from easel.catalog.entry import ModelEntry
from easel.config import Settings
from easel.errors import (
    ContextWindowExceeded,
    MissingCredentials,
    UpstreamBadRequest,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from easel.providers.anthropic import AnthropicProvider, create_providers
from easel.tasks.chat import ChatRequest, ChatResult, TextDelta
from tests.fakes.anthropic_fake import create_app
from tests.fakes.server import serve

KEY = "test-key"
WEATHER: dict[str, Any] = {"type": "function", "function": {"name": "weather", "description": "Weather in a city",
                                             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[Starlette, str]]:
    app = create_app(api_key=KEY)
    with serve(app) as base_url:
        yield app, base_url


@pytest.fixture
def app(fake: tuple[Starlette, str]) -> Starlette:
    app = fake[0]
    app.state.requests.clear()
    app.state.headers.clear()
    app.state.disconnects.clear()
    return app


def make_provider(fake: tuple[Starlette, str], **settings: Any) -> AnthropicProvider:
    settings.setdefault("keys", {"anthropic": KEY})
    return AnthropicProvider(Settings(base_urls={"anthropic": fake[1]}, **settings))


@pytest.fixture
async def provider(fake: tuple[Starlette, str]) -> Any:
    provider = make_provider(fake)
    yield provider
    await provider.aclose()


def entry(upstream: str = "claude-echo") -> ModelEntry:
    return ModelEntry(id=f"anthropic:{upstream}", provider="anthropic", upstream_name=upstream,
                      task="chat", display_name=upstream)


def request(text: str = "hello there", **fields: Any) -> ChatRequest:
    return ChatRequest(model="anthropic:claude-echo", messages=[{"role": "user", "content": text}], **fields)


async def collect(provider: AnthropicProvider, model: str = "claude-echo", req: ChatRequest | None = None) -> ChatResult:
    result = ChatResult()
    async for event in provider.stream_chat(entry(model), req or request()):
        result.add(event)
    return result


async def test_text_usage_and_headers(provider: AnthropicProvider, app: Starlette) -> None:
    result = await collect(provider)
    assert result.text == "You said: hello there"
    assert result.reasoning == "" and result.finish_reason == "stop"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (2, 4)
    headers = app.state.headers[-1]
    assert headers["x-api-key"] == KEY and headers["anthropic-version"] == "2023-06-01"
    body = app.state.requests[-1]
    assert body["stream"] is True and body["max_tokens"] == 4096


async def test_cached_input_is_counted_in_prompt_tokens(provider: AnthropicProvider) -> None:
    result = await collect(provider, "claude-cached")
    assert (result.usage.prompt_tokens, result.usage.cached_tokens) == (7, 5)


async def test_system_is_hoisted_on_the_wire(provider: AnthropicProvider, app: Starlette) -> None:
    req = ChatRequest(model="m", messages=[{"role": "system", "content": "Be kind."},
                                           {"role": "user", "content": "hi"}])
    result = await collect(provider, req=req)
    assert result.text == "You said: hi"
    assert app.state.requests[-1]["system"] == "Be kind."


async def test_thinking_streams_as_reasoning_apart_from_text(provider: AnthropicProvider, app: Starlette) -> None:
    result = await collect(provider, req=request("why is the sky blue", reasoning_effort="low", temperature=0.5))
    assert result.reasoning == "The user wrote 5 words."
    assert result.text == "You said: why is the sky blue"
    assert "The user" not in result.text
    assert app.state.requests[-1]["thinking"] == {"type": "enabled", "budget_tokens": 2048}


async def test_stop_sequence_and_max_tokens(provider: AnthropicProvider) -> None:
    assert (await collect(provider, req=request("one two three", stop=["two"]))).text == "You said: one "
    cut = await collect(provider, req=request("one two three", max_tokens=2))
    assert cut.text == "You said:" and cut.finish_reason == "length"


async def test_tool_call_round_trip(provider: AnthropicProvider, app: Starlette) -> None:
    first = await collect(provider, req=request("Oslo", tools=[WEATHER]))
    assert first.finish_reason == "tool_calls" and first.text == "Let me call a tool."
    assert first.tool_calls == [{"id": "toolu_fake0", "type": "function",
                                 "function": {"name": "weather", "arguments": '{"city": "Oslo"}'}}]
    assert app.state.requests[-1]["tools"][0]["input_schema"] == WEATHER["function"]["parameters"]
    follow = ChatRequest(model="m", tools=[WEATHER], messages=[
        {"role": "user", "content": "Oslo"},
        {"role": "assistant", "content": first.text, "tool_calls": first.tool_calls},
        {"role": "tool", "tool_call_id": "toolu_fake0", "content": "cold"},
    ])
    second = await collect(provider, req=follow)
    assert second.text == "Tool said: cold" and second.finish_reason == "stop"


async def test_tool_choice_none_answers_in_text(provider: AnthropicProvider, app: Starlette) -> None:
    result = await collect(provider, req=request("Oslo", tools=[WEATHER], tool_choice="none"))
    assert result.tool_calls == [] and result.text == "You said: Oslo"
    assert app.state.requests[-1]["tool_choice"] == {"type": "none"}


@pytest.mark.parametrize(("model", "error", "status", "upstream"), [
    ("error-400", UpstreamBadRequest, 400, 400),
    ("error-401", UpstreamError, 502, 401),
    ("error-404", UpstreamError, 502, 404),
    ("error-429", UpstreamRateLimited, 429, 429),
    ("error-500", UpstreamError, 502, 500),
    ("error-529", UpstreamUnavailable, 503, 529),
])
async def test_http_errors_are_mapped(provider: AnthropicProvider, model: str, error: type[UpstreamError],
                                      status: int, upstream: int) -> None:
    with pytest.raises(error) as info:
        await collect(provider, model)
    assert type(info.value) is error
    assert info.value.status_code == status and info.value.upstream_status == upstream
    assert info.value.provider == "anthropic"
    if isinstance(info.value, UpstreamRateLimited):
        assert info.value.retry_after == 7 and info.value.headers["Retry-After"] == "7"
    if model == "error-401":
        assert "ANTHROPIC_API_KEY" in info.value.message


async def test_a_too_long_prompt_is_a_context_window_error(provider: AnthropicProvider) -> None:
    with pytest.raises(ContextWindowExceeded) as info:
        await collect(provider, "error-context")
    assert info.value.status_code == 400 and "prompt is too long" in info.value.message


async def test_wrong_key_is_refused_by_the_fake(fake: tuple[Starlette, str]) -> None:
    provider = make_provider(fake, keys={"anthropic": "wrong"})
    with pytest.raises(UpstreamError) as info:
        await collect(provider)
    await provider.aclose()
    assert info.value.code == "upstream_authentication_failed" and "invalid x-api-key" in info.value.message


async def test_missing_key_names_the_variable(fake: tuple[Starlette, str], monkeypatch: pytest.MonkeyPatch,
                                              app: Starlette) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    provider = make_provider(fake, keys={})
    with pytest.raises(MissingCredentials) as info:
        await collect(provider)
    assert "ANTHROPIC_API_KEY" in info.value.message
    assert app.state.requests == []


async def test_key_from_the_environment(fake: tuple[Starlette, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    provider = make_provider(fake, keys={})
    assert (await collect(provider)).text == "You said: hello there"
    await provider.aclose()


async def test_error_event_mid_stream(provider: AnthropicProvider) -> None:
    seen: list[Any] = []
    with pytest.raises(UpstreamUnavailable) as info:
        async for event in provider.stream_chat(entry("error-midstream"), request()):
            seen.append(event)
    assert seen == [TextDelta("You"), TextDelta(" said:")]
    assert info.value.status_code == 503 and "Overloaded" in info.value.message


@pytest.mark.parametrize("model", ["cut-midstream", "drop-midstream"])
async def test_a_cut_stream_is_an_upstream_error(provider: AnthropicProvider, model: str) -> None:
    with pytest.raises(UpstreamError) as info:
        await collect(provider, model)
    assert info.value.code == "upstream_stream_cut" and info.value.status_code == 502


@pytest.mark.parametrize("model", ["hang", "stall-midstream"])
async def test_a_hang_times_out(fake: tuple[Starlette, str], app: Starlette, model: str) -> None:
    provider = make_provider(fake, upstream_timeout_seconds=0.3)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout) as info:
        await collect(provider, model)
    await provider.aclose()
    assert time.monotonic() - started < 3
    assert info.value.status_code == 504
    await _until(lambda: model in app.state.disconnects)


async def test_closing_early_stops_the_upstream_stream(provider: AnthropicProvider, app: Starlette) -> None:
    stream = provider.stream_chat(entry("slow-long"), request())
    first = await stream.__anext__()  # type: ignore[attr-defined]
    assert first == TextDelta("0 ")
    await stream.aclose()  # type: ignore[attr-defined]
    await _until(lambda: "slow-long" in app.state.disconnects)


async def test_fake_refuses_what_anthropic_refuses(fake: tuple[Starlette, str]) -> None:
    url = f"{fake[1]}/v1/messages"
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    async with httpx.AsyncClient() as client:
        no_max = await client.post(url, headers=headers, json={"model": "m", "messages": [{"role": "user", "content": "x"}]})
        empty = await client.post(url, headers=headers, json={"model": "m", "max_tokens": 5, "messages": []})
        no_version = await client.post(url, headers={"x-api-key": KEY}, json={})
        no_key = await client.post(url, headers={"anthropic-version": "2023-06-01"}, json={})
        whole = await client.post(url, headers=headers, json={"model": "m", "max_tokens": 50,
                                                              "messages": [{"role": "user", "content": "hey"}]})
    for response, status, kind in [(no_max, 400, "invalid_request_error"), (empty, 400, "invalid_request_error"),
                                   (no_version, 400, "invalid_request_error"), (no_key, 401, "authentication_error")]:
        assert response.status_code == status
        assert response.json()["type"] == "error" and response.json()["error"]["type"] == kind
    result = ChatResult()
    for event in events_from_message(whole.json()):
        result.add(event)
    assert result.text == "You said: hey" and result.usage.prompt_tokens == 1


async def test_create_providers_and_aclose(fake: tuple[Starlette, str]) -> None:
    [provider] = create_providers(Settings(base_urls={"anthropic": fake[1]}, keys={"anthropic": KEY}))
    assert isinstance(provider, AnthropicProvider) and provider.name == "anthropic"
    assert provider.credentials_env == "ANTHROPIC_API_KEY"
    assert AnthropicProvider(Settings()).base_url == "https://api.anthropic.com"
    await collect(provider)  # type: ignore[arg-type]
    await provider.aclose()
    await provider.aclose()  # twice is harmless


async def _until(check: Any, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)
