"""The Models page: the catalog browser filters by task, provider, capability, price and name,
and says on each card whether the model is usable now or what to set."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect


def card(page: Page, model_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f".model-card[data-id='{model_id}']")


def test_filters_search_and_usable_reasons(page: Page, shoot: Callable[[Page, str], Path]) -> None:
    page.goto("/#/models")
    summary = page.locator(".models-summary")
    expect(summary).to_contain_text("Showing 48 of")
    expect(page.locator(".model-card")).to_have_count(48)  # paged, not hundreds at once

    page.get_by_label("Task").select_option("image")
    expect(page.get_by_label("Task")).to_have_value("image")
    expect(page.locator(".model-card .model-badges .badge", has_text="Chat")).to_have_count(0)
    expect(card(page, "local:illustrator")).to_be_visible()
    expect(page).to_have_url(re.compile(r"#/models\?task=image$"))

    page.get_by_label("Task").select_option("")
    page.get_by_label("Search", exact=True).fill("xai 4 grok")  # every word, in any order
    grok = card(page, "xai:grok-4")
    expect(grok).to_contain_text("Usable now")
    expect(grok).to_contain_text("256,000 tokens")
    expect(grok).to_contain_text("$3.00 in · $15.00 out per M tokens")
    expect(grok.locator(".model-params")).to_contain_text("reasoning_effort")

    page.get_by_label("Search", exact=True).fill("")
    page.get_by_label("Provider").select_option("mistral")
    first = page.locator(".model-card").first
    expect(first).to_contain_text("Not usable: set MISTRAL_API_KEY")
    page.get_by_label("Usable now only").check()
    expect(page.locator(".model-card")).to_have_count(0)
    expect(page.locator(".empty")).to_contain_text("No model matches these filters.")
    page.get_by_role("button", name="Clear filters").click()
    expect(page.get_by_label("Provider")).to_have_value("")
    expect(page.get_by_label("Search", exact=True)).to_be_focused()

    page.get_by_label("Provider").select_option("xai")
    page.get_by_role("checkbox", name="Reasoning").check()
    cards = page.locator(".model-card")
    expect(cards.first).to_be_visible()
    for text in cards.locator(".model-badges").all_inner_texts():
        assert "Reasoning" in text
    assert all(i.startswith("xai:") for i in cards.evaluate_all("els => els.map(e => e.dataset.id)"))

    page.get_by_role("checkbox", name="Reasoning").uncheck()
    page.get_by_label("Provider").select_option("")
    page.get_by_label("Task").select_option("chat")
    page.get_by_label("Price", exact=True).select_option("0")
    free_ids = cards.evaluate_all("els => els.map(e => e.dataset.id)")
    assert "local:smollm2-135m" in free_ids and "xai:grok-4" not in free_ids
    expect(card(page, "local:qwen2.5-coder-0.5b")).to_contain_text("not installed")

    page.goto("/#/models?task=chat&sort=context")
    expect(page.locator(".model-card")).to_have_count(48)
    page.get_by_role("button", name=re.compile(r"^Show 48 more")).click()
    expect(page.locator(".model-card")).to_have_count(96)
    expect(page.locator(".model-card").nth(48)).to_be_focused()

    page.goto("/#/models?task=image&sort=price")
    expect(page.locator(".model-card").first).to_have_attribute("data-id", "local:illustrator")  # free first
    page.get_by_label("Sort").select_option("name")
    expect(card(page, "openai:dall-e-3")).to_contain_text("$0.04 per image")
    shoot(page, "models-desktop")


def test_on_a_phone(phone: Page, shoot: Callable[[Page, str], Path]) -> None:
    phone.goto("/#/models?task=image")
    expect(card(phone, "local:illustrator")).to_be_visible()
    expect(phone.get_by_label("Sort")).to_be_hidden()  # the less used filters fold away
    shoot(phone, "models-phone")
    phone.get_by_role("button", name="More filters").click()
    phone.get_by_role("checkbox", name="Seed").check()
    expect(phone.get_by_role("button", name="More filters (1)")).to_have_attribute("aria-expanded", "true")
    expect(card(phone, "openai:dall-e-3")).to_have_count(0)
    phone.get_by_role("button", name="More filters (1)").click()
    expect(phone.get_by_label("Sort")).to_be_hidden()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px)"


def test_leaving_while_the_catalog_loads_leaves_nothing_behind(page: Page) -> None:
    page.goto("/#/models")
    page.get_by_role("link", name="Settings", exact=True).click()  # most likely before the catalog arrives
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    expect(page.get_by_role("region", name="Providers")).to_be_visible()
    expect(page.locator("#view .models-page")).to_have_count(0)
    expect(page.locator("#view h1")).to_have_count(1)
