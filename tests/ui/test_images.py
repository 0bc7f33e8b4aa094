"""The Images page in Chromium: generate with a live progress bar, the gallery, upscale, enhance,
errors, "use these settings again", delete, the lightbox, paging, and the README screenshots."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from playwright.sync_api import Page, expect

from easel.tasks.image import PromptParts
from tests.api.conftest import Studio

SCENES = ("a lighthouse on a cliff at night with stars", "two cats on a red sofa", "a hot air balloon over mountains",
          "a robot reading a book in a library", "a sailboat on a calm lake at sunset", "three apples on a table",
          "a fox in a snowy forest", "a dog running in a park", "a castle on a hill under a full moon")


def _finish(http: httpx.Client, job_id: str) -> dict[str, Any]:
    """Read the job's event stream to its end (it closes after the terminal event); return the job."""
    with http.stream("GET", f"/api/jobs/{job_id}/events", timeout=60) as response:
        for _ in response.iter_lines():
            pass
    return http.get(f"/api/jobs/{job_id}").json()


def _make(ui: Studio, prompt: str, **settings: Any) -> list[dict[str, Any]]:
    with ui.http() as http:
        job = http.post("/api/images", json={"prompt": prompt, **settings})
        assert job.status_code == 202, job.text
        done = _finish(http, job.json()["id"])
        assert done["status"] == "succeeded", done
        return [http.get(f"/api/assets/{a}").json() for a in done["outputs"]["assets"]]


