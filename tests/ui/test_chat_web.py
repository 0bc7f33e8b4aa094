"""The Chat page's live web in a real browser: the Web toggle, the sources under the answer, [n] linked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from easel.api.app import create_app
from tests.api.conftest import Fakes, Studio, studio_settings
from tests.fakes import search_engines, web_pages
from tests.fakes.server import serve
from tests.ui.test_chat import answers, pick_model, send


@pytest.fixture
def ui(tmp_path: Path, fakes: Fakes) -> Iterator[Studio]:
    searxng = search_engines.searxng_app()
    with serve(web_pages.create_app()) as pages, serve(searxng) as engine:
        searxng.state.results = [
            {"title": "Quillton", "url": f"{pages}/fact", "content": "Lantern festival."},
            {"title": "Quillton bridge", "url": f"{pages}/doc.pdf", "content": "A bridge."}]
        settings = studio_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'ui.db'}", fakes,
                                   searxng_url=engine, fetch_allow=["127.0.0.1/32"])
        with serve(create_app(settings), lifespan="on") as url:
            studio = Studio(url, settings, fakes)
            studio.pages_url = pages  # type: ignore[attr-defined]
            yield studio


def test_web_on_shows_numbered_sources_and_links_the_markers(page: Page, ui: Studio,
                                                            shoot: Callable[[Page, str], Path]) -> None:
    page.goto("/#/chat")
    pick_model(page, "fake-echo", "fake:fake-echo")
    toggle = page.get_by_role("group", name="Web search")
    expect(toggle.get_by_role("button", name="Off")).to_have_attribute("aria-pressed", "true")
    toggle.get_by_role("button", name="On").click()
    expect(toggle.get_by_role("button", name="On")).to_have_attribute("aria-pressed", "true")
    send(page, "When is the Quillton lantern festival held?")

    answer = answers(page).last
    sources = answer.locator(".sources .source")
    expect(sources).to_have_count(2, timeout=30_000)
    first = sources.nth(0)
    expect(first.locator(".source-index")).to_have_text("[1]")
    expect(first.locator(".source-link")).to_have_text("Quillton lantern festival")
    expect(first.locator(".source-link")).to_have_attribute("href", f"{ui.pages_url}/fact")  # type: ignore[attr-defined]
    expect(first.locator(".source-host")).to_have_text("127.0.0.1")
    expect(first.locator(".source-link")).to_have_attribute("title", web_pages.FACT)
    first.locator(".source-quote summary").click()
    expect(first.locator(".source-quote blockquote")).to_have_text(web_pages.FACT)
    # the echo repeats the numbered sources, so its text holds [1] and [2]: each links to its page
    expect(answer.locator(".md a.cite").first).to_have_attribute("href", f"{ui.pages_url}/fact")  # type: ignore[attr-defined]
    expect(answer.locator('.md a.cite:text-is("[2]")').first).to_have_attribute(
        "href", f"{ui.pages_url}/doc.pdf")  # type: ignore[attr-defined]
    shoot(page, "chat-web-sources")

    page.reload()  # stored with the answer, and the toggle is remembered
    expect(answers(page).last.locator(".sources .source")).to_have_count(2)
    expect(page.get_by_role("group", name="Web search").get_by_role("button", name="On")).to_have_attribute(
        "aria-pressed", "true")


def test_sources_the_answer_did_not_cite_are_listed_under_also_read(page: Page, ui: Studio) -> None:
    with ui.http() as http:  # a short echo: it repeats source 1's "[1]", never reaches "[2]"
        conv = http.post("/api/conversations", json={"model": "fake:fake-echo"}).json()
        turn = http.post(f"/api/conversations/{conv['id']}/messages", json={
            "content": "When is the Quillton lantern festival held?", "web_search": "on", "max_tokens": 40})
        assert turn.status_code == 200, turn.text
    page.goto(f"/#/chat/{conv['id']}")
    sources = answers(page).last.locator(".sources")
    expect(sources.locator(".sources-title")).to_have_text(["Sources", "Also read"])
    expect(sources.locator(".sources-cited .source-link")).to_have_text(["Quillton lantern festival"])
    expect(sources.locator(".sources-also-read .source")).to_have_count(1)
    expect(sources.locator(".sources-also-read .source-link")).to_have_attribute(
        "href", f"{ui.pages_url}/doc.pdf")  # type: ignore[attr-defined]


def test_search_with_the_providers_own_search_for_a_model_that_has_one(page: Page, ui: Studio) -> None:
    page.goto("/#/chat")
    pick_model(page, "gpt-5", "openai:gpt-5")
    choice = page.get_by_role("group", name="Search with")
    expect(choice).to_be_hidden()  # the Web toggle is Off
    page.get_by_role("group", name="Web search").get_by_role("button", name="On").click()
    expect(choice).to_be_visible()
    expect(choice.get_by_role("button", name="easel")).to_have_attribute("aria-pressed", "true")
    choice.get_by_role("button", name="OpenAI's own search").click()
    question = "When is the Quillton lantern festival held?"
    send(page, question)

    links = answers(page).last.locator(".sources .source-link")
    expect(links).to_have_text(["Lantern festival news", "Quillton archive"], timeout=30_000)
    expect(links.first).to_have_attribute("href", "https://news.example/lantern-festival")
    expect(links.nth(1)).to_have_attribute("href", "https://archive.example/quillton")
    sent = ui.fakes.openai_app.state.requests[-1]
    assert sent["web_search_options"] == {}  # the provider searched, not easel
    assert sent["messages"][-1] == {"role": "user", "content": question}

    page.reload()  # the choice is remembered like the toggle
    expect(page.get_by_role("group", name="Search with").get_by_role("button", name="OpenAI's own search")
           ).to_have_attribute("aria-pressed", "true")
    pick_model(page, "fake-echo", "fake:fake-echo")  # no server-side search: the choice goes away
    expect(page.get_by_role("group", name="Search with")).to_be_hidden()
    send(page, question)  # and easel's own search answers, with the local pages as sources
    expect(answers(page).last.locator(".sources .source-host").first).to_have_text("127.0.0.1", timeout=30_000)
