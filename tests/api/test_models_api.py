"""GET /api/models: the catalog with availability, filtered the way the UI and scripts need."""

from __future__ import annotations

from pathlib import Path

import openai
import pytest

from easel.api.app import create_app
from tests.api.conftest import Fakes, Studio, studio_settings
from tests.fakes.server import serve


def test_filters_and_availability(studio: Studio) -> None:
    with studio.http() as http:
        chat = http.get("/api/models", params={"task": "chat"}).json()
        assert chat["count"] > 300
        by_id = {m["id"]: m for m in chat["data"]}
        assert by_id["local:smollm2-135m"]["available"] is True
        assert by_id["xai:grok-4"]["available"] is True  # the test server has a key for xai's fake
        assert by_id["mistral:mistral-large-latest"]["available"] is False
        assert "MISTRAL_API_KEY" in by_id["mistral:mistral-large-latest"]["unavailable_reason"]

        reasoning = http.get("/api/models", params={"provider": "xai", "capability": "reasoning"}).json()
        assert reasoning["data"] and all(m["capabilities"]["reasoning"] for m in reasoning["data"])
        assert {m["provider"] for m in reasoning["data"]} == {"xai"}

        usable = http.get("/api/models", params={"available": "true"}).json()
        assert all(m["available"] for m in usable["data"])
        assert "fake:fake-echo" in {m["id"] for m in usable["data"]}

        one = http.get("/api/models/claude-sonnet-4-5").json()
        assert one["id"] == "anthropic:claude-sonnet-4-5" and one["context_window"] > 100_000

        bad_cap = http.get("/api/models", params={"capability": "telepathy"})
        bad_task = http.get("/api/models", params={"task": "poetry"})
        unknown_route = http.get("/api/nothing-here")
    assert bad_cap.status_code == 400 and bad_cap.json()["error"]["param"] == "capability"
    assert bad_task.status_code == 400 and bad_task.json()["error"]["param"] == "task"
    assert unknown_route.status_code == 404 and unknown_route.json()["error"]["type"] == "not_found_error"


def test_reasoning_effort_on_a_model_without_reasoning_is_ignored_with_a_warning(studio: Studio) -> None:
    with studio.http() as http:
        response = http.post("/v1/chat/completions", json={
            "model": "fake:fake-echo", "reasoning_effort": "high", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 200
    assert "reasoning_effort ignored" in response.headers["warning"]
    assert "reasoning_effort" not in studio.fakes.openai_app.state.requests[-1]


def test_configured_api_keys_are_required(tmp_path: Path, database_url: str, fakes: Fakes) -> None:
    settings = studio_settings(tmp_path, database_url, fakes, api_keys=["sk-easel-test"])
    with serve(create_app(settings), lifespan="on") as url:
        good = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-easel-test", max_retries=0)
        bad = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-wrong", max_retries=0)
        assert good.models.retrieve("grok-4").id == "xai:grok-4"
        with pytest.raises(openai.AuthenticationError) as caught:
            bad.models.list()
        assert caught.value.body["type"] == "authentication_error"


def test_each_model_says_whether_its_providers_own_web_search_works(studio: Studio) -> None:
    with studio.http() as http:
        def native(model: str) -> bool:
            record = http.get(f"/api/models/{model}").json()
            return bool(record["native_web_search"])

        assert native("openai:gpt-5") and native("anthropic:claude-sonnet-4-5") and native("gemini:gemini-2.5-flash")
        # xAI's models can search, but its search left chat completions: the flag follows the provider.
        grok = http.get("/api/models/xai:grok-4").json()
        assert grok["capabilities"]["web_search"] and not grok["native_web_search"]
        assert not native("fake:fake-echo") and not native("local:smollm2-135m")
