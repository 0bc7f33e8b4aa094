"""Workflow runs against faked remote providers (SQLite and PostgreSQL): cancel reaches a step
whose provider never answers, and the `research-brief` template asks two providers and
synthesises both answers, falling back to another provider when one fails.

The studio here waits a long time for a silent upstream (`upstream_timeout_seconds`), so a run
that ends `canceled` was stopped by the cancel, not by the provider's timeout (which would fail
the step instead).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from easel.api.app import create_app
from tests.api.conftest import Fakes, Studio, studio_settings
from tests.api.test_workflows_api import finished, wait_for
from tests.fakes.server import serve

SILENT_UPSTREAM_SECONDS = 120.0

HANG = """
name: silent
inputs: {}
steps:
  - id: ask
    kind: chat
    model: fake:fake-hang
    output: list
    count: 3
    prompt: 'Three letters: ["a", "b", "c"]'
  - id: fan
    kind: chat
    model: fake:fake-hang
    for_each: "{{ steps.ask.json }}"
    concurrency: 2
    prompt: "{{ item }}"
"""


@pytest.fixture
def patient_studio(tmp_path: Path, database_url: str, fakes: Fakes) -> Iterator[Studio]:
    settings = studio_settings(tmp_path, database_url, fakes, upstream_timeout_seconds=SILENT_UPSTREAM_SECONDS)
    with serve(create_app(settings), lifespan="on") as url:
        yield Studio(url, settings, fakes)


def test_cancel_stops_a_step_waiting_on_a_provider_that_sends_nothing(patient_studio: Studio) -> None:
    with patient_studio.http() as http:
        saved = http.post("/api/workflows", json={"source": HANG})
        assert saved.status_code == 201, saved.text
        run_id = http.post("/api/workflows/silent/runs", json={}).json()["id"]
        wait_for(lambda: http.get(f"/api/runs/{run_id}").json()["steps"][0]["status"] == "running",
                 "the silent step to run")
        assert http.post(f"/api/runs/{run_id}/cancel").status_code == 200
        run = finished(http, run_id)
    assert run["status"] == "canceled", run
    assert [s["status"] for s in run["steps"]] == ["canceled", "pending"]
    assert run["steps"][0]["error"] is None  # stopped, not failed by a timeout


def test_cancel_stops_every_running_item_of_a_silent_for_each_step(patient_studio: Studio) -> None:
    source = HANG.replace("model: fake:fake-hang\n    output", "model: fake:fake-echo\n    output")
    with patient_studio.http() as http:
        assert http.post("/api/workflows", json={"source": source}).status_code == 201
        run_id = http.post("/api/workflows/silent/runs", json={}).json()["id"]

        def two_items_running() -> bool:
            items = http.get(f"/api/runs/{run_id}").json()["steps"][1]["items"]
            return [i["status"] for i in items].count("running") == 2
        wait_for(two_items_running, "two items of the silent step to run")
        assert http.post(f"/api/runs/{run_id}/cancel").status_code == 200
        run = finished(http, run_id)
    assert run["status"] == "canceled", run
    ask, fan = run["steps"]
    assert (ask["status"], fan["status"]) == ("succeeded", "canceled")
    assert [i["status"] for i in fan["items"]] == ["canceled", "canceled", "canceled"]


def test_research_brief_asks_two_providers_and_synthesises_both_answers(studio: Studio) -> None:
    question = "Why is the sky blue?"
    with studio.http() as http:
        started = http.post("/api/workflows/research-brief/runs", json={
            "inputs": {"question": question, "length": 200},
            "models": {"synthesis": "fake:fake-echo"}})  # the answers come from the template's own models
        assert started.status_code == 202, started.text
        run = finished(http, started.json()["id"])
    assert run["status"] == "succeeded", run
    answer_a, answer_b, synthesis, brief = run["steps"]
    assert (answer_a["model"], answer_b["model"]) == ("anthropic:claude-sonnet-4-5", "openai:gpt-5")
    assert question in answer_a["output"]["text"] and question in answer_b["output"]["text"]
    # The synthesis model (an echo) was sent both answers, each under its own heading.
    said = synthesis["output"]["text"]
    assert f"Answer A:\n{answer_a['output']['text']}" in said and f"Answer B:\n{answer_b['output']['text']}" in said
    markdown = run["outputs"]["markdown"]
    assert markdown.startswith(f"# {question}")
    assert "## Answer A (anthropic:claude-sonnet-4-5)" in markdown and "## Answer B (openai:gpt-5)" in markdown
    anthropic_models = [r["model"] for r in studio.fakes.anthropic_app.state.requests]
    assert "claude-sonnet-4-5" in anthropic_models


def test_research_brief_step_whose_provider_fails_falls_back_to_the_templates_next_model(studio: Studio) -> None:
    with studio.http() as http:
        started = http.post("/api/workflows/research-brief/runs", json={
            "inputs": {"question": "Is tea better than coffee?", "length": 100},
            "models": {"answer_a": "fake:fake-error-503", "synthesis": "fake:fake-echo"}})
        assert started.status_code == 202, started.text
        run = finished(http, started.json()["id"])
        bundle_record = http.get(f"/api/runs/{run['id']}/bundle")
    assert run["status"] == "succeeded", run
    answer_a = run["steps"][0]
    # The run's override failed, so the template's first fallback (Gemini) answered.
    assert answer_a["model"] == "gemini:gemini-2.5-pro", answer_a
    assert "Is tea better than coffee?" in answer_a["output"]["text"]
    assert "## Answer A (gemini:gemini-2.5-pro)" in run["outputs"]["markdown"]
    record = json.loads(zipfile.ZipFile(io.BytesIO(bundle_record.content)).read("run.json"))
    assert [f["model"] for f in record["steps"][0]["fallbacks"]] == ["fake:fake-error-503"]
