"""Browser tests: a real easel server (SQLite, faked remote providers) driven by Debian's Chromium.

- `ui`: the running studio (`ui.url`, `ui.fakes`, `ui.settings`)
- `browser`: one headless Chromium for the session, launched from /usr/bin/chromium
- `page`: a desktop-sized page (1280x860) on the studio; `phone`: a phone-sized one (390x844)
- `shoot(page, name)`: saves docs/screenshots/<name>.png (the screenshots the README shows)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from easel.api.app import create_app
from tests.api.conftest import Fakes, Studio, fakes, studio_settings  # noqa: F401  (fixture re-export)
from tests.fakes.server import serve

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def ui(tmp_path: Path, fakes: Fakes) -> Iterator[Studio]:  # noqa: F811
    settings = studio_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'ui.db'}", fakes, local_threads=1)
    with serve(create_app(settings), lifespan="on") as url:
        yield Studio(url, settings, fakes)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make setup` installs Debian's chromium package", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def _page(browser: Browser, ui: Studio, width: int, height: int, mobile: bool = False) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=ui.url,
                                  is_mobile=mobile, has_touch=mobile, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page(browser: Browser, ui: Studio) -> Iterator[Page]:
    yield from _page(browser, ui, 1280, 860)


@pytest.fixture
def phone(browser: Browser, ui: Studio) -> Iterator[Page]:
    yield from _page(browser, ui, 390, 844, mobile=True)


@pytest.fixture
def shoot() -> Callable[[Page, str], Path]:
    def save(page: Page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=False)
        return path

    return save
