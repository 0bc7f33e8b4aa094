"""The Workflows page in Chromium against the real workflow API: pick the `article` template, fill its
form, run it on the embedded local model and watch the steps finish live; read the Markdown and
download the bundle; import a bad YAML and read the server's message naming step and field; save a
workflow whose step fails on a faked provider error and retry that step with a working model; view
and download a workflow's YAML; pictures as thumbnails and inline, opening full size; Cancel on an
endless stream; a run followed although its event stream keeps failing; deep links, a phone-width
run and the screenshots."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, Route, expect

from tests.api.conftest import Studio

RUN_TIMEOUT_MS = 180_000  # a few short generations on one CPU thread of the embedded model

# A reference to a step that does not exist: the server refuses it, naming the step and the field.
BROKEN = """\
name: broken-ref
steps:
  - id: draft
    kind: chat
    prompt: "Summarise {{ steps.research.text }}"
"""

# The first step calls the fake endpoint's model that always answers HTTP 500.
FLAKY = """\
name: flaky-writer
title: Flaky writer
description: One line from a model, then a page around it.
inputs:
  topic: {type: string, title: Topic}
  lines: {type: integer, title: Lines, default: 1, min: 1, max: 3}
steps:
  - id: draft
    kind: chat
    model: fake:fake-error-500
    prompt: "Write {{ inputs.lines }} short line about {{ inputs.topic }}."
    max_tokens: 12
  - id: page
    kind: markdown
    template: "# Notes on {{ inputs.topic }}\\n\\n{{ steps.draft.text }}"
"""

# One short generation and a page: cheap enough to finish before a phone opens its link.
TINY = """\
name: tiny-note
inputs:
  topic: {type: string}
steps:
  - id: line
    kind: chat
    prompt: "One short sentence about {{ inputs.topic }}."
    max_tokens: 12
  - id: page
    kind: markdown
    template: "# {{ inputs.topic | upper }}\\n\\n{{ steps.line.text }}"
"""

# Two pictures from the offline illustrator, then a page that embeds them.
POSTER = """\
name: poster
inputs:
  subject: {type: string, title: Subject}
steps:
  - id: picture
    kind: image
    model: local:illustrator
    prompt: "{{ inputs.subject }}"
    max_side: 256
    n: 2
  - id: page
    kind: markdown
    template: |-
      # Poster

      {{ steps.picture.assets | images("Poster") }}
"""

# A step whose provider streams without end: only Cancel ends it.
ENDLESS = """\
name: endless
steps:
  - id: wait
    kind: chat
    model: fake:fake-endless
    prompt: "Say something."
