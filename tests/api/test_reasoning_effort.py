"""reasoning_effort onto each provider's own control, read from the wire bodies the fakes receive."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import Studio


def _ask(studio: Studio, model: str, effort: str) -> httpx.Response:
    with studio.http() as http:
        response = http.post("/v1/chat/completions", json={
            "model": model, "reasoning_effort": effort, "messages": [{"role": "user", "content": "hello"}]})
    assert response.status_code == 200, response.text
    return response


@pytest.mark.parametrize("effort", ["none", "low", "high"])
def test_openai_takes_the_effort_as_is(studio: Studio, effort: str) -> None:
    response = _ask(studio, "openai:gpt-5", effort)
    assert studio.fakes.openai_app.state.requests[-1]["reasoning_effort"] == effort
    assert "warning" not in response.headers


def test_grok_4_always_reasons_so_the_effort_is_dropped_with_a_warning(studio: Studio) -> None:
    response = _ask(studio, "xai:grok-4", "high")
    assert "reasoning_effort" not in studio.fakes.openai_app.state.requests[-1]
    assert "always reasons" in response.headers["warning"]


def test_a_model_without_reasoning_ignores_the_effort_in_a_conversation_too(studio: Studio) -> None:
    with studio.http() as http:
        conv = http.post("/api/conversations", json={"model": "fake:fake-echo"}).json()
        response = http.post(f"/api/conversations/{conv['id']}/messages",
                             json={"content": "hi", "reasoning_effort": "high"})
    assert response.status_code == 200
    assert "reasoning_effort ignored" in response.headers["warning"]
    assert "reasoning_effort" not in studio.fakes.openai_app.state.requests[-1]


@pytest.mark.parametrize(("effort", "thinking"), [
    ("none", None), ("low", {"type": "enabled", "budget_tokens": 2048}),
    ("high", {"type": "enabled", "budget_tokens": 24576})])
def test_anthropic_thinking_budget(studio: Studio, effort: str, thinking: dict | None) -> None:
    _ask(studio, "anthropic:claude-sonnet-4-5", effort)
    assert studio.fakes.anthropic_app.state.requests[-1].get("thinking") == thinking


@pytest.mark.parametrize(("effort", "budget"), [("none", 0), ("medium", 8192)])
def test_gemini_thinking_budget(studio: Studio, effort: str, budget: int) -> None:
    _ask(studio, "gemini:gemini-2.5-flash", effort)
    config = studio.fakes.gemini_app.state.requests[-1]["body"]["generationConfig"]["thinkingConfig"]
    assert config["thinkingBudget"] == budget
    assert config.get("includeThoughts", False) is (budget > 0)


def test_gemini_pro_cannot_stop_thinking_so_none_sends_the_least_budget_with_a_warning(studio: Studio) -> None:
    response = _ask(studio, "gemini:gemini-2.5-pro", "none")  # the fake refuses budget 0 for it, as Google does
    config = studio.fakes.gemini_app.state.requests[-1]["body"]["generationConfig"]["thinkingConfig"]
    assert config == {"thinkingBudget": 128, "includeThoughts": True}
    assert "cannot turn thinking off" in response.headers["warning"]
    assert "gemini:gemini-2.5-pro" in response.headers["warning"]
    with studio.http() as http:
        listed = {m["id"]: m for m in http.get("/api/models", params={"task": "chat"}).json()["data"]}
    assert listed["gemini:gemini-2.5-pro"]["capabilities"]["reasoning_off"] is False  # catalog data decides
    assert listed["gemini:gemini-2.5-flash"]["capabilities"]["reasoning_off"] is True


def test_gemini_pro_still_takes_the_other_efforts_as_budgets(studio: Studio) -> None:
    response = _ask(studio, "gemini:gemini-2.5-pro", "low")
    config = studio.fakes.gemini_app.state.requests[-1]["body"]["generationConfig"]["thinkingConfig"]
    assert config == {"thinkingBudget": 1024, "includeThoughts": True}
    assert "warning" not in response.headers
