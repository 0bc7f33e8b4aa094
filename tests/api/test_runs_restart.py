"""A workflow run survives a SIGKILL of the server: the restarted server resumes the run at the
step that was running, without running (or paying for) the steps that had finished.

The server is a real `easel serve` subprocess (see tests/api/test_jobs_restart.py) on SQLite and
PostgreSQL; its `fake:` endpoint is the OpenAI fake behind a `ChatGate` served from this process.
A chat request whose body carries HOLD gets no answer while the gate is held, so the run's second
step stays `running` until the server is killed.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_jobs_restart import Server, wait_for
from tests.fakes import openai_fake
from tests.fakes.server import serve

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


class ChatGate:
    """Holds requests whose body contains HOLD while `held`; everything else goes to the fake."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.held = True
        self.arrivals = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if b"HOLD" in body and self.held:
            self.arrivals += 1
            gone = asyncio.ensure_future(receive())
            while self.held and not gone.done():
                await asyncio.sleep(0.02)
            if gone.done():
                return
            gone.cancel()
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


@pytest.fixture
def gate() -> Iterator[tuple[ChatGate, str]]:
    wrapped = ChatGate(openai_fake.create_app(models=("fake-echo",)))
    with serve(wrapped) as url:
        try:
            yield wrapped, f"{url}/v1"
        finally:
            wrapped.held = False


def test_a_killed_run_resumes_at_the_interrupted_step(easel_home: Path, database_url: str,
                                                       gate: tuple[ChatGate, str]) -> None:
    fake, base_url = gate
    env = {**os.environ, "EASEL_HOME": str(easel_home), "EASEL_DATABASE_URL": database_url,
           "EASEL_ENDPOINTS": json.dumps([{"name": "fake", "base_url": base_url, "api_key": openai_fake.FAKE_KEY,
                                           "models": ["fake-echo"]}])}

    server = Server(easel_home, env, 1)
    try:
        assert server.http.post("/api/workflows", json={"source": FLOW}).status_code == 201
        run_id = server.http.post("/api/workflows/resumable/runs", json={}).json()["id"]
        wait_for(lambda: fake.arrivals == 1, "the second step to reach the provider")
        before = server.http.get(f"/api/runs/{run_id}").json()
        assert [s["status"] for s in before["steps"]] == ["succeeded", "running", "pending"]
    finally:
        server.kill()
    assert server.process.returncode == -signal.SIGKILL

    fake.held = False
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
