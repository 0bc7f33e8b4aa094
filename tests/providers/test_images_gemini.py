"""Imagen on the gemini provider over real HTTP, against the :predict fake on 127.0.0.1."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from PIL import Image
from starlette.applications import Starlette

from easel.adapters import imagen
from easel.catalog.catalog import Catalog
from easel.catalog.entry import ModelEntry
from easel.config import Settings
from easel.errors import (
    MissingCredentials,
    UnsupportedParameter,
    UpstreamBadRequest,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from easel.providers.base import UnsupportedTask
from easel.providers.gemini import GeminiProvider
from easel.tasks.image import ImageRequest, ImageResult
from tests.fakes.imagen_fake import create_app
from tests.fakes.server import serve
from tests.providers.test_images_openai import RecordingProgress, Stopped

KEY = "test-key"
Factory = Callable[..., GeminiProvider]


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[Starlette, str]]:
    app = create_app(api_key=KEY)
    with serve(app) as base_url:
        yield app, f"{base_url}/v1beta"


@pytest.fixture
def app(fake: tuple[Starlette, str]) -> Starlette:
    app = fake[0]
    app.state.requests.clear()
    app.state.disconnects.clear()
    return app


@pytest.fixture
async def make(fake: tuple[Starlette, str]) -> AsyncIterator[Factory]:
    made: list[GeminiProvider] = []

    def factory(*, key: str | None = KEY, **settings: Any) -> GeminiProvider:
        settings.setdefault("keys", {"gemini": key} if key else {})
        provider = GeminiProvider(Settings(base_urls={"gemini": fake[1]}, **settings))
        made.append(provider)
        return provider

    yield factory
    for provider in made:
        await provider.aclose()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def ask(model: str = "gemini:imagen-4.0-generate-001", prompt: str = "a lighthouse at dusk",
        **fields: Any) -> ImageRequest:
    return ImageRequest.model_validate({"model": model, "prompt": prompt, **fields})


async def generate(provider: GeminiProvider, entry: ModelEntry, request: ImageRequest,
                   progress: RecordingProgress | None = None) -> ImageResult:
    return await provider.generate_images(entry, request, progress or RecordingProgress())


def pixels(data: bytes) -> tuple[str | None, tuple[int, int]]:
    with Image.open(io.BytesIO(data)) as image:
        return image.format, image.size


# ---- images -----------------------------------------------------------------------------


async def test_imagen_makes_n_images_at_the_aspect_ratio(make: Factory, app: Starlette, catalog: Catalog) -> None:
    entry = catalog.resolve("imagen-4", task="image")
    progress = RecordingProgress()
    result = await generate(make(), entry, ask(n=2, aspect_ratio="16:9"), progress)
    [record] = app.state.requests
    assert record["model"] == "imagen-4.0-generate-001" and record["method"] == "predict"
    assert record["api_key"] == KEY  # sent as x-goog-api-key
    assert record["body"] == {"instances": [{"prompt": "a lighthouse at dusk"}],
                              "parameters": {"sampleCount": 2, "aspectRatio": "16:9"}}
    assert len(result.images) == 2 and result.images[0].data != result.images[1].data
    for image in result.images:
        assert (image.width, image.height) == (1408, 768) and image.mime_type == "image/png"
        assert pixels(image.data) == ("PNG", (1408, 768))
        assert image.settings == {"aspect_ratio": "16:9", "output_format": "png"}
    assert result.cost == pytest.approx(0.08)
    assert progress.events == [(0.0, "submitted"), (1.0, "done")]


async def test_sample_count_is_always_sent(make: Factory, app: Starlette, catalog: Catalog) -> None:
    # Google's default is four images; easel's is one
    result = await generate(make(), catalog.resolve("gemini:imagen-4.0-fast-generate-001"),
                            ask("gemini:imagen-4.0-fast-generate-001"))
    assert app.state.requests[-1]["body"]["parameters"] == {"sampleCount": 1, "aspectRatio": "1:1"}
    [image] = result.images
    assert (image.width, image.height) == (1024, 1024)
    assert result.cost == pytest.approx(0.02)


async def test_resolution_and_person_generation(make: Factory, app: Starlette, catalog: Catalog) -> None:
    entry = catalog.resolve("imagen-4-ultra")
    request = ask(entry.id, aspect_ratio="3:4", extra={"resolution": "2k", "person_generation": "dont_allow"})
    [image] = (await generate(make(), entry, request)).images
    assert app.state.requests[-1]["body"]["parameters"] == {
        "sampleCount": 1, "aspectRatio": "3:4", "imageSize": "2K", "personGeneration": "dont_allow"}
    assert (image.width, image.height) == (1792, 2560)
    assert image.settings == {"aspect_ratio": "3:4", "image_size": "2K", "person_generation": "dont_allow",
                              "output_format": "png"}


async def test_fast_takes_1k_without_sending_image_size(make: Factory, app: Starlette, catalog: Catalog) -> None:
    entry = catalog.resolve("imagen-4-fast")
    await generate(make(), entry, ask(entry.id, extra={"resolution": "1K"}))
    assert "imageSize" not in app.state.requests[-1]["body"]["parameters"]  # Fast refuses the field


@pytest.mark.parametrize(("model", "fields", "param", "listed"), [
    ("gemini:imagen-4.0-generate-001", {"aspect_ratio": "3:2"}, "aspect_ratio", "1:1, 3:4, 4:3, 9:16, 16:9"),
    ("gemini:imagen-4.0-generate-001", {"n": 5}, "n", "at most 4"),
    ("gemini:imagen-4.0-generate-001", {"seed": 1}, "seed", None),
    ("gemini:imagen-4.0-generate-001", {"negative_prompt": "fog"}, "negative_prompt", None),
    ("gemini:imagen-4.0-generate-001", {"width": 1024, "height": 1024}, "width", "1K, 2K"),
    ("gemini:imagen-4.0-generate-001", {"quality": "high"}, "quality", None),
    ("gemini:imagen-4.0-generate-001", {"output_format": "jpeg"}, "output_format", "png"),
    ("gemini:imagen-4.0-generate-001", {"extra": {"person_generation": "everyone"}}, "extra", "allow_adult"),
    ("gemini:imagen-4.0-generate-001", {"extra": {"sampleCount": 4}}, "extra", "person_generation, resolution"),
    ("gemini:imagen-4.0-fast-generate-001", {"extra": {"resolution": "2K"}}, "extra", "supported: 1K"),
])
async def test_unsupported_values_are_refused_listing_what_is_supported(
        make: Factory, app: Starlette, catalog: Catalog, model: str, fields: dict[str, Any], param: str,
        listed: str | None) -> None:
    with pytest.raises(UnsupportedParameter) as err:
        await generate(make(), catalog.resolve(model), ask(model, **fields))
    assert err.value.param == param and err.value.status_code == 400
    if listed:
        assert listed in err.value.message
    assert app.state.requests == []


# ---- failures ----------------------------------------------------------------------------------


async def test_a_200_with_a_broken_image_is_an_upstream_error(make: Factory, catalog: Catalog) -> None:
    with pytest.raises(UpstreamError) as err:
        await generate(make(), catalog.resolve("imagen-4"), ask(prompt="trigger-broken"))
    assert "returned a broken image" in err.value.message and err.value.provider == "gemini"
    assert err.value.status_code == 502


async def test_a_blocked_prompt_is_the_clients_to_change(make: Factory, catalog: Catalog) -> None:
    with pytest.raises(UpstreamBadRequest) as err:
        await generate(make(), catalog.resolve("imagen-4"), ask(prompt="trigger-filtered"))
    assert err.value.code == "content_filtered" and "safety" in err.value.message


async def test_filtered_images_are_left_out_and_not_billed(make: Factory, catalog: Catalog) -> None:
    result = await generate(make(), catalog.resolve("imagen-4"), ask(prompt="trigger-partial", n=3))
    assert len(result.images) == 2 and result.cost == pytest.approx(0.08)


@pytest.mark.parametrize(("trigger", "kind", "status"), [
    ("trigger-500", UpstreamError, 500), ("trigger-503", UpstreamUnavailable, 503),
    ("trigger-429", UpstreamRateLimited, 429)])
async def test_upstream_errors_are_mapped(make: Factory, catalog: Catalog, trigger: str, kind: type[UpstreamError],
                                          status: int) -> None:
    with pytest.raises(kind) as err:
        await generate(make(), catalog.resolve("imagen-4"), ask(prompt=trigger))
    assert type(err.value) is kind and err.value.upstream_status == status and err.value.provider == "gemini"
    if status == 429:
        assert err.value.retry_after == 7  # from Google's RetryInfo


async def test_wrong_key_is_a_credentials_error_naming_the_variable(make: Factory, catalog: Catalog) -> None:
    with pytest.raises(UpstreamError) as err:
        await generate(make(key="nope"), catalog.resolve("imagen-4"), ask())
    assert err.value.code == "upstream_authentication_failed" and "GEMINI_API_KEY" in err.value.message


async def test_missing_key_names_the_variable(make: Factory, app: Starlette, catalog: Catalog) -> None:
    with pytest.raises(MissingCredentials) as err:
        await generate(make(key=None), catalog.resolve("imagen-4"), ask())
    assert "GEMINI_API_KEY" in err.value.message
    assert app.state.requests == []


async def test_a_hung_upstream_times_out_and_is_closed(make: Factory, app: Starlette, catalog: Catalog) -> None:
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        await generate(make(upstream_timeout_seconds=0.5), catalog.resolve("imagen-4"), ask(prompt="trigger-hang"))
    assert time.monotonic() - started < 5
    while not app.state.disconnects and time.monotonic() - started < 5:
        await asyncio.sleep(0.01)
    assert app.state.disconnects == ["trigger-hang"]


# ---- cancel ------------------------------------------------------------------------------------


async def test_cancel_before_start_sends_nothing(make: Factory, app: Starlette, catalog: Catalog) -> None:
    progress = RecordingProgress(canceled=True)
    with pytest.raises(Stopped):
        await generate(make(), catalog.resolve("imagen-4"), ask(), progress)
    assert app.state.requests == [] and progress.events == []


async def test_cancel_during_the_request_closes_it(make: Factory, app: Starlette, catalog: Catalog) -> None:
    progress = RecordingProgress()
    prompt = "a lighthouse trigger-hang until canceled"
    task = asyncio.create_task(generate(make(), catalog.resolve("imagen-4"), ask(prompt=prompt), progress))
    deadline = time.monotonic() + 5
    while not app.state.requests and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert app.state.requests, "the request never reached the fake"
    progress.cancel()
    with pytest.raises(Stopped):
        await asyncio.wait_for(task, 2)
    while prompt not in app.state.disconnects and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert app.state.disconnects == [prompt]
    assert progress.events == [(0.0, "submitted")]


# ---- who serves what ---------------------------------------------------------------------------


async def test_non_imagen_entries_raise_unsupported_task(make: Factory, catalog: Catalog) -> None:
    chat = ModelEntry(id="gemini:gemini-2.5-flash", provider="gemini", upstream_name="gemini-2.5-flash",
                      task="chat", display_name="Gemini 2.5 Flash", family="gemini-flash")
    with pytest.raises(UnsupportedTask):
        await generate(make(), chat, ask(chat.id))
    with pytest.raises(UnsupportedTask):  # another provider's entry
        await generate(make(), catalog.resolve("openai:gpt-image-1"), ask("openai:gpt-image-1"))


def test_every_shipped_imagen_model_is_served_by_predict(catalog: Catalog) -> None:
    entries = catalog.list(task="image", provider="gemini")
    assert {e.id for e in entries} >= {"gemini:imagen-4.0-generate-001", "gemini:imagen-4.0-fast-generate-001",
                                       "gemini:imagen-4.0-ultra-generate-001"}
    for entry in entries:
        assert imagen.speaks_for(entry), entry.id
        assert entry.media.aspect_ratios == ["1:1", "3:4", "4:3", "9:16", "16:9"] and entry.media.max_images == 4
        assert entry.pricing.per_image in (0.02, 0.04, 0.06)
