"""Web search for a chat turn: decide, search, fetch, read, rank, and put cited sources into the context.

`WebContextService.ground(prepared)` runs before a chat request goes to its model, when
the request asks for `web_search` ("on", or "auto" and the question looks like it needs
the live web). It searches with the configured backend, fetches the best pages through
the guarded fetcher (concurrently, under limits), extracts their text, keeps the passages
most relevant to the question, and rewrites the request: an instruction in the system
prompt, the numbered sources fenced as untrusted data before the question. The citations
go into `prepared.extras["citations"]`, which the conversation stores on the answer.

With `web_search_backend="native"` and a model whose catalog entry says it can search
server-side, the provider's own search tool is asked for instead (through the provider's
`native_web_search`, never by name).
"""

from __future__ import annotations

import asyncio
import logging
import re

import httpx

from easel.config import Settings
from easel.errors import InvalidRequest
from easel.services.chat import PreparedChat
from easel.websearch.backends import SearchBackend, SearchBackendNotConfigured, SearchHit, create_backend
from easel.websearch.context import Source, WebContext
from easel.websearch.extract import PageText, extract
from easel.websearch.fetch import FetchError, FetchLimits, GuardedFetcher, Resolver
from easel.websearch.passages import Passage, select, split_passages

log = logging.getLogger(__name__)

NATIVE = "native"
_URL = re.compile(r"https?://[^\s<>\"')\]]+")
# What makes `auto` search: the question is about now, names a URL, or asks for a search.
_NEEDS_WEB = re.compile(
    r"\b(latest|newest|current(ly)?|today|tonight|yesterday|tomorrow|this (week|month|year)|right now|recent(ly)?|"
    r"news|breaking|update[sd]?|price|stock|weather|forecast|score|released?|announced?|who won|search|look up|"
    r"google|on the web|online|website|according to|20[2-9]\d)\b",
    re.IGNORECASE)
_MAX_QUERY_CHARS = 400


def needs_web(question: str) -> bool:
    """The `auto` heuristic: cheap, no model call."""
    return bool(_URL.search(question) or _NEEDS_WEB.search(question))


def question_of(prepared: PreparedChat) -> str:
    """The text of the last user message: what is searched for."""
    for message in reversed(prepared.request.messages):
        if message.role == "user":
            return message.text().strip()
    return ""


class WebContextService:
    def __init__(self, settings: Settings, *, resolver: Resolver | None = None) -> None:
        self.settings = settings
        limits = FetchLimits(max_bytes=settings.fetch_max_bytes, timeout_seconds=settings.fetch_timeout_seconds,
                             max_redirects=settings.fetch_max_redirects)
        self.fetcher = GuardedFetcher(limits=limits, allow=settings.fetch_allow, resolver=resolver)
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(settings.upstream_timeout_seconds,
                                                             connect=settings.upstream_connect_timeout_seconds))
        self._backend: SearchBackend | None = None

    def backend(self) -> SearchBackend:
        if self._backend is None:
            self._backend = create_backend(self.settings, self._http)
        return self._backend

    # -- the turn ------------------------------------------------------------

    async def ground(self, prepared: PreparedChat) -> None:
        """Search if the request asks for it, and rewrite `prepared` in place (its request, its extras).

        In "on" mode a search failure is raised (a clear 4xx/5xx); "auto" without a configured
        backend answers without the web."""
        request = prepared.request
        mode = request.web_search or "off"
        # consumed here: a request that is streamed again (think_first's passes) is not searched twice
        prepared.request = request = request.model_copy(update={"web_search": None})
        if mode == "off":
            return
        if request.web_search_backend == NATIVE:
            self._use_native(prepared)
            return
        question = question_of(prepared)
        if not question or (mode == "auto" and not needs_web(question)):
            return
        try:
            web = await self.gather(question)
        except SearchBackendNotConfigured:
            if mode == "auto":
                log.info("web_search=auto: no search backend configured; answering without the web")
                return
            raise
        if web.sources:
            prepared.request = request.model_copy(update={"messages": web.apply(request.messages)})
            prepared.extras["citations"] = web.citations()

    def _use_native(self, prepared: PreparedChat) -> None:
        """Ask the model's provider for its own server-side search tool."""
        fragment = prepared.provider.native_web_search(prepared.entry) \
            if prepared.entry.capabilities.web_search else None
        if fragment is None:
            raise InvalidRequest(
                f"Model '{prepared.entry.id}' has no server-side web search; leave web_search_backend unset to "
                "use easel's own search.", param="web_search_backend", code="unsupported_parameter")
        extra = {**prepared.request.extra, **fragment}
        prepared.request = prepared.request.model_copy(update={"extra": extra})
        prepared.extras["web_search"] = NATIVE

    async def gather(self, question: str) -> WebContext:
        """Numbered sources for `question`: URLs named in it first, then the search engine's best hits."""
        named = [SearchHit(title=url, url=url) for url in dict.fromkeys(_URL.findall(question))]
        hits = named
        if len(named) < self.settings.web_pages:
            try:
                found = await self.backend().search(question[:_MAX_QUERY_CHARS],
                                                    limit=self.settings.web_search_results)
            except SearchBackendNotConfigured:
                if not named:
                    raise
                found = []
            hits = named + [h for h in found if h.url not in {n.url for n in named}]
        chosen = hits[: self.settings.web_pages]
        pages = await asyncio.gather(*(self._read(hit) for hit in chosen))
        return self._context(question, chosen, pages)

    async def _read(self, hit: SearchHit) -> PageText | None:
        """The hit's page text, or None when it could not be fetched or read (the snippet stands in)."""
        try:
            page = await self.fetcher.fetch(hit.url)
        except FetchError as exc:
            log.info("web page skipped: %s (%s)", hit.url, exc.message)
            return None
        text = await asyncio.to_thread(extract, page, fallback_title=hit.title)
        return text if text.text else None

    def _context(self, question: str, hits: list[SearchHit], pages: list[PageText | None]) -> WebContext:
        passages: list[Passage] = []
        for position, page in enumerate(pages):
            if page is not None:
                passages += split_passages(page.text, position)
        chosen = select(question, passages, token_budget=self.settings.web_context_tokens)
        sources: list[Source] = []
        for position, (hit, page) in enumerate(zip(hits, pages, strict=True)):
            texts = [p.text for p in chosen if p.source == position]
            if not texts and hit.snippet:
                texts = [hit.snippet]  # the page was unreadable or had nothing relevant: the engine's summary
            if texts:
                title = page.title if page is not None and page.title != page.url else hit.title
                sources.append(Source(index=len(sources) + 1, title=title, url=page.url if page else hit.url,
                                      passages=texts))
        return WebContext(question=question, sources=sources)

    async def aclose(self) -> None:
        await self.fetcher.aclose()
        await self._http.aclose()
