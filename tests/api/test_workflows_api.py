"""Workflows over HTTP, on a real server (SQLite and PostgreSQL): save, validate, run, follow the
events, fall back to another model, cancel, retry a step, download the bundle.

Chat steps run on the fake OpenAI-compatible endpoint (`fake:` models, see tests/api/conftest.py):
`fake-echo` answers "You said: <prompt>", so a prompt that carries a JSON list comes back as that
list; `fake-error-500` always fails; `fake-endless` streams until the client goes away.
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
    # The snapshot, then each change: together they end with every step done.
    last_seen = {s["id"]: s["status"] for s in stream[0][1]["steps"]}
    last_seen.update({s["id"]: s["status"] for name, s in stream if name == "step"})
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


@pytest.mark.parametrize(("source", "param", "words"), [
    (PIPELINE.replace("{{ steps.outline.json }}", "{{ steps.nothing.json }}"), "steps.expand.for_each",
     "unknown step 'nothing'"),
    (PIPELINE.replace("{{ inputs.tone }}", "{{ steps.doc.text }}"), "steps.expand.prompt", "cycle"),
    (PIPELINE.replace("model: fake:fake-echo", "model: local:illustrator"), "steps.expand.model",
     "a chat step needs a model for chat"),
    (PIPELINE.replace("{{ inputs.topic }}:", "{{ inputs.subject }}:"), "steps.outline.prompt",
     "not declared"),
    (PIPELINE.replace("{{ steps.outline.json }}", "{{ inputs.topic }}"), "steps.expand.for_each", "not a list"),
    (PIPELINE.replace("kind: markdown", "kind: poem"), "steps.doc", "Unknown step kind"),
    (PIPELINE.replace("concurrency: 2", "concurency: 2"), "steps.expand.concurency", "Unknown field"),
    ("name: x\nsteps: [", "source", "not valid YAML"),
])
def test_an_invalid_workflow_is_refused_naming_the_step_and_field(studio: Studio, source: str, param: str,
                                                                   words: str) -> None:
    with studio.http() as http:
        answer = http.post("/api/workflows", json={"source": source})
        assert answer.status_code == 400, answer.text
        error = answer.json()["error"]
        assert error["param"] == param and words in error["message"], error
        assert error["type"] == "invalid_request_error"
        assert http.get("/api/workflows/pipeline").status_code == 404  # nothing was saved


def test_builtins_are_protected_and_bad_run_requests_are_400_or_404(studio: Studio) -> None:
    with studio.http() as http:
        campaign = http.get("/api/workflows/campaign").json()
        assert campaign["builtin"] is True and "name: campaign" in campaign["source"]
        inputs = {i["name"]: i for i in campaign["inputs"]}
        assert inputs["product"]["required"] is True and inputs["count"]["default"] == 3
        assert inputs["aspect_ratio"]["type"] == "choice" and "16:9" in inputs["aspect_ratio"]["choices"]
        assert http.post("/api/workflows", json={"source": campaign["source"]}).status_code == 409
        assert http.delete("/api/workflows/campaign").status_code == 409
        missing = http.post("/api/workflows/campaign/runs", json={"inputs": {"product": "oat milk"}})
        assert (missing.status_code, missing.json()["error"]["param"]) == (400, "inputs.audience")
        unknown = http.post("/api/workflows/campaign/runs",
                            json={"inputs": {"product": "a", "audience": "b", "colour": "red"}})
        assert (unknown.status_code, unknown.json()["error"]["param"]) == (400, "inputs.colour")
        wrong = http.post("/api/workflows/campaign/runs",
                          json={"inputs": {"product": "a", "audience": "b", "aspect_ratio": "5:1"}})
        assert (wrong.status_code, wrong.json()["error"]["param"]) == (400, "inputs.aspect_ratio")
        bad_model = http.post("/api/workflows/campaign/runs",
                              json={"inputs": {"product": "a", "audience": "b"}, "models": {"images": "gpt-5"}})
        assert bad_model.status_code == 400 and "image" in bad_model.json()["error"]["message"]
        assert http.post("/api/workflows/nope/runs", json={"inputs": {}}).status_code == 404
        assert http.get("/api/runs/run_missing").status_code == 404
        assert http.get("/api/runs", params={"workflow": "campaign"}).json()["count"] == 0  # no run was left
        assert http.post("/api/workflows", json={"source": PIPELINE}).status_code == 201
        assert http.delete("/api/workflows/pipeline").status_code == 204
        assert http.delete("/api/workflows/pipeline").status_code == 404


HANGING = """
name: hanging
inputs: {}
steps:
  - id: first
    kind: chat
    model: fake:fake-echo
    prompt: "one"
  - id: stuck
    kind: chat
    model: fake:fake-endless
    prompt: "two: {{ steps.first.text }}"
  - id: last
    kind: markdown
    template: "{{ steps.stuck.text }}"
