"""The Jobs page in Chromium: running and recent jobs with live progress, outputs, errors, filters
and cancel (a hanging gpt-image-1 request on the faked OpenAI images API), plus its screenshots."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from easel.api.app import create_app
from tests.api.conftest import Fakes, Studio, studio_settings
from tests.fakes.server import serve


@pytest.fixture
def ui(tmp_path: Path, fakes: Fakes) -> Iterator[Studio]:
    """The shared studio, but with a patient upstream timeout (the default is minutes; the shared
    fixture's 1.5 s would end a hanging request before a person, or this test, could cancel it)."""
    settings = studio_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'ui.db'}", fakes, local_threads=1,
                               upstream_timeout_seconds=60)
    with serve(create_app(settings), lifespan="on") as url:
        yield Studio(url, settings, fakes)


def _submit(http: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post(path, json=body)
    assert response.status_code == 202, response.text
    return response.json()


def _finish(http: httpx.Client, job_id: str) -> dict[str, Any]:
    """Read the job's event stream to its end (it closes after the terminal event); return the job."""
    with http.stream("GET", f"/api/jobs/{job_id}/events", timeout=60) as response:
        for _ in response.iter_lines():
            pass
    return http.get(f"/api/jobs/{job_id}").json()


def _until_running(http: httpx.Client, job_id: str) -> None:
    """Read the job's events until a worker has sent its request upstream."""
    with http.stream("GET", f"/api/jobs/{job_id}/events", timeout=30) as response:
        for line in response.iter_lines():
            if line.startswith("data:") and '"submitted"' in line:
                return


def test_jobs_page_lists_jobs_with_outputs_errors_and_filters(page: Page, ui: Studio) -> None:
    with ui.http() as http:
        made = _finish(http, _submit(http, "/api/images", {"prompt": "a red kite", "n": 2, "width": 256, "height": 256})["id"])
        failed = _finish(http, _submit(http, "/api/images", {"model": "gpt-image-1", "prompt": "a kite trigger-500"})["id"])
        upscaled = _finish(http, _submit(http, "/api/upscale", {"asset_id": made["outputs"]["assets"][0], "scale": 2,
                                                                "model": "local:realesrgan-fast-x4"})["id"])
    assert (made["status"], failed["status"], upscaled["status"]) == ("succeeded", "failed", "succeeded")

    page.goto("/#/jobs")
    rows = page.locator(".job-row")
    expect(rows).to_have_count(3)
    expect(page.locator(".jobs-count")).to_have_text("3 jobs")
    done = page.locator(f".job-row[data-job-id='{made['id']}']")
    expect(done).to_have_attribute("data-status", "succeeded")
    expect(done).to_contain_text("a red kite")
    expect(done.locator(".job-thumb img")).to_have_count(2)
    expect(page.locator(f".job-row[data-job-id='{failed['id']}'] .job-error")).to_contain_text("HTTP 500")
    expect(page.locator(f".job-row[data-job-id='{upscaled['id']}']")).to_contain_text("Upscale 2×")
    expect(page.locator(f".job-row[data-job-id='{upscaled['id']}'] .job-thumb img")).to_have_count(2)  # source and output

    page.get_by_label("Status").select_option("failed")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-job-id", failed["id"])
    assert page.url.endswith("#/jobs?status=failed")
    page.get_by_label("Status").select_option("")
    page.get_by_label("Task").select_option("upscale")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-job-id", upscaled["id"])
    page.get_by_label("Task").select_option("video")
    expect(page.locator(".jobs-page .empty")).to_contain_text("No jobs match these filters")

    page.goto("/#/jobs")
    first_output = made["outputs"]["assets"][0]
    page.locator(f".job-row[data-job-id='{made['id']}'] .job-thumb[href='#/images?asset={first_output}']").click()
    expect(page.get_by_role("dialog").locator("figure img")).to_have_attribute("src", f"/api/assets/{first_output}/content")


def test_cancel_works_on_a_hanging_job(page: Page, ui: Studio) -> None:
    page.goto("/#/jobs")
    expect(page.locator(".jobs-page .empty")).to_contain_text("No jobs yet")
    with ui.http() as http:
        job = _submit(http, "/api/images", {"model": "gpt-image-1", "prompt": "a slow harbour trigger-hang"})
        _until_running(http, job["id"])
    row = page.locator(f".job-row[data-job-id='{job['id']}']")
    expect(row).to_be_visible(timeout=15_000)  # a job started elsewhere appears on its own
    expect(row).to_have_attribute("data-status", "running")
    expect(row.get_by_role("progressbar")).to_be_visible()
    expect(row).to_contain_text("submitted")
    row.get_by_role("button", name="Cancel").click()
    expect(row).to_have_attribute("data-status", "canceled")
    expect(row.get_by_role("button", name="Cancel")).to_have_count(0)
    with ui.http() as http:
        assert http.get(f"/api/jobs/{job['id']}").json()["status"] == "canceled"


def test_screenshots(page: Page, phone: Page, ui: Studio, shoot: Callable[[Page, str], Path]) -> None:
    with ui.http() as http:
        first = None
        for prompt in ("a lighthouse on a cliff at night", "two cats on a red sofa", "a sailboat at sunset"):
            done = _finish(http, _submit(http, "/api/images", {"prompt": prompt, "n": 2, "width": 384, "height": 384})["id"])
            first = first or done["outputs"]["assets"][0]
        _finish(http, _submit(http, "/api/upscale", {"asset_id": first, "scale": 2, "model": "local:realesrgan-fast-x4"})["id"])
        _finish(http, _submit(http, "/api/images", {"model": "gpt-image-1", "prompt": "a glass city trigger-500"})["id"])
        hanging = _submit(http, "/api/images", {"model": "gpt-image-1", "prompt": "a harbour at dawn, slow provider trigger-hang"})
        _until_running(http, hanging["id"])
    for target, name in ((page, "jobs-desktop"), (phone, "jobs-phone")):
        target.goto("/#/jobs")
        expect(target.locator(".job-row")).to_have_count(6)
        expect(target.locator(".job-row[data-status=running] .progress")).to_be_visible()
        for img in target.locator(".job-thumb img").all():
            expect(img).to_have_js_property("complete", True)
        shoot(target, name)
    with ui.http() as http:
        http.post(f"/api/jobs/{hanging['id']}/cancel")
