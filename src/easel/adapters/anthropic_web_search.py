"""Anthropic's server-side web search on the Messages wire: the tool to ask for it, and its results as citations.

Asking: the `web_search_20250305` server tool (docs.claude.com, "Web search tool"), named
`web_search`, which Anthropic runs itself within the turn. `max_uses` caps the searches
one answer may run (each is billed).

Answering: a `server_tool_use` block (the query), a `web_search_tool_result` block whose
content lists the pages found ({type: web_search_result, url, title, ...}), then text
blocks carrying `citations` ({type: web_search_result_location, url, title, cited_text});
streamed, each citation comes as a `citations_delta` before the text it supports.
`WebSearchCitations` turns these into easel citations (easel.adapters.cited_sources): the
quote is the page's `cited_text` (Anthropic quotes the source, not the answer); pages found
but never cited are kept, marked uncited.
"""

from __future__ import annotations

from typing import Any

from easel.adapters.cited_sources import CitedSources
from easel.tasks.chat import Citations

#: The request fragment that turns the search on (merged into the body's `tools` list).
WEB_SEARCH_TOOL: dict[str, Any] = {"tools": [{"type": "web_search_20250305", "name": "web_search", "max_uses": 5}]}


class WebSearchCitations:
    """One answer's search results and citations, as the whole list of citations so far."""

    def __init__(self) -> None:
        self.sources = CitedSources()

    def block(self, block: dict[str, Any]) -> list[Citations]:
        """The citations after a whole content block: a search's results or a cited text block."""
        if block.get("type") == "web_search_tool_result":
            results = block.get("content")  # an error result is an object, not a list: nothing found
            for result in results if isinstance(results, list) else []:
                if isinstance(result, dict) and result.get("type") == "web_search_result":
                    self.sources.source(result.get("url"), result.get("title"))
        citations = block.get("citations")
        for citation in citations if isinstance(citations, list) else []:
            self._cite(citation)
        snapshot = self.sources.snapshot()
        return [snapshot] if snapshot is not None else []

    def delta(self, citation: Any) -> list[Citations]:
        """The citations after one `citations_delta`."""
        self._cite(citation)
        snapshot = self.sources.snapshot()
        return [snapshot] if snapshot is not None else []

    def _cite(self, citation: Any) -> None:
        if not isinstance(citation, dict) or citation.get("type") != "web_search_result_location":
            return  # document citations (char/page locations) are not web sources
        position = self.sources.source(citation.get("url"), citation.get("title"))
        if position is not None:
            self.sources.cite(position, str(citation.get("cited_text") or ""))
