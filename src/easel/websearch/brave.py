"""Brave Search API: `GET /res/v1/web/search?q=...` with `X-Subscription-Token`; hits in `web.results[]`."""

from __future__ import annotations

import httpx

from easel.config import Settings
from easel.websearch.backends import HttpBackend, SearchHit, call_json, hits_from

MAX_COUNT = 20  # the API's own ceiling for `count`


class BraveBackend(HttpBackend):
    name = "brave"
    credentials_env = "BRAVE_API_KEY"
    default_base_url = "https://api.search.brave.com/res/v1"

    async def search(self, query: str, *, limit: int) -> list[SearchHit]:
        request = self.http.build_request(
            "GET", f"{self.base_url}/web/search", params={"q": query, "count": min(limit, MAX_COUNT)},
            headers={"accept": "application/json", "x-subscription-token": self.api_key or ""})
        payload = await call_json(self.http, request, backend=self.name, credentials_env=self.credentials_env)
        web = payload.get("web") if isinstance(payload, dict) else None
        return hits_from(web.get("results") if isinstance(web, dict) else None, snippet_key="description",
                         limit=limit)


def create_backend(settings: Settings, http: httpx.AsyncClient) -> HttpBackend:
    return BraveBackend.from_settings(settings, http)
