"""Grounding with Google Search on the Gemini wire: the tool to ask for it, and its metadata as citations.

Asking: `tools: [{"google_search": {}}]` in a generateContent/streamGenerateContent body
(ai.google.dev/gemini-api/docs/google-search). That is the tool of every Gemini 2.0+ model;
`google_search_retrieval` (with a dynamic retrieval threshold) served only the 1.5 models,
which the catalog no longer lists, so it is not spoken here.

Answering: a candidate's `groundingMetadata` names its sources in `groundingChunks[].web
{uri, title}` and ties spans of the answer to them in `groundingSupports[] {segment
{startIndex, endIndex, text}, groundingChunkIndices}`. `GroundingCitations` turns that into
easel citations {index, title, url, quote, cited}: one per URL, numbered by first
appearance; the quote is the answer text the source supports (several spans joined by
" … "); a source no support points at is kept, marked uncited. When streamed, the metadata
usually comes with the last chunk, but may come on several: each chunk's indices are read
against that chunk's own `groundingChunks`, and sources are merged by URL.

Google's `uri` is a redirect through vertexaisearch.cloud.google.com that leads to the page
and its `title` is often only the site's domain; both are passed on as Google gives them.
"""

from __future__ import annotations

from typing import Any

from easel.tasks.chat import Citations

#: The request fragment that turns grounding on (merged into the body's `tools` list).
GOOGLE_SEARCH_TOOL: dict[str, Any] = {"tools": [{"google_search": {}}]}

_QUOTE_JOINER = " … "


class GroundingCitations:
    """One answer's grounding metadata, as the whole list of citations so far."""

    def __init__(self) -> None:
        self._text: list[str] = []
        self.items: list[dict[str, Any]] = []
        self._quotes: list[list[str]] = []  # per item, the distinct supported spans in order

    def text(self, piece: str) -> None:
        """Keep the answer's text: a segment without its own `text` is cut from it by offsets."""
        self._text.append(piece)

    def feed(self, candidate: dict[str, Any]) -> Citations | None:
        """The citations after this candidate's metadata (the whole list), or None if it changed nothing."""
        metadata = candidate.get("groundingMetadata")
        if not isinstance(metadata, dict):
            return None
        before = [dict(item) for item in self.items]
        positions = [self._source(chunk) for chunk in _list(metadata.get("groundingChunks"))]
        for support in _list(metadata.get("groundingSupports")):
            quote = self._segment_text(support.get("segment"))
            for chunk_index in _list(support.get("groundingChunkIndices")):
                if not isinstance(chunk_index, int) or not 0 <= chunk_index < len(positions):
                    continue
                position = positions[chunk_index]
                if position is None:
                    continue
                self.items[position]["cited"] = True
                if quote and quote not in self._quotes[position]:
                    self._quotes[position].append(quote)
                    self.items[position]["quote"] = _QUOTE_JOINER.join(self._quotes[position])
        if self.items == before:
            return None
        return Citations([dict(item) for item in self.items])

    def _source(self, chunk: Any) -> int | None:
        """The position of this grounding chunk's item (added if new), or None if it names no web page."""
        web = chunk.get("web") if isinstance(chunk, dict) else None
        uri = web.get("uri") if isinstance(web, dict) else None
        if not isinstance(uri, str) or not uri:
            return None  # e.g. a retrievedContext or maps chunk: not a web source
        for position, item in enumerate(self.items):
            if item["url"] == uri:
                return position
        self.items.append({"index": len(self.items) + 1, "title": str(web.get("title") or uri), "url": uri,
                           "quote": "", "cited": False})
        self._quotes.append([])
        return len(self.items) - 1

    def _segment_text(self, segment: Any) -> str:
        """The supported span: the segment's own text, else the answer cut at its UTF-8 byte offsets."""
        if not isinstance(segment, dict):
            return ""
        if isinstance(segment.get("text"), str):
            return segment["text"].strip()
        answer = "".join(self._text).encode("utf-8")
        start, end = segment.get("startIndex", 0), segment.get("endIndex")  # proto JSON omits a 0 start
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(answer):
            return answer[start:end].decode("utf-8", errors="ignore").strip()
        return ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