"""

LIVE_STATUSES = """() => {
  window.__stepStatuses = new Set();
  new MutationObserver(() => {
    for (const el of document.querySelectorAll('.wf-step')) window.__stepStatuses.add(el.dataset.status);
  }).observe(document.getElementById('view'), { subtree: true, childList: true, attributes: true });
}"""


def save(ui: Studio, source: str) -> None:
    with ui.http() as http:
        saved = http.post("/api/workflows", json={"source": source})
        assert saved.status_code == 201, saved.text


def import_yaml(page: Page, source: str) -> None:
    page.get_by_text("Import YAML", exact=True).click()
    page.get_by_label("or paste its YAML").fill(source)
    page.get_by_role("button", name="Save workflow").click()


def run_article(page: Page, topic: str) -> None:
    page.goto("/#/workflows")
    page.locator(".wf-side").get_by_role("link", name=re.compile("^Article")).click()
    expect(page).to_have_url(re.compile(r"#/workflows/article$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Article")
    page.get_by_label("Topic").fill(topic)
    page.get_by_label("Sections", exact=True).fill("2")  # two short sections keep the run quick
    page.get_by_label("Section length").fill("40")
    page.evaluate(LIVE_STATUSES)
    page.get_by_role("button", name="Run workflow").click()
    expect(page).to_have_url(re.compile(r"#/workflows/run/"))


def test_article_runs_live_and_its_result_and_bundle_download(page: Page, ui: Studio,
                                                              shoot: Callable[[Page, str], Path]) -> None:
    page.goto("/#/workflows/article")
    page.get_by_label("Topic").fill("")
    page.get_by_role("button", name="Run workflow").click()
    expect(page.locator(".wf-form-error")).to_contain_text("required")
    expect(page.get_by_label("Topic")).to_be_focused()
    expect(page.get_by_label("Topic")).to_have_attribute("aria-invalid", "true")

    run_article(page, "tide pools")
    run = page.locator(".wf-run")
    expect(run).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT_MS)
    steps = run.locator(".wf-step")
    total = steps.count()
    assert total >= 2
    expect(run.locator(".wf-step[data-status=succeeded]")).to_have_count(total)
    seen = set(page.evaluate("[...window.__stepStatuses]"))
    assert "running" in seen, f"the page never showed a step running, only {seen}: no live updates"
    expect(run.locator(".wf-step .wf-md").first).not_to_be_empty()
    result = page.locator(".wf-result .md")
    expect(result).to_be_visible()
    expect(result).not_to_be_empty()
    run_id = run.get_attribute("data-run-id")
    assert run_id and page.url.endswith(f"#/workflows/run/{run_id}")
    expect(page.locator(f".wf-runs [data-run-id='{run_id}'] .wf-chip")).to_have_text("done")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download bundle").click()
    body = Path(info.value.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(body)) as bundle:
        names = bundle.namelist()
        markdown = [n for n in names if n.endswith(".md")]
        assert markdown, f"no Markdown file in the bundle: {names}"
        assert bundle.read(markdown[0]).strip()
    shoot(page, "workflows")

    page.reload()  # the deep link opens the same finished run
    expect(page.locator(".wf-run")).to_have_attribute("data-status", "succeeded")
    expect(page.locator(".wf-run .wf-step[data-status=succeeded]")).to_have_count(total)
    page.get_by_role("button", name="Run again").click()
    expect(page.get_by_label("Topic")).to_have_value("tide pools")


def test_a_bad_yaml_shows_the_servers_message_and_a_good_one_is_saved(page: Page, ui: Studio) -> None:
    page.goto("/#/workflows")
    expect(page.locator(".wf-side .wf-list li")).not_to_have_count(0)
    import_yaml(page, BROKEN)
    message = page.locator(".wf-import-error")
    expect(message).to_be_visible()
    expect(message).to_contain_text("draft")
    expect(message).to_contain_text("prompt")
    expect(page.locator(".wf-side").get_by_role("link", name=re.compile("broken"))).to_have_count(0)

    page.get_by_label("or paste its YAML").fill(FLAKY)
    page.get_by_role("button", name="Save workflow").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Flaky writer")
    expect(page).to_have_url(re.compile(r"#/workflows/flaky-writer$"))
    expect(page.locator(".wf-side [data-name='flaky-writer'] .badge")).to_have_text("saved")
    page.get_by_text("YAML", exact=True).click()
    expect(page.get_by_label("Workflow YAML")).to_contain_text("fake:fake-error-500")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download YAML").click()
    assert info.value.suggested_filename == "flaky-writer.yaml"
    assert "kind: markdown" in Path(info.value.path()).read_text()

    page.get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Delete? Press again").click()
    expect(page.locator(".wf-side [data-name='flaky-writer']")).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).not_to_contain_text("Flaky writer")
    with ui.http() as http:
        assert http.get("/api/workflows/flaky-writer").status_code == 404


def test_importing_a_saved_name_offers_to_replace_it(page: Page, ui: Studio) -> None:
    save(ui, FLAKY)
    page.goto("/#/workflows")
    import_yaml(page, FLAKY.replace("title: Flaky writer", "title: Steady writer"))
    message = page.locator(".wf-import-error")
    expect(message).to_contain_text("already saved a workflow with this name")
    replace = page.get_by_role("button", name="Replace it")
    expect(replace).to_be_focused()
    with ui.http() as http:
        assert http.get("/api/workflows/flaky-writer").json()["title"] == "Flaky writer"  # not yet replaced
    replace.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Steady writer")
    expect(page.locator(".wf-side [data-name='flaky-writer']")).to_have_count(1)
    with ui.http() as http:
        assert http.get("/api/workflows/flaky-writer").json()["title"] == "Steady writer"


def test_a_steps_model_is_chosen_under_advanced(page: Page, ui: Studio) -> None:
    save(ui, FLAKY)
    page.goto("/#/workflows/flaky-writer")
    page.get_by_label("Topic").fill("lanterns")
    page.get_by_text("Advanced: models per step").click()
    page.get_by_label("Draft").select_option("local:smollm2-135m")
    page.get_by_role("button", name="Run workflow").click()
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    run = page.locator(".wf-run")
    expect(run).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT_MS)
    expect(run.locator(".wf-step[data-step-id='draft'] .wf-step-meta")).to_contain_text("local:smollm2-135m")
    with ui.http() as http:
        stored = http.get(f"/api/runs/{run.get_attribute('data-run-id')}").json()
    assert stored["models"] == {"draft": "local:smollm2-135m"}


def test_a_failed_step_is_retried_with_a_working_model(page: Page, ui: Studio) -> None:
    save(ui, FLAKY)
    page.goto("/#/workflows/flaky-writer")
    page.get_by_label("Topic").fill("harbours")
    page.get_by_label("Lines").fill("50")
    page.get_by_role("button", name="Run workflow").click()
    expect(page.locator(".wf-form-error")).to_contain_text("lines")  # the server's 400, as it said it
    page.get_by_label("Lines").fill("1")
    page.get_by_role("button", name="Run workflow").click()

    run = page.locator(".wf-run")
    expect(run).to_have_attribute("data-status", "failed", timeout=60_000)
    draft = run.locator(".wf-step[data-step-id='draft']")
    expect(draft).to_have_attribute("data-status", "failed")
    expect(draft.locator(".wf-step-error")).to_contain_text("500")
    expect(run.locator(".wf-step[data-step-id='page']")).not_to_have_attribute("data-status", "succeeded")
    expect(page.get_by_role("link", name="Download bundle")).to_be_visible()

    draft.get_by_label("Retry with").select_option("local:smollm2-135m")
    draft.get_by_role("button", name="Retry").click()
    expect(run).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT_MS)
    draft = run.locator(".wf-step[data-step-id='draft']")
    expect(draft).to_have_attribute("data-status", "succeeded")
    expect(draft.locator(".wf-step-meta")).to_contain_text("local:smollm2-135m")
    expect(page.locator(".wf-result .md h1")).to_have_text("Notes on harbours")


def test_pictures_show_as_thumbnails_and_inline_and_open_full_size(page: Page, ui: Studio) -> None:
    save(ui, POSTER)
    page.goto("/#/workflows/poster")
    page.get_by_label("Subject").fill("a red fox in the snow")
    page.get_by_role("button", name="Run workflow").click()
    run = page.locator(".wf-run")
    expect(run).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT_MS)
    thumbs = run.locator(".wf-step[data-step-id='picture'] .wf-thumb img")
    expect(thumbs).to_have_count(2)
    inline = page.locator(".wf-result .wf-inline-image img")
    expect(inline).to_have_count(2)
    for img in [*thumbs.all(), *inline.all()]:
        expect(img).to_have_js_property("complete", True)
        assert img.evaluate("el => el.naturalWidth") > 0, "a picture did not load"
    first = thumbs.first.get_attribute("src")
    assert first and first.endswith("/thumbnail")
    run.locator(".wf-step[data-step-id='picture'] .wf-thumb").first.click()
    viewer = page.get_by_role("dialog")
    expect(viewer).to_be_visible()
    expect(viewer.locator("img")).to_have_attribute("src", first.replace("/thumbnail", "/content"))
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()


def test_cancel_ends_a_running_step(page: Page, ui: Studio) -> None:
    save(ui, ENDLESS)
    page.goto("/#/workflows/endless")
    page.get_by_role("button", name="Run workflow").click()
    run = page.locator(".wf-run")
    step = run.locator(".wf-step[data-step-id='wait']")
    expect(step).to_have_attribute("data-status", "running")
    expect(page.get_by_role("link", name="Download bundle")).to_have_count(0)
    run.get_by_role("button", name="Cancel").click()
    expect(run).to_have_attribute("data-status", "canceled")
    expect(step).to_have_attribute("data-status", "canceled")
    expect(run.get_by_role("button", name="Cancel")).to_have_count(0)
    with ui.http() as http:
        assert http.get(f"/api/runs/{run.get_attribute('data-run-id')}").json()["status"] == "canceled"


def test_a_run_is_followed_even_when_its_event_stream_keeps_failing(page: Page, ui: Studio) -> None:
    save(ui, TINY)
    failed: list[str] = []

    def refuse(route: Route) -> None:
        failed.append(route.request.url)
        route.abort()

    page.route("**/api/runs/*/events", refuse)  # as if a proxy kept dropping the stream
    page.goto("/#/workflows/tiny-note")
    page.get_by_label("Topic").fill("gulls")
    page.get_by_role("button", name="Run workflow").click()
    run = page.locator(".wf-run")
    expect(run).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT_MS)
    expect(run.locator(".wf-step[data-status=succeeded]")).to_have_count(2)
    expect(page.locator(".wf-result .md h1")).to_have_text("GULLS")
    assert failed, "the page never tried the event stream"


def test_a_run_opens_from_its_link_on_a_phone(phone: Page, ui: Studio, shoot: Callable[[Page, str], Path]) -> None:
    save(ui, TINY)
    with ui.http() as http:
        started = http.post("/api/workflows/tiny-note/runs", json={"inputs": {"topic": "kites"}})
        assert started.status_code == 202, started.text
        run_id = started.json()["id"]
        with http.stream("GET", f"/api/runs/{run_id}/events", timeout=RUN_TIMEOUT_MS / 1000) as events:
            for _ in events.iter_lines():
                pass  # the stream ends after the run's `done`
    phone.goto(f"/#/workflows/run/{run_id}")
    run = phone.locator(".wf-run")
    expect(run).to_have_attribute("data-status", "succeeded")
    expect(run.locator(".wf-step[data-status=succeeded]")).to_have_count(2)
    expect(phone.locator(".wf-result .md h1")).to_have_text("KITES")
    expect(phone.locator(f".wf-runs [data-run-id='{run_id}'] a")).to_have_attribute("aria-current", "page")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the Workflows page scrolls sideways on a phone ({width}px)"
    expect(phone.get_by_role("link", name="Download bundle")).to_be_visible()
    shoot(phone, "workflows-phone")
