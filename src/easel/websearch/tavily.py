"""Tavily: `POST /search` with JSON `{query, max_results, search_depth}` and `Authorization: Bearer`;
hits in `results[]` with `title`, `url` and `content`."""

from __future__ import annotations

import httpx

from easel.config import Settings
from easel.websearch.backends import HttpBackend, SearchHit, call_json, hits_from

MAX_RESULTS = 20  # the API's own ceiling for `max_results`


class TavilyBackend(HttpBackend):
    name = "tavily"
    credentials_env = "TAVILY_API_KEY"
    default_base_url = "https://api.tavily.com"

    async def search(self, query: str, *, limit: int) -> list[SearchHit]:
        body = {"query": query, "max_results": min(limit, MAX_RESULTS), "search_depth": "basic",
                "include_answer": False}
        request = self.http.build_request("POST", f"{self.base_url}/search", json=body,
                                          headers={"authorization": f"Bearer {self.api_key}"})
        payload = await call_json(self.http, request, backend=self.name, credentials_env=self.credentials_env)
        return hits_from(payload.get("results") if isinstance(payload, dict) else None, snippet_key="content",
                         limit=limit)


def create_backend(settings: Settings, http: httpx.AsyncClient) -> HttpBackend:
    return TavilyBackend.from_settings(settings, http)
