"""/api/comparisons over HTTP on a real server (SQLite and PostgreSQL), remote models faked as real
HTTP servers: concurrent columns, per-column failures, follow-ups with each column's own history,
reopening after a restart, votes, continue-as-conversation, image columns and bad input."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest

from easel.api.app import create_app
from easel.storage.db import Database
from easel.storage.votes import VoteStore
from tests.api.conftest import Studio
from tests.fakes.server import serve


def events_of(response: httpx.Response) -> list[tuple[str, Any]]:
    """The (event, data) pairs of an SSE body."""
    found = []
    for block in response.text.split("\n\n"):
        lines = block.strip().splitlines()
        if not lines:
            continue
        name = next(line[7:] for line in lines if line.startswith("event: "))
        data = "".join(line[6:] for line in lines if line.startswith("data: "))
        found.append((name, orjson.loads(data)))
    return found


def compare(http: httpx.Client, **body: Any) -> httpx.Response:
    return http.post("/api/comparisons", json=body)


def test_every_column_answers_with_its_stats_and_the_comparison_reopens(studio: Studio) -> None:
    with studio.http() as http:
        response = compare(http, models=["fake:fake-echo", "xai:grok-4", "fake:fake-reasoner"], prompt="Name a color")
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["task"] == "chat"
        assert body["models"] == ["fake:fake-echo", "xai:grok-4", "fake:fake-reasoner"]
        [turn] = body["turns"]
        assert turn["prompt"] == "Name a color"
        assert [a["content"] for a in turn["answers"]] == ["You said: Name a color"] * 3
        for answer in turn["answers"]:
            assert answer["status"] == "complete"
            assert answer["completion_tokens"] > 0 and answer["prompt_tokens"] > 0
            assert answer["latency_ms"] is not None and answer["ttft_ms"] is not None
        assert turn["answers"][1]["cost"] > 0  # grok-4 has prices in the catalog
        assert "effort" in turn["answers"][2]["reasoning"]

        listed = http.get("/api/comparisons").json()
        assert listed["count"] == 1 and listed["data"][0]["title"] == "Name a color"
        assert http.get(f"/api/comparisons/{body['id']}").json() == body


def test_streamed_columns_are_tagged_and_a_hung_or_failing_model_holds_up_no_one(studio: Studio) -> None:
    with studio.http() as http:
        response = compare(http, models=["fake:fake-hang", "fake:fake-echo", "fake:fake-error-500"],
                           prompt="hello there", stream=True)
    assert response.status_code == 201
    events = events_of(response)
    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "end"
    ends = [(name, data["column"]) for name, data in events if name in ("done", "error")]
    # The echo and the failing column end on their own; the hung one times out last.
    assert set(ends) == {("done", 1), ("error", 2), ("error", 0)}
    assert ends[-1] == ("error", 0)
    text = "".join(data["text"] for name, data in events if name == "delta" and data["column"] == 1)
    assert text == "You said: hello there"
    errors = {data["column"]: data for name, data in events if name == "error"}
    assert errors[2]["error"]["type"] == "upstream_error" and errors[2]["answer"]["status"] == "failed"
    assert errors[0]["error"]["code"] == "upstream_timeout"
    final = events[-1][1]["comparison"]["turns"][0]["answers"]
    assert [a["status"] for a in final] == ["failed", "complete", "failed"]


def test_a_follow_up_goes_to_every_column_with_its_own_history(studio: Studio) -> None:
    fake = studio.fakes.openai_app.state
    with studio.http() as http:
        first = compare(http, models=["fake:fake-echo", "fake:fake-error-429"], prompt="one",
                        system_prompt="Be brief.").json()
        response = http.post(f"/api/comparisons/{first['id']}/turns", json={"prompt": "two"})
    assert response.status_code == 200, response.text
    turns = response.json()["turns"]
    assert [t["prompt"] for t in turns] == ["one", "two"]
    assert turns[1]["answers"][0]["content"] == "You said: two"
    sent = {body["model"]: body["messages"] for body in list(fake.requests)[-2:]}
    assert sent["fake-echo"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "one"},
                                 {"role": "assistant", "content": "You said: one"}, {"role": "user", "content": "two"}]
    # The failing column's failed answer is never sent back to it as history.
    assert sent["fake-error-429"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "one"},
                                      {"role": "user", "content": "two"}]


def test_a_chat_history_can_be_compared(studio: Studio) -> None:
    fake = studio.fakes.openai_app.state
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
                {"role": "user", "content": "and now?"}]
    with studio.http() as http:
        body = compare(http, models=["fake:fake-echo", "xai:grok-4"], messages=messages).json()
    assert body["turns"][0]["prompt"] == "and now?"
    assert body["history"] == messages[:2]
    assert list(fake.requests)[-1]["messages"] == messages


def test_picking_the_best_writes_votes_and_a_re_pick_replaces_them(studio: Studio) -> None:
    with studio.http() as http:
        body = compare(http, models=["fake:fake-echo", "xai:grok-4", "fake:fake-error-500"], prompt="pick").json()
        url = f"/api/comparisons/{body['id']}/vote"
        first = http.post(url, json={"column": 1})
        assert first.status_code == 200, first.text
        assert first.json()["turn"] == 1
        pairs = [(v["model_a"], v["model_b"], v["outcome"], v["source"]) for v in first.json()["votes"]]
        # Only the other complete answer lost; the failed column is not in the vote.
        assert pairs == [("xai:grok-4", "fake:fake-echo", "a", "comparison")]
        again = http.post(url, json={"column": 0, "turn": 1}).json()["votes"]
        assert [(v["model_a"], v["model_b"]) for v in again] == [("fake:fake-echo", "xai:grok-4")]
        assert http.get(f"/api/comparisons/{body['id']}").json()["turns"][0]["best_column"] == 0
        failed = http.post(url, json={"column": 2})
        assert failed.status_code == 400 and failed.json()["error"]["param"] == "column"
    async def stored() -> list[tuple[str, str]]:
        database = Database(studio.settings.resolved_database_url)
        try:
            votes = await VoteStore(database).for_source(owner_id="acct_local", source_id=body["id"])
        finally:
            await database.dispose()
        return [(v.model_a, v.model_b) for v in votes]

    assert asyncio.run(stored()) == [("fake:fake-echo", "xai:grok-4")]


def test_a_column_continues_as_a_normal_conversation(studio: Studio) -> None:
    with studio.http() as http:
        body = compare(http, models=["fake:fake-echo", "xai:grok-4"], prompt="first").json()
        http.post(f"/api/comparisons/{body['id']}/turns", json={"prompt": "second"})
        response = http.post(f"/api/comparisons/{body['id']}/columns/1/conversation")
        assert response.status_code == 201, response.text
        conversation = response.json()
        assert conversation["model"] == "xai:grok-4"
        assert [(m["role"], m["content"]) for m in conversation["messages"]] == [
            ("user", "first"), ("assistant", "You said: first"), ("user", "second"), ("assistant", "You said: second")]
        assert conversation["messages"][1]["completion_tokens"] > 0
        follow = http.post(f"/api/conversations/{conversation['id']}/messages", json={"content": "third"})
        assert follow.status_code == 200 and follow.json()["content"] == "You said: third"
        assert http.post(f"/api/comparisons/{body['id']}/columns/5/conversation").status_code == 400


@pytest.mark.parametrize(("body", "status", "param"), [
    ({"models": ["fake:fake-echo"], "prompt": "x"}, 400, "models"),
    ({"models": [f"fake:fake-echo-{i}" for i in range(9)], "prompt": "x"}, 400, "models"),
    ({"models": ["fake:fake-echo", "local:illustrator"], "prompt": "x"}, 400, "models[1]"),
    ({"models": ["local:realesrgan-x4", "fake:fake-echo"], "prompt": "x"}, 400, "models[0]"),
    ({"models": ["fake:fake-echo", "xai:grok-4"], "prompt": "x", "task": "video"}, 400, "task"),
    ({"models": ["fake:fake-echo", "xai:grok-4"], "prompt": "x", "task": "image"}, 400, "models[0]"),
    ({"models": ["fake:fake-echo", "no-such-model-anywhere"], "prompt": "x"}, 404, "models[1]"),
    ({"models": ["xai:grok-4", "grok-4"], "prompt": "x"}, 400, "models[1]"),
    ({"models": ["fake:fake-echo", "xai:grok-4"], "prompt": "   "}, 400, "prompt"),
    ({"models": ["fake:fake-echo", "xai:grok-4"]}, 400, "prompt"),
    ({"models": ["fake:fake-echo", "xai:grok-4"], "prompt": "x", "options": {"temperature": 9}}, 400, "temperature"),
])
def test_bad_comparisons_are_refused_before_anything_runs(studio: Studio, body: dict[str, Any], status: int,
                                                           param: str) -> None:
    with studio.http() as http:
        response = compare(http, **body)
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert error["param"] == param and error["message"]
        assert http.get("/api/comparisons").json()["count"] == 0


def test_unknown_and_foreign_comparisons_are_not_found(studio: Studio) -> None:
    with studio.http() as http:
        for method, path in (("GET", "/api/comparisons/cmp_nope"), ("POST", "/api/comparisons/cmp_nope/vote"),
                             ("POST", "/api/comparisons/cmp_nope/turns"),
                             ("POST", "/api/comparisons/cmp_nope/columns/0/conversation")):
            body = {"column": 0} if path.endswith("vote") else {"prompt": "x"} if path.endswith("turns") else None
            response = http.request(method, path, json=body)
            assert response.status_code == 404, (path, response.text)
            assert response.json()["error"]["type"] == "not_found_error"


def test_an_image_comparison_runs_one_job_per_model_and_shows_the_settings_used(studio: Studio) -> None:
    with studio.http() as http:
        response = compare(http, task="image", models=["local:illustrator", "openai:gpt-image-1"],
                           prompt="a red fox in the snow", options={"seed": 7}, stream=True)
        assert response.status_code == 201, response.text
        events = events_of(response)
        start = events[0][1]
        job_ids = [a["job_id"] for a in start["turn"]["answers"]]
        assert all(job_ids) and len(set(job_ids)) == 2
        assert {data["column"] for name, data in events if name == "done"} == {0, 1}
        detail = events[-1][1]["comparison"]
        for answer in detail["turns"][0]["answers"]:
            assert answer["status"] == "complete" and answer["progress"] == 1.0
            [image] = answer["images"]
            assert http.get(image["url"]).headers["content-type"].startswith("image/")
            assert image["settings"] and answer["latency_ms"] is not None
        assert detail["turns"][0]["answers"][0]["images"][0]["seed"] == 7
        assert http.get(f"/api/jobs/{job_ids[0]}").json()["status"] == "succeeded"


def test_a_comparison_survives_a_restart(studio: Studio, tmp_path: Any) -> None:
    with studio.http() as http:
        body = compare(http, models=["fake:fake-echo", "xai:grok-4"], prompt="remember me").json()
    with serve(create_app(studio.settings), lifespan="on") as url, httpx.Client(base_url=url, timeout=30) as http:
        again = http.get(f"/api/comparisons/{body['id']}").json()
        assert again == body
        follow = http.post(f"/api/comparisons/{body['id']}/turns", json={"prompt": "still here"})
        assert [a["content"] for a in follow.json()["turns"][1]["answers"]] == ["You said: still here"] * 2


def test_a_follow_up_while_a_turn_is_being_written_is_a_409(studio: Studio) -> None:
    with studio.http() as http, http.stream("POST", "/api/comparisons", json={
            "models": ["fake:fake-echo", "fake:fake-endless"], "prompt": "one", "stream": True}) as streaming:
        comparison_id = None
        lines = streaming.iter_lines()  # held, so that leaving the loop does not close the stream
        for line in lines:
            if line.startswith("data: ") and comparison_id is None:
                comparison_id = orjson.loads(line[6:])["comparison"]["id"]
            if line.startswith("data: ") and '"text"' in line and '"column":1' in line:
                break  # the endless column is being written
        with studio.http() as other:
            refused = other.post(f"/api/comparisons/{comparison_id}/turns", json={"prompt": "two"})
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["type"] == "conflict_error" and error["code"] == "turn_running"
    assert "still running" in error["message"]
    with studio.http() as http:
        assert [t["prompt"] for t in http.get(f"/api/comparisons/{comparison_id}").json()["turns"]] == ["one"]
