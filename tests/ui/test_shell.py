"""The shell: served at /, navigable by keyboard, every page opens without a script error."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def test_every_page_opens_from_the_nav(page: Page) -> None:
    page.goto("/")
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Chat")
    for name in ("Images", "Models", "Jobs", "Settings", "Chat"):
        page.get_by_role("link", name=name, exact=True).click()
        expect(page.locator("nav a[aria-current=page]")).to_have_text(name)
        expect(page.locator("#view")).not_to_be_empty()


def test_static_files_come_from_the_server_not_a_cdn(page: Page) -> None:
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(page.url.split("#")[0][:22]) and not r.url.startswith("data:") else None)
    page.goto("/")
    page.wait_for_load_state("networkidle")
    assert not [u for u in outside if "127.0.0.1" not in u]
