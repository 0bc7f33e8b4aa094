"""`easel chat --web` as a user runs it: a real process, the real local model, a fake SearXNG and local pages;
`--web-backend native` against the faked OpenAI server (declared in config.toml), which searches itself."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import openai_fake, search_engines, web_pages
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


@pytest.fixture(scope="module")
def openai_upstream() -> Iterator[tuple[str, Any]]:
    """The OpenAI fake: with `web_search_options` in a request it answers with `url_citation` annotations."""
    app = openai_fake.create_app(models=("gpt-5",))
    with serve(app) as url:
        yield url, app


@pytest.fixture
def remote_home(easel_home: Path, openai_upstream: tuple[str, Any]) -> Path:
    url, _ = openai_upstream
    (easel_home / "config.toml").write_text(
        f'[[endpoints]]\nname = "fake"\nbase_url = "{url}/v1"\napi_key = "{openai_fake.FAKE_KEY}"\n'
        'models = ["fake-echo"]\n'
        f'[keys]\nopenai = "{openai_fake.FAKE_KEY}"\n[base_urls]\nopenai = "{url}/v1"\n')
    return easel_home


def test_web_backend_native_asks_openai_to_search_and_prints_its_sources(
        remote_home: Path, openai_upstream: tuple[str, Any]) -> None:
    _, app = openai_upstream
    question = "When is the Quillton lantern festival held?"
    result = easel("chat", "-m", "openai:gpt-5", "--web", "on", "--web-backend", "native", question,
                   home=remote_home)
    assert result.returncode == 0, result.stderr
    sent = app.state.requests[-1]
    assert sent["web_search_options"] == {}  # OpenAI's own search, as its API spells it
    assert sent["messages"][-1] == {"role": "user", "content": question}  # nothing of easel's own search
    answer, _, sources = result.stdout.partition("\nSources:\n")
    assert answer.strip() == f"You said: {question}"
    lines = sources.splitlines()
    assert lines[0] == "[1] Lantern festival news — news.example"
    assert lines[1].strip() == "https://news.example/lantern-festival"
    assert lines[3] == "[2] Quillton archive — archive.example"
    assert lines[4].strip() == "https://archive.example/quillton"
    assert question in lines[5]  # source 2 was cited for the user's words the answer repeats


def test_web_backend_native_on_a_model_without_it_is_one_clear_error(remote_home: Path,
                                                                    openai_upstream: tuple[str, Any]) -> None:
    _, app = openai_upstream
    sent_before = len(app.state.requests)
    result = easel("chat", "-m", "fake:fake-echo", "--web", "on", "--web-backend", "native", "hello",
                   home=remote_home)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert errors == ["error: Model 'fake:fake-echo' has no server-side web search; leave web_search_backend "
                      "unset to use easel's own search."]
    assert len(app.state.requests) == sent_before  # refused before the model was asked


def test_web_backend_native_without_the_web_on_is_refused(easel_home: Path) -> None:
    result = easel("chat", "--web-backend", "native", "hello", home=easel_home)
    assert result.returncode == 2 and "--web on" in result.stderr
