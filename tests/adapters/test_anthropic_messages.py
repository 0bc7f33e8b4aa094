"""The Anthropic Messages adapter alone: request mapping and the stream parser, no I/O."""

from __future__ import annotations

import json
from typing import Any

import pytest

from easel.adapters.anthropic_messages import (
    THINKING_BUDGETS,
    MessagesStreamParser,
    events_from_message,
    to_wire,
)
from easel.errors import InvalidRequest, UnsupportedParameter, UpstreamRateLimited, UpstreamUnavailable
from easel.tasks.chat import (
    ChatRequest,
    ChatResult,
    Finish,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    UsageEvent,
)

WEATHER: dict[str, Any] = {"type": "function", "function": {"name": "weather", "description": "Weather in a city",
                                             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}


def wire(**fields: Any) -> dict[str, Any]:
    fields.setdefault("messages", [{"role": "user", "content": "hi"}])
    return to_wire(ChatRequest(model="anthropic:claude", **fields), "claude-x", default_max_tokens=1000)


# ---- to_wire -------------------------------------------------------------------


def test_minimal_body_has_model_max_tokens_and_stream() -> None:
    body = wire()
    assert body == {"model": "claude-x", "max_tokens": 1000, "stream": True,
                    "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}


def test_system_and_developer_messages_are_hoisted() -> None:
    body = wire(messages=[
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
        {"role": "developer", "content": [{"type": "text", "text": "Use French."}]},
        {"role": "assistant", "content": "salut"},
        {"role": "user", "content": "again"},
    ])
    assert body["system"] == "Be brief.\n\nUse French."
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]


def test_sampling_fields_and_stop_sequences() -> None:
    body = wire(temperature=0.3, top_p=0.9, stop=["END"], max_tokens=50, seed=4)
    assert body["temperature"] == 0.3 and body["top_p"] == 0.9
    assert body["stop_sequences"] == ["END"]
    assert body["max_tokens"] == 50
    assert "seed" not in body and "stop" not in body


def test_temperature_above_one_is_refused() -> None:
    with pytest.raises(UnsupportedParameter) as info:
        wire(temperature=1.5)
    assert info.value.param == "temperature"


def test_images_become_image_blocks() -> None:
    body = wire(messages=[{"role": "user", "content": [
        {"type": "text", "text": "what is it"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.jpg"}},
    ]}])
    blocks = body["messages"][0]["content"]
    assert blocks[1] == {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}
    assert blocks[2] == {"type": "image", "source": {"type": "url", "url": "https://example.com/a.jpg"}}


def test_tools_and_tool_choice() -> None:
    body = wire(tools=[WEATHER], tool_choice="required")
    assert body["tools"] == [{"name": "weather", "description": "Weather in a city",
                              "input_schema": WEATHER["function"]["parameters"]}]
    assert body["tool_choice"] == {"type": "any"}
    assert wire(tools=[WEATHER], tool_choice="auto")["tool_choice"] == {"type": "auto"}
    assert wire(tools=[WEATHER], tool_choice="none")["tool_choice"] == {"type": "none"}
    named = wire(tools=[WEATHER], tool_choice={"type": "function", "function": {"name": "weather"}})
    assert named["tool_choice"] == {"type": "tool", "name": "weather"}


def test_non_function_tools_are_refused() -> None:
    with pytest.raises(UnsupportedParameter):
        wire(tools=[{"type": "web_search"}])


def test_tool_calls_and_results_merge_into_turns() -> None:
    body = wire(messages=[
        {"role": "user", "content": "weather in Oslo and Rome"},
        {"role": "assistant", "content": "Checking.", "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Oslo"}'}},
            {"id": "call_2", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Rome"}'}},
        ]},
        {"role": "tool", "tool_call_id": "call_1", "content": "cold"},
        {"role": "tool", "tool_call_id": "call_2", "content": "warm"},
        {"role": "user", "content": "thanks"},
    ])
    assistant, results = body["messages"][1], body["messages"][2]
    assert assistant["content"] == [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "call_1", "name": "weather", "input": {"city": "Oslo"}},
        {"type": "tool_use", "id": "call_2", "name": "weather", "input": {"city": "Rome"}},
    ]
    assert results == {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "call_1", "content": "cold"},
        {"type": "tool_result", "tool_use_id": "call_2", "content": "warm"},
        {"type": "text", "text": "thanks"},
    ]}
    assert len(body["messages"]) == 3


