"""Gemini groundingMetadata -> easel citations, on the stream parser: what Google can send beyond the fake's case."""

from __future__ import annotations

from typing import Any

from easel.adapters.gemini_generate import GeminiStreamParser, to_wire
from easel.tasks.chat import ChatMessage, ChatRequest, Citations, TextDelta

LANTERN = "https://vertexaisearch.cloud.google.com/grounding-api-redirect/lantern"
ARCHIVE = "https://vertexaisearch.cloud.google.com/grounding-api-redirect/archive"


def _chunk(text: str | None = None, metadata: dict[str, Any] | None = None, finish: str | None = None) -> dict:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}] if text else []}}
    if metadata is not None:
        candidate["groundingMetadata"] = metadata
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate]}


def _web(uri: str, title: str) -> dict[str, Any]:
    return {"web": {"uri": uri, "title": title}}


def _citations(events: list[Any]) -> list[list[dict[str, Any]]]:
    return [e.items for e in events if isinstance(e, Citations)]


def test_segments_without_text_are_cut_from_the_answer_by_utf8_byte_offsets() -> None:
    parser = GeminiStreamParser()
    answer = "Le café ouvre à 9 h. Fermé le lundi."
    first, second = "Le café ouvre à 9 h.", "Fermé le lundi."
    start = len(f"{first} ".encode())
    events = parser.feed(_chunk(answer, {
        "groundingChunks": [_web(LANTERN, "cafe.example")],
        "groundingSupports": [{"segment": {"endIndex": len(first.encode())}, "groundingChunkIndices": [0]},
                              {"segment": {"startIndex": start, "endIndex": len(answer.encode())},
                               "groundingChunkIndices": [0]}],
    }, finish="STOP"))
    assert [e.text for e in events if isinstance(e, TextDelta)] == [answer]
    assert _citations(events) == [[{"index": 1, "title": "cafe.example", "url": LANTERN,
                                    "quote": f"{first} … {second}", "cited": True}]]


def test_metadata_on_several_chunks_is_merged_by_url_each_read_against_its_own_chunk_list() -> None:
    parser = GeminiStreamParser()
    early = parser.feed(_chunk("Held in March. ", {
        "groundingChunks": [_web(LANTERN, "news.example")],
        "groundingSupports": [{"segment": {"endIndex": 14, "text": "Held in March."}, "groundingChunkIndices": [0]}],
    }))
    late = parser.feed(_chunk("On the pier.", {
        # the second list starts with another source: index 0 is the archive here, 1 the lantern page
        "groundingChunks": [_web(ARCHIVE, "archive.example"), _web(LANTERN, "news.example"),
                            {"retrievedContext": {"uri": "gs://bucket/doc", "title": "doc"}}],
        "groundingSupports": [{"segment": {"startIndex": 15, "endIndex": 27, "text": "On the pier."},
                               "groundingChunkIndices": [0, 1, 2, 7]}],
    }, finish="STOP"))
    assert _citations(early) == [[{"index": 1, "title": "news.example", "url": LANTERN,
                                   "quote": "Held in March.", "cited": True}]]
    assert _citations(late) == [[
        {"index": 1, "title": "news.example", "url": LANTERN, "quote": "Held in March. … On the pier.", "cited": True},
        {"index": 2, "title": "archive.example", "url": ARCHIVE, "quote": "On the pier.", "cited": True},
    ]]
    assert _citations(parser.close()) == []


def test_the_same_metadata_again_sends_no_new_citations() -> None:
    parser = GeminiStreamParser()
    metadata = {"groundingChunks": [_web(LANTERN, "news.example")], "groundingSupports": []}
    assert _citations(parser.feed(_chunk("One.", metadata))) == [[{"index": 1, "title": "news.example",
                                                                   "url": LANTERN, "quote": "", "cited": False}]]
    assert _citations(parser.feed(_chunk(" Two.", metadata, finish="STOP"))) == []


def test_the_search_tool_is_added_to_the_callers_function_tools() -> None:
    request = ChatRequest(model="gemini:gemini-2.5-flash", messages=[ChatMessage(role="user", content="hi")],
                          tools=[{"type": "function", "function": {"name": "lookup"}}],
                          extra={"tools": [{"google_search": {}}]})
    assert to_wire(request)["tools"] == [{"functionDeclarations": [{"name": "lookup"}]}, {"google_search": {}}]
