"""Text-to-image on the openai-compatible providers (OpenAI, xAI) over real HTTP, against the Images fake."""

from __future__ import annotations

import asyncio
import base64
import io
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from PIL import Image
from starlette.applications import Starlette

from easel.adapters import openai_images
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
from easel.providers.openai_compatible import OpenAICompatibleProvider, create_providers
from easel.tasks.image import ImageRequest
from tests.fakes.openai_images_fake import FAKE_KEY, create_app
from tests.fakes.server import serve

Factory = Callable[..., OpenAICompatibleProvider]


class Stopped(BaseException):
    """What this test's Progress raises when canceled (JobStopped in the real job context)."""


class RecordingProgress:
    """A Progress that records what it was told and can be canceled from the test."""

    def __init__(self, canceled: bool = False) -> None:
        self.events: list[tuple[float, str | None]] = []
        self.canceled = canceled
        self._event: asyncio.Event | None = None

    def _flag(self) -> asyncio.Event:
        if self._event is None:
            self._event = asyncio.Event()
            if self.canceled:
                self._event.set()
        return self._event

    def cancel(self) -> None:
        self.canceled = True
        self._flag().set()

    def progress(self, fraction: float, message: str | None = None) -> None:
        self.raise_if_canceled()
        self.events.append((fraction, message))

    def is_canceled(self) -> bool:
        return self.canceled

    def raise_if_canceled(self) -> None:
        if self.canceled:
            raise Stopped()

    async def wait_canceled(self, timeout: float | None = None) -> bool:
        try:
            async with asyncio.timeout(timeout):
                await self._flag().wait()
        except TimeoutError:
            pass
        return self.canceled


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[Starlette, str]]:
    app = create_app()
    with serve(app) as base_url:
        yield app, base_url


@pytest.fixture
def app(fake: tuple[Starlette, str]) -> Starlette:
    app = fake[0]
    for record in (app.state.requests, app.state.request_headers, app.state.disconnects):
        record.clear()
    return app


@pytest.fixture
async def make(fake: tuple[Starlette, str]) -> AsyncIterator[Factory]:
    made: list[OpenAICompatibleProvider] = []

    def factory(name: str = "openai", *, key: str | None = FAKE_KEY, **settings: Any) -> OpenAICompatibleProvider:
        settings.setdefault("keys", {name: key} if key else {})
        settings.setdefault("base_urls", {name: f"{fake[1]}/v1"})
        providers = {p.name: p for p in create_providers(Settings(**settings))}
        provider = providers[name]
        assert isinstance(provider, OpenAICompatibleProvider)
        made.append(provider)
        return provider

    yield factory
    for provider in made:
        await provider.aclose()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def ask(model: str = "openai:gpt-image-1", prompt: str = "a red fox in snow", **fields: Any) -> ImageRequest:
    return ImageRequest.model_validate({"model": model, "prompt": prompt, **fields})


async def generate(provider: OpenAICompatibleProvider, entry: ModelEntry, request: ImageRequest,
                   progress: RecordingProgress | None = None) -> Any:
    return await provider.generate_images(entry, request, progress or RecordingProgress())


def pixels(data: bytes) -> tuple[str | None, tuple[int, int]]:
    with Image.open(io.BytesIO(data)) as image:
        return image.format, image.size


# ---- OpenAI: gpt-image-1 and dall-e-3 ------------------------------------------


async def test_gpt_image_makes_n_images_at_the_nearest_size(make: Factory, app: Starlette, catalog: Catalog) -> None:
    entry = catalog.resolve("openai:gpt-image-1", task="image")
    progress = RecordingProgress()
    result = await generate(make(), entry, ask(n=2, aspect_ratio="16:9"), progress)
    sent = app.state.requests[-1]
    assert sent == {"model": "gpt-image-1", "prompt": "a red fox in snow", "n": 2, "size": "1536x1024",
                    "output_format": "png"}  # gpt-image-1 refuses response_format: it always answers b64_json
    assert app.state.request_headers[-1]["authorization"] == f"Bearer {FAKE_KEY}"
    assert len(result.images) == 2 and result.images[0].data != result.images[1].data
    for image in result.images:
        assert (image.width, image.height) == (1536, 1024) and image.mime_type == "image/png"
        assert pixels(image.data) == ("PNG", (1536, 1024))
        assert image.settings == {"size": "1536x1024", "output_format": "png", "quality": "medium",
                                  "background": "opaque"}  # sent, plus what OpenAI says it used
    # billed by tokens: 5 prompt words in, 2 x 1584 image tokens out
    assert result.cost == pytest.approx((5 * 5.0 + 2 * 1584 * 40.0) / 1_000_000)
    assert result.upstream_id and result.upstream_id.startswith("req_fake_")
    assert progress.events == [(0.0, "submitted"), (1.0, "done")]


