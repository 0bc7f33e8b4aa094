"""HttpProvider: the plumbing every httpx-based remote provider shares.

A base URL (the class's `default_base_url`, overridden by `settings.base_urls[name]`, which is
how tests point a provider at its fake), one lazily created httpx client with the configured
timeouts, and closing it.
"""

from __future__ import annotations

import httpx

from easel.config import Settings
from easel.providers.base import Provider


class HttpProvider(Provider):
    default_base_url: str = ""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._http: httpx.AsyncClient | None = None

    @property
    def base_url(self) -> str:
        return self.settings.base_urls.get(self.name, self.default_base_url).rstrip("/")

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            timeout = httpx.Timeout(self.settings.upstream_timeout_seconds,
                                    connect=self.settings.upstream_connect_timeout_seconds)
            self._http = httpx.AsyncClient(timeout=timeout)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
