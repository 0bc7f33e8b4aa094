"""A workflow run survives a SIGKILL of the server: the restarted server resumes the run at the
step that was running, without running (or paying for) the steps that had finished.

The server is a real `easel serve` subprocess (see tests/api/test_jobs_restart.py) on SQLite and
PostgreSQL; its `fake:` endpoint is the OpenAI fake behind the jobs test's `Gate`, served from this process.
A chat request whose body carries HOLD gets no answer until the gate releases it, so the run's second
step stays `running` until the server is killed.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.test_jobs_restart import Gate, Server, wait_for
from tests.fakes import openai_fake
from tests.fakes.server import serve

HOLD = "HOLD"
FLOW = """
name: resumable
inputs: {}
steps:
  - id: first
    kind: chat
    model: fake:fake-echo
    prompt: "the first step"
  - id: second
    kind: chat
    model: fake:fake-echo
    prompt: "HOLD after {{ steps.first.text }}"
  - id: doc
    kind: markdown
    template: "{{ steps.second.text }}"
"""


@pytest.fixture
def gate() -> Iterator[tuple[Gate, str]]:
    wrapped = Gate(openai_fake.create_app(models=("fake-echo",)))
    wrapped.held = frozenset({HOLD})
    with serve(wrapped) as url:
        try:
            yield wrapped, f"{url}/v1"
        finally:
            wrapped.held = frozenset()


def test_a_killed_run_resumes_at_the_interrupted_step(easel_home: Path, database_url: str,
                                                       gate: tuple[Gate, str]) -> None:
    fake, base_url = gate
    env = {**os.environ, "EASEL_HOME": str(easel_home), "EASEL_DATABASE_URL": database_url,
           "EASEL_ENDPOINTS": json.dumps([{"name": "fake", "base_url": base_url, "api_key": openai_fake.FAKE_KEY,
                                           "models": ["fake-echo"]}])}

    server = Server(easel_home, env, 1)
    try:
        assert server.http.post("/api/workflows", json={"source": FLOW}).status_code == 201
        run_id = server.http.post("/api/workflows/resumable/runs", json={}).json()["id"]
        wait_for(lambda: fake.arrivals.count(HOLD) == 1, "the second step to reach the provider")
        before = server.http.get(f"/api/runs/{run_id}").json()
        assert [s["status"] for s in before["steps"]] == ["succeeded", "running", "pending"]
    finally:
        server.kill()
    assert server.process.returncode == -signal.SIGKILL

    fake.release(HOLD)
    server = Server(easel_home, env, 2)
    try:
        wait_for(lambda: server.http.get(f"/api/runs/{run_id}").json()["status"] == "succeeded",
                 "the run to finish after the restart")
        after = server.http.get(f"/api/runs/{run_id}").json()
    finally:
        server.stop()
    first, second, doc = after["steps"]
    assert first["attempts"] == 1 and first["output"] == before["steps"][0]["output"]
    assert second["attempts"] == 2 and second["status"] == "succeeded"
    prompts = [m["content"] for body in fake.app.state.requests for m in body["messages"] if m["role"] == "user"]
    assert prompts.count("the first step") == 1  # never asked (or paid for) twice
    assert after["outputs"]["markdown"].strip() == f"You said: HOLD after {first['output']['text']}"
    assert after["job_id"] == before["job_id"]
