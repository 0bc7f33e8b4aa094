"""The Settings page: providers with their key status (never a key), local models, the data folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.api.conftest import Studio
from tests.fakes import openai_fake

SECRETS = (openai_fake.FAKE_KEY, "test-key")


def assert_no_secret(page: Page) -> None:
    html = page.content()
    for secret in SECRETS:
        assert secret not in html


def test_providers_local_models_and_data_folder(page: Page, ui: Studio, shoot: Callable[[Page, str], Path]) -> None:
    page.goto("/#/settings")
    providers = page.get_by_role("region", name="Providers")
    xai = providers.get_by_role("row").filter(has_text="xAI")
    expect(xai).to_contain_text("key set")
    expect(xai).to_contain_text("10 of 10 usable")
    mistral = providers.get_by_role("row").filter(has_text="Mistral AI")
    expect(mistral).to_contain_text("No key: set MISTRAL_API_KEY")
    expect(providers.get_by_role("row").filter(has_text="Local (llama.cpp)")).to_contain_text("no key needed")
    expect(providers).to_contain_text("10 of 16 ready")

    local = page.get_by_role("region", name="Local models")
    smol = local.get_by_role("row").filter(has_text="local:smollm2-135m")
    expect(smol).to_contain_text("installed")
    expect(smol).to_contain_text("not loaded")
    expect(local.get_by_role("row").filter(has_text="local:qwen2.5-coder-0.5b")).to_contain_text("make setup EXTRAS=qwen")

    data = page.get_by_role("region", name="Data")
    expect(data).to_contain_text(str(ui.settings.home))
    expect(data).to_contain_text("SQLite")
    assert_no_secret(page)
    shoot(page, "settings-desktop")

    # A model loaded since the page opened shows up, with its memory, on Refresh.
    with ui.http() as http:
        http.post("/v1/chat/completions", json={
            "model": "local:smollm2-135m", "max_tokens": 1, "messages": [{"role": "user", "content": "Hi"}],
        }).raise_for_status()
    page.get_by_role("button", name="Refresh").click()
    expect(smol).to_contain_text("loaded, ")
    expect(smol).to_contain_text(" MB")
    assert_no_secret(page)

    xai.get_by_role("link", name="10 of 10 usable").click()
    expect(page.locator("#view")).to_have_attribute("data-page", "models")  # the router has switched pages
    expect(page.get_by_label("Provider")).to_have_value("xai")


def test_on_a_phone(phone: Page, shoot: Callable[[Page, str], Path]) -> None:
    phone.goto("/#/settings")
    expect(phone.get_by_role("region", name="Providers")).to_contain_text("No key: set MISTRAL_API_KEY")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px)"
    assert_no_secret(phone)
    shoot(phone, "settings-phone")
