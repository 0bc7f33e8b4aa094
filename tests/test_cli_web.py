"""`easel chat --web` as a user runs it: a real process, the real local model, a fake SearXNG and local pages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import search_engines, web_pages
from tests.fakes.server import serve
from tests.test_cli import easel


@pytest.fixture(scope="module")
def web() -> Iterator[tuple[str, str]]:
    searxng = search_engines.searxng_app()
    with serve(web_pages.create_app()) as pages, serve(searxng) as engine:
        searxng.state.results = [{"title": "Quillton", "url": f"{pages}/fact", "content": "Lantern festival."}]
        yield pages, engine


@pytest.mark.local_model
def test_chat_with_web_prints_the_answer_then_numbered_sources(easel_home: Path, web: tuple[str, str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    pages, engine = web
    monkeypatch.setenv("EASEL_SEARXNG_URL", engine)
    monkeypatch.setenv("EASEL_FETCH_ALLOW", json.dumps(["127.0.0.1/32"]))
    result = easel("chat", "--web", "on", "--max-tokens", "24", "--seed", "3",
                   "When is the Quillton lantern festival held?", home=easel_home)
    assert result.returncode == 0, result.stderr
    answer, _, sources = result.stdout.partition("\nSources:\n")
    assert answer.strip()
    lines = sources.splitlines()
    assert lines[0] == "[1] Quillton lantern festival — 127.0.0.1"
    assert lines[1].strip() == f"{pages}/fact"
    assert "14th of March" in lines[2]


def test_chat_refuses_an_unknown_web_mode(easel_home: Path) -> None:
    result = easel("chat", "--web", "sometimes", "hello", home=easel_home)
    assert result.returncode == 2 and "sometimes" in result.stderr