def _png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (96, 64), colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_an_offline_image_shows_progress_lands_in_the_gallery_then_upscales(page: Page, ui: Studio) -> None:
    page.goto("/#/images")
    page.get_by_label("Prompt", exact=True).fill("a red fox in a snowy forest")
    page.get_by_label("Size").select_option("small")  # 512x512: the CPU upscaler takes seconds, not half a minute
    page.get_by_role("button", name="Generate 1 image").click()

    image_job = page.locator(".job-card[data-task=image]")
    expect(image_job.get_by_role("progressbar")).to_be_visible()
    tile = page.locator(".gallery-grid .tile")
    expect(tile).to_have_count(1)
    expect(image_job).to_have_attribute("data-status", "succeeded")
    expect(image_job.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(tile.locator("img")).to_have_attribute("src", f"/api/assets/{tile.get_attribute('data-asset-id')}/thumbnail")

    tile.hover()
    tile.get_by_role("button", name="Upscale").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Upscaler").select_option("local:realesrgan-fast-x4")
    dialog.get_by_label("Upscale factor").select_option("2")
    dialog.get_by_role("button", name="Upscale", exact=True).click()
    expect(dialog).to_be_hidden()

    upscale_job = page.locator(".job-card[data-task=upscale]")
    expect(upscale_job.get_by_role("progressbar")).to_be_visible()
    expect(upscale_job).to_contain_text("Upscale 2×")
    expect(tile).to_have_count(2, timeout=45_000)
    expect(tile.first.locator(".tile-badge")).to_have_text("2× · 1024×1024")
    expect(upscale_job).to_have_attribute("data-status", "succeeded")


def test_enhance_fills_the_prompt(page: Page) -> None:
    page.goto("/#/images")
    prompt = page.get_by_label("Prompt", exact=True)
    prompt.fill("a lighthouse")
    page.get_by_label("Mood").fill("calm")
    page.get_by_role("button", name="Enhance prompt").click()
    expect(prompt).not_to_have_value("a lighthouse", timeout=30_000)
    assert len(prompt.input_value()) > len("a lighthouse")
    expect(page.get_by_label("Mood")).to_have_value("")  # folded into the new prompt
    expect(page.locator("#toasts")).to_contain_text("Prompt expanded by local:")


def test_model_picker_follows_the_model_and_a_failing_model_shows_its_error(page: Page) -> None:
    page.goto("/#/images")
    model = page.get_by_label("Model")
    expect(model.locator("option[value='fal:fal-ai/flux-2-pro']")).to_be_disabled()
    expect(model.locator("option[value='fal:fal-ai/flux-2-pro']")).to_contain_text("unavailable: set FAL_KEY")
    expect(page.get_by_role("radio", name="21:9")).to_have_count(1)

    model.select_option("openai:gpt-image-1")
    expect(page.locator(".model-info")).to_contain_text("$0.0420 per image")
    expect(page.get_by_role("radio", name="21:9")).to_have_count(0)  # gpt-image-1 has no 21:9
    expect(page.get_by_role("radio", name="3:2")).to_have_count(1)
    page.get_by_label("Count").fill("2")
    expect(page.get_by_role("button", name="Generate 2 images · $0.0840")).to_be_visible()
    page.get_by_label("Count").fill("1")

    page.get_by_label("Prompt", exact=True).fill("a harbour at dawn trigger-500")
    page.get_by_role("button", name="Generate 1 image").click()
    failed = page.locator(".job-card[data-status=failed]")
    expect(failed.locator(".job-error")).to_contain_text("HTTP 500")
    expect(failed.locator(".job-error")).to_contain_text("server had an error")
    expect(page.get_by_role("alert").filter(has_text="failed: openai")).to_be_visible()
    expect(page.locator(".gallery-grid .tile")).to_have_count(0)
    expect(page.locator(".gallery .empty")).to_contain_text("No images yet")


def test_an_error_before_the_job_is_shown_in_the_form(page: Page) -> None:
    page.goto("/#/images")
    page.get_by_role("button", name="Generate 1 image").click()
    expect(page.locator(".form-error")).to_have_text("Write a prompt, or fill in at least the subject.")
    page.goto("/#/images?model=openai:dall-e-3")  # the Models page's "Use in Images" link
    expect(page.get_by_label("Model")).to_have_value("openai:dall-e-3")
    page.get_by_label("Prompt", exact=True).fill("a kite")
    page.get_by_label("Count").fill("3")  # dall-e-3 makes one picture per request: the API says so
    page.get_by_role("button", name="Generate 3 images").click()
    expect(page.locator(".form-error")).to_contain_text("at most 1 images per request")


def test_use_these_settings_again_refills_the_form(page: Page, ui: Studio) -> None:
    made = _make(ui, "a sailboat on a calm lake", aspect_ratio="16:9", n=2, seed=1234)
    page.goto("/#/images")
    tiles = page.locator(".gallery-grid .tile")
    expect(tiles).to_have_count(2)
    tiles.last.locator(".tile-open").click()
    page.get_by_role("dialog").get_by_role("button", name="Use these settings again").click()
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.get_by_label("Prompt", exact=True)).to_have_value("a sailboat on a calm lake")
    expect(page.get_by_label("Model")).to_have_value("local:illustrator")
    expect(page.get_by_role("radio", name="16:9")).to_be_checked()
    expect(page.get_by_label("Count")).to_have_value("2")
    seeds = sorted(a["seed"] for a in made)
    expect(page.get_by_label("Seed", exact=True)).to_have_value(str(seeds[0]))

    page.get_by_label("Prompt", exact=True).fill("")
    page.locator(".tile").first.hover()
    page.locator(".tile").first.get_by_role("button", name="Reuse").click()
    expect(page.get_by_label("Prompt", exact=True)).to_have_value("a sailboat on a calm lake")
    expect(page.get_by_label("Seed", exact=True)).to_have_value(str(seeds[1]))


def test_delete_removes_the_image(page: Page, ui: Studio) -> None:
    kept, gone = _make(ui, "a castle on a hill", n=2, width=256, height=256)
    page.goto("/#/images")
    tiles = page.locator(".gallery-grid .tile")
    expect(tiles).to_have_count(2)
    page.locator(f".tile[data-asset-id='{gone['id']}'] .tile-open").click()
    delete = page.get_by_role("dialog").get_by_role("button", name="Delete")
    delete.click()
    page.get_by_role("dialog").get_by_role("button", name="Delete? Press again").click()
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(tiles).to_have_count(1)
    expect(page.locator(f".tile[data-asset-id='{kept['id']}']")).to_be_visible()
    expect(page.locator(".gallery-count")).to_have_text("1 image")
    with ui.http() as http:
        assert http.get(f"/api/assets/{gone['id']}").status_code == 404
    page.reload()
    expect(tiles).to_have_count(1)


