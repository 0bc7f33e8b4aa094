"""The Workflows page in Chromium: a run's Markdown, stored as a document asset, downloads from the
result panel as `<step>-<run>.md`; the document is never drawn as a (broken) thumbnail beside the
run's pictures, and the Images gallery shows the pictures only."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.api.conftest import Studio
from tests.ui.test_workflows_page import POSTER, RUN_TIMEOUT_MS, save

def test_the_result_downloads_its_markdown_and_shows_only_pictures_as_thumbnails(page: Page, ui: Studio) -> None:
    save(ui, POSTER)  # two pictures from the offline illustrator, then a page that embeds them
    page.goto("/#/workflows/poster")
    page.get_by_label("Subject").fill("a lighthouse")
    page.get_by_role("button", name="Run workflow").click()
    run = page.locator(".wf-run")
    expect(run).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT_MS)
    run_id = run.get_attribute("data-run-id")

    result = page.locator(".wf-result")
    expect(result.locator(".md h1")).to_have_text("Poster")
    thumbs = result.locator(".wf-thumb img")
    expect(thumbs).to_have_count(2)  # the pictures; the document has no thumbnail to draw
    for img in thumbs.all():
        expect(img).to_have_js_property("complete", True)
        assert img.evaluate("el => el.naturalWidth") > 0, "a result picture did not load"
    expect(run.locator(".wf-step[data-step-id='page'] .wf-thumb")).to_have_count(0)

    with page.expect_download() as info:
        result.get_by_role("link", name="Download .md").click()
    assert info.value.suggested_filename == f"page-{run_id}.md"
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert text.startswith("# Poster") and "/api/assets/asset_" in text

    page.goto("/#/images")
    expect(page.locator(".gallery-grid img")).to_have_count(2)  # the pictures, not the document
    with ui.http() as http:
        kinds = sorted(a["kind"] for a in http.get("/api/assets").json()["data"])
    assert kinds == ["document", "image", "image"]
