"""Blind battles over HTTP on SQLite and PostgreSQL: names hidden until the vote, one vote per
battle, no vote before both answers are complete, self-introductions stripped, leaked battles
left out of the leaderboard, image battles served without the metadata that names the model,
and bad input answered with 4xx in OpenAI's error shape."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from easel.errors import NotFound
from easel.storage.battles import BattleStore
from easel.storage.db import Database
from easel.storage.tables import LOCAL_ACCOUNT_ID, Account
from tests.api.conftest import Studio

POOL = ["fake:fake-echo", "fake:fake-drip-20"]
NAMES = ("fake-echo", "fake-drip", "fake:")


def events_of(response: httpx.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    event = None
    for line in response.iter_lines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event:
            yield event, json.loads(line.split(":", 1)[1])


def assert_blind(text: str, headers: httpx.Headers) -> None:
    for name in NAMES:
        assert name not in text
        assert all(name not in value for value in headers.values())


def test_a_chat_battle_hides_the_names_until_the_vote(studio: Studio) -> None:
    with studio.http() as http:
        created = http.post("/api/battles", json={"prompt": "hello arena", "pool": POOL})
        assert created.status_code == 201, created.text
        assert_blind(created.text, created.headers)
        battle = created.json()
        assert battle["status"] == "ready" and battle["models"] is None and battle["leaked"] is None
        assert {battle["answers"][side]["text"] for side in "ab"} == {"You said: hello arena"}
        read = http.get(f"/api/battles/{battle['id']}")
        assert_blind(read.text, read.headers)
        listed = http.get("/api/battles")
        assert [b["id"] for b in listed.json()["data"]] == [battle["id"]]
        assert_blind(listed.text, listed.headers)

        voted = http.post(f"/api/battles/{battle['id']}/vote", json={"outcome": "a"})
        assert voted.status_code == 200, voted.text
        revealed = voted.json()
        assert revealed["status"] == "voted" and revealed["outcome"] == "a" and revealed["leaked"] is False
        assert sorted(revealed["models"].values()) == sorted(POOL)
        assert http.get(f"/api/battles/{battle['id']}").json()["models"] == revealed["models"]

        again = http.post(f"/api/battles/{battle['id']}/vote", json={"outcome": "b"})
        assert again.status_code == 409 and again.json()["error"]["code"] == "already_voted"
        board = http.get("/api/leaderboard", params={"task": "chat", "rounds": 10}).json()
        winner = revealed["models"]["a"]
        assert board["votes"] == 1 and board["models"][0]["model"] == winner


def test_a_streamed_battle_sends_both_sides_then_the_battle(studio: Studio) -> None:
    with studio.http() as http, http.stream("POST", "/api/battles", json={"prompt": "two streams please",
                                                                           "pool": POOL, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = list(events_of(response))
    raw = json.dumps(events)
    assert_blind(raw, response.headers)
    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "done"
    text = {side: "".join(body["text"] for name, body in events if name == "text" and body["side"] == side)
            for side in "ab"}
    assert text == {"a": "You said: two streams please", "b": "You said: two streams please"}
    assert sorted(body["side"] for name, body in events if name == "answer") == ["a", "b"]
    assert events[-1][1]["status"] == "ready"


def test_no_vote_before_both_answers_are_complete_nor_after_one_failed(studio: Studio) -> None:
    with studio.http() as http:
        with http.stream("POST", "/api/battles", json={"prompt": "wait for me", "stream": True,
                                                        "pool": ["fake:fake-echo", "fake:fake-hang"]}) as response:
            events = events_of(response)
            name, start = next(events)
            assert name == "start"
            early = http.post(f"/api/battles/{start['id']}/vote", json={"outcome": "tie"})
            assert early.status_code == 409 and early.json()["error"]["code"] == "answer_not_complete"
            rest = list(events)
        assert rest[-1][0] == "done" and rest[-1][1]["status"] == "failed"
        failed = [body for body in rest[-1][1]["answers"].values() if body["status"] == "failed"]
        assert len(failed) == 1 and "fake" not in json.dumps(failed)  # the upstream message would name it
        late = http.post(f"/api/battles/{start['id']}/vote", json={"outcome": "tie"})
        assert late.status_code == 409 and late.json()["error"]["code"] == "answer_failed"
        assert "failed" in late.json()["error"]["message"]


def test_self_introductions_are_stripped_and_a_name_left_flags_the_battle(studio: Studio) -> None:
    with studio.http() as http:
        intro = http.post("/api/battles", json={"prompt": "I am fake-echo. Nice to meet you.", "pool": POOL}).json()
        shown = {side: intro["answers"][side]["text"] for side in "ab"}
        revealed = http.post(f"/api/battles/{intro['id']}/vote", json={"outcome": "b"}).json()
        echo_side = "a" if revealed["models"]["a"] == "fake:fake-echo" else "b"
        other_side = "b" if echo_side == "a" else "a"
        assert shown[echo_side] == "Nice to meet you."  # "You said: I am fake-echo." was dropped
        assert shown[other_side] == "You said: I am fake-echo. Nice to meet you."  # not its own name
        assert revealed["stripped"][echo_side] == 1 and revealed["leaked"] is False

        leaky = http.post("/api/battles", json={"prompt": "What is fake-echo", "pool": POOL}).json()
        revealed = http.post(f"/api/battles/{leaky['id']}/vote", json={"outcome": "a"}).json()
        assert revealed["leaked"] is True
        board = http.get("/api/leaderboard", params={"task": "chat", "rounds": 0}).json()
        assert board["votes"] == 1 and board["excluded_votes"] == 1  # the leaked battle's vote is left out


def test_an_image_battle_serves_pictures_without_model_metadata(studio: Studio) -> None:
    pool = ["openai:gpt-image-1", "local:illustrator"]
    with studio.http() as http:
        created = http.post("/api/battles", json={"prompt": "a red kite over dunes", "task": "image", "pool": pool})
        assert created.status_code == 202, created.text
        assert_blind(created.text, created.headers)
        assert "gpt-image" not in created.text and "illustrator" not in created.text
        battle_id = created.json()["id"]
        with http.stream("POST", "/api/battles", json={"prompt": "a blue door", "task": "image", "pool": pool,
                                                        "stream": True}) as response:
            done = [body for name, body in events_of(response) if name == "done"][0]
        assert done["status"] == "ready"
        for side in "ab":
            [url] = done["answers"][side]["images"]
            picture = http.get(url)
            assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
            image = Image.open(io.BytesIO(picture.content))
            assert image.width > 0 and not any(key in image.info for key in ("model", "easel", "parameters"))
            assert b"gpt-image" not in picture.content and b"illustrator" not in picture.content
        assert http.get(f"/api/battles/{done['id']}/answers/a/images/5").status_code == 404
        revealed = http.post(f"/api/battles/{done['id']}/vote", json={"outcome": "both_bad"}).json()
        assert sorted(revealed["models"].values()) == sorted(pool)
        assert http.get(f"/api/battles/{battle_id}").status_code == 200


@pytest.mark.parametrize(("body", "status", "param"), [
    ({"prompt": "x", "pool": ["fake:fake-echo"]}, 400, "pool"),
    ({"prompt": "x", "pool": ["fake:fake-echo", "fake-echo"]}, 400, "pool"),  # one model under two names
    ({"prompt": "x", "pool": ["fake:fake-echo", "openrouter:anthropic/claude-sonnet-4.5"]}, 400, "pool"),
    ({"prompt": "x", "pool": ["fake:fake-echo", "no-such-model"]}, 404, "model"),
    ({"prompt": "x", "task": "video"}, 400, "task"),
    ({"prompt": "", "pool": POOL}, 400, "prompt"),
    ({"prompt": "x", "pool": POOL, "models": POOL}, 400, "models"),
])
def test_bad_battles_are_refused(studio: Studio, body: dict[str, Any], status: int, param: str) -> None:
    with studio.http() as http:
        response = http.post("/api/battles", json=body)
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert error["param"] == param and error["message"]
        assert http.get("/api/battles").json()["data"] == []  # nothing was stored


def test_bad_votes_and_unknown_battles(studio: Studio) -> None:
    with studio.http() as http:
        battle = http.post("/api/battles", json={"prompt": "hi", "pool": POOL}).json()
        bad = http.post(f"/api/battles/{battle['id']}/vote", json={"outcome": "c"})
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "outcome"
        missing = http.post("/api/battles/bat_nope/vote", json={"outcome": "a"})
        assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found_error"
        assert http.get("/api/battles/bat_nope").status_code == 404


async def test_another_accounts_battle_is_not_found(database: Database) -> None:
    async with database.session() as session, session.begin():
        session.add(Account(id="acct_other", name="other"))
    store = BattleStore(database)
    battle = await store.create(owner_id=LOCAL_ACCOUNT_ID, task="chat", prompt="p", model_a="x:a", model_b="x:b")
    with pytest.raises(NotFound):
        await store.get(owner_id="acct_other", battle_id=battle.id)
    with pytest.raises(NotFound):
        await store.record_vote(owner_id="acct_other", battle_id=battle.id, outcome="a")
    assert await store.list(owner_id="acct_other") == []
    assert (await store.get(owner_id=LOCAL_ACCOUNT_ID, battle_id=battle.id)).outcome is None
