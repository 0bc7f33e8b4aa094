"""The Compare page in a real browser: two faked models side by side, a follow-up to both, picking the
best answer, continuing a column in chat, reopening a stored comparison, images, and the phone layout."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.api.conftest import Studio


def choose(page: Page, models: list[str]) -> None:
    expect(page.locator(".cmp-model")).to_have_count(2)  # the form starts with two slots, once loaded
    for index, model in enumerate(models):
        if index >= page.locator(".cmp-model").count():
            page.get_by_role("button", name="+ Add model").click()
        page.get_by_label(f"Model {index + 1}", exact=True).select_option(model)


def test_compare_two_models_vote_follow_up_and_continue_in_chat(page: Page, ui: Studio,
                                                                shoot: Callable[[Page, str], Path]) -> None:
    page.goto("/#/compare")
    choose(page, ["fake:fake-echo", "xai:grok-4"])
    page.get_by_label("Prompt", exact=True).fill("Name a river")
    page.get_by_role("button", name="Compare", exact=True).click()

    turn = page.locator(".cmp-turn").first
    cells = turn.locator(".cmp-answer")
    expect(cells).to_have_count(2)
    for index, model in enumerate(["fake:fake-echo", "xai:grok-4"]):
        expect(cells.nth(index).locator(".model-id")).to_have_text(model)
        expect(cells.nth(index).locator(".md")).to_have_text("You said: Name a river")
        expect(cells.nth(index).locator(".cmp-stats")).to_contain_text("latency")
    expect(cells.nth(1).locator(".cmp-stats")).to_contain_text("$")  # grok-4 is priced
    assert "#/compare/cmp_" in page.url
    comparison_id = page.url.split("#/compare/")[1]
    expect(page.locator(".cmp-link[aria-current]")).to_contain_text("Name a river")

    cells.nth(1).get_by_role("button", name="Best").click()
    expect(page.locator(".toast")).to_contain_text("1 vote")
    expect(page.locator(".cmp-turn").first.locator(".cmp-answer").nth(1).locator(".cmp-best")).to_have_attribute(
        "aria-pressed", "true")
    stored = httpx.get(f"{ui.url}/api/comparisons/{comparison_id}").json()
    assert stored["turns"][0]["best_column"] == 1

    page.get_by_label("Follow-up").fill("And a lake?")
    page.get_by_role("button", name="Send to all").click()
    second = page.locator(".cmp-turn").nth(1).locator(".cmp-answer")
    expect(second.nth(0).locator(".md")).to_have_text("You said: And a lake?")
    expect(second.nth(1).locator(".md")).to_have_text("You said: And a lake?")
    shoot(page, "compare-desktop")

    second.nth(0).get_by_role("button", name="Continue in chat").click()
    expect(page).to_have_url(re.compile(r"#/chat/conv_"))
    expect(page.locator(".thread-messages > .msg.assistant")).to_have_count(2)
    expect(page.locator(".thread-messages > .msg.user").first).to_contain_text("Name a river")


def test_a_failing_model_shows_its_error_while_the_other_answers(page: Page) -> None:
    page.goto("/#/compare")
    choose(page, ["fake:fake-error-500", "fake:fake-echo"])
    page.get_by_label("Prompt", exact=True).fill("still works?")
    page.get_by_role("button", name="Compare", exact=True).click()
    cells = page.locator(".cmp-turn").first.locator(".cmp-answer")
    expect(cells.nth(1).locator(".md")).to_have_text("You said: still works?")
    expect(cells.nth(0)).to_have_attribute("data-status", "failed")
    expect(cells.nth(0).locator(".cmp-error")).to_contain_text("fake")
    expect(cells.nth(0).get_by_role("button", name="Best")).to_have_count(0)


def test_an_image_comparison_shows_each_models_picture_and_settings(page: Page) -> None:
    page.goto("/#/compare")
    page.get_by_label("Task").select_option("image")
    expect(page.locator(".cmp-model").first.locator("option[value='local:illustrator']")).to_have_count(1)
    choose(page, ["local:illustrator", "openai:gpt-image-1"])
    page.get_by_label("Prompt", exact=True).fill("a lighthouse at night")
    page.get_by_role("button", name="Compare", exact=True).click()
    cells = page.locator(".cmp-turn").first.locator(".cmp-answer")
    for index in range(2):
        expect(cells.nth(index).locator(".cmp-image img")).to_have_count(1, timeout=60_000)
        expect(cells.nth(index).locator("figcaption")).to_contain_text("×")
    expect(cells.nth(0).get_by_role("button", name="Continue in chat")).to_have_count(0)


def test_a_stored_comparison_reopens_with_columns_stacked_on_a_phone(phone: Page, ui: Studio,
                                                                     shoot: Callable[[Page, str], Path]) -> None:
    created = httpx.post(f"{ui.url}/api/comparisons", timeout=30,
                         json={"models": ["fake:fake-echo", "fake:fake-reasoner"], "prompt": "Tell me a fact"}).json()
    phone.goto(f"/#/compare/{created['id']}")
    cells = phone.locator(".cmp-answer")
    expect(cells).to_have_count(2)
    expect(cells.nth(1).locator(".md")).to_have_text("You said: Tell me a fact")
    expect(phone.locator(".cmp-setup")).to_be_hidden()
    first, second = cells.nth(0).bounding_box(), cells.nth(1).bounding_box()
    assert first and second and second["y"] >= first["y"] + first["height"]  # stacked, not side by side
    shoot(phone, "compare-phone")

    phone.goto("/#/compare/cmp_missing")
    expect(phone.locator(".toast")).to_contain_text("does not exist")
    expect(phone.locator(".cmp-setup")).to_be_visible()
