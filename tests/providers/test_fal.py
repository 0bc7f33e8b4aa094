"""The fal provider over real HTTP, against the queue fake on 127.0.0.1."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from starlette.applications import Starlette

from easel.adapters.fal_queue import app_root, error_text, image_input, parse_status, status_progress
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
from easel.providers.fal import FalProvider, create_providers
from easel.tasks.image import ImageRequest, UpscaleRequest, check_supported
from tests.fakes.fal_fake import FAIL_MESSAGE, create_app
from tests.fakes.pictures import render
from tests.fakes.progress import RecordingProgress, Stopped
from tests.fakes.server import serve

KEY = "fal_test"


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[Starlette, str]]:
    app = create_app(api_key=KEY)
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


def make_provider(fake: tuple[Starlette, str], **kw: Any) -> FalProvider:
    settings = kw.pop("settings", {})
    settings.setdefault("keys", {"fal": KEY})
    kw.setdefault("poll_interval", 0.001)
    return FalProvider(Settings(base_urls={"fal": fake[1]}, **settings), **kw)


@pytest.fixture
async def provider(fake: tuple[Starlette, str]) -> Any:
    provider = make_provider(fake)
    yield provider
    await provider.aclose()


def entry(catalog: Catalog, name: str) -> ModelEntry:
    found = catalog.get(f"fal:{name}")
    assert found is not None, name
    return found


def request(model: str = "fal:fal-ai/flux/schnell", **fields: Any) -> ImageRequest:
    fields.setdefault("prompt", "a red fox in snow")
    return ImageRequest(model=model, **fields)


def submits(app: Starlette) -> list[dict[str, Any]]:
    return [r for r in app.state.requests if r["method"] == "POST"]


def status_polls(app: Starlette) -> list[dict[str, Any]]:
    return [r for r in app.state.requests if r["method"] == "GET" and r["path"].endswith("/status")]


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


async def test_generate_end_to_end(provider: FalProvider, app: Starlette, catalog: Catalog) -> None:
    schnell = entry(catalog, "fal-ai/flux/schnell")
    req = request(aspect_ratio="16:9", n=2, seed=5, output_format="png", steps=30)
    check_supported(req, schnell)
    progress = RecordingProgress()
    result = await provider.generate_images(schnell, req, progress)

    (sent,) = submits(app)
    assert sent["path"] == "/fal-ai/flux/schnell" and sent["headers"]["authorization"] == f"Key {KEY}"
    expected = {"image_size": "landscape_16_9", "num_images": 2, "seed": 5, "num_inference_steps": 12,
                "output_format": "png"}
    assert sent["body"] == {"prompt": "a red fox in snow", **expected}
    polled = status_polls(app)
    assert len(polled) == 4 and all(p["query"] == "logs=1" for p in polled)
    # Status and result live under the app root, not the endpoint path.
    assert all(p["path"].startswith("/fal-ai/flux/requests/") for p in polled)

    assert len(result.images) == 2
    for image in result.images:
        picture = decode(image.data)
        assert picture.format == "PNG" and (image.width, image.height) == picture.size
        assert image.width / image.height == pytest.approx(16 / 9, rel=0.02)
        assert image.settings == expected
    assert [i.seed for i in result.images] == [5, None]
    assert result.cost == pytest.approx(0.006)
    assert result.upstream_id in app.state.queue

    fractions = [f for f, _ in progress.reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(set(fractions)) >= 5
    messages = [m for _, m in progress.reports]
    assert "queued (position 2)" in messages and "queued (position 1)" in messages
    assert "Loading the model weights" in messages and "generating: 50%" in messages
    assert all(r["authorization"] is None for r in app.state.file_requests)


async def test_aspect_without_a_named_size_sends_pixels(provider: FalProvider, app: Starlette,
                                                        catalog: Catalog) -> None:
    result = await provider.generate_images(entry(catalog, "fal-ai/flux-pro/v1.1"), request(aspect_ratio="21:9"),
                                            RecordingProgress())
    size = submits(app)[0]["body"]["image_size"]
    assert set(size) == {"width", "height"} and size["width"] / size["height"] == pytest.approx(21 / 9, rel=0.05)
    assert result.images[0].width / result.images[0].height == pytest.approx(21 / 9, rel=0.05)
    # The seed fal reports is kept when none was asked for.
    assert result.images[0].seed == 4242


@pytest.mark.parametrize("name", ["fal-ai/flux-2-pro", "fal-ai/flux-pro/v1.1", "fal-ai/flux/schnell",
                                  "fal-ai/recraft/v3/text-to-image", "fal-ai/ideogram/v3",
                                  "fal-ai/bytedance/seedream/v4/text-to-image", "fal-ai/stable-diffusion-v35-large"])
async def test_every_catalog_model_speaks_its_schema(provider: FalProvider, app: Starlette, catalog: Catalog,
                                                     name: str) -> None:
    model = entry(catalog, name)
    fields: dict[str, Any] = {"aspect_ratio": "9:16", "n": model.media.max_images or 1, "guidance": 4.0}
    if model.capabilities.seed:
        fields["seed"] = 11
    if model.capabilities.negative_prompt:
        fields["negative_prompt"] = "blurry"
    req = request(model=model.id, **fields)
    check_supported(req, model)
    result = await provider.generate_images(model, req, RecordingProgress())
    assert len(result.images) == req.n
    assert result.images[0].width / result.images[0].height == pytest.approx(9 / 16, rel=0.03)
    assert model.pricing.per_image is not None
    assert result.cost == pytest.approx(model.pricing.per_image * req.n)


async def test_upscale(provider: FalProvider, app: Starlette, catalog: Catalog) -> None:
    source, _ = render(40, 30, fmt="jpeg")
    esrgan = entry(catalog, "fal-ai/esrgan")
    result = await provider.upscale(esrgan, source, UpscaleRequest(model=esrgan.id, asset_id="a1", scale=4),
                                    RecordingProgress())
    body = submits(app)[0]["body"]
    assert body["image_url"].startswith("data:image/jpeg;base64,") and body["scale"] == 4
    image = result.images[0]
    assert decode(image.data).size == (160, 120) == (image.width, image.height)
    assert image.settings == {"scale": 4, "model": "RealESRGAN_x4plus", "output_format": "png"}


@pytest.mark.parametrize("notice", ["wait", "progress"])
async def test_cancel_mid_run_puts_cancel_and_stops(provider: FalProvider, app: Starlette, catalog: Catalog,
                                                    notice: str) -> None:
    progress = RecordingProgress(cancel_on="Loading the model weights", notice=notice)
    with pytest.raises(Stopped):
        await provider.generate_images(entry(catalog, "fal-ai/flux/schnell"), request(), progress)
    (request_id,) = app.state.cancels
    last = app.state.requests[-1]
    assert last["method"] == "PUT" and last["path"] == f"/fal-ai/flux/requests/{request_id}/cancel"
    assert last["headers"]["authorization"] == f"Key {KEY}"
    assert app.state.queue[request_id].canceled
    assert app.state.file_requests == []


async def test_failed_request_carries_the_error(provider: FalProvider, app: Starlette, catalog: Catalog) -> None:
    with pytest.raises(UpstreamError) as caught:
        await provider.generate_images(entry(catalog, "fal-ai/flux/schnell"), request(prompt="trigger-fail"),
                                       RecordingProgress())
    assert FAIL_MESSAGE in caught.value.message and caught.value.code == "upstream_prediction_failed"
    assert app.state.cancels == []


@pytest.mark.parametrize(("prompt", "kind", "status"), [
    ("trigger-500", UpstreamError, 500),
    ("trigger-429", UpstreamRateLimited, 429),
    ("trigger-balance", UpstreamError, 403),
])
async def test_http_errors_are_mapped(provider: FalProvider, app: Starlette, catalog: Catalog, prompt: str,
                                      kind: type[UpstreamError], status: int) -> None:
    with pytest.raises(kind) as caught:
        await provider.generate_images(entry(catalog, "fal-ai/flux/schnell"), request(prompt=prompt),
                                       RecordingProgress())
    assert caught.value.upstream_status == status
    if isinstance(caught.value, UpstreamRateLimited):
        assert caught.value.retry_after == 3
    if status == 403:
        assert caught.value.code == "upstream_insufficient_credit" and "Exhausted balance" in caught.value.message


async def test_validation_error_is_a_bad_request(provider: FalProvider, app: Starlette, catalog: Catalog) -> None:
    with pytest.raises(UpstreamBadRequest) as caught:
        await provider.generate_images(entry(catalog, "fal-ai/flux/schnell"), request(extra={"num_images": 9}),
                                       RecordingProgress())
    assert caught.value.status_code == 400
    assert "num_images: ensure this value is between 1 and 4" in caught.value.message


async def test_wrong_and_missing_key(fake: tuple[Starlette, str], app: Starlette, catalog: Catalog) -> None:
    schnell = entry(catalog, "fal-ai/flux/schnell")
    wrong = make_provider(fake, settings={"keys": {"fal": "fal_wrong"}})
    try:
        with pytest.raises(UpstreamError) as caught:
            await wrong.generate_images(schnell, request(), RecordingProgress())
    finally:
        await wrong.aclose()
    assert caught.value.code == "upstream_authentication_failed" and "FAL_KEY" in caught.value.message

    app.state.requests.clear()
    missing = make_provider(fake, settings={"keys": {}})
    with pytest.raises(MissingCredentials) as missed:
        await missing.generate_images(schnell, request(), RecordingProgress())
    assert "FAL_KEY" in missed.value.message and app.state.requests == []


async def test_broken_image_is_an_upstream_error(provider: FalProvider, app: Starlette, catalog: Catalog) -> None:
    with pytest.raises(UpstreamError) as caught:
        await provider.generate_images(entry(catalog, "fal-ai/flux/schnell"), request(prompt="trigger-broken"),
                                       RecordingProgress())
    assert caught.value.code == "upstream_bad_image"


async def test_stuck_request_times_out_and_is_canceled(fake: tuple[Starlette, str], app: Starlette,
                                                       catalog: Catalog) -> None:
    provider = make_provider(fake, max_wait_seconds=0.2, poll_interval=0.01)
    try:
        with pytest.raises(UpstreamTimeout):
            await provider.generate_images(entry(catalog, "fal-ai/flux/schnell"), request(prompt="trigger-stuck"),
                                           RecordingProgress())
    finally:
        await provider.aclose()
    assert len(app.state.cancels) == 1


def test_adapter_spelling() -> None:
    assert app_root("fal-ai/flux/schnell") == "fal-ai/flux" and app_root("fal-ai/esrgan") == "fal-ai/esrgan"
    with pytest.raises(UnsupportedParameter):
        image_input(request(seed=1), "fal-ai/recraft/v3/text-to-image")
    with pytest.raises(UnsupportedParameter):
        image_input(request(n=2), "fal-ai/flux-2-pro")
    with pytest.raises(UnsupportedParameter):  # Seedream needs at least 960x960 pixels in all
        image_input(request(width=512, height=512), "fal-ai/bytedance/seedream/v4/text-to-image")
    body = image_input(request(aspect_ratio="1:1", style="realistic"), "fal-ai/ideogram/v3")
    assert body["image_size"] == "square_hd" and body["style"] == "REALISTIC"
    seedream = image_input(request(aspect_ratio="1:1"), "fal-ai/bytedance/seedream/v4/text-to-image")
    assert seedream["image_size"] == {"width": 2048, "height": 2048}


def test_status_and_error_payloads() -> None:
    queued = parse_status({"status": "IN_QUEUE", "queue_position": 3})
    assert status_progress(queued) == (0.05, "queued (position 3)")
    running = parse_status({"status": "IN_PROGRESS", "logs": [{"message": "step 1"}, {"message": " 75%|###"}]})
    assert status_progress(running) == (pytest.approx(0.1 + 0.8 * 0.75), "generating: 75%")
    assert error_text(b'{"detail": [{"loc": ["body", "prompt"], "msg": "field required"}]}') == \
        "prompt: field required"
    assert error_text(b'{"detail": "Not found"}') == "Not found"


def test_registered_through_the_entry_point_hook() -> None:
    (provider,) = create_providers(Settings())
    assert isinstance(provider, FalProvider) and provider.credentials_env == "FAL_KEY"
