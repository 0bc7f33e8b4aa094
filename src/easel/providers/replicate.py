"""The `replicate` provider: text-to-image and upscaling through Replicate's predictions API.

A prediction is created with `Prefer: wait=N` (Replicate holds the answer up to N seconds,
so a fast model is done in one round trip), then `urls.get` is polled until it is terminal.
Progress comes from the status and the percentages in the model's logs. A cancel (the
job's, or ours on a timeout or a failed poll) POSTs `urls.cancel` so nothing keeps running
and billing. Outputs are file URLs, downloaded with a size cap and decoded before they count.

`adapters.replicate_predictions` spells each model's input and reads predictions;
`adapters.remote_media` downloads and decodes; `adapters.upstream` maps HTTP failures.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from easel.adapters.remote_media import (
    MAX_FILE_BYTES,
    MonotonicProgress,
    download_images,
    image_cost,
    to_data_url,
)
from easel.adapters.replicate_predictions import (
    Prediction,
    create_call,
    image_input,
    parse_prediction,
    prediction_progress,
    seed_from_logs,
    sent_settings,
    upscale_input,
)
from easel.adapters.upstream import error_for_status, error_for_transport, upstream_message
from easel.catalog.entry import ModelEntry
from easel.config import Settings
from easel.errors import UpstreamError, UpstreamTimeout
from easel.providers.base import Provider
from easel.providers.http_base import HttpProvider
from easel.tasks.image import ImageRequest, ImageResult, UpscaleRequest
from easel.tasks.progress import Progress

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.replicate.com"
#: consecutive failed polls (5xx, connection) tolerated before the prediction is given up
POLL_RETRIES = 3


class ReplicateProvider(HttpProvider):

    default_base_url = DEFAULT_BASE_URL
    name = "replicate"
    display_name = "Replicate"
    credentials_env = "REPLICATE_API_TOKEN"

    def __init__(self, settings: Settings, *, wait_seconds: int | None = 5, poll_interval: float = 1.0,
                 max_wait_seconds: float = 900.0, max_file_bytes: int = MAX_FILE_BYTES,
                 cancel_timeout: float = 10.0) -> None:
        """`wait_seconds`: the `Prefer: wait` hold (1-60; None sends no header); `poll_interval`:
        seconds between polls; `max_wait_seconds`: when a prediction is given up (and canceled)."""
        super().__init__(settings)
        self.wait_seconds = wait_seconds
        self.poll_interval = poll_interval
        self.max_wait_seconds = max_wait_seconds
        self.max_file_bytes = max_file_bytes
        self.cancel_timeout = cancel_timeout

    # -- the tasks -------------------------------------------------------------

    def check_image_request(self, entry: ModelEntry, request: ImageRequest) -> None:
        image_input(request, entry.upstream_name)  # raises on what the model's input can't take

    async def generate_images(self, entry: ModelEntry, request: ImageRequest, progress: Progress) -> ImageResult:
        model_input = image_input(request, entry.upstream_name)
        prediction, tracker = await self._run(entry, model_input, progress)
        seed = request.seed if request.seed is not None else seed_from_logs(prediction.logs)
        # A batch shares one generator: only the first image is reproducible from the seed alone.
        seeds = [seed] + [None] * (len(prediction.outputs) - 1)
        images = await download_images(self._client(), prediction.outputs, provider=self.name, tracker=tracker,
                                       settings=sent_settings(model_input), seeds=seeds,
                                       max_bytes=self.max_file_bytes)
        return ImageResult(images=images, cost=image_cost(entry, images), upstream_id=prediction.id)

    async def upscale(self, entry: ModelEntry, image: bytes, request: UpscaleRequest,
                      progress: Progress) -> ImageResult:
        model_input = upscale_input(request, to_data_url(image), entry.upstream_name)
        prediction, tracker = await self._run(entry, model_input, progress)
        images = await download_images(self._client(), prediction.outputs[:1], provider=self.name,
                                       tracker=tracker, settings=sent_settings(model_input),
                                       max_bytes=self.max_file_bytes)
        return ImageResult(images=images, cost=image_cost(entry, images), upstream_id=prediction.id)

    # -- one prediction ----------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.require_api_key()}"}

    async def _run(self, entry: ModelEntry, model_input: dict[str, Any],
                   progress: Progress) -> tuple[Prediction, MonotonicProgress]:
        """Create a prediction and follow it to `succeeded` (with outputs), or raise."""
        headers = self._headers()
        tracker = MonotonicProgress(progress)
        tracker.report(0.01, f"submitting to {self.display_name}")
        path, body = create_call(entry.upstream_name, model_input)
        create_headers = dict(headers)
        if self.wait_seconds:  # Replicate takes 1 to 60 seconds
            create_headers["Prefer"] = f"wait={min(60, max(1, int(self.wait_seconds)))}"
        prediction = await self._call("POST", f"{self.base_url}{path}", headers=create_headers, json=body)
        prediction = await self._follow(prediction, headers, tracker, progress)
        if prediction.status == "failed":
            raise UpstreamError(f"prediction {prediction.id} failed: {prediction.error or 'no error given'}",
                                provider=self.name, code="upstream_prediction_failed")
        if prediction.status == "canceled":
            raise UpstreamError(f"prediction {prediction.id} was canceled upstream", provider=self.name,
                                code="upstream_canceled")
        if not prediction.outputs:
            raise UpstreamError(f"prediction {prediction.id} succeeded without outputs", provider=self.name,
                                code="upstream_bad_payload")
        return prediction, tracker

    async def _follow(self, prediction: Prediction, headers: dict[str, str], tracker: MonotonicProgress,
                      progress: Progress) -> Prediction:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait_seconds
        failures = 0
        try:
            while not prediction.terminal:
                tracker.report(*prediction_progress(prediction))  # a JobContext raises here once canceled
                if loop.time() >= deadline:
                    raise UpstreamTimeout(f"prediction {prediction.id} did not finish in {self.max_wait_seconds:g} s",
                                          provider=self.name)
                if await progress.wait_canceled(self.poll_interval):
                    progress.raise_if_canceled()
                    raise UpstreamError("the work was canceled", provider=self.name, code="canceled")
                url = prediction.get_url or f"{self.base_url}/v1/predictions/{prediction.id}"
                try:
                    prediction = await self._call("GET", url, headers=headers)
                    failures = 0
                except UpstreamError as exc:
                    failures += 1
                    if failures > POLL_RETRIES or (exc.upstream_status or 500) < 500:
                        raise
                    log.warning("polling prediction %s failed (%s); retrying", prediction.id, exc.message)
        except BaseException:
            # Canceled, timed out or lost: stop the prediction so it does not run (and bill) on.
            if not prediction.terminal:
                await self._cancel(prediction, headers)
            raise
        return prediction

    async def _cancel(self, prediction: Prediction, headers: dict[str, str]) -> None:
        url = prediction.cancel_url or f"{self.base_url}/v1/predictions/{prediction.id}/cancel"
        try:
            async with asyncio.timeout(self.cancel_timeout):
                response = await self._client().post(url, headers=headers)
            if response.status_code >= 400:
                log.warning("canceling prediction %s: HTTP %s", prediction.id, response.status_code)
        except (httpx.HTTPError, TimeoutError) as exc:
            log.warning("canceling prediction %s failed: %s", prediction.id, exc)

    async def _call(self, method: str, url: str, *, headers: dict[str, str],
                    json: dict[str, Any] | None = None) -> Prediction:
        try:
            response = await self._client().request(method, url, headers=headers, json=json)
        except httpx.HTTPError as exc:
            raise error_for_transport(self.name, exc) from exc
        if response.status_code >= 400:
            raise self._http_error(response)
        try:
            return parse_prediction(response.json())
        except ValueError as exc:
            raise UpstreamError(f"answered with something that is not a prediction: {exc}", provider=self.name,
                                code="upstream_bad_payload") from exc

    def _http_error(self, response: httpx.Response) -> UpstreamError:
        if response.status_code == 402:  # Replicate's "Insufficient credit"
            return UpstreamError(f"out of credit: {upstream_message(response.content)}", provider=self.name,
                                 upstream_status=402, code="upstream_insufficient_credit")
        return error_for_status(self.name, response.status_code, response.content, response.headers,
                                self.credentials_env)



def create_providers(settings: Settings) -> list[Provider]:
    return [ReplicateProvider(settings)]
