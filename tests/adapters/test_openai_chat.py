"""The OpenAI chat-completions adapter alone: request bodies, dialects, chunk and completion parsing."""

from __future__ import annotations

from typing import Any

from easel.adapters.openai_chat import (
    Dialect,
    StreamError,
    UrlCitations,
    error_in_chunk,
    events_from_chunk,
    events_from_completion,
    to_wire,
    usage_from_wire,
)
from easel.tasks.chat import (
    ChatRequest,
    ChatResult,
    Citations,
    Finish,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
    UsageEvent,
)

WEATHER: dict[str, Any] = {"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}


def request(**fields: Any) -> ChatRequest:
    fields.setdefault("messages", [{"role": "user", "content": "hi"}])
    return ChatRequest(model="openai:gpt-x", **fields)


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {"id": "c1", "object": "chat.completion.chunk", "choices": choices, **extra}


# ---- to_wire -------------------------------------------------------------------


def test_minimal_streamed_body() -> None:
    assert to_wire(request(), "gpt-x") == {
        "model": "gpt-x",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_whole_body_has_no_stream_fields() -> None:
    body = to_wire(request(), "gpt-x", stream=False)
    assert "stream" not in body and "stream_options" not in body


def test_sampling_fields_tools_and_tool_choice_pass_through() -> None:
    choice = {"type": "function", "function": {"name": "weather"}}
    body = to_wire(request(temperature=0.2, top_p=0.5, stop=["END"], seed=7, max_tokens=64,
                           tools=[WEATHER], tool_choice=choice), "gpt-x")
    assert body["temperature"] == 0.2 and body["top_p"] == 0.5 and body["stop"] == ["END"]
    assert body["seed"] == 7 and body["max_tokens"] == 64
    assert body["tools"] == [WEATHER] and body["tool_choice"] == choice


def test_max_completion_tokens_dialect() -> None:
    body = to_wire(request(max_tokens=10), "o-x", dialect=Dialect(max_tokens_field="max_completion_tokens"))
    assert body["max_completion_tokens"] == 10 and "max_tokens" not in body


def test_reasoning_effort_styles() -> None:
    r = request(reasoning_effort="high")
    assert to_wire(r, "m")["reasoning_effort"] == "high"
    assert to_wire(r, "m", dialect=Dialect(reasoning_effort="object"))["reasoning"] == {"effort": "high"}
    none = to_wire(r, "m", dialect=Dialect(reasoning_effort=None))
    assert "reasoning_effort" not in none and "reasoning" not in none
    assert "reasoning_effort" not in to_wire(r, "m", send_reasoning_effort=False)


def test_mistral_like_dialect_renames_seed_and_skips_stream_options() -> None:
    body = to_wire(request(seed=3), "m", dialect=Dialect(seed_field="random_seed", stream_usage=False))
    assert body["random_seed"] == 3 and "seed" not in body
    assert body["stream"] is True and "stream_options" not in body


def test_earlier_reasoning_is_kept_renamed_or_dropped() -> None:
    r = request(messages=[{"role": "user", "content": "q"},
                          {"role": "assistant", "content": "a", "reasoning_content": "thought"},
                          {"role": "user", "content": "more"}])
    assert to_wire(r, "m")["messages"][1]["reasoning_content"] == "thought"
    renamed = to_wire(r, "m", dialect=Dialect(reasoning_history_field="reasoning"))["messages"][1]
    assert renamed == {"role": "assistant", "content": "a", "reasoning": "thought"}
    dropped = to_wire(r, "m", dialect=Dialect(reasoning_history_field=None))["messages"][1]
    assert dropped == {"role": "assistant", "content": "a"}


def test_tool_messages_and_extra_fields() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
    r = request(messages=[{"role": "user", "content": "q"}, {"role": "assistant", "tool_calls": [call]},
                          {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}],
                extra={"user": "u-1"})
    body = to_wire(r, "m")
    assert body["messages"][1] == {"role": "assistant", "tool_calls": [call]}
    assert body["messages"][2] == {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}
    assert body["user"] == "u-1"


# ---- chunks ----------------------------------------------------------------------


def test_text_delta_and_role_only_chunk() -> None:
    assert events_from_chunk(chunk({"role": "assistant", "content": ""})) == []
    assert events_from_chunk(chunk({"content": "Hel"})) == [TextDelta("Hel")]


def test_reasoning_content_and_reasoning_fields_are_reasoning() -> None:
    assert events_from_chunk(chunk({"reasoning_content": "think"})) == [ReasoningDelta("think")]
    assert events_from_chunk(chunk({"reasoning": "ponder", "content": None})) == [ReasoningDelta("ponder")]
    both = events_from_chunk(chunk({"reasoning_content": "a", "content": "b"}))
    assert both == [ReasoningDelta("a"), TextDelta("b")]


def test_mistral_thinking_parts_are_reasoning() -> None:
    content = [{"type": "thinking", "thinking": [{"type": "text", "text": "hmm"}]}, {"type": "text", "text": "ok"}]
    assert events_from_chunk(chunk({"content": content})) == [ReasoningDelta("hmm"), TextDelta("ok")]


def test_streamed_tool_call_pieces_gather_into_one_call() -> None:
    chunks = [
        chunk({"role": "assistant", "content": None, "tool_calls": [
            {"index": 0, "id": "call_9", "type": "function", "function": {"name": "weather", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Oslo"}'}}]}),
        chunk({}, "tool_calls"),
    ]
    events = [e for c in chunks for e in events_from_chunk(c)]
    assert events[0] == ToolCallDelta(index=0, id="call_9", name="weather", arguments="")
    result = ChatResult()
    for event in events:
        result.add(event)
    assert result.tool_calls == [{"id": "call_9", "type": "function",
                                  "function": {"name": "weather", "arguments": '{"city":"Oslo"}'}}]
    assert result.finish_reason == "tool_calls"


def test_finish_reasons() -> None:
    assert events_from_chunk(chunk({}, "length")) == [Finish("length")]
    assert events_from_chunk(chunk({}, "function_call")) == [Finish("tool_calls")]
    assert events_from_chunk(chunk({}, "something_new")) == [Finish("stop")]


def test_usage_chunk_with_reasoning_and_cached_tokens() -> None:
    usage = {"prompt_tokens": 20, "completion_tokens": 30, "total_tokens": 50,
             "prompt_tokens_details": {"cached_tokens": 8},
             "completion_tokens_details": {"reasoning_tokens": 12}}
    events = events_from_chunk(chunk(None, usage=usage))
    assert events == [UsageEvent(Usage(prompt_tokens=20, completion_tokens=30, reasoning_tokens=12, cached_tokens=8))]


def test_deepseek_cache_hits_and_groq_usage() -> None:
    assert usage_from_wire({"prompt_tokens": 5, "prompt_cache_hit_tokens": 3}).cached_tokens == 3
    groq = chunk({}, "stop", x_groq={"usage": {"prompt_tokens": 4, "completion_tokens": 2}})
    assert events_from_chunk(groq) == [Finish("stop"), UsageEvent(Usage(prompt_tokens=4, completion_tokens=2))]


def test_null_usage_on_ordinary_chunks_is_ignored() -> None:
    assert events_from_chunk(chunk({"content": "x"}, usage=None)) == [TextDelta("x")]


# ---- whole completions -----------------------------------------------------------


def test_completion_with_reasoning_text_tool_call_and_usage() -> None:
    body = {"choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": "Let me look.", "reasoning": "need weather",
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}]}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "completion_tokens_details": {"reasoning_tokens": 2}}}
    assert events_from_completion(body) == [
        ReasoningDelta("need weather"),
        TextDelta("Let me look."),
        ToolCallDelta(index=0, id="call_1", name="weather", arguments="{}"),
        Finish("tool_calls"),
        UsageEvent(Usage(prompt_tokens=3, completion_tokens=4, reasoning_tokens=2)),
    ]


# ---- errors inside a stream ------------------------------------------------------


def test_errors_inside_a_stream() -> None:
    assert error_in_chunk(chunk({"content": "x"})) is None
    openrouter = chunk({"content": ""}, "error", error={"code": 429, "message": "slow down"})
    assert error_in_chunk(openrouter) == StreamError(429, "slow down")
    assert error_in_chunk({"error": {"message": "bad", "type": "invalid_request_error"}}) == StreamError(400, "bad")
    assert error_in_chunk({"object": "error", "message": "boom", "code": 500}) == StreamError(500, "boom")
    assert error_in_chunk({"error": {"message": "odd", "code": "server_error"}}) == StreamError(None, "odd")
    assert error_in_chunk({"error": "plain text"}) == StreamError(None, "plain text")


def _url_citation(url: str, start: int, end: int, title: str = "") -> dict[str, Any]:
    return {"type": "url_citation", "url_citation": {"url": url, "title": title, "start_index": start, "end_index": end}}


def test_annotations_on_a_whole_answer_are_citations_quoting_their_span() -> None:
    text = "The pier opened in 1871 (example.org). It burned in 2003."
    message = {"role": "assistant", "content": text, "annotations": [
        _url_citation("https://example.org/pier", 0, 23, "Pier history"),
        {"type": "file_citation", "file_citation": {"file_id": "f1"}},  # not a web source
        _url_citation("https://example.org/pier", 39, 57),  # the same page again: one source
        _url_citation("https://news.example/fire", 39, 57, "Fire"),
        _url_citation("https://bad.example/span", 50, 999)]}  # a span past the end quotes nothing
    [citations] = [e for e in events_from_completion({"choices": [{"message": message}]}) if isinstance(e, Citations)]
    assert citations.items == [
        {"index": 1, "title": "Pier history", "url": "https://example.org/pier", "quote": "The pier opened in 1871",
         "cited": True},
        {"index": 2, "title": "Fire", "url": "https://news.example/fire", "quote": "It burned in 2003.", "cited": True},
        {"index": 3, "title": "https://bad.example/span", "url": "https://bad.example/span", "quote": "",
         "cited": True}]


def test_streamed_annotations_quote_text_from_earlier_chunks_and_each_event_holds_all_so_far() -> None:
    collector, result = UrlCitations(), ChatResult()
    chunks = [{"choices": [{"delta": {"content": "Lanterns in "}}]},
              {"choices": [{"delta": {"content": "March.", "annotations": [_url_citation("https://a.example", 0, 18)]}}]},
              {"choices": [{"delta": {"annotations": [_url_citation("https://b.example", 12, 17)]}}]},
              {"choices": [{"delta": {}, "finish_reason": "stop"}]}]
    for chunk in chunks:
        for event in events_from_chunk(chunk, collector):
            result.add(event)
    assert result.text == "Lanterns in March."
    assert [(c["index"], c["url"], c["quote"]) for c in result.citations] == [
        (1, "https://a.example", "Lanterns in March."), (2, "https://b.example", "March")]
    assert not [e for e in events_from_chunk(chunks[1]) if isinstance(e, Citations)]  # no collector, no citations
