"""Pictures inside a conversation, through the native API: /image, refinement, the tool, failures, retry."""

from __future__ import annotations

import json
import time

import httpx

from tests.api.conftest import Studio, sse_events


def _turn(http: httpx.Client, conversation_id: str, content: str) -> httpx.Response:
    return http.post(f"/api/conversations/{conversation_id}/messages", json={"content": content})


def _png(http: httpx.Client, asset_id: str) -> bytes:
    response = http.get(f"/api/assets/{asset_id}/content")
    assert response.status_code == 200, response.text
    return response.content


def test_image_command_draws_then_a_refinement_redraws_with_both_prompts(studio: Studio) -> None:
    with studio.http() as http:
        conv = http.post("/api/conversations", json={}).json()
        assert conv["model"] == "local:smollm2-135m" and conv["image_model"] == "local:illustrator"
        first = _turn(http, conv["id"], "/image a red car under a tree")
        assert first.status_code == 200, first.text
        [image] = first.json()["extras"]["images"]
        assert image["prompt"] == "a red car under a tree" and image["model"] == "local:illustrator"
        assert image["source"] == "command" and image["width"] > 0 and image["height"] > 0
        assert _png(http, image["asset_id"]).startswith(b"\x89PNG")
        asset = http.get(f"/api/assets/{image['asset_id']}").json()
        assert asset["prompt"] == "a red car under a tree" and asset["job_id"] == image["job_id"]

        second = _turn(http, conv["id"], "make it at night")
        assert second.status_code == 200, second.text
        [refined] = second.json()["extras"]["images"]
        assert refined["asset_id"] != image["asset_id"] and refined["source"] == "refine"
        assert refined["refined_from"] == "a red car under a tree" and refined["instruction"] == "make it at night"
        assert "night" in refined["prompt"]
        assert sum(word in refined["prompt"] for word in ("red", "car", "tree")) >= 2
        assert _png(http, refined["asset_id"]) != _png(http, image["asset_id"])

        detail = http.get(f"/api/conversations/{conv['id']}").json()
    messages = detail["messages"]
    assert detail["title"] == "a red car under a tree"  # titled by the prompt, not "/image ..."
    assert [(m["role"], m["status"]) for m in messages] == [("user", "complete"), ("assistant", "complete")] * 2
    assert "a red car under a tree" in messages[1]["content"]


def test_an_image_turn_streams_progress_then_its_assets(studio: Studio) -> None:
    with studio.http() as http:
        conv = http.post("/api/conversations", json={}).json()
        body = {"content": "draw a lighthouse on a cliff at night", "stream": True}
        with http.stream("POST", f"/api/conversations/{conv['id']}/messages", json=body) as response:
            assert response.status_code == 200
            events = sse_events(response)
    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "done"
    images = [data for name, data in events if name == "image"]
    assert images[0]["status"] == "queued" and images[0]["prompt"] == "a lighthouse on a cliff at night"
    assert any(e["status"] == "running" for e in images)
    assert images[-1]["status"] == "succeeded" and images[-1]["progress"] == 1.0
    [drawn] = images[-1]["images"]
    assert events[-1][1]["extras"]["images"] == [drawn] and drawn["source"] == "request"


def test_image_turns_read_as_text_to_the_chat_model_next(studio: Studio) -> None:
    with studio.http() as http:
        conv = http.post("/api/conversations", json={"model": "fake:fake-echo"}).json()
        assert _turn(http, conv["id"], "hello there").status_code == 200
        assert "tools" not in studio.fakes.openai_app.state.requests[-1]  # no picture talk, no tool
        assert _turn(http, conv["id"], "/image a blue kite").status_code == 200
        answer = _turn(http, conv["id"], "what did you draw?").json()
    assert answer["content"] == "You said: what did you draw?" and answer["status"] == "complete"
    sent = studio.fakes.openai_app.state.requests[-1]
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant"] * 2 + ["user"]
    assert sent["messages"][3]["content"] == "[image generated: a blue kite]"
    assert sent["tools"][-1]["function"]["name"] == "generate_image"


