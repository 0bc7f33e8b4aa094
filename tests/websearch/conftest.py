"""Local pages on 127.0.0.1 for the fetcher tests, served once per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes import web_pages
from tests.fakes.server import serve


@pytest.fixture(scope="module")
def pages() -> Iterator[tuple[str, object]]:
    app = web_pages.create_app()
    with serve(app) as url:
        yield url, app
