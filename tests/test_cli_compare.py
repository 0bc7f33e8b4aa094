"""`easel compare` as a user runs it: a real process, the real local model beside a faked remote one
(a real HTTP server declared as an endpoint in config.toml), answers side by side and a stats table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import openai_fake, openai_images_fake
from tests.fakes.server import by_path, serve

EASEL = [sys.executable, "-m", "easel.cli"]


@pytest.fixture(scope="module")
def fake_url() -> Iterator[str]:
    images = openai_images_fake.create_app(api_key=openai_fake.FAKE_KEY)
    with serve(by_path(openai_fake.create_app(), images=("/v1/images", images))) as url:
        yield url


def easel(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EASEL_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run([*EASEL, *args], capture_output=True, text=True, env=env, timeout=180)


@pytest.fixture
def home(easel_home: Path, fake_url: str) -> Path:
    (easel_home / "config.toml").write_text(
        f'[[endpoints]]\nname = "fake"\nbase_url = "{fake_url}/v1"\napi_key = "{openai_fake.FAKE_KEY}"\n'
        'models = ["fake-echo", "fake-error-500"]\n'
        f'[keys]\nopenai = "{openai_fake.FAKE_KEY}"\n[base_urls]\nopenai = "{fake_url}/v1"\n')
    return easel_home


def test_answers_side_by_side_with_a_table_of_latency_tokens_and_cost(home: Path) -> None:
    result = easel("compare", "-m", "local:smollm2-135m", "-m", "fake:fake-echo", "-m", "fake:fake-error-500",
                   "Name a fruit", "--max-tokens", "12", home=home)
    assert result.returncode == 0, result.stderr
    assert "You said: Name a fruit" in result.stdout
    for header in ("model", "latency", "TTFT", "tokens in", "tokens out", "cost"):
        assert header in result.stdout
    stats = result.stdout[result.stdout.index("latency, tokens and cost"):]
    assert "local:smollm2-135m" in stats and "complete" in stats and "free" in stats
    assert "fake:fake-error-500" in stats and "failed" in stats
    comparison_id = result.stderr.split("comparison ")[-1].split()[0]
    assert comparison_id.startswith("cmp_")


def test_json_prints_the_stored_comparison(home: Path) -> None:
    result = easel("compare", "-m", "fake:fake-echo", "-m", "local:smollm2-135m", "hello", "--max-tokens", "8",
                   "--json", home=home)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["models"] == ["fake:fake-echo", "local:smollm2-135m"]
    answers = body["turns"][0]["answers"]
    assert answers[0]["content"] == "You said: hello"
    assert answers[1]["status"] == "complete" and answers[1]["completion_tokens"] > 0


def test_image_comparison_saves_each_models_images_and_prints_the_paths(home: Path, tmp_path: Path) -> None:
    outdir = tmp_path / "out"
    result = easel("compare", "--task", "image", "-m", "local:illustrator", "-m", "openai:gpt-image-1",
                   "a cat on a red sofa", "--seed", "3", "-o", str(outdir), home=home)
    assert result.returncode == 0, result.stderr
    paths = [Path(line) for line in result.stdout.splitlines() if line.endswith(".png")]
    assert len(paths) == 2 and all(p.is_file() and p.parent == outdir for p in paths)
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(("args", "needle", "code"), [
    (["-m", "fake:fake-echo", "hi"], "2 to 8 models", 1),
    (["-m", "fake:fake-echo", "-m", "local:illustrator", "hi"], "not a chat model", 1),
    (["-m", "fake:fake-echo", "-m", "nope-model-x", "hi"], "nope-model-x", 1),
    (["-m", "fake:fake-echo", "-m", "local:smollm2-135m", "hi", "--task", "video"], "unknown task", 2),
])
def test_bad_input_is_one_clear_line(home: Path, args: list[str], needle: str, code: int) -> None:
    result = easel("compare", *args, home=home)
    assert result.returncode == code
    assert needle in result.stderr and "Traceback" not in result.stderr