def test_tool_call_arguments_must_be_json() -> None:
    with pytest.raises(InvalidRequest):
        wire(messages=[{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [
            {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{oops"}}]}])


@pytest.mark.parametrize("effort", ["low", "medium", "high"])
def test_reasoning_effort_enables_thinking_with_room_for_the_answer(effort: str) -> None:
    body = wire(reasoning_effort=effort, temperature=0.2)
    budget = THINKING_BUDGETS[effort]
    assert body["thinking"] == {"type": "enabled", "budget_tokens": budget}
    assert body["max_tokens"] == budget + 1000
    assert "temperature" not in body  # Anthropic refuses it alongside thinking


def test_reasoning_none_sends_no_thinking() -> None:
    assert "thinking" not in wire(reasoning_effort="none")


def test_thinking_budget_shrinks_under_an_explicit_max_tokens() -> None:
    body = wire(reasoning_effort="high", max_tokens=6000)
    assert body["max_tokens"] == 6000
    assert body["thinking"]["budget_tokens"] == 3000
    assert wire(reasoning_effort="low", max_tokens=1500)["thinking"]["budget_tokens"] == 1024
    with pytest.raises(UnsupportedParameter) as info:
        wire(reasoning_effort="low", max_tokens=800)
    assert info.value.param == "max_tokens"


def test_thinking_respects_the_models_output_limit() -> None:
    request = ChatRequest(model="m", messages=[{"role": "user", "content": "hi"}], reasoning_effort="high")
    body = to_wire(request, "claude-x", default_max_tokens=4096, max_output_tokens=8192)
    assert body["max_tokens"] == 8192
    assert body["thinking"]["budget_tokens"] == 4096


# ---- the stream parser -----------------------------------------------------------


def _events(kinds: list[dict[str, Any]]) -> list[Any]:
    parser = MessagesStreamParser()
    out: list[Any] = []
    for payload in kinds:
        out.extend(parser.feed(payload))
    assert parser.finished
    return out


START = {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "content": [],
                                              "usage": {"input_tokens": 10, "cache_read_input_tokens": 4,
                                                        "cache_creation_input_tokens": 0, "output_tokens": 1}}}


def _block(index: int, start: dict[str, Any], *deltas: dict[str, Any]) -> list[dict[str, Any]]:
    return ([{"type": "content_block_start", "index": index, "content_block": start}]
            + [{"type": "content_block_delta", "index": index, "delta": d} for d in deltas]
            + [{"type": "content_block_stop", "index": index}])


def _end(stop_reason: str, output_tokens: int = 7) -> list[dict[str, Any]]:
    return [{"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None},
             "usage": {"output_tokens": output_tokens}}, {"type": "message_stop"}]


def test_parser_keeps_thinking_and_text_apart_and_reports_usage_once() -> None:
    events = _events([
        START, {"type": "ping"},
        *_block(0, {"type": "thinking", "thinking": ""}, {"type": "thinking_delta", "thinking": "Hmm, "},
                {"type": "thinking_delta", "thinking": "ok."}, {"type": "signature_delta", "signature": "sig"}),
        *_block(1, {"type": "redacted_thinking", "data": "opaque"}),
        *_block(2, {"type": "text", "text": ""}, {"type": "text_delta", "text": "Hello"},
                {"type": "text_delta", "text": " there"}),
        *_end("end_turn"),
    ])
    assert events[:4] == [ReasoningDelta("Hmm, "), ReasoningDelta("ok."), TextDelta("Hello"), TextDelta(" there")]
    assert events[4] == Finish("stop")
    usage = events[5]
    assert isinstance(usage, UsageEvent) and len(events) == 6
    assert (usage.usage.prompt_tokens, usage.usage.cached_tokens, usage.usage.completion_tokens) == (14, 4, 7)


def test_parser_numbers_tool_calls_apart_from_blocks() -> None:
    events = _events([
        START,
        *_block(0, {"type": "text", "text": ""}, {"type": "text_delta", "text": "Calling."}),
        *_block(1, {"type": "tool_use", "id": "toolu_a", "name": "weather", "input": {}},
                {"type": "input_json_delta", "partial_json": ""},
                {"type": "input_json_delta", "partial_json": '{"city": '},
                {"type": "input_json_delta", "partial_json": '"Oslo"}'}),
        *_block(2, {"type": "tool_use", "id": "toolu_b", "name": "clock", "input": {}}),
        *_end("tool_use"),
    ])
    result = ChatResult()
    for event in events:
        result.add(event)
    assert ToolCallDelta(index=0, id="toolu_a", name="weather") in events
    assert result.tool_calls == [
        {"id": "toolu_a", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Oslo"}'}},
        {"id": "toolu_b", "type": "function", "function": {"name": "clock", "arguments": "{}"}},
    ]
    assert result.finish_reason == "tool_calls" and result.text == "Calling."


@pytest.mark.parametrize(("stop_reason", "finish"), [
    ("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"), ("tool_use", "tool_calls"),
    ("refusal", "content_filter"),
])
def test_parser_maps_stop_reasons(stop_reason: str, finish: str) -> None:
    assert Finish(finish) in _events([START, *_end(stop_reason)])  # type: ignore[arg-type]


def test_parser_is_not_finished_without_message_stop() -> None:
    parser = MessagesStreamParser()
    parser.feed(START)
    parser.feed({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 1}})
    assert not parser.finished


def test_parser_skips_unknown_events() -> None:
    assert MessagesStreamParser().feed({"type": "something_new", "x": 1}) == []


def test_error_events_raise_the_mapped_error() -> None:
    parser = MessagesStreamParser("anthropic")
    parser.feed(START)
    with pytest.raises(UpstreamUnavailable) as info:
        parser.feed({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    assert info.value.provider == "anthropic" and "Overloaded" in info.value.message
    with pytest.raises(UpstreamRateLimited):
        parser.feed({"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}})


def test_events_from_a_whole_message() -> None:
    body = {"type": "message", "content": [
        {"type": "thinking", "thinking": "hm", "signature": "s"},
        {"type": "text", "text": "Hi"},
        {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": 1}},
    ], "stop_reason": "tool_use", "usage": {"input_tokens": 3, "output_tokens": 2}}
    events = events_from_message(body)
    assert events[:3] == [ReasoningDelta("hm"), TextDelta("Hi"),
                          ToolCallDelta(index=0, id="toolu_1", name="f", arguments=json.dumps({"a": 1}))]
    assert events[3] == Finish("tool_calls")
    assert isinstance(events[4], UsageEvent) and events[4].usage.total_tokens == 5
