"""Images in and think first on the Chat page, in a real browser: an image with text is attached, the local
model (which cannot see) answers, and the thread shows the picture and easel's OCR note; think first shows the
plan as reasoning and says the answer took two passes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.services.test_vision_fallback import text_picture
from tests.ui.test_chat import answers, pick_model, send


def test_an_attached_image_is_read_by_ocr_for_the_local_model(page: Page, tmp_path: Path,
                                                              shoot: Callable[[Page, str], Path]) -> None:
    picture = tmp_path / "invoice.png"
    picture.write_bytes(text_picture("INVOICE 4721"))
    page.goto("/#/chat")
    pick_model(page, "smollm2")
    page.get_by_label("Attach images").set_input_files(str(picture))
    thumb = page.locator(".attach-strip .attach-thumb img")
    expect(thumb).to_be_visible()
    expect(thumb).to_have_js_property("complete", True)
    send(page, "What does this say?")
    expect(page.locator(".attach-strip .attach-thumb")).to_have_count(0)  # sent with the message
    answer = answers(page).nth(0)
    expect(answer.locator(".made-note")).to_contain_text(
        "easel read image 1 with OCR for SmolLM2", timeout=60_000)
    expect(answer.locator(".made-note")).to_contain_text("“INVOICE 4721”")
    expect(answer.locator(".md")).not_to_be_empty()
    user = page.locator(".thread-messages > .msg.user").nth(0)
    expect(user.locator(".msg-images img")).to_have_count(1)
    expect(user.locator(".msg-images img")).to_have_js_property("naturalWidth", 256)
    shoot(page, "chat-vision")


def test_an_image_alone_can_be_sent_and_a_wrong_file_is_refused(page: Page, tmp_path: Path) -> None:
    page.goto("/#/chat")
    pick_model(page, "fake-echo")
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    page.get_by_label("Attach images").set_input_files(str(notes))
    expect(page.locator(".toast.error")).to_contain_text("notes.txt is not an image")
    picture = tmp_path / "total.png"
    picture.write_bytes(text_picture("TOTAL 88"))
    page.get_by_label("Attach images").set_input_files(str(picture))
    expect(page.locator(".attach-strip .attach-thumb")).to_have_count(1)
    page.get_by_label("Message", exact=True).press("Enter")
    answer = answers(page).nth(0)
    expect(answer.locator(".md")).to_contain_text('contains this text: "TOTAL 88"', timeout=30_000)


def test_think_first_shows_the_plan_as_reasoning_and_says_so(page: Page) -> None:
    page.goto("/#/chat")
    pick_model(page, "fake-echo")
    page.get_by_label("Think first — two passes: plan, then answer").check()
    send(page, "plan a picnic")
    answer = answers(page).nth(0)
    expect(answer.locator(".made-note")).to_contain_text("Think first: two passes", timeout=30_000)
    expect(answer.locator(".md")).to_contain_text("You said: plan a picnic")
    reasoning = answer.locator("details.reasoning")
    reasoning.locator("summary").click()
    expect(reasoning.locator(".reasoning-text")).to_contain_text("Before answering")


def test_editing_a_message_keeps_its_picture(page: Page, tmp_path: Path) -> None:
    picture = tmp_path / "total.png"
    picture.write_bytes(text_picture("TOTAL 88"))
    page.goto("/#/chat")
    pick_model(page, "fake-echo")
    page.get_by_label("Attach images").set_input_files(str(picture))
    expect(page.locator(".attach-strip .attach-thumb")).to_have_count(1)
    send(page, "read it")
    expect(answers(page).nth(0).locator(".md")).to_contain_text("TOTAL 88", timeout=30_000)
    page.get_by_role("button", name="Edit and resend").click()
    box = page.get_by_label("Edit message")
    box.fill("read it again")
    box.press("Enter")
    resent = answers(page).nth(0).locator(".md")
    expect(resent).to_contain_text("read it again", timeout=30_000)
    expect(resent).to_contain_text('The attached image 1 contains this text: "TOTAL 88"')
    expect(page.locator(".thread-messages > .msg.user .msg-images img")).to_have_count(1)
