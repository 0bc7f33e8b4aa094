"""The Chat page in a real browser: turns with the local model and faked providers, reasoning,
errors, stop, regenerate, edit-and-resend, the conversation list, keys, and safe Markdown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.api.conftest import Studio

CODE_PROMPT = "Show me a loop:\n```python\nfor i in range(3):\n    print(i)\n```"


def pick_model(page: Page, query: str, model_id: str | None = None) -> None:
    """Choose a model with the keyboard: open the picker, type, Enter picks the first match."""
    page.locator(".picker-trigger").click()
    page.get_by_label("Search models").fill(query)
    if model_id:
        page.locator(f'.model-option[data-id="{model_id}"]').click()
    else:
        page.keyboard.press("Enter")
    expect(page.locator(".picker-panel")).to_be_hidden()


def send(page: Page, text: str) -> None:
    box = page.get_by_label("Message", exact=True)
    box.fill(text)
    box.press("Enter")


def answers(page: Page) -> Locator:
    return page.locator(".thread-messages > .msg.assistant")


def test_round_trip_with_the_local_model_a_follow_up_and_a_switch_to_a_remote_one(page: Page) -> None:
    page.goto("/#/chat")
    expect(page.locator(".chat-empty")).to_contain_text("Ask anything")
    pick_model(page, "smollm2")
    expect(page.locator(".picker-trigger")).to_contain_text("local:smollm2-135m")
    send(page, "Say hello in one short sentence.")
    first = answers(page).nth(0)
    expect(first.locator(".msg-meta")).to_contain_text("out", timeout=60_000)
    expect(first.locator(".model-id")).to_have_text("local:smollm2-135m")
    expect(first.locator(".msg-meta")).to_contain_text("free")
    expect(first.locator(".md")).not_to_be_empty()
    expect(page.locator(".conv-link[aria-current]")).to_contain_text("Say hello in one short sentence.")
    assert "/#/chat/conv_" in page.url

    send(page, "Now say goodbye.")
    expect(answers(page).nth(1).locator(".msg-meta")).to_contain_text("out", timeout=60_000)

    pick_model(page, "grok 4", "xai:grok-4")
    send(page, "Which model are you?")
    third = answers(page).nth(2)
    expect(third.locator(".md")).to_have_text("You said: Which model are you?")
    expect(third.locator(".model-id")).to_have_text("xai:grok-4")
    expect(third.locator(".msg-meta")).to_contain_text("$")
    expect(answers(page).nth(0).locator(".model-id")).to_have_text("local:smollm2-135m")
    expect(page.locator(".thread-messages > .msg.user")).to_have_count(3)


def test_a_reasoning_reply_shows_its_reasoning_apart_and_code_highlighted(
        page: Page, phone: Page, ui: Studio, shoot: Callable[[Page, str], Path]) -> None:
    page.goto("/#/chat")
    pick_model(page, "fake-reasoner", "fake:fake-reasoner")
    send(page, CODE_PROMPT)
    answer = answers(page).last
    expect(answer.locator(".md")).to_contain_text("You said: Show me a loop:")
    panel = answer.locator("details.reasoning")
    expect(panel.locator("summary")).to_have_text("Reasoning")
    expect(panel).not_to_have_attribute("open", "")
    panel.locator("summary").click()
    expect(panel.locator(".reasoning-text")).to_have_text("The user wrote 11 words; effort medium; answer plainly.")
    expect(answer.locator(".md")).not_to_contain_text("effort medium")
    expect(answer.locator(".code-block .code-head")).to_contain_text("python")
    expect(answer.locator("pre code .hljs-keyword").first).to_have_text("for")
    expect(answer.locator(".msg-meta")).to_contain_text("reasoning")
    pick_model(page, "grok 4", "xai:grok-4")
    send(page, "And in one line?")
    expect(answers(page)).to_have_count(2)
    expect(answers(page).last.locator(".md")).to_have_text("You said: And in one line?")
    expect(answers(page).last.locator(".msg-model")).to_contain_text("xai:grok-4")
    answers(page).first.locator("details.reasoning summary").click()
    answers(page).first.scroll_into_view_if_needed()
    shoot(page, "chat-desktop")

    phone.goto(page.url.replace(ui.url, ""))
    expect(phone.locator(".chat-title")).to_have_text("Show me a loop: ```python for i in range(3): print(i) ```")
    expect(phone.locator(".chat-side")).to_be_hidden()
    first = phone.locator(".thread-messages > .msg.assistant").first
    first.locator("details.reasoning summary").click()
    first.locator(".code-block").scroll_into_view_if_needed()
    shoot(phone, "chat-phone")
    phone.get_by_role("button", name="Chats").click()
    expect(phone.locator(".chat-side")).to_be_visible()
    expect(phone.locator(".conv-item")).to_have_count(1)


def test_a_provider_error_and_a_missing_key_read_clearly(page: Page) -> None:
    page.goto("/#/chat")
    pick_model(page, "fake-error-500", "fake:fake-error-500")
    send(page, "hello")
    error = answers(page).last.locator(".msg-error")
    expect(error).to_contain_text("fake: HTTP 500: The server had an error")
    expect(answers(page).last.get_by_role("button", name="Regenerate")).to_be_visible()

    page.get_by_role("button", name="New chat").click()
    page.locator(".picker-trigger").click()
    page.get_by_label("Search models").fill("openrouter")
    option = page.locator(".model-option[data-id^=\"openrouter:\"]").first
    expect(option).to_contain_text("set OPENROUTER_API_KEY")
    option.click()
    expect(page.locator(".picker-trigger")).to_contain_text("set OPENROUTER_API_KEY")
    send(page, "are you there?")
    expect(page.locator(".notice")).to_contain_text("OPENROUTER_API_KEY")
    # Nothing was kept: the text is back in the box and no empty conversation is listed.
    expect(page.get_by_label("Message", exact=True)).to_have_value("are you there?")
    expect(page.locator(".chat-title")).to_have_text("New chat")
    expect(page.locator(".conv-item")).to_have_count(1)


def test_stop_regenerate_and_edit_and_resend(page: Page) -> None:
    page.goto("/#/chat")
    pick_model(page, "fake-drip-20", "fake:fake-drip-20")
    long_text = " ".join(f"word{i}" for i in range(150))
    send(page, long_text)
    stop = page.get_by_role("button", name="Stop the answer")
    expect(page.locator(".msg.streaming .md")).to_contain_text("You said: word0")
    stop.click()
    stopped = answers(page).last
    expect(stopped.locator(".badge")).to_have_text("Stopped")
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_visible()
    expect(stopped.locator(".md")).not_to_contain_text("word149")

    pick_model(page, "grok 4", "xai:grok-4")
    stopped.get_by_role("button", name="Regenerate").click()
    fresh = answers(page).last
    expect(fresh.locator(".md")).to_have_text(f"You said: {long_text}")
    expect(fresh.locator(".model-id")).to_have_text("xai:grok-4")
    expect(page.locator(".superseded summary")).to_contain_text("(failed)")

    fresh.get_by_role("button", name="Regenerate").click()
    expect(page.locator(".superseded")).to_have_count(2)

    page.get_by_role("button", name="Edit and resend").click()
    editor = page.get_by_label("Edit message")
    expect(editor).to_have_value(long_text)
    editor.fill("a shorter question")
    editor.press("Enter")
    expect(answers(page).last.locator(".md")).to_have_text("You said: a shorter question")
    expect(page.locator(".thread-messages > .msg.user .msg-text")).to_have_text(["a shorter question"])
    expect(page.locator(".superseded")).to_have_count(0)


def test_enter_sends_shift_enter_adds_a_line_and_markdown_stays_inert(page: Page) -> None:
    page.goto("/#/chat")
    pick_model(page, "grok 4", "xai:grok-4")
    box = page.get_by_label("Message", exact=True)
    box.click()
    page.keyboard.type("line one")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("line two")
    expect(box).to_have_value("line one\nline two")
    expect(page.locator(".msg.user")).to_have_count(0)
    page.keyboard.press("Enter")
    expect(page.locator(".msg.user .msg-text")).to_have_text("line one\nline two")
    expect(box).to_have_value("")
    expect(answers(page).last.locator(".md")).to_contain_text("You said: line one line two")

    hostile = ('<img src=x onerror="window.pwned=1"> <script>window.pwned=2</script> '
               '[click](javascript:window.pwned=3) ![pic](http://example.invalid/p.png) <b>bold?</b> **real bold**')
    send(page, hostile)
    md = answers(page).last.locator(".md")
    expect(md.locator("strong")).to_have_text("real bold")
    expect(md).to_contain_text('<img src=x onerror="window.pwned=1">')
    expect(md).to_contain_text("<b>bold?</b>")
    assert md.locator("img, script, b, [onerror]").count() == 0
    assert md.locator('a[href^="javascript"]').count() == 0
    image_link = md.locator('a[href="http://example.invalid/p.png"]')
    expect(image_link).to_have_attribute("rel", "noopener noreferrer nofollow")
    assert page.evaluate("window.pwned") is None


def test_conversation_list_pages_searches_renames_and_deletes(page: Page, ui: Studio) -> None:
    with httpx.Client(base_url=ui.url, timeout=30) as http:
        for i in range(45):
            http.post("/api/conversations", json={"model": "grok-4", "title": f"Trip to Paris {i}"})
    page.goto("/#/chat")
    expect(page.locator(".conv-status")).to_have_text("45 conversations")
    expect(page.locator(".conv-item")).to_have_count(40)
    page.locator(".conv-more").scroll_into_view_if_needed()
    expect(page.locator(".conv-item")).to_have_count(45)
    expect(page.locator(".conv-more")).to_be_hidden()

    search = page.get_by_label("Search conversations")
    search.fill("Paris 7")
    expect(page.locator(".conv-item")).to_have_count(1)
    expect(page.locator(".conv-status")).to_have_text("1 conversation found")
    page.get_by_role("button", name="Rename “Trip to Paris 7”").click()
    rename = page.get_by_label("New title")
    rename.fill("Lyon notes")
    rename.press("Enter")
    expect(page.locator(".conv-title")).to_have_text("Lyon notes")

    page.locator(".conv-link").click()
    expect(page.locator(".chat-title")).to_have_text("Lyon notes")
    search.fill("lyon")
    expect(page.locator(".conv-title")).to_have_text("Lyon notes")
    page.get_by_role("button", name="Delete “Lyon notes”").click()
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.locator(".conv-status")).to_have_text("Nothing found for “lyon”.")
    expect(page.locator(".chat-title")).to_have_text("New chat")
    search.fill("")
    expect(page.locator(".conv-status")).to_have_text("44 conversations")
