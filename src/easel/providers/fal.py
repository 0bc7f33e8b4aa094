"""The `fal` provider: text-to-image and upscaling through fal's queue API.

A request is submitted to `queue.fal.run/{model_id}`, its `status_url` polled (with logs)
until COMPLETED, and the result read from `response_url`. Queue position and log lines
become progress messages; percentages in the logs become the fraction. A cancel (the
job's, or ours on a timeout or a failed poll) PUTs `cancel_url`. The images are file URLs,
downloaded with a size cap and decoded before they count.

`adapters.fal_queue` spells each model's input and reads queue payloads;
`adapters.remote_media` downloads and decodes; `adapters.upstream` maps HTTP failures.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from easel.adapters.fal_queue import (
    QueueStatus,
    Submission,
    error_text,
    image_input,
    parse_images,
    parse_status,
    parse_submission,
    sent_settings,
    status_progress,
    upscale_input,
)
from easel.adapters.remote_media import (
    MAX_FILE_BYTES,
    MonotonicProgress,
    download_images,
    image_cost,
    to_data_url,
)
from easel.adapters.upstream import error_for_status, error_for_transport
from easel.catalog.entry import ModelEntry
from easel.config import Settings
from easel.errors import UpstreamError, UpstreamTimeout
from easel.providers.base import Provider
from easel.providers.http_base import HttpProvider
from easel.tasks.image import ImageRequest, ImageResult, UpscaleRequest
from easel.tasks.progress import Progress

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://queue.fal.run"
#: consecutive failed polls (5xx, connection) tolerated before the request is given up
POLL_RETRIES = 3


class FalProvider(HttpProvider):

    default_base_url = DEFAULT_BASE_URL
    name = "fal"
    display_name = "fal"
    credentials_env = "FAL_KEY"

    def __init__(self, settings: Settings, *, poll_interval: float = 1.0, max_wait_seconds: float = 900.0,
                 max_file_bytes: int = MAX_FILE_BYTES, cancel_timeout: float = 10.0) -> None:
        """`poll_interval`: seconds between status polls; `max_wait_seconds`: when a request is
        given up (and canceled)."""
        super().__init__(settings)
        self.poll_interval = poll_interval
        self.max_wait_seconds = max_wait_seconds
        self.max_file_bytes = max_file_bytes
        self.cancel_timeout = cancel_timeout

    # -- the tasks -------------------------------------------------------------

    def check_image_request(self, entry: ModelEntry, request: ImageRequest) -> None:
        image_input(request, entry.upstream_name)  # raises on what the model's input can't take

    async def generate_images(self, entry: ModelEntry, request: ImageRequest, progress: Progress) -> ImageResult:
        body = image_input(request, entry.upstream_name)
        request_id, result, tracker = await self._run(entry, body, progress)
        found, seed = self._images(request_id, result)
        seed = seed if seed is not None else request.seed
        # A batch shares one generator: only the first image is reproducible from the seed alone.
        seeds = [seed] + [None] * (len(found) - 1)
        images = await download_images(self._client(), [image.url for image in found], provider=self.name,
                                       tracker=tracker, settings=sent_settings(body), seeds=seeds,
                                       max_bytes=self.max_file_bytes)
        return ImageResult(images=images, cost=image_cost(entry, images), upstream_id=request_id)

    async def upscale(self, entry: ModelEntry, image: bytes, request: UpscaleRequest,
                      progress: Progress) -> ImageResult:
        body = upscale_input(request, to_data_url(image), entry.upstream_name)
        request_id, result, tracker = await self._run(entry, body, progress)
        found, _ = self._images(request_id, result)
        images = await download_images(self._client(), [found[0].url], provider=self.name, tracker=tracker,
                                       settings=sent_settings(body), max_bytes=self.max_file_bytes)
        return ImageResult(images=images, cost=image_cost(entry, images), upstream_id=request_id)

    def _images(self, request_id: str, result: Any) -> tuple[list[Any], int | None]:
        try:
            found, seed = parse_images(result)
        except ValueError as exc:
            raise UpstreamError(f"request {request_id} answered an unexpected result: {exc}", provider=self.name,
                                code="upstream_bad_payload") from exc
        if not found:
            raise UpstreamError(f"request {request_id} completed without images", provider=self.name,
                                code="upstream_bad_payload")
        return found, seed

    # -- one queued request ---------------------------------------------------------

    async def _run(self, entry: ModelEntry, body: dict[str, Any],
                   progress: Progress) -> tuple[str, Any, MonotonicProgress]:
        """Submit, follow to COMPLETED and fetch the result, or raise."""
        headers = {"Authorization": f"Key {self.require_api_key()}"}
        tracker = MonotonicProgress(progress)
        tracker.report(0.01, f"submitting to {self.display_name}")
        payload = await self._call("POST", f"{self.base_url}/{entry.upstream_name}", headers=headers, json=body)
        try:
            submission = parse_submission(payload, queue_base=self.base_url, model_id=entry.upstream_name)
        except ValueError as exc:
            raise UpstreamError(f"answered the submit with {exc}", provider=self.name,
                                code="upstream_bad_payload") from exc
        try:
            status = parse_status(payload)
        except ValueError:
            status = QueueStatus("IN_QUEUE")
        status = await self._follow(submission, status, headers, tracker, progress)
        if status.error:
            raise UpstreamError(f"request {submission.request_id} failed: {status.error}", provider=self.name,
                                code="upstream_prediction_failed")
        tracker.report(0.9, "fetching the result")
        result = await self._call("GET", submission.response_url, headers=headers)
        return submission.request_id, result, tracker

    async def _follow(self, submission: Submission, status: QueueStatus, headers: dict[str, str],
                      tracker: MonotonicProgress, progress: Progress) -> QueueStatus:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait_seconds
        separator = "&" if "?" in submission.status_url else "?"
        status_url = f"{submission.status_url}{separator}logs=1"
        failures = 0
        try:
            while status.status != "COMPLETED":
                tracker.report(*status_progress(status))  # a JobContext raises here once canceled
                if loop.time() >= deadline:
                    raise UpstreamTimeout(f"request {submission.request_id} did not finish in "
                                          f"{self.max_wait_seconds:g} s", provider=self.name)
                if await progress.wait_canceled(self.poll_interval):
                    progress.raise_if_canceled()
                    raise UpstreamError("the work was canceled", provider=self.name, code="canceled")
                try:
                    status = self._status(await self._call("GET", status_url, headers=headers))
                    failures = 0
                except UpstreamError as exc:
                    failures += 1
                    if failures > POLL_RETRIES or (exc.upstream_status or 500) < 500:
                        raise
                    log.warning("polling fal request %s failed (%s); retrying", submission.request_id, exc.message)
        except BaseException:
            # Canceled, timed out or lost: stop the request so it does not run (and bill) on.
            if status.status != "COMPLETED":
                await self._cancel(submission, headers)
            raise
        return status

    def _status(self, payload: Any) -> QueueStatus:
        try:
            return parse_status(payload)
        except ValueError as exc:
            raise UpstreamError(str(exc), provider=self.name, code="upstream_bad_payload") from exc

    async def _cancel(self, submission: Submission, headers: dict[str, str]) -> None:
        try:
            async with asyncio.timeout(self.cancel_timeout):
                response = await self._client().put(submission.cancel_url, headers=headers)
            if response.status_code >= 400:  # 400 ALREADY_COMPLETED is fine: nothing runs any more
                log.info("canceling fal request %s: HTTP %s", submission.request_id, response.status_code)
        except (httpx.HTTPError, TimeoutError) as exc:
            log.warning("canceling fal request %s failed: %s", submission.request_id, exc)

    async def _call(self, method: str, url: str, *, headers: dict[str, str],
                    json: dict[str, Any] | None = None) -> Any:
        try:
            response = await self._client().request(method, url, headers=headers, json=json)
        except httpx.HTTPError as exc:
            raise error_for_transport(self.name, exc) from exc
        if response.status_code >= 400:
            raise self._http_error(response)
        try:
            return response.json()
        except ValueError as exc:
            raise UpstreamError("answered with something that is not JSON", provider=self.name,
                                code="upstream_bad_payload") from exc

    def _http_error(self, response: httpx.Response) -> UpstreamError:
        message = error_text(response.content)
        status = response.status_code
        # fal locks an account whose balance ran out with a 403 that says so.
        if status == 402 or (status == 403 and "balance" in message.lower()):
            return UpstreamError(f"out of credit: {message}", provider=self.name, upstream_status=status,
                                 code="upstream_insufficient_credit")
        return error_for_status(self.name, status, message, response.headers, self.credentials_env)



def create_providers(settings: Settings) -> list[Provider]:
    return [FalProvider(settings)]
