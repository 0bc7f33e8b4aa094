"""A provider's server-side search sources as easel citations, built up while an answer streams.

Owns the shape both native-search adapters give back (Gemini grounding, Anthropic's
web_search tool): {index, title, url, quote, cited}, one per URL, numbered by first
appearance; the quote gathers the distinct passages cited from that source, joined by
" … "; a source the provider found but the answer never cited stays, marked uncited.
"""

from __future__ import annotations

from typing import Any

from easel.tasks.chat import Citations

_QUOTE_JOINER = " … "


class CitedSources:
    """The sources of one answer. `snapshot()` says whether they changed since the last one."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self._quotes: list[list[str]] = []  # per item, the distinct cited passages in order
        self._sent: list[dict[str, Any]] = []

    def source(self, url: Any, title: Any) -> int | None:
        """The position of the source at `url` (added, uncited, if new), or None if `url` is no URL."""
        if not isinstance(url, str) or not url:
            return None
        for position, item in enumerate(self.items):
            if item["url"] == url:
                return position
        self.items.append({"index": len(self.items) + 1, "title": str(title or url), "url": url,
                           "quote": "", "cited": False})
        self._quotes.append([])
        return len(self.items) - 1

    def cite(self, position: int, quote: str) -> None:
        """The answer cites the source at `position`, with `quote` ("" when the provider gave no passage)."""
        self.items[position]["cited"] = True
        quote = quote.strip()
        if quote and quote not in self._quotes[position]:
            self._quotes[position].append(quote)
            self.items[position]["quote"] = _QUOTE_JOINER.join(self._quotes[position])

    def snapshot(self) -> Citations | None:
        """The whole list as a Citations event (a later one replaces it), or None if nothing changed."""
        if self.items == self._sent:
            return None
        self._sent = [dict(item) for item in self.items]
        return Citations([dict(item) for item in self.items])