@pytest.mark.parametrize(("ratio", "size"), [("1:1", "1024x1024"), ("4:3", "1536x1024"), ("3:4", "1024x1536"),
                                             ("9:16", "1024x1536"), ("3:2", "1536x1024"), (None, "1024x1024")])
def test_aspect_ratio_maps_to_the_nearest_openai_size(catalog: Catalog, ratio: str | None, size: str) -> None:
    entry = catalog.resolve("openai:gpt-image-1")
    assert openai_images.to_wire(ask(aspect_ratio=ratio), entry).body["size"] == size


async def test_gpt_image_exact_size_quality_format_and_background(make: Factory, app: Starlette,
                                                                  catalog: Catalog) -> None:
    entry = catalog.resolve("openai:gpt-image-1")
    request = ask(width=1024, height=1536, quality="high", output_format="webp",
                  extra={"background": "transparent", "output_compression": 80})
    [image] = (await generate(make(), entry, request)).images
    sent = app.state.requests[-1]
    assert sent["size"] == "1024x1536" and sent["quality"] == "high" and sent["output_format"] == "webp"
    assert sent["background"] == "transparent" and sent["output_compression"] == 80
    assert image.mime_type == "image/webp" and pixels(image.data) == ("WEBP", (1024, 1536))


async def test_dalle_3_sends_its_own_vocabulary(make: Factory, app: Starlette, catalog: Catalog) -> None:
    entry = catalog.resolve("dall-e-3", task="image")
    result = await generate(make(), entry, ask(entry.id, aspect_ratio="16:9", quality="high", style="natural"))
    sent = app.state.requests[-1]
    assert sent == {"model": "dall-e-3", "prompt": "a red fox in snow", "n": 1, "size": "1792x1024",
                    "quality": "hd", "style": "natural", "response_format": "b64_json"}
    [image] = result.images
    assert (image.width, image.height) == (1792, 1024)
    assert image.revised_prompt == "A detailed picture: a red fox in snow"
    assert result.cost == pytest.approx(0.04)


# ---- xAI: grok-imagine-image ---------------------------------------------------------


async def test_grok_imagine_sends_aspect_ratio_and_resolution(make: Factory, app: Starlette,
                                                              catalog: Catalog) -> None:
    entry = catalog.resolve("xai:grok-imagine-image", task="image")
    progress = RecordingProgress()
    result = await generate(make("xai"), entry, ask(entry.id, n=3, aspect_ratio="9:16",
                                                    extra={"resolution": "2K"}), progress)
    sent = app.state.requests[-1]
    assert sent == {"model": "grok-imagine-image", "prompt": "a red fox in snow", "n": 3, "aspect_ratio": "9:16",
                    "resolution": "2k", "response_format": "b64_json"}  # no size, quality or style: xAI refuses them
    assert len(result.images) == 3
    for image in result.images:
        assert image.mime_type == "image/jpeg" and image.height > image.width
        assert image.width / image.height == pytest.approx(9 / 16, rel=0.02)
        assert image.width * image.height > 3_500_000  # the 2k tier
        assert image.revised_prompt is None  # xAI's empty revised_prompt is no revision
        assert image.settings == {"aspect_ratio": "9:16", "resolution": "2k", "output_format": "jpeg"}
    assert result.cost == pytest.approx(0.06)
    assert progress.events == [(0.0, "submitted"), (1.0, "done")]


async def test_grok_imagine_defaults(make: Factory, app: Starlette, catalog: Catalog) -> None:
    entry = catalog.resolve("grok-imagine")
    [image] = (await generate(make("xai"), entry, ask(entry.id))).images
    assert app.state.requests[-1] == {"model": "grok-imagine-image", "prompt": "a red fox in snow", "n": 1,
                                      "response_format": "b64_json"}
    assert (image.width, image.height) == (1024, 1024)


# ---- refused before anything is sent ---------------------------------------------------