def test_lightbox_opens_full_size_steps_and_closes_with_escape(page: Page, ui: Studio) -> None:
    first, second = _make(ui, "a robot reading a book", n=2, width=256, height=256)
    page.goto("/#/images")
    page.locator(".gallery-grid .tile-open").first.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    newest = page.locator(".gallery-grid .tile").first.get_attribute("data-asset-id")
    expect(dialog.locator("figure img")).to_have_attribute("src", f"/api/assets/{newest}/content")
    expect(dialog).to_contain_text("a robot reading a book")
    expect(dialog.get_by_role("link", name="Download")).to_have_attribute("href", f"/api/assets/{newest}/content")
    page.keyboard.press("ArrowRight")
    other = first["id"] if newest == second["id"] else second["id"]
    expect(dialog.locator("figure img")).to_have_attribute("src", f"/api/assets/{other}/content")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_gallery_pages_on_scroll_with_thumbnails_only(page: Page, ui: Studio) -> None:
    with ui.http() as http:
        for i in range(60):
            response = http.post("/api/assets", files={"file": (f"swatch-{i}.png", _png((i * 4, 90, 200 - i * 3)), "image/png")})
            assert response.status_code == 201, response.text
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto("/#/images")
    tiles = page.locator(".gallery-grid .tile")
    expect(tiles).to_have_count(48)
    expect(page.locator(".gallery-count")).to_have_text("60 images")
    tiles.last.scroll_into_view_if_needed()
    expect(tiles).to_have_count(60)
    expect(page.get_by_role("button", name="Load more images")).to_be_hidden()
    assert not [u for u in requested if u.endswith("/content")], "the gallery must not load full images"
    assert all(img.get_attribute("loading") == "lazy" for img in tiles.locator("img").all()[:5])


def test_the_builder_composes_prompts_as_the_server_does(page: Page) -> None:
    page.goto("/#/images")
    cases = [{"subject": "a fox", "lighting": "golden hour", "mood": "calm", "style": "watercolor"},
             {"subject": " a kite ", "setting": "over dunes", "lighting": "soft light", "camera_angle": "low angle",
              "mood": "eerie mood", "style": "pixel art style"},
             {"setting": "a harbour", "style": "ink"}]
    for parts in cases:
        composed = page.evaluate("parts => import('/static/pages/images/util.js').then(m => m.composeParts(parts))", parts)
        assert composed == PromptParts(**parts).compose()


def test_screenshots(page: Page, phone: Page, ui: Studio, shoot: Callable[[Page, str], Path]) -> None:
    for prompt in SCENES[:-1]:
        _make(ui, prompt, width=512, height=512)
    page.goto("/#/images")
    page.get_by_label("Subject").fill(SCENES[-1])
    page.get_by_label("Style").fill("storybook")
    page.get_by_label("Size").select_option("small")
    page.get_by_role("button", name="Generate 1 image").click()
    expect(page.locator(".gallery-grid .tile")).to_have_count(len(SCENES))
    expect(page.locator(".job-card")).to_have_attribute("data-status", "succeeded")
    for img in page.locator(".gallery-grid img").all():
        expect(img).to_have_js_property("complete", True)
    page.locator(".gallery-grid .tile").nth(1).hover()
    expect(page.locator(".gallery-grid .tile-info").nth(1)).to_have_css("opacity", "1")
    shoot(page, "images-desktop")

    phone.goto("/#/images")
    expect(phone.locator(".gallery-grid .tile")).to_have_count(len(SCENES))
    phone.locator(".gallery").evaluate("el => el.scrollIntoView({block: 'start'})")
    for img in phone.locator(".gallery-grid img").all()[:6]:
        expect(img).to_have_js_property("complete", True)
    shoot(phone, "images-phone")
    assert json.loads(json.dumps(phone.evaluate("document.documentElement.scrollWidth"))) <= 390
