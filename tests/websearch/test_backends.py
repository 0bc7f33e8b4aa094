"""Each search backend against a fake that speaks its wire format, errors included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from easel.config import Settings
from easel.errors import UpstreamError, UpstreamRateLimited
from easel.websearch.backends import SearchBackendNotConfigured, create_backend
from tests.fakes import search_engines
from tests.fakes.server import serve

RESULTS = [{"title": "Quillton lantern festival", "url": "https://quillton.example/festival",
            "content": "Held every year on the 14th of March."},
           {"title": "Quillton harbour", "url": "https://quillton.example/harbour", "content": "Stone quay."}]


@pytest.fixture(scope="module")
def engines() -> Iterator[dict[str, tuple[str, object]]]:
    apps = {"searxng": search_engines.searxng_app(), "brave": search_engines.brave_app(),
            "tavily": search_engines.tavily_app()}
    for app in apps.values():
        app.state.results = RESULTS
    with serve(apps["searxng"]) as sx, serve(apps["brave"]) as br, serve(apps["tavily"]) as tv:
        yield {"searxng": (sx, apps["searxng"]), "brave": (br, apps["brave"]), "tavily": (tv, apps["tavily"])}


def settings_for(tmp_path: Path, engines: dict[str, tuple[str, object]], backend: str, **keys: str) -> Settings:
    return Settings(home=tmp_path, search_backend=backend, searxng_url=engines["searxng"][0],
                    base_urls={"brave": f"{engines['brave'][0]}/res/v1", "tavily": engines["tavily"][0]},
                    keys=keys)


@pytest.mark.parametrize("backend", ["searxng", "brave", "tavily"])
async def test_each_backend_returns_the_engines_hits(tmp_path: Path, engines, backend: str) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(tmp_path, engines, backend, brave=search_engines.BRAVE_KEY,
                            tavily=search_engines.TAVILY_KEY)
    async with httpx.AsyncClient() as http:
        hits = await create_backend(settings, http).search("quillton festival", limit=1)
    assert [(h.title, h.url) for h in hits] == [("Quillton lantern festival", "https://quillton.example/festival")]
    assert hits[0].snippet == "Held every year on the 14th of March."
    assert engines[backend][1].state.queries[-1] == "quillton festival"


@pytest.mark.parametrize("backend", ["brave", "tavily"])
async def test_a_wrong_key_is_a_clear_authentication_error(tmp_path: Path, engines, backend: str) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(tmp_path, engines, backend, **{backend: "wrong"})
    async with httpx.AsyncClient() as http:
        with pytest.raises(UpstreamError) as caught:
            await create_backend(settings, http).search("anything", limit=3)
    assert caught.value.code == "upstream_authentication_failed"
    assert caught.value.message.startswith(f"{backend}: rejected the credentials")
    assert f"{backend.upper()}_API_KEY" in caught.value.message
    assert "{" not in caught.value.message  # the engine's own words, not its JSON


@pytest.mark.parametrize("backend", ["brave", "tavily"])
async def test_rate_limiting_is_a_429(tmp_path: Path, engines, backend: str) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(tmp_path, engines, backend, brave=search_engines.BRAVE_KEY,
                            tavily=search_engines.TAVILY_KEY)
    async with httpx.AsyncClient() as http:
        with pytest.raises(UpstreamRateLimited) as caught:
            await create_backend(settings, http).search(search_engines.RATE_LIMITED_QUERY, limit=3)
    assert caught.value.status_code == 429 and "rate limit exceeded" in caught.value.message.lower()


async def test_missing_configuration_says_what_to_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRAVE_API_KEY", raising=False)
    async with httpx.AsyncClient() as http:
        with pytest.raises(SearchBackendNotConfigured, match="EASEL_SEARXNG_URL"):
            create_backend(Settings(home=tmp_path), http)
        with pytest.raises(SearchBackendNotConfigured, match="BRAVE_API_KEY"):
            create_backend(Settings(home=tmp_path, search_backend="brave"), http)
        with pytest.raises(SearchBackendNotConfigured, match="one of: brave, searxng, tavily"):
            create_backend(Settings(home=tmp_path, search_backend="bing"), http)
