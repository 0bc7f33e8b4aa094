"""The replicate provider over real HTTP, against the predictions fake on 127.0.0.1."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from starlette.applications import Starlette

from easel.adapters.replicate_predictions import image_input, parse_prediction, prediction_progress
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
)
from easel.providers.replicate import ReplicateProvider, create_providers
from easel.tasks.image import ImageRequest, UpscaleRequest, check_supported
from tests.fakes.pictures import render
from tests.fakes.progress import RecordingProgress, Stopped
from tests.fakes.replicate_fake import FAIL_MESSAGE, create_app
from tests.fakes.server import serve

TOKEN = "r8_test"


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[Starlette, str]]:
    app = create_app(api_token=TOKEN)
    with serve(app) as base_url:
        yield app, base_url


@pytest.fixture
def app(fake: tuple[Starlette, str]) -> Starlette:
    app = fake[0]
    for name in ("requests", "cancels", "file_requests"):
        getattr(app.state, name).clear()
    return app


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def make_provider(fake: tuple[Starlette, str], **kw: Any) -> ReplicateProvider:
    settings = kw.pop("settings", {})
    settings.setdefault("keys", {"replicate": TOKEN})
    kw.setdefault("wait_seconds", None)
    kw.setdefault("poll_interval", 0.001)
    return ReplicateProvider(Settings(base_urls={"replicate": fake[1]}, **settings), **kw)


@pytest.fixture
async def provider(fake: tuple[Starlette, str]) -> Any:
    provider = make_provider(fake)
    yield provider
    await provider.aclose()


def entry(catalog: Catalog, name: str) -> ModelEntry:
    found = catalog.get(f"replicate:{name}")
    assert found is not None, name
    return found


def request(model: str = "replicate:black-forest-labs/flux-schnell", **fields: Any) -> ImageRequest:
    fields.setdefault("prompt", "a lighthouse at dawn")
    return ImageRequest(model=model, **fields)


def creates(app: Starlette) -> list[dict[str, Any]]:
    return [r for r in app.state.requests if r["method"] == "POST" and not r["path"].endswith("/cancel")]


def polls(app: Starlette) -> list[dict[str, Any]]:
    return [r for r in app.state.requests if r["method"] == "GET"]


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


async def test_generate_end_to_end(provider: ReplicateProvider, app: Starlette, catalog: Catalog) -> None:
    flux = entry(catalog, "black-forest-labs/flux-schnell")
    req = request(aspect_ratio="16:9", n=2, seed=7, output_format="png")
    check_supported(req, flux)
    progress = RecordingProgress()
    result = await provider.generate_images(flux, req, progress)

    sent = creates(app)
    assert len(sent) == 1 and sent[0]["path"] == "/v1/models/black-forest-labs/flux-schnell/predictions"
    assert sent[0]["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert "prefer" not in sent[0]["headers"]
    expected = {"aspect_ratio": "16:9", "num_outputs": 2, "seed": 7, "output_format": "png", "megapixels": "1"}
    assert sent[0]["body"] == {"input": {"prompt": "a lighthouse at dawn", **expected}}
    assert len(polls(app)) >= 4  # starting -> processing x3 -> succeeded, one step per poll

    assert len(result.images) == 2
    for image in result.images:
        picture = decode(image.data)
        assert picture.format == "PNG" and image.mime_type == "image/png"
        assert (image.width, image.height) == picture.size
        assert image.width / image.height == pytest.approx(16 / 9, rel=0.02)
        assert image.settings == expected
    assert [i.seed for i in result.images] == [7, None]
    assert result.cost == pytest.approx(0.006)
    assert result.upstream_id in app.state.predictions

    fractions = [f for f, _ in progress.reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(set(fractions)) >= 5
    messages = [m for _, m in progress.reports]
    assert "generating: 50%" in messages and any("booting" in (m or "") for m in messages)
    # Files are fetched from the file host without our key.
    assert len(app.state.file_requests) == 2
    assert all(r["authorization"] is None for r in app.state.file_requests)


async def test_prefer_wait_is_sent_and_saves_polling(fake: tuple[Starlette, str], app: Starlette,
                                                     catalog: Catalog) -> None:
    provider = make_provider(fake, wait_seconds=5)
    try:
        started = time.monotonic()
        result = await provider.generate_images(entry(catalog, "google/imagen-4"),
                                                request(aspect_ratio="9:16", output_format="jpeg"), RecordingProgress())
    finally:
        await provider.aclose()
    assert time.monotonic() - started < 3
    assert creates(app)[0]["headers"]["prefer"] == "wait=5"
    assert polls(app) == []  # the create answer was already `succeeded`
    image = result.images[0]
    assert image.mime_type == "image/jpeg" and image.width / image.height == pytest.approx(9 / 16, rel=0.02)
    assert image.settings == {"aspect_ratio": "9:16", "output_format": "jpg"}
    assert image.seed is None  # Imagen prints no seed
    assert result.cost == pytest.approx(0.04)


async def test_custom_sizes_and_per_model_spelling(provider: ReplicateProvider, app: Starlette,
                                                    catalog: Catalog) -> None:
    result = await provider.generate_images(entry(catalog, "black-forest-labs/flux-2-pro"),
                                            request(width=1536, height=860), RecordingProgress())
    # Sides snap to multiples of 32, as the model would.
    assert creates(app)[0]["body"]["input"] == {"prompt": "a lighthouse at dawn", "aspect_ratio": "custom",
                                                 "width": 1536, "height": 864, "output_format": "png"}
    assert result.images[0].width / result.images[0].height == pytest.approx(16 / 9, rel=0.02)
    # No seed given: the one the model printed in its logs is kept.
    assert result.images[0].seed == 1234

    app.state.requests.clear()
    seedream = entry(catalog, "bytedance/seedream-4")
    result = await provider.generate_images(seedream, request(aspect_ratio="21:9"), RecordingProgress())
    assert creates(app)[0]["body"]["input"] == {
        "prompt": "a lighthouse at dawn", "aspect_ratio": "21:9", "size": "2K",
        "sequential_image_generation": "disabled", "max_images": 1}
    assert result.images[0].width / result.images[0].height == pytest.approx(21 / 9, rel=0.03)


@pytest.mark.parametrize("name", ["black-forest-labs/flux-2-pro", "black-forest-labs/flux-schnell", "google/imagen-4",
                                  "ideogram-ai/ideogram-v3-turbo", "bytedance/seedream-4", "recraft-ai/recraft-v3",
                                  "stability-ai/stable-diffusion-3.5-large"])
async def test_every_catalog_model_speaks_its_schema(provider: ReplicateProvider, app: Starlette, catalog: Catalog,
                                                     name: str) -> None:
    model = entry(catalog, name)
    fields: dict[str, Any] = {"aspect_ratio": "3:4", "n": model.media.max_images or 1, "guidance": 4.0}
    if model.capabilities.seed:
        fields["seed"] = 11
    if model.capabilities.negative_prompt:
        fields["negative_prompt"] = "blurry"
    req = request(model=model.id, **fields)
    check_supported(req, model)
    result = await provider.generate_images(model, req, RecordingProgress())
    assert len(result.images) == req.n
    assert result.images[0].width / result.images[0].height == pytest.approx(3 / 4, rel=0.02)
    assert model.pricing.per_image is not None
    assert result.cost == pytest.approx(model.pricing.per_image * req.n)


async def test_upscale_through_a_pinned_version(provider: ReplicateProvider, app: Starlette,
                                                catalog: Catalog) -> None:
    source, _ = render(40, 30)
    esrgan = entry(catalog, "nightmareai/real-esrgan")
    assert esrgan.task == "upscale"
    result = await provider.upscale(esrgan, source, UpscaleRequest(model=esrgan.id, asset_id="a1", scale=2),
                                    RecordingProgress())
    sent = creates(app)[0]
    assert sent["path"] == "/v1/predictions"
    assert sent["body"]["version"] == esrgan.upstream_name.split(":")[1]
    assert sent["body"]["input"]["image"].startswith("data:image/png;base64,")
    image = result.images[0]
    assert decode(image.data).size == (80, 60) == (image.width, image.height)
    assert image.settings == {"scale": 2, "face_enhance": False}
    assert result.cost is None  # billed by GPU time: no per-image price


@pytest.mark.parametrize("notice", ["wait", "progress"])
async def test_cancel_mid_run_cancels_the_prediction_and_stops(provider: ReplicateProvider, app: Starlette,
                                                               catalog: Catalog, notice: str) -> None:
    progress = RecordingProgress(cancel_on="generating: 50%", notice=notice)
    with pytest.raises(Stopped):
        await provider.generate_images(entry(catalog, "black-forest-labs/flux-schnell"), request(), progress)
    (prediction_id,) = app.state.cancels
    assert app.state.predictions[prediction_id].status == "canceled"
    last = app.state.requests[-1]
    assert last["method"] == "POST" and last["path"] == f"/v1/predictions/{prediction_id}/cancel"
    assert last["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert app.state.file_requests == []  # nothing downloaded after the cancel


async def test_failed_prediction_carries_the_models_error(provider: ReplicateProvider, app: Starlette,
                                                         catalog: Catalog) -> None:
    with pytest.raises(UpstreamError) as caught:
        await provider.generate_images(entry(catalog, "black-forest-labs/flux-schnell"),
                                       request(prompt="trigger-fail please"), RecordingProgress())
    assert FAIL_MESSAGE in caught.value.message and caught.value.message.startswith("replicate:")
    assert caught.value.code == "upstream_prediction_failed"
    assert app.state.cancels == []  # terminal already: nothing to cancel


@pytest.mark.parametrize(("prompt", "kind", "status"), [
    ("trigger-500", UpstreamError, 500),
    ("trigger-429", UpstreamRateLimited, 429),
    ("trigger-402", UpstreamError, 402),
])
async def test_http_errors_are_mapped(provider: ReplicateProvider, app: Starlette, catalog: Catalog, prompt: str,
                                      kind: type[UpstreamError], status: int) -> None:
    with pytest.raises(kind) as caught:
        await provider.generate_images(entry(catalog, "black-forest-labs/flux-schnell"), request(prompt=prompt),
                                       RecordingProgress())
    assert caught.value.upstream_status == status
    if isinstance(caught.value, UpstreamRateLimited):
        assert caught.value.retry_after == 7 and caught.value.headers["Retry-After"] == "7"
    if status == 402:
        assert caught.value.code == "upstream_insufficient_credit" and "insufficient credit" in caught.value.message


async def test_validation_error_is_a_bad_request(provider: ReplicateProvider, app: Starlette,
                                                 catalog: Catalog) -> None:
    with pytest.raises(UpstreamBadRequest) as caught:
        await provider.generate_images(entry(catalog, "black-forest-labs/flux-schnell"),
                                       request(extra={"num_inference_steps": 9}), RecordingProgress())
    assert caught.value.status_code == 400 and "num_inference_steps" in caught.value.message


async def test_wrong_and_missing_token(fake: tuple[Starlette, str], app: Starlette, catalog: Catalog) -> None:
    flux = entry(catalog, "black-forest-labs/flux-schnell")
    wrong = make_provider(fake, settings={"keys": {"replicate": "r8_wrong"}})
    try:
        with pytest.raises(UpstreamError) as caught:
            await wrong.generate_images(flux, request(), RecordingProgress())
    finally:
        await wrong.aclose()
    assert caught.value.code == "upstream_authentication_failed" and "REPLICATE_API_TOKEN" in caught.value.message

    app.state.requests.clear()
    missing = make_provider(fake, settings={"keys": {}})
    with pytest.raises(MissingCredentials) as missed:
        await missing.generate_images(flux, request(), RecordingProgress())
    assert "REPLICATE_API_TOKEN" in missed.value.message
    assert app.state.requests == []
    assert not missing.availability(flux).usable


async def test_broken_image_is_an_upstream_error(provider: ReplicateProvider, app: Starlette,
                                                 catalog: Catalog) -> None:
    with pytest.raises(UpstreamError) as caught:
        await provider.generate_images(entry(catalog, "black-forest-labs/flux-schnell"),
                                       request(prompt="trigger-broken"), RecordingProgress())
    assert caught.value.code == "upstream_bad_image"


async def test_stuck_prediction_times_out_and_is_canceled(fake: tuple[Starlette, str], app: Starlette,
                                                          catalog: Catalog) -> None:
    provider = make_provider(fake, max_wait_seconds=0.2, poll_interval=0.01)
    try:
        with pytest.raises(UpstreamTimeout):
            await provider.generate_images(entry(catalog, "black-forest-labs/flux-schnell"),
                                           request(prompt="trigger-stuck"), RecordingProgress())
    finally:
        await provider.aclose()
    assert len(app.state.cancels) == 1


async def test_a_hung_connection_is_a_timeout(fake: tuple[Starlette, str], app: Starlette, catalog: Catalog) -> None:
    # Prefer: wait holds the create for 5 s on a stuck prediction; the client gives up first.
    provider = make_provider(fake, wait_seconds=5, settings={"upstream_timeout_seconds": 0.3})
    try:
        with pytest.raises(UpstreamTimeout):
            await provider.generate_images(entry(catalog, "black-forest-labs/flux-schnell"),
                                           request(prompt="trigger-stuck"), RecordingProgress())
    finally:
        await provider.aclose()


async def test_oversized_output_is_refused(fake: tuple[Starlette, str], app: Starlette, catalog: Catalog) -> None:
    provider = make_provider(fake, max_file_bytes=100)
    try:
        with pytest.raises(UpstreamError) as caught:
            await provider.generate_images(entry(catalog, "google/imagen-4"), request(), RecordingProgress())
    finally:
        await provider.aclose()
    assert caught.value.code == "upstream_file_too_large"


def test_adapter_refuses_what_a_model_cannot_take(catalog: Catalog) -> None:
    with pytest.raises(UnsupportedParameter):
        image_input(request(seed=3), "google/imagen-4")
    with pytest.raises(UnsupportedParameter):
        image_input(request(aspect_ratio="21:9"), "google/imagen-4")
    with pytest.raises(UnsupportedParameter):
        image_input(request(width=1000, height=1000), "recraft-ai/recraft-v3")
    with pytest.raises(UnsupportedParameter):
        image_input(request(style="oil painting"), "recraft-ai/recraft-v3")
    # Explicit pixels on a model without them: the nearest aspect ratio it has.
    assert image_input(request(width=1920, height=1080), "stability-ai/stable-diffusion-3.5-large")["aspect_ratio"] \
        == "16:9"
    assert image_input(request(style="design"), "ideogram-ai/ideogram-v3-turbo")["style_type"] == "Design"


def test_progress_from_status_and_logs() -> None:
    base = {"id": "p1", "urls": {"get": "g", "cancel": "c"}}
    assert prediction_progress(parse_prediction({**base, "status": "starting"}))[0] == 0.05
    fraction, message = prediction_progress(parse_prediction(
        {**base, "status": "processing", "logs": "  0%|  | 0/4\n 45%|####  | 9/20\n"}))
    assert fraction == pytest.approx(0.1 + 0.8 * 0.45) and message == "generating: 45%"
    assert parse_prediction({**base, "status": "succeeded", "output": "https://x/y.png"}).outputs == ["https://x/y.png"]
    with pytest.raises(ValueError):
        parse_prediction({"id": "p1", "status": "weird"})


def test_registered_through_the_entry_point_hook() -> None:
    (provider,) = create_providers(Settings())
    assert isinstance(provider, ReplicateProvider)
    assert provider.name == "replicate" and provider.credentials_env == "REPLICATE_API_TOKEN"
