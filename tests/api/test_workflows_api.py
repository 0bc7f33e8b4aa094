"""Workflows over HTTP, on a real server (SQLite and PostgreSQL): save, validate, run, follow the
events, fall back to another model, cancel, retry a step, download the bundle.

Chat steps run on the fake OpenAI-compatible endpoint (`fake:` models, see tests/api/conftest.py):
`fake-echo` answers "You said: <prompt>", so a prompt that carries a JSON list comes back as that
list; `fake-error-500` always fails; `fake-hang` never answers until canceled.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.api.conftest import Studio

DEADLINE = 60.0

PIPELINE = """
name: pipeline
title: A test pipeline
inputs:
  topic: {type: string}
  tone: {type: choice, choices: [calm, loud], default: calm}
steps:
  - id: outline
    kind: chat
    model: fake:fake-error-500
    fallback_models: [fake:fake-echo]
    output: list
    count: 3
    prompt: 'Sections for {{ inputs.topic }}: ["alpha", "beta", "gamma", "delta"]'
  - id: expand
    kind: chat
    model: fake:fake-echo
    for_each: "{{ steps.outline.json }}"
    concurrency: 2
    prompt: "Write about {{ item }} ({{ index }} of {{ steps.outline.json | length }}), {{ inputs.tone }}"
  - id: doc
    kind: markdown
    template: |
      # {{ inputs.topic }}

      {{ steps.expand.items | sections }}
"""


def wait_for(check: Callable[[], Any], what: str, timeout: float = DEADLINE) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)
    return value


def finished(http: httpx.Client, run_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        run = http.get(f"/api/runs/{run_id}").json()
        return run if run["status"] in ("succeeded", "failed", "canceled") else None
    return wait_for(done, f"run {run_id} to end")  # type: ignore[no-any-return]


def events(http: httpx.Client, run_id: str) -> list[tuple[str, dict[str, Any]]]:
    seen: list[tuple[str, dict[str, Any]]] = []
    with http.stream("GET", f"/api/runs/{run_id}/events", timeout=DEADLINE) as answer:
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in answer.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                assert name is not None
                seen.append((name, json.loads(line[6:])))
    return seen


def test_a_saved_workflow_runs_with_fallback_items_in_order_events_and_bundle(studio: Studio) -> None:
    with studio.http() as http:
        saved = http.post("/api/workflows", json={"source": PIPELINE})
        assert saved.status_code == 201, saved.text
        assert saved.json()["builtin"] is False and [s["id"] for s in saved.json()["steps"]] == ["outline", "expand",
                                                                                                  "doc"]
        listed = http.get("/api/workflows").json()
        names = [w["name"] for w in listed["data"]]
        assert {"campaign", "article", "research-brief", "pipeline"} <= set(names) and listed["count"] == len(names)

        started = http.post("/api/workflows/pipeline/runs", json={"inputs": {"topic": "tides"}})
        assert started.status_code == 202, started.text
        run_id = started.json()["id"]
        stream = events(http, run_id)
        run = http.get(f"/api/runs/{run_id}").json()

    assert stream[0][0] == "snapshot" and stream[-1][0] == "done"
    assert {name for name, _ in stream[1:-1]} <= {"step"}
    assert stream[-1][1]["status"] == "succeeded", stream[-1][1]
    last_seen = {s["id"]: s["status"] for name, s in stream if name == "step"}
    assert last_seen == {"outline": "succeeded", "expand": "succeeded", "doc": "succeeded"}

    assert run["status"] == "succeeded" and run["inputs"] == {"topic": "tides", "tone": "calm"}
    outline, expand, doc = run["steps"]
    assert outline["output"]["json"] == ["alpha", "beta", "gamma"]  # trimmed to count: 3
    assert outline["model"] == "fake:fake-echo"  # fake-error-500 failed first
    assert [i["index"] for i in expand["items"]] == [0, 1, 2]
    assert [i["output"]["text"] for i in expand["items"]] == [
        f"You said: Write about {word} ({n} of 3), calm" for n, word in enumerate(["alpha", "beta", "gamma"], 1)]
    markdown = run["outputs"]["markdown"]
    assert markdown.startswith("# tides") and markdown.index("## alpha") < markdown.index("## beta") < \
        markdown.index("## gamma")

    with studio.http() as http:
        bundle = http.get(f"/api/runs/{run_id}/bundle")
    assert bundle.status_code == 200 and bundle.headers["content-type"] == "application/zip"
    assert f"pipeline-{run_id}.zip" in bundle.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(bundle.content))
    assert set(archive.namelist()) == {"pipeline.md", "workflow.yaml", "run.json"}
    assert archive.read("workflow.yaml").decode() == PIPELINE
    record = json.loads(archive.read("run.json"))
    first = record["steps"][0]
    assert first["fallbacks"][0]["model"] == "fake:fake-error-500" and first["model"] == "fake:fake-echo"
    assert "alpha" in first["prompt"] and first["seconds"] is not None