"""


def test_cancel_stops_the_running_step_and_retry_resumes_there_with_another_model(studio: Studio) -> None:
    with studio.http() as http:
        assert http.post("/api/workflows", json={"source": HANGING}).status_code == 201
        run_id = http.post("/api/workflows/hanging/runs", json={}).json()["id"]
        wait_for(lambda: http.get(f"/api/runs/{run_id}").json()["steps"][1]["status"] == "running",
                 "the hanging step to run")
        early = http.post(f"/api/runs/{run_id}/steps/stuck/retry", json={})
        assert early.status_code == 409  # still running
        assert http.post(f"/api/runs/{run_id}/cancel").status_code == 200
        canceled = finished(http, run_id)
        assert canceled["status"] == "canceled"
        assert [s["status"] for s in canceled["steps"]] == ["succeeded", "canceled", "pending"]
        assert http.post(f"/api/runs/{run_id}/cancel").status_code == 409
        not_failed = http.post(f"/api/runs/{run_id}/steps/first/retry", json={})
        assert (not_failed.status_code, not_failed.json()["error"]["code"]) == (400, "step_not_failed")

        first_answer = canceled["steps"][0]["output"]["text"]
        retried = http.post(f"/api/runs/{run_id}/steps/stuck/retry", json={"model": "fake:fake-echo"})
        assert retried.status_code == 202, retried.text
        assert retried.json()["job_id"] != canceled["job_id"]
        done = finished(http, run_id)
    assert done["status"] == "succeeded", done
    first, stuck, last = done["steps"]
    assert (first["attempts"], first["output"]["text"]) == (1, first_answer)  # not run again
    assert (stuck["attempts"], stuck["model"]) == (2, "fake:fake-echo")
    assert done["models"] == {"stuck": "fake:fake-echo"}
    assert done["outputs"]["markdown"].strip() == f"You said: two: {first_answer}"


QUICK = """
name: quick
inputs: {}
steps:
  - id: slow
    kind: chat
    model: fake:fake-drip-20
    output: list
    count: 2
    prompt: 'Words dripped out slowly, so the follower listens before the quick steps: ["one", "two"]'
  - id: quick
    kind: markdown
    template: "{{ steps.slow.json | join }}"
  - id: items
    kind: chat
    model: fake:fake-echo
    for_each: "{{ steps.slow.json }}"
    concurrency: 1
    prompt: "{{ item }}"
  - id: last
    kind: markdown
    template: "{{ steps.items.text }}"
"""


def test_every_step_shows_running_then_succeeded_on_the_event_stream(studio: Studio) -> None:
    with studio.http() as http:
        assert http.post("/api/workflows", json={"source": QUICK}).status_code == 201
        run_id = http.post("/api/workflows/quick/runs", json={}).json()["id"]
        stream = events(http, run_id)
    assert stream[-1][1]["status"] == "succeeded", stream[-1]
    snapshot = {s["id"]: s["status"] for s in stream[0][1]["steps"]}
    followed = [step for step, status in snapshot.items() if status == "pending"]
    assert {"quick", "items", "last"} <= set(followed), snapshot  # the dripping step outlasts connecting
    for step in followed:
        statuses = [s["status"] for name, s in stream if name == "step" and s["id"] == step]
        distinct = [status for n, status in enumerate(statuses) if n == 0 or statuses[n - 1] != status]
        assert distinct == ["running", "succeeded"], (step, statuses)
    items = [s["items"] for name, s in stream if name == "step" and s["id"] == "items"]
    first_item = [i[0]["status"] for i in items if i]
    assert "running" in first_item and first_item[-1] == "succeeded"


def test_saving_over_a_saved_name_is_a_conflict_unless_replacing_is_asked_for(studio: Studio) -> None:
    calmer = PIPELINE.replace("title: A test pipeline", "title: A calmer pipeline")
    with studio.http() as http:
        assert http.put("/api/workflows/pipeline", json={"source": PIPELINE}).status_code == 201  # new: created
        again = http.post("/api/workflows", json={"source": calmer})
        assert again.status_code == 409, again.text
        error = again.json()["error"]
        assert error["code"] == "workflow_exists" and "PUT /api/workflows/pipeline" in error["message"]
        assert http.get("/api/workflows/pipeline").json()["title"] == "A test pipeline"  # untouched

        replaced = http.put("/api/workflows/pipeline", json={"source": calmer})
        assert (replaced.status_code, replaced.json()["title"]) == (200, "A calmer pipeline")
        assert http.get("/api/workflows/pipeline").json()["source"] == calmer
        by_query = http.post("/api/workflows", params={"replace": "true"}, json={"source": PIPELINE})
        assert (by_query.status_code, by_query.json()["title"]) == (200, "A test pipeline")

        renamed = http.put("/api/workflows/other", json={"source": PIPELINE})
        assert (renamed.status_code, renamed.json()["error"]["code"]) == (400, "name_mismatch")
        assert http.get("/api/workflows/other").status_code == 404
        builtin = http.get("/api/workflows/article").json()["source"]
        assert http.put("/api/workflows/article", json={"source": builtin}).status_code == 409
        listed = [w["name"] for w in http.get("/api/workflows").json()["data"]]
        assert listed.count("pipeline") == 1