def test_a_tool_calling_model_draws_through_generate_image_then_answers(studio: Studio) -> None:
    with studio.http() as http:
        conv = http.post("/api/conversations", json={"model": "fake:fake-tools"}).json()
        response = _turn(http, conv["id"], "draw a fox in the snow")
        assert response.status_code == 200, response.text
        message = response.json()
        [image] = message["extras"]["images"]
        assert image["source"] == "tool" and image["prompt"] == "draw a fox in the snow"
        assert _png(http, image["asset_id"]).startswith(b"\x89PNG")
    assert message["content"].startswith("Tool said: The image was generated")
    first, second = list(studio.fakes.openai_app.state.requests)[-2:]
    assert first["tools"][-1]["function"]["name"] == "generate_image"
    assert second["tool_choice"] == "none" and second["messages"][-1]["role"] == "tool"


def test_a_failing_image_model_is_a_failed_turn_and_retry_draws_with_another(studio: Studio) -> None:
    with studio.http() as http:
        conv = http.post("/api/conversations", json={"image_model": "openai:gpt-image-1"}).json()
        assert conv["image_model"] == "openai:gpt-image-1"
        failed = _turn(http, conv["id"], "/image trigger-500 a sailing boat")
        assert failed.status_code == 502, failed.text
        error = failed.json()["error"]
        assert error["type"] == "upstream_error" and "openai" in error["message"]
        messages = http.get(f"/api/conversations/{conv['id']}").json()["messages"]
        assert messages[-1]["id"] == failed.headers["X-Easel-Message-Id"]
        assert messages[-1]["status"] == "failed" and messages[-1]["error"]

        patched = http.patch(f"/api/conversations/{conv['id']}", json={"image_model": "illustrator"})
        assert patched.status_code == 200 and patched.json()["image_model"] == "local:illustrator"
        retried = http.post(f"/api/conversations/{conv['id']}/retry", json={})
        assert retried.status_code == 200, retried.text
        [image] = retried.json()["extras"]["images"]
    assert image["model"] == "local:illustrator" and image["prompt"] == "trigger-500 a sailing boat"


def test_bad_image_requests_are_clear_errors_that_store_nothing(studio: Studio) -> None:
    with studio.http() as http:
        conv = http.post("/api/conversations", json={}).json()
        empty = _turn(http, conv["id"], "/image   ")
        assert empty.status_code == 400 and "/image" in empty.json()["error"]["message"]
        assert http.get(f"/api/conversations/{conv['id']}").json()["messages"] == []

        chat_model = http.patch(f"/api/conversations/{conv['id']}", json={"image_model": "grok-4"})
        assert chat_model.status_code == 400 and "not an image model" in chat_model.json()["error"]["message"]
        assert chat_model.json()["error"]["param"] == "image_model"
        unknown = http.post("/api/conversations", json={"image_model": "no-such-painter"})
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "model_not_found"
        nothing = http.patch(f"/api/conversations/{conv['id']}", json={})
        assert nothing.status_code == 400
        too_long = _turn(http, conv["id"], "/image " + "sea " * 2100)
        assert too_long.status_code == 400 and too_long.json()["error"]["param"] == "prompt"


def test_leaving_mid_picture_cancels_its_job_and_keeps_a_stopped_turn(studio: Studio) -> None:
    with studio.http() as http:
        conv = http.post("/api/conversations", json={"image_model": "openai:gpt-image-1"}).json()
        body = {"content": "/image trigger-hang a kite", "stream": True}
        with http.stream("POST", f"/api/conversations/{conv['id']}/messages", json=body) as response:
            lines = response.iter_lines()
            queued = next(json.loads(line[6:]) for line in lines if line.startswith('data: {"job_id"'))
        job_id = queued["job_id"]
        assert queued["status"] == "queued"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            job = http.get(f"/api/jobs/{job_id}").json()
            messages = http.get(f"/api/conversations/{conv['id']}").json()["messages"]
            if job["status"] == "canceled" and len(messages) == 2:
                break
            time.sleep(0.05)
    assert job["status"] == "canceled"
    assert messages[-1]["status"] == "failed" and messages[-1]["error"] == "Stopped before the picture was finished."
