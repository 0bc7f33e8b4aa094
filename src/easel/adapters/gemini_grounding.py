"""Grounding with Google Search on the Gemini wire: the tool to ask for it, and its metadata as citations.

Asking: `tools: [{"google_search": {}}]` in a generateContent/streamGenerateContent body
(ai.google.dev/gemini-api/docs/google-search). That is the tool of every Gemini 2.0+ model;
`google_search_retrieval` (with a dynamic retrieval threshold) served only the 1.5 models,
which the catalog no longer lists, so it is not spoken here.

Answering: a candidate's `groundingMetadata` names its sources in `groundingChunks[].web
{uri, title}` and ties spans of the answer to them in `groundingSupports[] {segment
{startIndex, endIndex, text}, groundingChunkIndices}`. `GroundingCitations` turns that into
easel citations (easel.adapters.cited_sources): the quote is the answer text the source
supports; a source no support points at is kept, marked uncited. When streamed, the metadata
usually comes with the last chunk, but may come on several: each chunk's indices are read
against that chunk's own `groundingChunks`, and sources are merged by URL.

Google's `uri` is a redirect through vertexaisearch.cloud.google.com that leads to the page
and its `title` is often only the site's domain; both are passed on as Google gives them.
"""

from __future__ import annotations

from typing import Any

from easel.adapters.cited_sources import CitedSources
from easel.tasks.chat import Citations

#: The request fragment that turns grounding on (merged into the body's `tools` list).
GOOGLE_SEARCH_TOOL: dict[str, Any] = {"tools": [{"google_search": {}}]}


class GroundingCitations:
    """One answer's grounding metadata, as the whole list of citations so far."""

    def __init__(self) -> None:
        self._text: list[str] = []
        self.sources = CitedSources()

    def text(self, piece: str) -> None:
        """Keep the answer's text: a segment without its own `text` is cut from it by offsets."""
        self._text.append(piece)

    def feed(self, candidate: dict[str, Any]) -> Citations | None:
        """The citations after this candidate's metadata (the whole list), or None if it changed nothing."""
        metadata = candidate.get("groundingMetadata")
        if not isinstance(metadata, dict):
            return None
        positions = [self._source(chunk) for chunk in _list(metadata.get("groundingChunks"))]
        for support in _list(metadata.get("groundingSupports")):
            quote = self._segment_text(support.get("segment"))
            for chunk_index in _list(support.get("groundingChunkIndices")):
                if isinstance(chunk_index, int) and 0 <= chunk_index < len(positions):
                    position = positions[chunk_index]
                    if position is not None:
                        self.sources.cite(position, quote)
        return self.sources.snapshot()

    def _source(self, chunk: Any) -> int | None:
        """This grounding chunk's source position, or None if it names no web page (a retrievedContext...)."""
        web = chunk.get("web") if isinstance(chunk, dict) else None
        return self.sources.source(web.get("uri"), web.get("title")) if isinstance(web, dict) else None

    def _segment_text(self, segment: Any) -> str:
        """The supported span: the segment's own text, else the answer cut at its UTF-8 byte offsets."""
        if not isinstance(segment, dict):
            return ""
        if isinstance(segment.get("text"), str):
            return segment["text"]
        answer = "".join(self._text).encode("utf-8")
        start, end = segment.get("startIndex", 0), segment.get("endIndex")  # proto JSON omits a 0 start
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(answer):
            return answer[start:end].decode("utf-8", errors="ignore")
        return ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
