"""SearXNG: a self-hosted metasearch engine's JSON API (`GET /search?q=...&format=json`).

The instance must have `json` among its `search.formats`; its answer is `results[]` with
`title`, `url` and `content`. Its address is `settings.searxng_url` (EASEL_SEARXNG_URL).
"""

from __future__ import annotations

import httpx

from easel.config import Settings
from easel.websearch.backends import HttpBackend, SearchBackendNotConfigured, SearchHit, call_json, hits_from


class SearxngBackend(HttpBackend):
    name = "searxng"

    async def search(self, query: str, *, limit: int) -> list[SearchHit]:
        request = self.http.build_request("GET", f"{self.base_url}/search", params={"q": query, "format": "json"},
                                          headers={"accept": "application/json"})
        payload = await call_json(self.http, request, backend=self.name)
        return hits_from(payload.get("results") if isinstance(payload, dict) else None, snippet_key="content",
                         limit=limit)


def create_backend(settings: Settings, http: httpx.AsyncClient) -> HttpBackend:
    url = settings.searxng_url or settings.base_urls.get("searxng")
    if not url:
        raise SearchBackendNotConfigured(
            "Web search uses SearXNG, but no instance is configured: set EASEL_SEARXNG_URL (or choose "
            "another backend with EASEL_SEARCH_BACKEND=brave|tavily).", param="web_search")
    return SearxngBackend(url, http)