@pytest.mark.parametrize(("model", "fields", "param", "listed"), [
    ("openai:gpt-image-1", {"aspect_ratio": "21:9"}, "aspect_ratio", "1:1, 3:2, 2:3"),
    ("openai:gpt-image-1", {"width": 512, "height": 512}, "width", "1024x1024, 1536x1024, 1024x1536"),
    ("openai:gpt-image-1", {"seed": 7}, "seed", None),
    ("openai:gpt-image-1", {"negative_prompt": "blur"}, "negative_prompt", None),
    ("openai:gpt-image-1", {"steps": 20}, "steps", None),
    ("openai:gpt-image-1", {"style": "vivid"}, "style", None),
    ("openai:gpt-image-1", {"extra": {"backgrund": "opaque"}}, "extra", "background, moderation"),
    ("openai:gpt-image-1", {"extra": {"background": "green"}}, "extra", "transparent, opaque, auto"),
    ("openai:dall-e-3", {"n": 2}, "n", None),
    ("openai:dall-e-3", {"aspect_ratio": "4:3"}, "aspect_ratio", "1:1, 16:9, 9:16"),
    ("openai:dall-e-3", {"output_format": "jpeg"}, "output_format", "png"),
    ("openai:dall-e-3", {"style": "cartoon"}, "style", "vivid, natural"),
    ("xai:grok-imagine-image", {"aspect_ratio": "21:9"}, "aspect_ratio", "1:1, 16:9, 9:16, 4:3, 3:4, 3:2, 2:3"),
    ("xai:grok-imagine-image", {"width": 1024, "height": 1024}, "width", "1k, 2k"),
    ("xai:grok-imagine-image", {"quality": "high"}, "quality", "auto"),
    ("xai:grok-imagine-image", {"output_format": "webp"}, "output_format", "jpeg"),
    ("xai:grok-imagine-image", {"extra": {"resolution": "4k"}}, "extra", "1k, 2k"),
])
async def test_unsupported_values_are_refused_listing_what_is_supported(
        make: Factory, app: Starlette, catalog: Catalog, model: str, fields: dict[str, Any], param: str,
        listed: str | None) -> None:
    entry = catalog.resolve(model, task="image")
    with pytest.raises(UnsupportedParameter) as err:
        await generate(make(entry.provider), entry, ask(model, **fields))
    assert err.value.param == param and err.value.status_code == 400
    if listed:
        assert listed in err.value.message
    assert app.state.requests == []


# ---- failures ------------------------------------------------------------------------------


@pytest.mark.parametrize("trigger", ["trigger-broken", "trigger-truncated"])
async def test_a_200_with_a_broken_image_is_an_upstream_error(make: Factory, catalog: Catalog, trigger: str) -> None:
    with pytest.raises(UpstreamError) as err:
        await generate(make(), catalog.resolve("openai:gpt-image-1"), ask(prompt=f"a fox {trigger}"))
    assert "returned a broken image" in err.value.message and err.value.code == "upstream_broken_image"
    assert err.value.status_code == 502 and err.value.provider == "openai"


async def test_an_image_url_instead_of_bytes_is_an_upstream_error(make: Factory, catalog: Catalog) -> None:
    with pytest.raises(UpstreamError, match="URL instead"):
        await generate(make("xai"), catalog.resolve("xai:grok-imagine-image"), ask(prompt="trigger-url"))


@pytest.mark.parametrize(("trigger", "kind", "status"), [
    ("trigger-500", UpstreamError, 500), ("trigger-503", UpstreamUnavailable, 503),
    ("trigger-429", UpstreamRateLimited, 429), ("trigger-400", UpstreamBadRequest, 400)])
async def test_upstream_errors_are_mapped(make: Factory, catalog: Catalog, trigger: str, kind: type[UpstreamError],
                                          status: int) -> None:
    with pytest.raises(kind) as err:
        await generate(make(), catalog.resolve("openai:gpt-image-1"), ask(prompt=f"fox {trigger}"))
    assert type(err.value) is kind and err.value.upstream_status == status and err.value.provider == "openai"
    if status == 429:
        assert err.value.retry_after == 3 and err.value.headers["Retry-After"] == "3"


async def test_upstream_validation_errors_reach_the_client(make: Factory, catalog: Catalog) -> None:
    # a transparent JPEG is OpenAI's to refuse, with its own message
    request = ask(output_format="jpeg", extra={"background": "transparent"})
    with pytest.raises(UpstreamBadRequest, match="Transparent background"):
        await generate(make(), catalog.resolve("openai:gpt-image-1"), request)


async def test_wrong_key_names_the_variable(make: Factory, catalog: Catalog) -> None:
    with pytest.raises(UpstreamError) as err:
        await generate(make(key="sk-wrong"), catalog.resolve("openai:gpt-image-1"), ask())
    assert err.value.code == "upstream_authentication_failed" and "OPENAI_API_KEY" in err.value.message


