"""`easel battle` and `easel leaderboard` as a user runs them: real processes against a fake
OpenAI-compatible server declared in config.toml, a real database."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import openai_fake
from tests.fakes.server import serve
from tests.test_cli import easel

POOL = ["--pool", "fake:fake-echo", "--pool", "fake:fake-drip-20"]


@pytest.fixture
def fake_home(easel_home: Path) -> Iterator[Path]:
    with serve(openai_fake.create_app()) as url:
        (easel_home / "config.toml").write_text(
            f'[[endpoints]]\nname = "fake"\nbase_url = "{url}/v1"\napi_key = "{openai_fake.FAKE_KEY}"\n'
            'models = ["fake-echo", "fake-drip-20"]\n')
        yield easel_home


def test_battle_shows_a_and_b_then_reveals_and_the_leaderboard_ranks(fake_home: Path) -> None:
    scripted = easel("battle", "hello from the terminal", *POOL, "--vote", "a", home=fake_home)
    assert scripted.returncode == 0, scripted.stderr
    before_reveal, _, reveal = scripted.stdout.partition("A was ")
    assert "Answer A" in before_reveal and "Answer B" in before_reveal
    assert before_reveal.count("You said: hello from the terminal") == 2
    assert "fake-echo" not in before_reveal and "fake-drip" not in before_reveal
    winner = reveal.split(",")[0].strip()
    assert winner in ("fake:fake-echo", "fake:fake-drip-20")

    asked = easel("battle", "second round", *POOL, stdin="maybe\nb\n", home=fake_home)
    assert asked.returncode == 0, asked.stderr
    assert "not one of" in asked.stderr and "A was " in asked.stdout

    board = json.loads(easel("leaderboard", "--json", "--rounds", "20", home=fake_home).stdout)
    assert board["votes"] == 2 and {m["model"] for m in board["models"]} == {"fake:fake-echo", "fake:fake-drip-20"}
    assert "local:smollm2-135m" in {m["model"] for m in board["unrated"]}

    table = easel("leaderboard", home=fake_home)
    assert table.returncode == 0 and "chat leaderboard: 2 votes" in table.stdout and "unrated" in table.stdout
    rows = list(csv.DictReader(io.StringIO(easel("leaderboard", "--csv", home=fake_home).stdout)))
    assert [r["rank"] for r in rows[:2]] == ["1", "2"]


def test_bad_battles_are_one_clear_line(fake_home: Path) -> None:
    alone = easel("battle", "hi", "--pool", "fake:fake-echo", "--vote", "a", home=fake_home)
    assert alone.returncode == 1 and "two different usable models" in alone.stderr and "Traceback" not in alone.stderr
    bad_vote = easel("battle", "hi", *POOL, "--vote", "maybe", home=fake_home)
    assert bad_vote.returncode == 2 and "--vote" in bad_vote.stderr
    bad_task = easel("leaderboard", "--task", "video", home=fake_home)
    assert bad_task.returncode == 2 and "unknown task" in bad_task.stderr
