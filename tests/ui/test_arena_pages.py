"""The Arena and Leaderboard pages in Chromium: a blind battle between two fake chat models picked
from the pool list, the vote opening only when both answers are complete, the names revealed after
the vote, the pool remembered per task, and the leaderboard ranking the two models with its chart,
matrix, unrated list (grouped by provider) and exports, on a desktop and on a phone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.api.conftest import Studio

POOL = ("fake:fake-echo", "fake:fake-drip-20")


def pick(page: Page, model: str) -> None:
    """Narrow the pool list with the search box, then tick the model's checkbox."""
    page.fill("#arena-pool-input", model.split(":")[1])
    page.locator(f'.arena-pool-option[data-id="{model}"] input').check()


def battle(page: Page, prompt: str) -> None:
    page.goto("/#/arena")
    for model in POOL:
        pick(page, model)
    expect(page.locator(".arena-chip")).to_have_count(2)
    page.fill("#arena-prompt", prompt)
    page.click("#arena-start")


def test_a_blind_battle_then_the_leaderboard(page: Page, ui: Studio, shoot: Callable[[Page, str], Path]) -> None:
    battle(page, "hello from the browser")
    vote_a = page.get_by_role("button", name="A is better")
    expect(vote_a).to_be_disabled()  # until both answers are complete
    for side in ("A", "B"):
        expect(page.get_by_role("region", name=f"Answer {side}").locator(".arena-text")).to_have_text(
            "You said: hello from the browser")
    expect(vote_a).to_be_enabled()
    expect(page.locator(".arena-model")).to_have_count(2)
    for model in page.locator(".arena-model").all():
        expect(model).to_be_hidden()  # names hidden before the vote
    assert "fake:" not in page.locator(".arena-columns").inner_text()
    shoot(page, "arena-desktop")

    vote_a.click()
    answer_a = page.get_by_role("region", name="Answer A")
    expect(answer_a.locator(".arena-model")).to_be_visible()
    winner = answer_a.locator(".arena-model").inner_text()
    loser = page.get_by_role("region", name="Answer B").locator(".arena-model").inner_text()
    assert {winner, loser} == set(POOL)
    expect(page.locator(".arena-status")).to_contain_text(f"A was {winner}")
    expect(vote_a).to_be_disabled()  # one vote per battle
    expect(page.locator(".arena-leak")).to_be_hidden()

    page.click("text=See the leaderboard")
    expect(page).to_have_url(f"{ui.url}/#/leaderboard?task=chat")
    rows = page.locator(".board-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("th")).to_have_text(winner)
    expect(rows.nth(1).locator("th")).to_have_text(loser)
    expect(page.locator(".board-summary")).to_contain_text("1 vote")
    expect(page.locator(".board-chart .board-point")).to_have_count(2)
    expect(page.locator(".board-matrix td[title]")).to_have_count(2)
    expect(page.locator(f'.board-matrix td[title="{winner} vs {loser}: 100%"]')).to_have_text("100%")
    expect(page.locator(".board-unrated summary")).to_contain_text("Unrated")
    page.locator(".board-unrated summary").click()
    fake_unrated = page.get_by_role("region", name="Unrated fake models")
    expect(fake_unrated).to_be_visible()
    expect(fake_unrated.locator("li", has_text="fake:fake-reasoner-alt")).to_have_count(1)
    expect(fake_unrated.locator("li", has_text=winner)).to_have_count(0)  # rated models are not listed
    for item in page.locator(".board-unrated-group li").all():  # each id sits under its own provider
        provider = item.locator("xpath=ancestor::section[1]").get_attribute("data-provider")
        assert item.inner_text().startswith(f"{provider}:")
    expect(page.get_by_role("link", name="Export CSV")).to_have_attribute("href", "/api/leaderboard.csv?task=chat")
    shoot(page, "leaderboard-desktop")

    page.get_by_role("tab", name="Image").click()
    expect(page.locator(".board-summary")).to_contain_text("0 votes")
    expect(page.locator(".board-page .empty")).to_contain_text("No votes yet")


def test_a_failed_answer_keeps_the_vote_closed(page: Page, ui: Studio) -> None:
    page.goto("/#/arena")
    for model in ("fake:fake-echo", "fake:fake-error-500"):
        page.fill("#arena-pool-input", model)
        page.click("#arena-pool-add")
    page.fill("#arena-prompt", "will one fail?")
    page.click("#arena-start")
    expect(page.locator(".arena-status")).to_contain_text("An answer failed")
    expect(page.locator('.arena-answer[data-status="failed"]')).to_have_count(1)
    for button in page.locator(".arena-votes button").all():
        expect(button).to_be_disabled()


def test_the_pool_picker_lists_usable_models_and_is_remembered(page: Page, ui: Studio) -> None:
    page.goto("/#/arena")
    hint = page.locator(".arena-pool-hint")
    expect(hint).to_contain_text("None picked: battles draw from every usable chat model")
    # Unusable models are listed, disabled, with the reason.
    unusable = page.locator(".arena-pool-option.unavailable").first
    expect(unusable.locator("input")).to_be_disabled()
    expect(unusable.locator(".arena-pool-reason")).to_contain_text("not usable:")
    page.check("#arena-pool-usable")
    expect(page.locator(".arena-pool-option.unavailable:visible")).to_have_count(0)
    page.uncheck("#arena-pool-usable")

    # "Select all usable" ticks exactly the enabled boxes; "Clear" empties the pool again.
    page.click("#arena-pool-all")
    usable = page.locator(".arena-pool-option:not(.unavailable)").count()
    expect(page.locator(".arena-pool-list input:checked")).to_have_count(usable)
    expect(page.locator(".arena-pool-hint")).to_contain_text(f"{usable} picked")
    expect(page.locator(".arena-chip-more")).to_contain_text(f"and {usable - 12} more")
    page.click("#arena-pool-clear")
    expect(page.locator(".arena-chip")).to_have_count(0)

    # By keyboard: type an exact id and press Enter, narrow to one usable model and press Enter,
    # then tick a box with Space.
    page.focus("#arena-pool-input")
    page.keyboard.type("fake:fake-echo")
    page.keyboard.press("Enter")
    page.keyboard.type("drip-20")
    page.keyboard.press("Enter")
    page.fill("#arena-pool-input", "reasoner-alt")
    page.locator('.arena-pool-option[data-id="fake:fake-reasoner-alt"] input').focus()
    page.keyboard.press("Space")
    picked = ["fake:fake-echo", "fake:fake-drip-20", "fake:fake-reasoner-alt"]
    chips = page.locator(".arena-chip")
    expect(chips).to_have_count(3)
    assert [chip.get_attribute("data-id") for chip in chips.all()] == picked
    expect(hint).to_contain_text("3 picked")

    # The image task has its own pool; the chat pool comes back after a reload.
    page.select_option("#arena-task", "image")
    expect(hint).to_contain_text("every usable image model")
    expect(chips).to_have_count(0)
    page.reload()
    expect(chips).to_have_count(3)
    assert [chip.get_attribute("data-id") for chip in chips.all()] == picked
    for model in picked:
        expect(page.locator(f'.arena-pool-option[data-id="{model}"] input')).to_be_checked()
    page.get_by_role("button", name="Remove fake:fake-reasoner-alt").click()
    page.reload()
    expect(chips).to_have_count(2)

    # The remembered pool is the one the battle draws from.
    page.fill("#arena-prompt", "who answers?")
    page.click("#arena-start")
    page.get_by_role("button", name="Tie").click()
    expect(page.locator(".arena-status")).to_contain_text("A was")
    revealed = {model.inner_text() for model in page.locator(".arena-model").all()}
    assert revealed == set(POOL)


def test_the_arena_on_a_phone(phone: Page, ui: Studio, shoot: Callable[[Page, str], Path]) -> None:
    battle(phone, "small screen")
    expect(phone.get_by_role("button", name="Tie")).to_be_enabled()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    shoot(phone, "arena-phone")

    phone.get_by_role("button", name="Tie").click()
    phone.get_by_role("link", name="See the leaderboard").click()
    expect(phone.locator(".board-table tbody tr")).to_have_count(2)
    phone.locator(".board-unrated summary").click()
    expect(phone.get_by_role("region", name="Unrated fake models")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(phone, "leaderboard-phone")
