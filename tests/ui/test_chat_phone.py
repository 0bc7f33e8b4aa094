"""The Chat composer on a phone and on a desktop, in a real browser: on a phone Attach is a paperclip beside
Send and the other options fold into "Options" (one line saying the current settings) so the thread keeps the
screen; on a desktop every option is on show."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.services.test_vision_fallback import text_picture


def test_on_a_phone_the_options_fold_into_one_line_that_says_the_settings(
        phone: Page, shoot: Callable[[Page, str], Path]) -> None:
    phone.goto("/#/chat")
    options = phone.get_by_role("button", name="Options")
    web = phone.get_by_role("group", name="Web search")
    expect(options).to_have_attribute("aria-expanded", "false")
    expect(web).to_be_hidden()
    expect(options).to_contain_text("Web off · Default pictures")
    expect(phone.get_by_label("Message", exact=True)).to_have_attribute("placeholder", "Message or /image …")
    expect(phone.locator(".composer-hint")).to_be_hidden()

    options.click()
    expect(options).to_have_attribute("aria-expanded", "true")
    expect(web).to_be_visible()
    web.get_by_role("button", name="On").click()
    expect(options).to_contain_text("Web on")
    pictures = phone.get_by_label("Image model")
    expect(pictures.locator("option:not([value=''])").first).to_be_attached()
    painter = pictures.locator("option:not([value='']):not([disabled])").first.text_content() or ""
    pictures.select_option(label=painter)
    phone.get_by_label("Think first — two passes: plan, then answer").check()
    expect(options.locator(".composer-options-summary")).to_have_text(f"Web on · {painter} · Think first")
    shoot(phone, "chat-phone-options")

    options.click()
    expect(web).to_be_hidden()
    expect(options.locator(".composer-options-summary")).to_have_text(f"Web on · {painter} · Think first")
    phone.reload()  # the Web mode and Think first are remembered; a new chat starts on the default pictures
    expect(phone.get_by_role("button", name="Options")).to_contain_text("Web on · Default pictures · Think first")


def test_on_a_phone_attach_sits_beside_send_and_nothing_scrolls_sideways(phone: Page, tmp_path: Path) -> None:
    picture = tmp_path / "receipt.png"
    picture.write_bytes(text_picture("RECEIPT 12"))
    phone.goto("/#/chat")
    attach = phone.get_by_role("button", name="Attach images")
    send = phone.get_by_role("button", name="Send", exact=True)
    expect(attach).to_be_visible()
    expect(phone.get_by_role("button", name="Attach image", exact=True)).to_be_hidden()  # the desktop one
    attach_box, send_box = attach.bounding_box(), send.bounding_box()
    assert attach_box and send_box and abs(attach_box["y"] - send_box["y"]) < 4  # one row with Send
    with phone.expect_file_chooser() as chooser:
        attach.click()
    chooser.value.set_files(str(picture))
    expect(phone.locator(".attach-strip .attach-thumb img")).to_be_visible()

    widths = phone.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
    composer = phone.locator(".composer").bounding_box()
    thread = phone.locator(".thread").bounding_box()
    assert composer and thread and thread["height"] > 2 * composer["height"], (thread, composer)


def test_on_a_desktop_every_option_is_on_show(page: Page) -> None:
    page.goto("/#/chat")
    expect(page.get_by_role("group", name="Web search")).to_be_visible()
    expect(page.get_by_label("Image model")).to_be_visible()
    expect(page.get_by_label("Think first — two passes: plan, then answer")).to_be_visible()
    expect(page.get_by_role("button", name="Attach image", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Options")).to_be_hidden()
    expect(page.locator(".composer-hint")).to_have_text("Enter to send · Shift+Enter for a new line")
    expect(page.get_by_label("Message", exact=True)).to_have_attribute(
        "placeholder", "Message, or /image a lighthouse at night")
