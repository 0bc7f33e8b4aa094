"""GET /api/leaderboard on SQLite and PostgreSQL: ratings fitted from the stored votes, unrated
models apart, the win-rate matrix, CSV export, and bad parameters refused."""

from __future__ import annotations

import asyncio
import csv
import io
import random

import pytest

from easel.storage.db import Database
from easel.storage.tables import LOCAL_ACCOUNT_ID
from easel.storage.votes import NewVote, VoteStore
from tests.api.conftest import Studio

STRENGTHS = {"fake:fake-reasoner": 6.0, "fake:fake-tools": 2.0, "fake:fake-drip-20": 0.7}


def store_votes(studio: Studio, count: int, seed: int = 7) -> None:
    """Votes drawn from known strengths, written through the real vote store (one comparison-sourced)."""
    rng = random.Random(seed)
    names = sorted(STRENGTHS)
    votes = []
    for i in range(count):
        a, b = rng.sample(names, 2)
        roll = rng.random()
        outcome = "tie" if roll < 0.1 else "a" if rng.random() < STRENGTHS[a] / (STRENGTHS[a] + STRENGTHS[b]) else "b"
        votes.append(NewVote(task="chat", model_a=a, model_b=b, outcome=outcome,  # type: ignore[arg-type]
                             source="comparison" if i == 0 else "battle", source_id=f"src_{i}"))
    votes.append(NewVote(task="image", model_a="openai:gpt-image-1", model_b="local:illustrator", outcome="b",
                         source="battle", source_id="img_1"))

    async def write() -> None:
        database = Database(studio.settings.resolved_database_url)
        try:
            await VoteStore(database).add(owner_id=LOCAL_ACCOUNT_ID, votes=votes)
        finally:
            await database.dispose()

    asyncio.run(write())


def test_the_leaderboard_ranks_models_from_stored_votes(studio: Studio) -> None:
    store_votes(studio, 400)
    with studio.http() as http:
        board = http.get("/api/leaderboard", params={"task": "chat", "rounds": 50}).json()
        again = http.get("/api/leaderboard", params={"task": "chat", "rounds": 50}).json()
    assert board["task"] == "chat" and board["votes"] == 400 and board["computed_at"]
    models = board["models"]
    assert [m["model"] for m in models] == sorted(STRENGTHS, key=lambda m: -STRENGTHS[m])
    assert [m["rank"] for m in models] == [1, 2, 3]
    for m in models:
        assert m["ci_low"] <= m["rating"] <= m["ci_high"] and 0 < m["win_rate"] < 1 and m["votes"] > 0
    unrated = {m["model"]: m for m in board["unrated"]}
    assert "fake:fake-echo" in unrated and unrated["fake:fake-echo"]["rating"] is None  # usable, never voted on
    assert not set(unrated) & set(STRENGTHS)
    top, bottom = models[0]["model"], models[-1]["model"]
    assert board["matrix"][top][bottom] > 0.5 > board["matrix"][bottom][top]
    assert [m["rating"] for m in again["models"]] == [m["rating"] for m in models]  # recomputed alike


def test_the_image_leaderboard_is_separate(studio: Studio) -> None:
    store_votes(studio, 20)
    with studio.http() as http:
        board = http.get("/api/leaderboard", params={"task": "image"}).json()
    assert board["votes"] == 1
    assert [m["model"] for m in board["models"]] == ["local:illustrator", "openai:gpt-image-1"]


def test_the_leaderboard_exports_csv(studio: Studio) -> None:
    store_votes(studio, 60)
    with studio.http() as http:
        response = http.get("/api/leaderboard", params={"task": "chat", "format": "csv", "rounds": 20})
        other = http.get("/api/leaderboard.csv", params={"task": "chat", "rounds": 20})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="easel-leaderboard-chat.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["model"] for r in rows[:3]] == sorted(STRENGTHS, key=lambda m: -STRENGTHS[m])
    assert rows[0]["rank"] == "1" and float(rows[0]["rating"]) > 1000
    assert all(r["rating"] == "" and r["rank"] == "" for r in rows[3:])  # unrated after the rated
    assert other.text == response.text


def test_no_votes_means_everyone_unrated(studio: Studio) -> None:
    with studio.http() as http:
        board = http.get("/api/leaderboard").json()
    assert board["votes"] == 0 and board["models"] == [] and board["unrated"] and board["matrix"] == {}


@pytest.mark.parametrize(("params", "param"), [
    ({"task": "video"}, "task"), ({"format": "xml"}, "format"), ({"rounds": -1}, "rounds"),
    ({"rounds": "many"}, "rounds"),
])
def test_bad_leaderboard_parameters(studio: Studio, params: dict[str, object], param: str) -> None:
    with studio.http() as http:
        response = http.get("/api/leaderboard", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param
