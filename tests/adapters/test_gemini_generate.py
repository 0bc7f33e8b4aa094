"""The Gemini generateContent wire format, both ways, as pure functions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from easel.adapters.gemini_errors import error_from_body
from easel.adapters.gemini_generate import (
    SKIP_SIGNATURE,
    THINKING_BUDGETS,
    GeminiStreamParser,
    events_from_chunk,
    events_from_response,
    to_wire,
    usage_from_wire,
)
from easel.errors import (
    InvalidRequest,
    UnsupportedParameter,
    UpstreamBadRequest,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from easel.tasks.chat import (
    ChatRequest,
    ChatResult,
    Finish,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
    UsageEvent,
)

WEATHER: dict[str, Any] = {"type": "function", "function": {
    "name": "weather", "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"], "additionalProperties": False}}}


def req(messages: list[dict[str, Any]], **kw: Any) -> ChatRequest:
    return ChatRequest.model_validate({"model": "gemini:gemini-2.5-flash", "messages": messages, **kw})


# ---- to_wire ------------------------------------------------------------------


def test_roles_and_system_instruction() -> None:
    body = to_wire(req([
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": "Answer in English."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": [{"type": "text", "text": "How "}, {"type": "text", "text": "are you?"}]},
    ]))
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}, {"text": "Answer in English."}]}
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "Hi"}]},
        {"role": "model", "parts": [{"text": "Hello!"}]},
        {"role": "user", "parts": [{"text": "How "}, {"text": "are you?"}]},
    ]
    assert "generationConfig" not in body and "tools" not in body


def test_generation_config() -> None:
    body = to_wire(req([{"role": "user", "content": "x"}], max_tokens=50, temperature=0.3, top_p=0.9,
                       stop=["END"], seed=7))
    assert body["generationConfig"] == {"maxOutputTokens": 50, "temperature": 0.3, "topP": 0.9,
                                        "stopSequences": ["END"], "seed": 7}


@pytest.mark.parametrize("effort", ["minimal", "low", "medium", "high"])
def test_reasoning_effort_sets_a_budget_and_asks_for_thoughts(effort: str) -> None:
    body = to_wire(req([{"role": "user", "content": "x"}], reasoning_effort=effort))
    assert body["generationConfig"]["thinkingConfig"] == {"thinkingBudget": THINKING_BUDGETS[effort],
                                                          "includeThoughts": True}


def test_reasoning_effort_none_turns_thinking_off() -> None:
    body = to_wire(req([{"role": "user", "content": "x"}], reasoning_effort="none"))
    assert body["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 0}


def test_include_thoughts_for_thinking_models_without_effort() -> None:
    body = to_wire(req([{"role": "user", "content": "x"}]), include_thoughts=True)
    assert body["generationConfig"] == {"thinkingConfig": {"includeThoughts": True}}


def test_budgets_grow_with_effort() -> None:
    values = [THINKING_BUDGETS[e] for e in ("none", "minimal", "low", "medium", "high")]
    assert values == sorted(values) and values[0] == 0


def test_tools_become_function_declarations_with_json_schema() -> None:
    body = to_wire(req([{"role": "user", "content": "x"}], tools=[WEATHER]))
    assert body["tools"] == [{"functionDeclarations": [{
        "name": "weather", "description": "Weather in a city",
        "parametersJsonSchema": WEATHER["function"]["parameters"]}]}]


@pytest.mark.parametrize("choice, config", [
    ("auto", {"mode": "AUTO"}),
    ("none", {"mode": "NONE"}),
    ("required", {"mode": "ANY"}),
    ({"type": "function", "function": {"name": "weather"}}, {"mode": "ANY", "allowedFunctionNames": ["weather"]}),
])
def test_tool_choice(choice: Any, config: dict[str, Any]) -> None:
    body = to_wire(req([{"role": "user", "content": "x"}], tools=[WEATHER], tool_choice=choice))
    assert body["toolConfig"] == {"functionCallingConfig": config}


def test_unknown_tool_choice_and_tool_type_are_refused() -> None:
    with pytest.raises(UnsupportedParameter):
        to_wire(req([{"role": "user", "content": "x"}], tool_choice="sometimes"))
    with pytest.raises(UnsupportedParameter):
        to_wire(req([{"role": "user", "content": "x"}], tools=[{"type": "web_search"}]))


def test_tool_round_trip_history() -> None:
    body = to_wire(req([
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Paris"}'}},
            {"id": "call_2", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Rome"}'},
             "extra_content": {"google": {"thought_signature": "c2ln"}}},
        ]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'},
        {"role": "tool", "tool_call_id": "call_2", "content": "sunny"},
    ], tools=[WEATHER]))
    model, answers = body["contents"][1], body["contents"][2]
    assert model == {"role": "model", "parts": [
        {"functionCall": {"name": "weather", "args": {"city": "Paris"}}, "thoughtSignature": SKIP_SIGNATURE},
        {"functionCall": {"name": "weather", "args": {"city": "Rome"}}},
    ]}
    # both answers of one step travel in one user turn, named after the calls they answer
    assert answers == {"role": "user", "parts": [
        {"functionResponse": {"name": "weather", "response": {"temp": 21}}},
        {"functionResponse": {"name": "weather", "response": {"result": "sunny"}}},
    ]}


def test_a_kept_signature_is_sent_back() -> None:
    body = to_wire(req([
        {"role": "user", "content": "x"},
        {"role": "assistant", "tool_calls": [{"id": "c", "type": "function",
                                              "function": {"name": "f", "arguments": "{}"},
                                              "extra_content": {"google": {"thought_signature": "c2ln"}}}]},
        {"role": "tool", "tool_call_id": "c", "content": "ok"},
    ]))
    assert body["contents"][1]["parts"][0]["thoughtSignature"] == "c2ln"


def test_tool_answer_without_a_known_call_is_refused() -> None:
    with pytest.raises(InvalidRequest) as info:
        to_wire(req([{"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "nope", "content": "1"}]))
    assert info.value.param == "messages[1].tool_call_id"


def test_bad_tool_call_arguments_are_refused() -> None:
    with pytest.raises(InvalidRequest):
        to_wire(req([{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [
            {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{not json"}}]}]))


def test_images_inline_and_links_refused() -> None:
    body = to_wire(req([{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}]))
    assert body["contents"][0]["parts"][1] == {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
    with pytest.raises(UnsupportedParameter):
        to_wire(req([{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]))


def test_extra_passes_through_and_merges_generation_config() -> None:
    body = to_wire(req([{"role": "user", "content": "x"}], max_tokens=5, extra={
        "generationConfig": {"responseMimeType": "application/json"},
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]}))
    assert body["generationConfig"] == {"maxOutputTokens": 5, "responseMimeType": "application/json"}
    assert body["safetySettings"][0]["threshold"] == "BLOCK_NONE"


# ---- events -------------------------------------------------------------------


def chunk(parts: list[dict[str, Any]], finish: str | None = None, **meta: int) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    out: dict[str, Any] = {"candidates": [candidate], "modelVersion": "gemini-2.5-flash"}
    if meta:
        out["usageMetadata"] = meta
    return out


def test_thoughts_and_text_stay_apart() -> None:
    events = events_from_chunk(chunk([{"text": "Let me think.", "thought": True}, {"text": "Hi"}]))
    assert events == [ReasoningDelta("Let me think."), TextDelta("Hi")]


def test_signature_only_parts_make_no_events() -> None:
    assert events_from_chunk(chunk([{"text": "", "thoughtSignature": "c2ln"}])) == []


def test_function_calls_get_ids_and_json_arguments() -> None:
    events = events_from_chunk(chunk([{"functionCall": {"name": "weather", "args": {"city": "Paris"}}},
                                      {"functionCall": {"name": "weather", "args": {"city": "Rome"}}}], "STOP"),
                               tool_index=2)
    calls = [e for e in events if isinstance(e, ToolCallDelta)]
    assert [c.index for c in calls] == [2, 3]
    assert all(c.id and c.id.startswith("call_") for c in calls) and calls[0].id != calls[1].id
    assert json.loads(calls[1].arguments) == {"city": "Rome"}
    assert events[-1] == Finish("tool_calls")


@pytest.mark.parametrize("wire, reason", [
    ("STOP", "stop"), ("MAX_TOKENS", "length"), ("SAFETY", "content_filter"), ("RECITATION", "content_filter"),
    ("PROHIBITED_CONTENT", "content_filter"), ("SPII", "content_filter"), ("BLOCKLIST", "content_filter"),
    ("MALFORMED_FUNCTION_CALL", "tool_calls"), ("OTHER", "stop"),
])
def test_finish_reasons(wire: str, reason: str) -> None:
    assert events_from_chunk(chunk([], wire)) == [Finish(reason)]  # type: ignore[arg-type]


def test_usage_counts_thoughts_as_completion() -> None:
    usage = usage_from_wire({"promptTokenCount": 10, "candidatesTokenCount": 4, "thoughtsTokenCount": 30,
                             "cachedContentTokenCount": 6, "totalTokenCount": 44})
    assert usage == Usage(prompt_tokens=10, completion_tokens=34, reasoning_tokens=30, cached_tokens=6)
    assert usage.to_openai()["completion_tokens_details"] == {"reasoning_tokens": 30}


def test_parser_emits_cumulative_usage_once_at_the_end() -> None:
    parser = GeminiStreamParser()
    events = parser.feed(chunk([{"text": "thinking", "thought": True}], promptTokenCount=5, thoughtsTokenCount=9))
    events += parser.feed(chunk([{"text": "Hello "}], promptTokenCount=5, candidatesTokenCount=1, thoughtsTokenCount=9))
    events += parser.feed(chunk([{"text": "world"}], "STOP", promptTokenCount=5, candidatesTokenCount=2,
                                thoughtsTokenCount=9))
    assert parser.finished
    events += parser.close()
    assert [e for e in events if isinstance(e, UsageEvent)] == [
        UsageEvent(Usage(prompt_tokens=5, completion_tokens=11, reasoning_tokens=9))]
    assert events[-1] == Finish("stop")
    result = ChatResult()
    for event in events:
        result.add(event)
    assert (result.text, result.reasoning) == ("Hello world", "thinking")


def test_parser_numbers_calls_across_chunks_and_finishes_with_tool_calls() -> None:
    parser = GeminiStreamParser()
    events = parser.feed(chunk([{"functionCall": {"name": "a", "args": {}}}]))
    events += parser.feed(chunk([{"functionCall": {"name": "b", "args": {}}}]))
    events += parser.feed(chunk([], "STOP"))
    events += parser.close()
    assert [e.index for e in events if isinstance(e, ToolCallDelta)] == [0, 1]
    assert events[-1] == Finish("tool_calls")


def test_unfinished_parser() -> None:
    parser = GeminiStreamParser()
    parser.feed(chunk([{"text": "half"}]))
    assert not parser.finished


def test_blocked_prompt_raises() -> None:
    with pytest.raises(UpstreamBadRequest) as info:
        events_from_chunk({"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 3}})
    assert "blocked (SAFETY)" in info.value.message and info.value.code == "prompt_blocked"
    assert info.value.status_code == 400


def test_error_object_inside_a_stream_raises() -> None:
    with pytest.raises(UpstreamUnavailable):
        events_from_chunk({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}})


def test_events_from_a_whole_response() -> None:
    events = events_from_response(chunk([{"text": "Hi"}], "MAX_TOKENS", promptTokenCount=2, candidatesTokenCount=1))
    assert events == [TextDelta("Hi"), UsageEvent(Usage(prompt_tokens=2, completion_tokens=1)), Finish("length")]


# ---- errors -------------------------------------------------------------------


def google(code: int, status: str, message: str, details: list[dict[str, Any]] | None = None) -> str:
    return json.dumps({"error": {"code": code, "message": message, "status": status, "details": details or []}})


def test_invalid_key_is_a_credentials_error_not_a_bad_request() -> None:
    error = error_from_body(400, google(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
                                        [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                          "reason": "API_KEY_INVALID"}]))
    assert type(error) is UpstreamError and error.code == "upstream_authentication_failed"
    assert "GEMINI_API_KEY" in error.message and "API key not valid" in error.message


def test_plain_invalid_argument_is_a_bad_request() -> None:
    error = error_from_body(400, google(400, "INVALID_ARGUMENT", "Request contains an invalid argument."))
    assert isinstance(error, UpstreamBadRequest) and error.message == "gemini: Request contains an invalid argument."


def test_retry_info_becomes_retry_after() -> None:
    error = error_from_body(429, google(429, "RESOURCE_EXHAUSTED", "quota", [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}]))
    assert isinstance(error, UpstreamRateLimited)
    assert error.retry_after == 7.0 and error.headers["Retry-After"] == "7"
