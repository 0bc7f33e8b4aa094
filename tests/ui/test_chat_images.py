"""Pictures in the Chat page, in a real browser: draw with /image, watch it drawn, see it inline, refine it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.ui.test_chat import answers, send

# Records whether a drawing progress bar was ever put on the page (it is replaced by the picture).
WATCH_DRAWING = """() => {
  window.sawDrawing = false;
  new MutationObserver((changes) => {
    for (const change of changes) for (const node of change.addedNodes) {
      if (node.nodeType === 1 && node.matches(".chat-drawing") && node.querySelector("progress")) window.sawDrawing = true;
    }
  }).observe(document.body, { childList: true, subtree: true });
}"""


def test_draw_see_it_inline_then_refine_it(page: Page, shoot: Callable[[Page, str], Path]) -> None:
    page.goto("/#/chat")
    box = page.get_by_label("Message", exact=True)
    expect(box).to_have_attribute("placeholder", "Message, or /image a lighthouse at night")
    picker = page.get_by_label("Image model")
    expect(picker.locator('option[value="local:illustrator"]')).to_have_text("Offline illustration (emoji/vector scenes)")
    page.evaluate(WATCH_DRAWING)
    send(page, "/image a red car under a tree")

    first = answers(page).last.locator(".chat-image")
    expect(first).to_have_count(1, timeout=60_000)
    assert page.evaluate("window.sawDrawing"), "no progress bar was shown while the picture was drawn"
    expect(first.locator(".chat-image-prompt")).to_have_text("a red car under a tree")
    expect(first.locator(".chat-image-model")).to_have_text("local:illustrator")
    link = first.locator("a")
    href = link.get_attribute("href")
    assert href and href.startswith("/api/assets/") and href.endswith("/content")
    expect(link).to_have_attribute("target", "_blank")
    expect(first.locator("img")).to_have_js_property("complete", True)
    assert first.locator("img").evaluate("img => img.naturalWidth") > 0
    expect(picker).to_have_value("local:illustrator")  # the new conversation's image model
    full = page.request.get(href)
    assert full.ok and full.headers["content-type"] == "image/png"

    send(page, "make it at night")
    second = answers(page).last.locator(".chat-image")
    expect(second.locator(".chat-image-prompt")).to_contain_text("night", timeout=60_000)
    assert second.locator("a").get_attribute("href") != href
    expect(page.locator(".thread-messages .chat-image")).to_have_count(2)
    shoot(page, "chat-images")

    page.reload()  # the pictures are stored with the answers
    expect(page.locator(".thread-messages .chat-image")).to_have_count(2)
    expect(page.locator(".thread-messages .chat-image-prompt").first).to_have_text("a red car under a tree")


def test_the_image_model_picker_sets_the_conversations_model(page: Page) -> None:
    page.goto("/#/chat")
    send(page, "/image a small boat")
    expect(answers(page).last.locator(".chat-image")).to_have_count(1, timeout=60_000)
    picker = page.get_by_label("Image model")
    with page.expect_response(lambda r: r.request.method == "PATCH") as patched:
        picker.select_option("openai:gpt-image-1")
    assert patched.value.ok
    page.reload()
    expect(page.get_by_label("Image model")).to_have_value("openai:gpt-image-1")

    send(page, "/image trigger-500 a small boat")  # the fake provider fails: a failed turn, said plainly
    failed = answers(page).last
    expect(failed.locator(".msg-error")).to_contain_text("openai", timeout=30_000)