@pytest.mark.parametrize(("name", "model", "variable"), [("openai", "openai:gpt-image-1", "OPENAI_API_KEY"),
                                                         ("xai", "xai:grok-imagine-image", "XAI_API_KEY")])
async def test_missing_key_names_the_variable(make: Factory, app: Starlette, catalog: Catalog, name: str, model: str,
                                              variable: str) -> None:
    with pytest.raises(MissingCredentials) as err:
        await generate(make(name, key=None), catalog.resolve(model), ask(model))
    assert variable in err.value.message and err.value.status_code == 401
    assert app.state.requests == []


async def test_a_hung_upstream_times_out_and_is_closed(make: Factory, app: Starlette, catalog: Catalog) -> None:
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        await generate(make(upstream_timeout_seconds=0.5), catalog.resolve("openai:gpt-image-1"),
                       ask(prompt="trigger-hang slowly"))
    assert time.monotonic() - started < 5
    while not app.state.disconnects and time.monotonic() - started < 5:
        await asyncio.sleep(0.01)
    assert app.state.disconnects == ["trigger-hang slowly"]


# ---- cancel ----------------------------------------------------------------------------------


async def test_cancel_before_start_sends_nothing(make: Factory, app: Starlette, catalog: Catalog) -> None:
    progress = RecordingProgress(canceled=True)
    with pytest.raises(Stopped):
        await generate(make(), catalog.resolve("openai:gpt-image-1"), ask(), progress)
    assert app.state.requests == [] and progress.events == []


async def test_cancel_during_the_request_closes_it(make: Factory, app: Starlette, catalog: Catalog) -> None:
    progress = RecordingProgress()
    prompt = "a fox trigger-hang until canceled"
    task = asyncio.create_task(generate(make("xai"), catalog.resolve("xai:grok-imagine-image"),
                                        ask(prompt=prompt), progress))
    deadline = time.monotonic() + 5
    while not app.state.requests and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert app.state.requests, "the request never reached the fake"
    progress.cancel()
    with pytest.raises(Stopped):
        await asyncio.wait_for(task, 2)
    while prompt not in app.state.disconnects and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert app.state.disconnects == [prompt]  # the upstream saw the connection close
    assert progress.events == [(0.0, "submitted")]


# ---- who serves what ---------------------------------------------------------------------------


async def test_hosts_without_image_models_raise_unsupported_task(make: Factory, catalog: Catalog) -> None:
    deepseek = make("deepseek")
    entry = ModelEntry(id="deepseek:picture", provider="deepseek", upstream_name="picture", task="image",
                       display_name="picture")
    with pytest.raises(UnsupportedTask):
        await generate(deepseek, entry, ask(entry.id))
    with pytest.raises(UnsupportedTask):  # another provider's entry
        await generate(deepseek, catalog.resolve("openai:gpt-image-1"), ask())


def test_every_shipped_openai_and_xai_image_model_has_wire_rules(catalog: Catalog) -> None:
    entries = [e for e in catalog.list(task="image") if e.provider in ("openai", "xai")]
    assert {e.id for e in entries} >= {"openai:gpt-image-1", "openai:dall-e-3", "xai:grok-imagine-image"}
    for entry in entries:
        assert openai_images.rules_for(entry) is not None, entry.id
        assert entry.pricing.per_image and entry.media.max_images and entry.media.aspect_ratios, entry.id
        assert not entry.capabilities.seed and not entry.capabilities.negative_prompt, entry.id


def test_a_request_survives_the_jobs_json_round_trip(catalog: Catalog) -> None:
    # a job stores model_dump(mode="json"): every default comes back as if it had been given
    for model in ("xai:grok-imagine-image", "openai:dall-e-3", "openai:gpt-image-1"):
        stored = ImageRequest.model_validate(ask(model, aspect_ratio="16:9").model_dump(mode="json"))
        assert openai_images.to_wire(stored, catalog.resolve(model)).body["n"] == 1


def test_a_data_url_image_decodes() -> None:
    out = io.BytesIO()
    Image.new("RGB", (64, 32), (1, 2, 3)).save(out, format="JPEG")
    encoded = "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()
    data, mime, width, height = openai_images.decode_image(encoded, provider="xai")
    assert (mime, width, height) == ("image/jpeg", 64, 32) and data == out.getvalue()
