"""The shell: served at /, navigable by keyboard, every page opens without a script error,
fits a phone, and nothing is fetched from outside the server."""

from __future__ import annotations

from playwright.sync_api import Page, expect

PAGES = ("Images", "Models", "Jobs", "Settings", "Chat")


def test_every_page_opens_from_the_nav(page: Page) -> None:
    page.goto("/")
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Chat")
    for name in PAGES:
        page.get_by_role("link", name=name, exact=True).click()
        expect(page.locator("nav a[aria-current=page]")).to_have_text(name)
        expect(page.locator("#view")).to_have_attribute("data-page", name.lower())
        expect(page.locator("#view")).not_to_be_empty()
        expect(page.locator(".toast.error")).to_have_count(0)  # "Could not open the ... page"


def test_the_nav_works_from_the_keyboard(page: Page) -> None:
    page.goto("/#/models")
    expect(page.locator(".model-card").first).to_be_visible()
    page.locator("body").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    settings = page.get_by_role("link", name="Settings", exact=True)
    for _ in range(10):  # brand, then the nav links in order
        page.keyboard.press("Tab")
        if settings.evaluate("el => el === document.activeElement"):
            break
    expect(settings).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Settings")
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()


def test_every_page_fits_a_phone(phone: Page) -> None:
    for name in PAGES:
        phone.goto(f"/#/{name.lower()}")
        expect(phone.locator("#view")).to_have_attribute("data-page", name.lower())
        expect(phone.locator("#view")).not_to_be_empty()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the {name} page scrolls sideways on a phone ({width}px)"


def test_static_files_come_from_the_server_not_a_cdn(page: Page) -> None:
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto("/")
    for name in PAGES:
        page.get_by_role("link", name=name, exact=True).click()
        expect(page.locator("#view")).to_have_attribute("data-page", name.lower())
        expect(page.locator("#view")).not_to_be_empty()
    page.wait_for_load_state("networkidle")
    origin = page.url.split("#")[0].rstrip("/")
    outside = [url for url in requested if not url.startswith(origin) and not url.startswith("data:")]
    assert not outside, f"fetched from outside the server: {outside}"
