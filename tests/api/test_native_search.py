"""Provider-native web search through the API: Gemini's grounding with Google Search, Anthropic's
web_search server tool, and xAI's refusal.

The Gemini fake grounds an answer when the request carries the google_search tool, sending
groundingMetadata on the last chunk as Google does; the Anthropic fake searches when the
request carries web_search_20250305 and cites its results in citations_delta events. easel
turns both into citations on the chat completion (streamed and not) and on the stored turn.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest

from tests.api.conftest import Studio, sse_events
from tests.fakes.anthropic_fake import SEARCH_RESULTS
from tests.fakes.gemini_fake import GROUNDING_SOURCES

QUESTION = "When is the Quillton lantern festival held?"
ANSWER = f"Echo: {QUESTION}"
NATIVE = {"web_search": "on", "web_search_backend": "native"}
MODEL = "gemini:gemini-2.5-flash"
EXPECTED = [
    {"index": 1, "title": "news.example", "url": GROUNDING_SOURCES[0]["uri"], "quote": f"{QUESTION} … {ANSWER}",
     "cited": True},
    {"index": 2, "title": "archive.example", "url": GROUNDING_SOURCES[1]["uri"], "quote": QUESTION, "cited": True},
    {"index": 3, "title": "other.example", "url": GROUNDING_SOURCES[2]["uri"], "quote": "", "cited": False},
]


def _last_gemini_body(studio: Studio) -> dict[str, Any]:
    return studio.fakes.gemini_app.state.requests[-1]["body"]


def test_gemini_native_search_sends_google_search_and_returns_grounded_citations(client: openai.OpenAI,
                                                                                 studio: Studio) -> None:
    question = [{"role": "user", "content": QUESTION}]
    whole = client.chat.completions.create(model=MODEL, messages=question, extra_body=NATIVE)
    sent = _last_gemini_body(studio)
    assert sent["tools"] == [{"google_search": {}}]  # Google's grounding tool, as its REST API spells it
    assert sent["contents"] == [{"role": "user", "parts": [{"text": QUESTION}]}]  # nothing of easel's own search
    assert whole.choices[0].message.content == ANSWER
    assert whole.model_extra["citations"] == EXPECTED

    chunks = list(client.chat.completions.create(model=MODEL, messages=question, stream=True, extra_body=NATIVE))
    streamed = [c.model_extra["citations"] for c in chunks if (c.model_extra or {}).get("citations")]
    assert streamed == [EXPECTED]  # the metadata came once, with the last chunk
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == ANSWER


def test_gemini_grounding_is_stored_with_a_conversation_turn(studio: Studio) -> None:
    with studio.http() as http:
        conv = http.post("/api/conversations", json={"model": MODEL}).json()
        turn = http.post(f"/api/conversations/{conv['id']}/messages", json={"content": QUESTION, **NATIVE})
        assert turn.status_code == 200, turn.text
        with http.stream("POST", f"/api/conversations/{conv['id']}/messages",
                         json={"content": QUESTION, "stream": True, **NATIVE}) as streamed:
            events = sse_events(streamed)
        detail = http.get(f"/api/conversations/{conv['id']}").json()
    assert _last_gemini_body(studio)["tools"] == [{"google_search": {}}]
    assert turn.json()["extras"]["citations"] == EXPECTED
    assert [data["citations"] for name, data in events if name == "citations"] == [EXPECTED]
    answers = [m for m in detail["messages"] if m["role"] == "assistant"]
    assert [m["extras"]["citations"] for m in answers] == [EXPECTED, EXPECTED]
    assert all(m["extras"]["web_search"] == "native" for m in answers)


def test_gemini_grounding_sits_beside_the_callers_functions(client: openai.OpenAI, studio: Studio) -> None:
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "properties": {"q": {"type": "string"}}}}}
    reply = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": QUESTION}],
                                           tools=[tool], extra_body=NATIVE)
    sent = _last_gemini_body(studio)
    assert sent["tools"][0]["functionDeclarations"][0]["name"] == "lookup"
    assert sent["tools"][1:] == [{"google_search": {}}]
    assert reply.choices[0].message.tool_calls[0].function.name == "lookup"


def test_without_native_search_gemini_gets_no_search_tool_and_answers_without_citations(
        client: openai.OpenAI, studio: Studio) -> None:
    reply = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": QUESTION}])
    assert "tools" not in _last_gemini_body(studio)
    assert reply.choices[0].message.content == ANSWER
    assert "citations" not in (reply.model_extra or {})


CLAUDE = "anthropic:claude-sonnet-4-5"
CLAUDE_EXPECTED = [
    {"index": 1, "title": "Lantern festival news", "url": SEARCH_RESULTS[0]["url"],
     "quote": SEARCH_RESULTS[0]["cited_text"], "cited": True},
    {"index": 2, "title": "Quillton archive", "url": SEARCH_RESULTS[1]["url"],
     "quote": SEARCH_RESULTS[1]["cited_text"], "cited": True},
    {"index": 3, "title": "Unrelated page", "url": SEARCH_RESULTS[2]["url"], "quote": "", "cited": False},
]


def test_anthropic_native_search_sends_the_web_search_tool_and_returns_its_citations(client: openai.OpenAI,
                                                                                      studio: Studio) -> None:
    question = [{"role": "user", "content": QUESTION}]
    whole = client.chat.completions.create(model=CLAUDE, messages=question, extra_body=NATIVE)
    sent = studio.fakes.anthropic_app.state.requests[-1]
    assert sent["tools"] == [{"type": "web_search_20250305", "name": "web_search", "max_uses": 5}]
    assert sent["messages"] == [{"role": "user", "content": [{"type": "text", "text": QUESTION}]}]
    assert whole.choices[0].message.content == f"You said: {QUESTION}"
    assert whole.model_extra["citations"] == CLAUDE_EXPECTED

    chunks = list(client.chat.completions.create(model=CLAUDE, messages=question, stream=True, extra_body=NATIVE))
    streamed = [c.model_extra["citations"] for c in chunks if (c.model_extra or {}).get("citations")]
    # the results first (all uncited), then each citation as it arrives, before the text it supports
    assert [[c["cited"] for c in s] for s in streamed] == [[False, False, False], [True, False, False],
                                                           [True, True, False]]
    assert streamed[-1] == CLAUDE_EXPECTED

    with studio.http() as http:
        conv = http.post("/api/conversations", json={"model": CLAUDE}).json()
        turn = http.post(f"/api/conversations/{conv['id']}/messages", json={"content": QUESTION, **NATIVE})
        assert turn.status_code == 200, turn.text
        detail = http.get(f"/api/conversations/{conv['id']}").json()
    assert detail["messages"][-1]["extras"]["citations"] == CLAUDE_EXPECTED
    assert detail["messages"][-1]["content"] == f"You said: {QUESTION}"


@pytest.mark.parametrize("model", ["gemini:gemma-4-31b-it", "anthropic:claude-haiku-4-5", "xai:grok-4.3"])
def test_native_search_where_the_model_has_none_is_a_clear_400(client: openai.OpenAI, studio: Studio,
                                                                model: str) -> None:
    apps = (studio.fakes.gemini_app, studio.fakes.anthropic_app, studio.fakes.openai_app)
    sent_before = [len(app.state.requests) for app in apps]
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": QUESTION}],
                                       extra_body=NATIVE)
    error = caught.value.body
    assert error["param"] == "web_search_backend" and error["code"] == "unsupported_parameter"
    assert model in error["message"]
    if model.startswith("xai:"):  # says why: xAI moved its search off chat completions
        assert "Live Search" in error["message"] and "Responses API" in error["message"]
    assert [len(app.state.requests) for app in apps] == sent_before  # refused before any upstream call
