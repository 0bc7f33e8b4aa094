"""The openai-compatible providers over real HTTP, against the OpenAI fake on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from importlib.metadata import entry_points
from typing import Any, cast

import httpx
import pytest
from starlette.applications import Starlette

from easel.catalog.entry import ModelEntry
from easel.config import EndpointConfig, Settings
from easel.errors import (
    ContextWindowExceeded,
    MissingCredentials,
    UpstreamBadRequest,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from easel.providers.base import Provider
from easel.providers.openai_compatible import BUILTIN_PROFILES, OpenAICompatibleProvider, create_providers
from easel.tasks.chat import ChatEvent, ChatRequest, ChatResult, Finish, TextDelta, UsageEvent
from tests.fakes.openai_fake import FAKE_KEY, create_app
from tests.fakes.server import serve

WEATHER: dict[str, Any] = {"type": "function", "function": {
    "name": "weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}
SEARCH: dict[str, Any] = {"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}}

Factory = Callable[..., OpenAICompatibleProvider]


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[Starlette, str]]:
    app = create_app()
    with serve(app) as base_url:
        yield app, base_url


@pytest.fixture
def app(fake: tuple[Starlette, str]) -> Starlette:
    app = fake[0]
    app.state.requests.clear()
    app.state.request_headers.clear()
    app.state.disconnects.clear()
    return app


@pytest.fixture
async def make(fake: tuple[Starlette, str]) -> AsyncIterator[Factory]:
    """Providers pointed at the fake by `base_urls`, closed after the test."""
    made: list[Provider] = []

    def factory(name: str = "openai", *, key: str | None = FAKE_KEY, **settings: Any) -> OpenAICompatibleProvider:
        settings.setdefault("keys", {name: key} if key else {})
        settings.setdefault("base_urls", {name: f"{fake[1]}/v1"})
        providers = {p.name: p for p in create_providers(Settings(**settings))}
        made.extend(providers.values())
        provider = providers[name]
        assert isinstance(provider, OpenAICompatibleProvider)
        return provider

    yield factory
    for provider in made:
        await provider.aclose()


def entry(model: str, provider: str = "openai") -> ModelEntry:
    return ModelEntry(id=f"{provider}:{model}", provider=provider, upstream_name=model, task="chat",
                      display_name=model)


def request(text: str = "hello there", **fields: Any) -> ChatRequest:
    return ChatRequest.model_validate({"model": "openai:x", "messages": [{"role": "user", "content": text}], **fields})


async def events(provider: Provider, model: str, req: ChatRequest | None = None) -> list[ChatEvent]:
    return [e async for e in provider.stream_chat(entry(model, provider.name), req or request())]


def gather(items: list[ChatEvent]) -> ChatResult:
    result = ChatResult()
    for event in items:
        result.add(event)
    return result


# ---- the happy path --------------------------------------------------------------


async def test_streamed_text_usage_and_what_was_sent(make: Factory, app: Starlette) -> None:
    got = await events(make(), "fake-echo", request(temperature=0.5, max_tokens=40, seed=1))
    result = gather(got)
    assert result.text == "You said: hello there" and result.reasoning == ""
    assert [type(e) for e in got[-2:]] == [UsageEvent, Finish] and result.finish_reason == "stop"
    assert result.usage.completion_tokens == 4 and result.usage.prompt_tokens > 0
    sent = app.state.requests[-1]
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert sent["temperature"] == 0.5 and sent["seed"] == 1
    assert sent["max_completion_tokens"] == 40 and "max_tokens" not in sent  # OpenAI's reasoning-safe field
    headers = app.state.request_headers[-1]
    assert headers["authorization"] == f"Bearer {FAKE_KEY}"


async def test_reasoning_apart_from_text_with_effort_and_reasoning_tokens(make: Factory, app: Starlette) -> None:
    result = gather(await events(make(), "fake-reasoner", request(reasoning_effort="high")))
    assert app.state.requests[-1]["reasoning_effort"] == "high"
    assert "effort high" in result.reasoning and result.text == "You said: hello there"
    assert result.usage.reasoning_tokens > 0
    assert result.usage.completion_tokens == result.usage.reasoning_tokens + 4


async def test_reasoning_field_variant(make: Factory) -> None:
    result = gather(await events(make(), "fake-reasoner-alt"))
    assert result.reasoning.startswith("The user wrote") and result.text == "You said: hello there"


async def test_tool_call_passthrough_with_tool_choice(make: Factory, app: Starlette) -> None:
    choice = {"type": "function", "function": {"name": "weather"}}
    result = gather(await events(make(), "fake-tools", request("Oslo", tools=[SEARCH, WEATHER], tool_choice=choice)))
    assert app.state.requests[-1]["tools"] == [SEARCH, WEATHER]
    assert app.state.requests[-1]["tool_choice"] == choice
    assert result.finish_reason == "tool_calls" and result.text == ""
    [call] = result.tool_calls
    assert call["id"].startswith("call_") and call["function"] == {"name": "weather", "arguments": '{"query":"Oslo"}'}


async def test_tool_result_round_trip(make: Factory) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
    req = request("Oslo?", tools=[WEATHER], messages=[
        {"role": "user", "content": "Oslo?"}, {"role": "assistant", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}])
    assert gather(await events(make(), "fake-tools", req)).text == "Tool said: sunny"


async def test_length_finish(make: Factory) -> None:
    result = gather(await events(make(), "fake-echo", request("one two three", max_tokens=2)))
    assert result.text == "You said: " and result.finish_reason == "length"


async def test_dialects_reach_the_wire(make: Factory, fake: tuple[Starlette, str]) -> None:
    lenient = create_app(strict=False)
    with serve(lenient) as url:
        router = make("openrouter", base_urls={"openrouter": f"{url}/v1"})
        await events(router, "fake-echo", request(reasoning_effort="low", max_tokens=9))
        sent = lenient.state.requests[-1]
        assert sent["reasoning"] == {"effort": "low"} and sent["max_tokens"] == 9
        assert lenient.state.request_headers[-1]["x-title"] == "easel"
        mistral = make("mistral", base_urls={"mistral": f"{url}/v1"})
        result = gather(await events(mistral, "fake-echo", request(seed=5, reasoning_effort="high")))
        sent = lenient.state.requests[-1]
        assert "stream_options" not in sent and sent["random_seed"] == 5 and "reasoning_effort" not in sent
        assert result.text == "You said: hello there"  # finished without usage: still a success


# ---- errors ------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "error", "status"), [
    ("fake-error-400", UpstreamBadRequest, 400),
    ("fake-error-404", UpstreamError, 502),
    ("fake-error-500", UpstreamError, 502),
    ("fake-error-503", UpstreamUnavailable, 503),
    ("fake-no-such-model", UpstreamError, 502),
])
async def test_error_statuses_map_onto_easel_errors(make: Factory, model: str, error: type[UpstreamError],
                                                     status: int) -> None:
    with pytest.raises(UpstreamError) as caught:
        await events(make(), model)
    assert type(caught.value) is error and caught.value.status_code == status
    assert caught.value.message.startswith("openai: ")
    assert caught.value.upstream_status == (int(model.rsplit("-", 1)[1]) if model[-1].isdigit() else 404)


async def test_401_names_the_key_variable(make: Factory) -> None:
    with pytest.raises(UpstreamError) as caught:
        await events(make(key="sk-wrong"), "fake-echo")
    assert caught.value.upstream_status == 401 and caught.value.status_code == 502
    assert "OPENAI_API_KEY" in caught.value.message and "Incorrect API key" in caught.value.message


async def test_429_carries_retry_after(make: Factory) -> None:
    with pytest.raises(UpstreamRateLimited) as caught:
        await events(make(), "fake-error-429")
    assert caught.value.status_code == 429 and caught.value.retry_after == 2.0
    assert caught.value.headers["Retry-After"] == "2"


async def test_context_overflow_becomes_context_window_exceeded(make: Factory) -> None:
    with pytest.raises(ContextWindowExceeded):
        await events(make(), "fake-error-context")


async def test_request_the_host_refuses_is_a_bad_request(make: Factory) -> None:
    req = request(extra={"no_such_argument": 1})
    with pytest.raises(UpstreamBadRequest, match="Unrecognized request argument supplied: no_such_argument"):
        await events(make(), "fake-echo", req)


@pytest.mark.parametrize("model", ["fake-stream-cut", "fake-stream-truncated"])
async def test_a_stream_cut_midway_is_an_error_not_a_short_answer(make: Factory, model: str) -> None:
    seen: list[ChatEvent] = []
    with pytest.raises(UpstreamError) as caught:
        async for event in make().stream_chat(entry(model), request()):
            seen.append(event)
    assert caught.value.code == "upstream_stream_cut" and type(caught.value) is UpstreamError
    assert seen == [TextDelta("You "), TextDelta("said: ")]  # what came before the cut, and no Finish


async def test_an_error_inside_the_stream_is_raised(make: Factory) -> None:
    with pytest.raises(UpstreamRateLimited):
        await events(make(), "fake-stream-error-429")
    with pytest.raises(UpstreamError) as caught:
        await events(make(), "fake-stream-error-500")
    assert caught.value.upstream_status == 500


async def test_hang_times_out(make: Factory) -> None:
    provider = make(upstream_timeout_seconds=0.3)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout) as caught:
        await events(provider, "fake-hang")
    assert caught.value.status_code == 504 and time.monotonic() - started < 3


async def test_unreachable_host(make: Factory) -> None:
    from tests.fakes.server import free_port

    provider = make(base_urls={"openai": f"http://127.0.0.1:{free_port()}/v1"}, upstream_connect_timeout_seconds=1)
    with pytest.raises(UpstreamError) as caught:
        await events(provider, "fake-echo")
    assert caught.value.code == "upstream_unreachable"


async def test_missing_key_names_the_variable(make: Factory) -> None:
    provider = make(key=None)
    assert not provider.availability(entry("fake-echo")).usable
    with pytest.raises(MissingCredentials, match="OPENAI_API_KEY"):
        await events(provider, "fake-echo")


async def test_key_from_the_environment(make: Factory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XAI_API_KEY", FAKE_KEY)
    provider = make("xai", key=None)
    assert provider.availability(entry("fake-echo", "xai")).usable
    assert gather(await events(provider, "fake-echo")).text == "You said: hello there"


# ---- cancellation ----------------------------------------------------------------


async def test_closing_the_stream_early_closes_the_upstream_connection(make: Factory, app: Starlette) -> None:
    stream = cast(AsyncGenerator[ChatEvent, None], make().stream_chat(entry("fake-endless"), request()))
    assert isinstance(await anext(stream), TextDelta)
    await stream.aclose()  # what a client disconnect does to the service's iterator
    deadline = time.monotonic() + 3
    while "fake-endless" not in app.state.disconnects and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert list(app.state.disconnects) == ["fake-endless"]


async def test_many_streams_at_once_share_one_client(make: Factory, app: Starlette) -> None:
    provider = make()
    results = await asyncio.gather(*(events(provider, "fake-echo", request(f"n{i}")) for i in range(20)))
    assert [gather(r).text for r in results] == [f"You said: n{i}" for i in range(20)]
    # The fake counts a stream as completed after its last byte is sent, which can be a moment
    # after the client has read [DONE]: wait for the count instead of racing it.
    deadline = time.monotonic() + 10
    while app.state.completed < 20 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert not app.state.disconnects and app.state.completed >= 20


# ---- registration and declared endpoints -------------------------------------------


def test_builtin_hosts_and_entry_point() -> None:
    providers = create_providers(Settings())
    assert [p.name for p in providers] == ["openai", "xai", "deepseek", "openrouter", "groq", "together", "mistral"]
    assert {p.name: p.credentials_env for p in providers}["deepseek"] == "DEEPSEEK_API_KEY"
    assert {p.name: cast(OpenAICompatibleProvider, p).base_url for p in providers}["groq"] == "https://api.groq.com/openai/v1"
    [ep] = [ep for ep in entry_points(group="easel.providers") if ep.name == "openai-compatible"]
    assert ep.load() is create_providers
    assert len({p.name for p in BUILTIN_PROFILES}) == len(BUILTIN_PROFILES)


def test_endpoint_names_must_be_unique() -> None:
    with pytest.raises(ValueError, match="openai"):
        create_providers(Settings(endpoints=[EndpointConfig(name="openai", base_url="http://x")]))


async def test_declared_endpoint_without_key_serves_its_models(make: Factory) -> None:
    local = create_app(api_key=None, models=["llama3.2", "qwen3:8b"])
    with serve(local) as url:
        endpoint = EndpointConfig(name="ollama", base_url=f"{url}/v1", models=["llama3.2", "qwen3:8b"],
                                  context_window=8192)
        provider = make("ollama", key=None, base_urls={}, endpoints=[endpoint])
        models = provider.extra_models()
        assert [m.id for m in models] == ["ollama:llama3.2", "ollama:qwen3:8b"]
        assert models[1].upstream_name == "qwen3:8b" and models[0].context_window == 8192
        assert provider.availability(models[0]).usable
        result = gather([e async for e in provider.stream_chat(models[1], request("hi local"))])
        assert result.text == "You said: hi local"
        sent, headers = local.state.requests[-1], local.state.request_headers[-1]
        assert sent["model"] == "qwen3:8b" and "authorization" not in headers
        assert sent["messages"] == [{"role": "user", "content": "hi local"}]


async def test_declared_endpoint_with_a_key_variable(make: Factory, fake: tuple[Starlette, str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = EndpointConfig(name="vllm", base_url=f"{fake[1]}/v1", api_key_env="VLLM_KEY", models=["fake-echo"])
    monkeypatch.delenv("VLLM_KEY", raising=False)
    provider = make("vllm", key=None, base_urls={}, endpoints=[endpoint])
    [model] = provider.extra_models()
    assert not provider.availability(model).usable
    with pytest.raises(MissingCredentials, match="VLLM_KEY"):
        await events(provider, "fake-echo")
    monkeypatch.setenv("VLLM_KEY", FAKE_KEY)
    assert gather([e async for e in provider.stream_chat(model, request())]).text == "You said: hello there"


# ---- timing triggers, hosts that ignore `stream`, and the fake's own wire shape ------------


async def test_slow_first_byte_and_drip(make: Factory) -> None:
    provider = make()
    started = time.monotonic()
    assert gather(await events(provider, "fake-slow-150")).text == "You said: hello there"
    assert time.monotonic() - started >= 0.15
    started = time.monotonic()
    assert gather(await events(provider, "fake-drip-30")).text == "You said: hello there"
    assert time.monotonic() - started >= 0.1


async def test_a_host_that_answers_json_despite_stream(make: Factory) -> None:
    async def whole(scope: Any, receive: Any, send: Any) -> None:
        body = {"choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1}}
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})

    with serve(whole) as url:
        got = await events(make(base_urls={"openai": url}), "any")
        result = gather(got)
    assert result.text == "hi" and result.usage.completion_tokens == 1 and result.finish_reason == "stop"
    assert isinstance(got[-1], Finish)


def test_fake_stream_shape_is_what_clients_rely_on(fake: tuple[Starlette, str]) -> None:
    body = {"model": "fake-reasoner", "messages": [{"role": "user", "content": "a b c"}], "stream": True,
            "stream_options": {"include_usage": True}}
    response = httpx.post(f"{fake[1]}/v1/chat/completions", json=body,
                          headers={"authorization": f"Bearer {FAKE_KEY}", "accept": "application/json"})
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = [line[6:] for line in response.text.split("\n\n") if line.startswith("data: ")]
    assert frames[-1] == "[DONE]" and frames.count("[DONE]") == 1
    chunks = [json.loads(f) for f in frames[:-1]]
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert sum(1 for c in chunks for ch in c["choices"] if ch["finish_reason"]) == 1
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0
    whole = httpx.post(f"{fake[1]}/v1/chat/completions", json={**body, "stream": False, "stream_options": None},
                       headers={"authorization": f"Bearer {FAKE_KEY}"})
    assert whole.headers["content-type"] == "application/json" and whole.json()["usage"]["total_tokens"] > 0
    missing = httpx.post(f"{fake[1]}/v1/chat/completions", json={"model": "fake-echo"},
                         headers={"authorization": f"Bearer {FAKE_KEY}"})
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "messages"
    anonymous = httpx.get(f"{fake[1]}/v1/models")
    assert anonymous.status_code == 401 and anonymous.headers["content-type"] == "application/json"
