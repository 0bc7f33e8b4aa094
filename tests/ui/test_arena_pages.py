"""The Arena and Leaderboard pages in Chromium: a blind battle between two fake chat models,
the vote opening only when both answers are complete, the names revealed after the vote, and
the leaderboard ranking the two models with its chart, matrix, unrated list and exports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.api.conftest import Studio

POOL = ("fake:fake-echo", "fake:fake-drip-20")


def battle(page: Page, prompt: str) -> None:
    page.goto("/#/arena")
    for model in POOL:
        page.fill("#arena-pool-input", model)
        page.press("#arena-pool-input", "Enter")
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


def test_the_arena_on_a_phone(phone: Page, ui: Studio, shoot: Callable[[Page, str], Path]) -> None:
    battle(phone, "small screen")
    expect(phone.get_by_role("button", name="Tie")).to_be_enabled()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    shoot(phone, "arena-phone")
