"""The official `openai` SDK against a running easel: models, chat, streams, reasoning, tools, errors."""

from __future__ import annotations

import time

import httpx
import openai
import pytest

from tests.api.conftest import Studio

HAIKU = [{"role": "user", "content": "Write a haiku about fog"}]


def test_models_list_and_retrieve_by_alias(client: openai.OpenAI) -> None:
    ids = {m.id for m in client.models.list()}
    assert {"local:smollm2-135m", "xai:grok-4", "openai:gpt-5", "anthropic:claude-sonnet-4-5"} <= ids
    assert len(ids) > 300
    assert client.models.retrieve("gpt-5").id == "openai:gpt-5"


def test_local_model_answers_with_usage(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model="local:smollm2-135m", messages=HAIKU, max_tokens=24, seed=7,
                                           temperature=0)
    assert reply.model == "local:smollm2-135m"
    assert reply.choices[0].message.role == "assistant"
    assert reply.choices[0].message.content.strip()
    assert reply.choices[0].finish_reason in ("stop", "length")
    assert reply.usage is not None and 0 < reply.usage.completion_tokens <= 24
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_local_stream_follows_the_chunk_rules(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="smollm2", messages=HAIKU, max_completion_tokens=16, stream=True,
                                            stream_options={"include_usage": True})
    chunks = list(stream)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    assert sum(1 for c in chunks if c.choices and c.choices[0].finish_reason) == 1
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()


def test_remote_model_through_alias_reaches_the_provider(client: openai.OpenAI, studio: Studio) -> None:
    reply = client.chat.completions.create(model="grok-4", messages=[{"role": "user", "content": "hello there"}],
                                           temperature=0.3, top_p=0.9, stop=["END"], seed=3, max_tokens=50)
    assert reply.model == "xai:grok-4"
    assert reply.choices[0].message.content == "You said: hello there"
    sent = studio.fakes.openai_app.state.requests[-1]
    assert sent["model"] == "grok-4"
    assert (sent["temperature"], sent["top_p"], sent["stop"], sent["seed"]) == (0.3, 0.9, ["END"], 3)


def test_reasoning_is_kept_apart_from_the_answer(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model="fake:fake-reasoner", messages=[{"role": "user", "content": "why"}])
    message = reply.choices[0].message
    reasoning = message.model_extra["reasoning_content"]
    assert reasoning and reasoning not in message.content
    assert message.content == "You said: why"
    assert reply.usage.completion_tokens_details.reasoning_tokens > 0

    stream = client.chat.completions.create(model="fake:fake-reasoner-alt", stream=True,
                                            messages=[{"role": "user", "content": "why"}])
    deltas = [c.choices[0].delta for c in stream if c.choices]
    streamed_reasoning = "".join((d.model_extra or {}).get("reasoning_content") or "" for d in deltas)
    streamed_text = "".join(d.content or "" for d in deltas)
    assert streamed_reasoning and streamed_text == "You said: why"


def test_tools_pass_through_to_a_provider_that_supports_them(client: openai.OpenAI, studio: Studio) -> None:
    tools = [{"type": "function", "function": {"name": "search", "description": "web search",
                                               "parameters": {"type": "object",
                                                              "properties": {"query": {"type": "string"}}}}}]
    reply = client.chat.completions.create(model="fake:fake-tools", messages=[{"role": "user", "content": "oat milk"}],
                                           tools=tools, tool_choice="auto")
    call = reply.choices[0].message.tool_calls[0]
    assert reply.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "search" and "oat milk" in call.function.arguments
    assert studio.fakes.openai_app.state.requests[-1]["tool_choice"] == "auto"


def test_unknown_model_is_404_with_suggestions(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt5", messages=HAIKU)
    assert "openai:gpt-5" in caught.value.message
    assert caught.value.body["code"] == "model_not_found"


@pytest.mark.parametrize(
    ("overrides", "param"),
    [
        ({"messages": []}, "messages"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": 10_000_000}, "max_tokens"),
        ({"temperature": 7}, "temperature"),
        ({"n": 3}, "n"),
        ({"messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role"),
    ],
)
def test_bad_requests_are_400_naming_the_parameter(client: openai.OpenAI, overrides: dict, param: str) -> None:
    body = {"model": "local:smollm2-135m", "messages": HAIKU, **overrides}
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(**body)
    assert caught.value.body["param"] == param
    assert caught.value.body["type"] == "invalid_request_error"


def test_malformed_json_and_unknown_fields_get_openai_error_shape(studio: Studio) -> None:
    with studio.http() as http:
        broken = http.post("/v1/chat/completions", content=b'{"model": "smollm2", "messages": [',
                           headers={"content-type": "application/json"})
        unknown = http.post("/v1/chat/completions", json={"model": "smollm2", "messages": HAIKU, "temprature": 1})
        missing = http.post("/v1/chat/completions", json={"messages": HAIKU})
    for response in (broken, unknown, missing):
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("application/json")
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    assert "Malformed JSON" in broken.json()["error"]["message"]
    assert unknown.json()["error"]["message"] == "Unrecognized request argument supplied: temprature"
    assert missing.json()["error"]["param"] == "model"


def test_prompt_past_the_context_window_is_400(client: openai.OpenAI) -> None:
    long_prompt = "fog " * 40_000
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="local:smollm2-135m",
                                       messages=[{"role": "user", "content": long_prompt}])
    assert caught.value.body["code"] == "context_length_exceeded"


def test_missing_provider_key_is_401_naming_the_variable(client: openai.OpenAI) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        client.chat.completions.create(model="mistral:mistral-large-latest", messages=HAIKU)
    assert "MISTRAL_API_KEY" in caught.value.message


@pytest.mark.parametrize(
    ("model", "error", "status"),
    [
        ("fake:fake-error-429", openai.RateLimitError, 429),
        ("fake:fake-error-500", openai.InternalServerError, 502),
        ("fake:fake-error-503", openai.InternalServerError, 503),
        ("fake:fake-hang", openai.InternalServerError, 504),
        ("fake:fake-error-400", openai.BadRequestError, 400),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_upstream_failures_name_the_provider(client: openai.OpenAI, model: str, error: type, status: int,
                                             stream: bool) -> None:
    with pytest.raises(error) as caught:
        client.chat.completions.create(model=model, messages=HAIKU, stream=stream)
    assert caught.value.status_code == status
    assert caught.value.body["message"].startswith("fake:")
    if status == 429:
        assert caught.value.response.headers["retry-after"] == "2"


def test_stream_cut_midway_raises_instead_of_ending_quietly(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="fake:fake-stream-cut", messages=HAIKU, stream=True)
    with pytest.raises(openai.APIError) as caught:
        for _ in stream:
            pass
    assert "fake" in str(caught.value)


def test_client_disconnect_stops_the_upstream_generation(studio: Studio) -> None:
    body = {"model": "fake:fake-endless", "messages": HAIKU, "stream": True}
    before = list(studio.fakes.openai_app.state.disconnects).count("fake-endless")
    with httpx.Client(base_url=studio.url, timeout=10) as http:
        with http.stream("POST", "/v1/chat/completions", json=body) as response:
            assert response.status_code == 200
            for index, _ in enumerate(response.iter_lines()):
                if index > 5:
                    break
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if list(studio.fakes.openai_app.state.disconnects).count("fake-endless") > before:
            return
        time.sleep(0.05)
    pytest.fail("the upstream stream was still running after the client left")
