"""A running easel server per test, with every remote provider pointed at its fake.

- `fakes`: the OpenAI-compatible, Anthropic and Gemini fakes, real HTTP servers on
  127.0.0.1 for the whole session (their request logs are read by tests).
- `studio`: easel itself, started by uvicorn with its lifespan, on `database_url`
  (so every API test runs on SQLite and on PostgreSQL), with keys for the faked providers.
- `client`: the official `openai` SDK pointed at it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from easel.api.app import create_app
from easel.config import EndpointConfig, Settings
from tests.fakes import anthropic_fake, gemini_fake, imagen_fake, openai_fake, openai_images_fake
from tests.fakes.server import by_path, serve

# Upstream names the OpenAI-compatible fake answers as plain echo models.
ECHO_MODELS = ("grok-4", "gpt-5", "o4-mini", "deepseek-chat", "grok-4.20-0309-reasoning")
# A config-declared endpoint that exposes the fake's scripted behaviours as models.
FAKE_ENDPOINT_MODELS = (
    "fake-echo", "fake-reasoner", "fake-reasoner-alt", "fake-tools", "fake-error-400", "fake-error-401",
    "fake-error-429", "fake-error-500", "fake-error-503", "fake-stream-cut", "fake-hang", "fake-endless",
    "fake-drip-20", "fake-thinker",
)


@dataclass
class Fakes:
    openai_url: str
    anthropic_url: str
    gemini_url: str
    openai_app: Any
    anthropic_app: Any
    gemini_app: Any
    images_app: Any
    imagen_app: Any


@dataclass
class Studio:
    url: str
    settings: Settings
    fakes: Fakes

    def http(self, **kw: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kw)


def sse_events(response: httpx.Response) -> list[tuple[str | None, Any]]:
    """A streamed response's SSE events as (event name, parsed JSON data), in order."""
    events: list[tuple[str | None, Any]] = []
    name = None
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            events.append((name, json.loads(line[6:])))
    return events


@pytest.fixture(scope="session")
def fakes() -> Iterator[Fakes]:
    oa = openai_fake.create_app(models=ECHO_MODELS)
    images = openai_images_fake.create_app(api_key=openai_fake.FAKE_KEY)
    an = anthropic_fake.create_app()
    gm = gemini_fake.create_app()
    imagen = imagen_fake.create_app()
    openai_like = by_path(oa, images=("/v1/images", images))
    google = by_path(gm, imagen=("/v1beta/models/imagen", imagen))
    with serve(openai_like) as oa_url, serve(an) as an_url, serve(google) as gm_url:
        yield Fakes(oa_url, an_url, gm_url, oa, an, gm, images, imagen)


def studio_settings(home: Path, database_url: str, fakes: Fakes, **overrides: Any) -> Settings:
    openai_base = f"{fakes.openai_url}/v1"
    fields: dict[str, Any] = {
        "home": home,
        "database_url": database_url,
        "base_urls": {"openai": openai_base, "xai": openai_base, "deepseek": openai_base,
                      "anthropic": fakes.anthropic_url, "gemini": f"{fakes.gemini_url}/v1beta"},
        "keys": {"openai": openai_fake.FAKE_KEY, "xai": openai_fake.FAKE_KEY, "deepseek": openai_fake.FAKE_KEY,
                 "anthropic": "test-key", "gemini": "test-key"},
        "endpoints": [EndpointConfig(name="fake", base_url=openai_base, api_key=openai_fake.FAKE_KEY,
                                     models=list(FAKE_ENDPOINT_MODELS), context_window=32000)],
        "upstream_timeout_seconds": 1.5,
        "upstream_connect_timeout_seconds": 1.0,
        **overrides,
    }
    return Settings(**fields)


@pytest.fixture
def studio(tmp_path: Path, database_url: str, fakes: Fakes) -> Iterator[Studio]:
    settings = studio_settings(tmp_path, database_url, fakes)
    with serve(create_app(settings), lifespan="on") as url:
        yield Studio(url, settings, fakes)


@pytest.fixture
def client(studio: Studio) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{studio.url}/v1", api_key="anything", max_retries=0, timeout=30)
