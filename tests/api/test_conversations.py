"""The native conversation API: follow-ups, switching model mid-conversation, failed turns, restarts."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from easel.api.app import create_app
from tests.api.conftest import Fakes, Studio, sse_events, studio_settings
from tests.fakes.server import serve


def test_conversation_with_follow_up_keeps_history_usage_and_timings(studio: Studio) -> None:
    with studio.http() as http:
        conv = http.post("/api/conversations", json={"model": "grok-4", "system_prompt": "Be brief."}).json()
        assert conv["model"] == "xai:grok-4"
        first = http.post(f"/api/conversations/{conv['id']}/messages", json={"content": "name a colour"})
        assert first.status_code == 200, first.text
        assert first.json()["content"] == "You said: name a colour"
        second = http.post(f"/api/conversations/{conv['id']}/messages", json={"content": "another one"}).json()
        assert second["status"] == "complete"

        sent = studio.fakes.openai_app.state.requests[-1]["messages"]
        assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
        assert sent[2]["content"] == "You said: name a colour"

        detail = http.get(f"/api/conversations/{conv['id']}").json()
    assert detail["title"] == "name a colour"
    messages = detail["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    answer = messages[1]
    assert answer["model"] == "xai:grok-4"
    assert answer["prompt_tokens"] > 0 and answer["completion_tokens"] > 0
    assert answer["cost"] is not None and answer["cost"] > 0
    assert answer["latency_ms"] is not None and answer["ttft_ms"] is not None


def test_switching_model_mid_conversation_shares_the_history(studio: Studio) -> None:
    with studio.http() as http:
        conv = http.post("/api/conversations", json={"model": "xai:grok-4"}).json()
        http.post(f"/api/conversations/{conv['id']}/messages", json={"content": "tides are lunar"})
        claude = http.post(f"/api/conversations/{conv['id']}/messages",
                           json={"content": "Is Grok right?", "model": "claude-sonnet-4-5"}).json()
        detail = http.get(f"/api/conversations/{conv['id']}").json()
    assert claude["model"] == "anthropic:claude-sonnet-4-5"
    assert claude["content"] == "You said: Is Grok right?"
    sent = studio.fakes.anthropic_app.state.requests[-1]["messages"]
    assert any("You said: tides are lunar" in json.dumps(m) for m in sent)
    assert [m["model"] for m in detail["messages"] if m["role"] == "assistant"] == [
        "xai:grok-4", "anthropic:claude-sonnet-4-5"]
    assert detail["model"] == "anthropic:claude-sonnet-4-5"


def test_streamed_turn_sends_reasoning_apart_and_stores_it(studio: Studio) -> None:
    with studio.http() as http:
        conv = http.post("/api/conversations", json={"model": "fake:fake-reasoner"}).json()
        with http.stream("POST", f"/api/conversations/{conv['id']}/messages",
                         json={"content": "think", "stream": True}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = sse_events(response)
        detail = http.get(f"/api/conversations/{conv['id']}").json()
    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "done"
    assert "reasoning" in names and "text" in names
    assert names.index("reasoning") < names.index("text")
    text = "".join(body["text"] for name, body in events if name == "text")
    assert text == "You said: think"
    stored = detail["messages"][-1]
    assert stored["content"] == text and stored["reasoning"] and stored["reasoning_tokens"] > 0


def test_failed_turn_is_recorded_and_can_be_retried_with_another_model(studio: Studio) -> None:
    with studio.http() as http:
        conv = http.post("/api/conversations", json={"model": "grok-4"}).json()
        http.post(f"/api/conversations/{conv['id']}/messages", json={"content": "first"})
        failed = http.post(f"/api/conversations/{conv['id']}/messages",
                           json={"content": "second", "model": "fake:fake-error-500"})
        assert failed.status_code == 502
        assert failed.json()["error"]["message"].startswith("fake:")
        detail = http.get(f"/api/conversations/{conv['id']}").json()
        assert [(m["role"], m["status"]) for m in detail["messages"]] == [
            ("user", "complete"), ("assistant", "complete"), ("user", "complete"), ("assistant", "failed")]
        assert detail["messages"][-1]["error"]

        retried = http.post(f"/api/conversations/{conv['id']}/retry", json={"model": "xai:grok-4"})
        assert retried.status_code == 200, retried.text
        assert retried.json()["content"] == "You said: second"
    sent = studio.fakes.openai_app.state.requests[-1]["messages"]
    assert [m["content"] for m in sent] == ["first", "You said: first", "second"]


def test_list_is_paged_searchable_and_delete_removes(studio: Studio) -> None:
    with studio.http() as http:
        ids = [http.post("/api/conversations", json={"model": "grok-4", "title": f"chat {i}"}).json()["id"]
               for i in range(5)]
        page = http.get("/api/conversations", params={"limit": 2, "offset": 0}).json()
        assert page["count"] == 5 and len(page["data"]) == 2
        found = http.get("/api/conversations", params={"q": "chat 3"}).json()
        assert [c["id"] for c in found["data"]] == [ids[3]]
        renamed = http.patch(f"/api/conversations/{ids[0]}", json={"title": "renamed"}).json()
        assert renamed["title"] == "renamed"
        assert http.delete(f"/api/conversations/{ids[0]}").status_code == 204
        gone = http.get(f"/api/conversations/{ids[0]}")
        assert gone.status_code == 404 and gone.json()["error"]["type"] == "not_found_error"
        assert http.get("/api/conversations").json()["count"] == 4


@pytest.mark.parametrize(
    ("path", "body", "status", "param"),
    [
        ("/api/conversations", {"model": "no-such-model"}, 404, "model"),
        ("/api/conversations", {"model": "grok-4", "colour": "red"}, 400, "colour"),
        ("/api/conversations/{id}/messages", {"content": ""}, 400, "content"),
        ("/api/conversations/{id}/messages", {"content": "hi", "max_tokens": -1}, 400, "max_tokens"),
        ("/api/conversations/{id}/messages", {"content": "hi", "model": "nope"}, 404, "model"),
        ("/api/conversations/conv_missing/messages", {"content": "hi"}, 404, None),
    ],
)
def test_bad_input_gets_a_clear_4xx(studio: Studio, path: str, body: dict, status: int, param: str | None) -> None:
    with studio.http() as http:
        conv = http.post("/api/conversations", json={"model": "grok-4"}).json()
        response = http.post(path.format(id=conv["id"]), json=body)
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert error["message"]
        if param:
            assert error["param"] == param
        # A refused turn leaves nothing behind.
        assert http.get(f"/api/conversations/{conv['id']}").json()["messages"] == []


def test_conversation_survives_a_restart(tmp_path: Path, database_url: str, fakes: Fakes) -> None:
    settings = studio_settings(tmp_path, database_url, fakes)
    with serve(create_app(settings), lifespan="on") as url, httpx.Client(base_url=url, timeout=60) as http:
        conv = http.post("/api/conversations", json={"model": "local:smollm2-135m"}).json()
        first = http.post(f"/api/conversations/{conv['id']}/messages",
                          json={"content": "Write a haiku about fog", "max_tokens": 16, "seed": 1}).json()
        assert first["content"].strip() and first["model"] == "local:smollm2-135m"
    with serve(create_app(settings), lifespan="on") as url, httpx.Client(base_url=url, timeout=60) as http:
        follow = http.post(f"/api/conversations/{conv['id']}/messages",
                           json={"content": "Make it darker", "max_tokens": 16}).json()
        assert follow["status"] == "complete" and follow["content"].strip()
        detail = http.get(f"/api/conversations/{conv['id']}").json()
    assert [m["content"] for m in detail["messages"]][:2] == ["Write a haiku about fog", first["content"]]
    assert len(detail["messages"]) == 4


def test_edit_and_resend_replaces_the_message_and_everything_after_it(studio: Studio) -> None:
    with studio.http() as http:
        conv = http.post("/api/conversations", json={"model": "grok-4"}).json()
        for text in ("first", "second", "third"):
            http.post(f"/api/conversations/{conv['id']}/messages", json={"content": text})
        before = http.get(f"/api/conversations/{conv['id']}").json()["messages"]
        edited = before[2]
        assert edited["content"] == "second"
        with http.stream("POST", f"/api/conversations/{conv['id']}/messages",
                         json={"content": "SECOND", "edit_of": edited["id"], "stream": True}) as response:
            assert response.status_code == 200
            events = sse_events(response)
        detail = http.get(f"/api/conversations/{conv['id']}").json()
    sent = studio.fakes.openai_app.state.requests[-1]["messages"]
    assert [m["content"] for m in sent] == ["first", "You said: first", "SECOND"]
    messages = detail["messages"]
    assert [m["content"] for m in messages] == ["first", "You said: first", "SECOND", "You said: SECOND"]
    assert [m["seq"] for m in messages] == [1, 2, 3, 4]
    start = dict(events)["start"]
    assert start["user_message_id"] == messages[2]["id"] != edited["id"]
    assert messages[:2] == before[:2]


@pytest.mark.parametrize(
    ("edit", "body", "status"),
    [
        ("missing", {}, 404),          # no such message
        ("assistant", {}, 400),        # only the user's messages can be edited
        ("other", {}, 404),            # a message of another conversation
        ("user", {"model": "nope"}, 404),  # a refused turn removes nothing
    ],
)
def test_a_refused_edit_removes_nothing(studio: Studio, edit: str, body: dict, status: int) -> None:
    with studio.http() as http:
        other = http.post("/api/conversations", json={"model": "grok-4"}).json()
        http.post(f"/api/conversations/{other['id']}/messages", json={"content": "elsewhere"})
        conv = http.post("/api/conversations", json={"model": "grok-4"}).json()
        http.post(f"/api/conversations/{conv['id']}/messages", json={"content": "keep me"})
        before = http.get(f"/api/conversations/{conv['id']}").json()["messages"]
        ids = {"missing": "msg_missing", "user": before[0]["id"], "assistant": before[1]["id"],
               "other": http.get(f"/api/conversations/{other['id']}").json()["messages"][0]["id"]}
        response = http.post(f"/api/conversations/{conv['id']}/messages",
                             json={"content": "changed", "edit_of": ids[edit], **body})
        assert response.status_code == status, response.text
        assert response.json()["error"]["param"] == ("model" if "model" in body else "edit_of")
        assert http.get(f"/api/conversations/{conv['id']}").json()["messages"] == before


def test_a_regenerated_answer_replaces_the_earlier_one_in_the_history(studio: Studio) -> None:
    with studio.http() as http:
        conv = http.post("/api/conversations", json={"model": "grok-4"}).json()
        http.post(f"/api/conversations/{conv['id']}/messages", json={"content": "first"})
        again = http.post(f"/api/conversations/{conv['id']}/retry", json={"model": "claude-sonnet-4-5"})
        assert again.status_code == 200, again.text
        http.post(f"/api/conversations/{conv['id']}/messages", json={"content": "next"})
        detail = http.get(f"/api/conversations/{conv['id']}").json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant", "assistant", "user", "assistant"]
    assert detail["messages"][2]["model"] == "anthropic:claude-sonnet-4-5"
    sent = studio.fakes.openai_app.state.requests[-1]["messages"]
    assert [m["content"] for m in sent] == ["first", "You said: first", "next"]
