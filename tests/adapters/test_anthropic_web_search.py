"""Anthropic's web_search results and citations -> easel citations, in whole Messages and in the body sent."""

from __future__ import annotations

from easel.adapters.anthropic_messages import events_from_message, to_wire
from easel.tasks.chat import ChatMessage, ChatRequest, Citations, TextDelta

PAGE = "https://news.example/lantern-festival"


def _cite(url: str, cited_text: str) -> dict:
    return {"type": "web_search_result_location", "url": url, "title": "Lantern news", "cited_text": cited_text}


def test_a_whole_message_cites_by_url_gathering_quotes_and_skipping_document_citations() -> None:
    events = events_from_message({"content": [
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "lanterns"}},
        {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1",
         "content": {"type": "web_search_tool_result_error", "error_code": "max_uses_exceeded"}},
        {"type": "text", "text": "Held in March.", "citations": [_cite(PAGE, "on the 14th of March")]},
        {"type": "text", "text": " On the pier.", "citations": [
            _cite(PAGE, "along the pier"), _cite(PAGE, "on the 14th of March"),
            {"type": "char_location", "cited_text": "a document", "document_index": 0}]},
    ], "stop_reason": "end_turn", "usage": {}})
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Held in March. On the pier."
    cited = [e.items for e in events if isinstance(e, Citations)]
    assert cited[-1] == [{"index": 1, "title": "Lantern news", "url": PAGE,
                          "quote": "on the 14th of March … along the pier", "cited": True}]
    assert len(cited) == 2  # a block that adds nothing new sends nothing


def test_the_search_tool_is_added_to_the_callers_function_tools() -> None:
    request = ChatRequest(model="anthropic:claude-sonnet-4-5", messages=[ChatMessage(role="user", content="hi")],
                          tools=[{"type": "function", "function": {"name": "lookup", "parameters": {}}}],
                          extra={"tools": [{"type": "web_search_20250305", "name": "web_search"}]})
    tools = to_wire(request, "claude-sonnet-4-5", default_max_tokens=100)["tools"]
    assert [t["name"] for t in tools] == ["lookup", "web_search"]
