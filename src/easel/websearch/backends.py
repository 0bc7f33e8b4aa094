"""The SearchBackend interface and the registry that loads backends from entry points.

A backend module exposes `create_backend(settings, http) -> SearchBackend` and is named in
pyproject's `[project.entry-points."easel.search_backends"]`, as an outside plugin would be.
`settings.search_backend` picks one by name; nothing branches on a backend's name.
Backends talk to an operator-configured search API (SearXNG may well be on localhost), so
they use a plain client; the pages they return are fetched through `websearch.fetch`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Protocol

import httpx

from easel.adapters.upstream import error_for_status, error_for_transport
from easel.config import Settings
from easel.errors import InvalidRequest, UpstreamError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "easel.search_backends"


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One search result: where it is and what the engine said about it."""

    title: str
    url: str
    snippet: str = ""


class SearchBackend(Protocol):
    """A web search engine: a query in, ranked hits out. Failures are UpstreamErrors naming the backend."""

    name: str

    async def search(self, query: str, *, limit: int) -> list[SearchHit]: ...


BackendFactory = Callable[[Settings, httpx.AsyncClient], SearchBackend]


class HttpBackend:
    """What the built-in backends share: a base URL, an optional key, the studio's search client."""

    name: str = ""
    #: where the key is looked up (the config's [keys] table under `name` first); None: no key needed
    credentials_env: str | None = None
    default_base_url: str = ""

    def __init__(self, base_url: str, http: httpx.AsyncClient, api_key: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.api_key = api_key

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx.AsyncClient) -> HttpBackend:
        """The backend with its key and base URL (`base_urls[name]` overrides the default)."""
        key = settings.credential(cls.name, cls.credentials_env) if cls.credentials_env else None
        if cls.credentials_env and not key:
            raise SearchBackendNotConfigured(
                f"Web search uses {cls.name}, but it has no key: set {cls.credentials_env} (or add {cls.name} "
                "under [keys] in the config file).", param="web_search")
        return cls(settings.base_urls.get(cls.name, cls.default_base_url), http, key)


class SearchBackendNotConfigured(InvalidRequest):
    """Web search was asked for, but no usable backend is configured."""

    default_code = "web_search_not_configured"


def backend_factories() -> dict[str, BackendFactory]:
    """Every installed backend factory by entry-point name; a plugin that fails to import is skipped."""
    factories: dict[str, BackendFactory] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            factories[ep.name] = ep.load()
        except ImportError as exc:
            log.error("search backend plugin %r could not be loaded (%s)", ep.name, exc)
    return factories


def create_backend(settings: Settings, http: httpx.AsyncClient) -> SearchBackend:
    """The backend `settings.search_backend` names; raises SearchBackendNotConfigured with the choices."""
    factories = backend_factories()
    factory = factories.get(settings.search_backend)
    if factory is None:
        raise SearchBackendNotConfigured(
            f"Unknown search backend '{settings.search_backend}'. Set EASEL_SEARCH_BACKEND to one of: "
            f"{', '.join(sorted(factories)) or 'none installed'}.", param="web_search")
    return factory(settings, http)


async def call_json(http: httpx.AsyncClient, request: httpx.Request, *, backend: str,
                    credentials_env: str | None = None) -> Any:
    """Send one search API request; non-2xx and transport failures become UpstreamErrors naming `backend`."""
    try:
        response = await http.send(request)
    except httpx.HTTPError as exc:
        raise error_for_transport(backend, exc) from exc
    if response.status_code >= 400:
        raise error_for_status(backend, response.status_code, response.content, response.headers, credentials_env)
    try:
        return response.json()
    except ValueError as exc:
        raise UpstreamError(f"answered with something that is not JSON: {response.text[:200]!r}",
                            provider=backend, code="upstream_bad_payload") from exc


def hits_from(items: Any, *, snippet_key: str, limit: int) -> list[SearchHit]:
    """SearchHits from a list of result objects that carry `title`, `url` and a snippet field."""
    hits: list[SearchHit] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            continue
        hits.append(SearchHit(title=str(item.get("title") or item["url"]), url=item["url"],
                              snippet=str(item.get(snippet_key) or "")))
        if len(hits) >= limit:
            break
    return hits
