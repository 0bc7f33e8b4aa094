"""Jobs survive the process, end to end: a real `easel serve` is killed with SIGKILL while
image jobs run and others wait; each restart re-runs or fails the interrupted jobs, runs the
queued ones, and leaves every stored asset whole.

The server is a subprocess (`python -m easel.cli serve`) on the test's EASEL_HOME and on
`database_url` (SQLite and PostgreSQL), with EASEL_JOB_WORKERS=2. Its OpenAI provider points at
the images fake behind a `Gate` served from this process: a request carrying a held marker
never gets an answer while the marker is held, so its job stays `running` for as long as the
test wants. The worker count is the lever that makes jobs queue: two held jobs occupy both
workers (the OpenAI provider's per-model limit, 4, does not bind), so the rest wait `queued`.

Three lives of one server:
1. `once` and `twice` hang (attempt 1), three more wait queued -> SIGKILL. A stale temporary
   file and an orphan blob are planted, as a crash in the middle of saving an asset leaves them.
2. `once` is released: it runs again (attempt 2) and succeeds, the queued three succeed, the
   sweep has removed the crash's leftovers; `twice` hangs again (attempt 2) -> SIGKILL.
3. `twice` is out of attempts: it fails with the "interrupted" reason, not run a third time.
Then every asset is listed, readable, a valid PNG matching its digest, and nothing stray is
left under EASEL_HOME/assets.

Nothing here waits for time: every wait is for a condition (a status, a request seen by the
gate, a process ended), each with a generous deadline.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from easel.storage.jobs import INTERRUPTED_CODE, INTERRUPTED_REASON
from tests.fakes import openai_images_fake
from tests.fakes.server import free_port, serve

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 30.0  # seconds; generous: only a broken build ever gets near it
KEY = "sk-fake-openai"
MODEL = "gpt-image-1"
ONCE, TWICE = "hold-once", "hold-twice"  # prompt markers the gate can hold
STALE = time.time() - 7 * 24 * 3600  # older than any sweep threshold


class Gate:
    """ASGI wrapper of a fake: a request whose body carries a held marker gets no
    answer until the marker is released (then it goes to the fake) or its client goes away.

    `held` is replaced whole from the test's thread (an atomic assignment) and read on the
    fake's thread; `arrivals` and `disconnects` are appended there and read here.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.held: frozenset[str] = frozenset()
        self.arrivals: list[str] = []  # a marker, each time a held request came in
        self.disconnects: list[str] = []  # a marker, each time a held request's client went away

    def release(self, marker: str) -> None:
        self.held = self.held - {marker}

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
        marker = _marker(body, self.held)
        if marker is not None:
            self.arrivals.append(marker)
            gone = asyncio.ensure_future(receive())  # after the body, receive() answers only a disconnect
            while marker in self.held and not gone.done():
                await asyncio.sleep(0.02)
            if gone.done():
                self.disconnects.append(marker)
                return
            gone.cancel()
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _marker(body: bytes, held: frozenset[str]) -> str | None:
    """The held marker the request's body carries (in an image prompt or a chat message), if any."""
    return next((m for m in held if m.encode() in body), None)


class Server:
    """One `easel serve` process on the test's home and database."""

    def __init__(self, home: Path, env: dict[str, str], life: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home / f"server-{life}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "easel.cli", "serve", "--port", str(self.port)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        self.http = httpx.Client(base_url=self.url, timeout=DEADLINE)
        try:
            wait_for(self._ready, "the server to answer /healthz")
        except BaseException:
            self.kill()
            raise

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the server exited with {self.process.returncode}:\n{self.output()}")
        try:
            return self.http.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def job(self, job_id: str) -> dict[str, Any]:
        answer = self.http.get(f"/api/jobs/{job_id}")
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def submit(self, prompt: str) -> str:
        answer = self.http.post("/api/images", json={"model": MODEL, "prompt": prompt})
        assert answer.status_code == 202, answer.text
        job_id: str = answer.json()["id"]
        return job_id

    def wait_done(self, job_id: str) -> dict[str, Any]:
        wait_for(lambda: self.job(job_id)["status"] in ("succeeded", "failed", "canceled"), f"job {job_id} to end")
        return self.job(job_id)

    def kill(self) -> int:
        """SIGKILL, and reap it: its process id is gone, which is how the next start knows that
        its jobs were interrupted. Answers the exit status (-SIGKILL unless it had died already)."""
        self.http.close()
        self.process.send_signal(signal.SIGKILL)  # a no-op when it has already exited
        return self.process.wait(timeout=DEADLINE)

    def stop(self) -> None:
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_for(check: Callable[[], bool], what: str, *, timeout: float = DEADLINE) -> None:
    """Poll `check` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def gate() -> Iterator[tuple[Gate, str]]:
    """The images fake behind a gate, on 127.0.0.1; its `/v1` base URL."""
    wrapped = Gate(openai_images_fake.create_app(api_key=KEY))
    with serve(wrapped) as url:
        try:
            yield wrapped, f"{url}/v1"
        finally:
            wrapped.held = frozenset()  # let anything still held go, so the fake stops promptly


def _plant_crash_leftovers(objects: Path) -> tuple[Path, Path]:
    """What a SIGKILL in the middle of saving an asset can leave: a temporary file (killed
    while writing) and a complete blob no row names (killed between the file and the row)."""
    orphan_bytes = b"bytes whose asset row was never written"
    sha = hashlib.sha256(orphan_bytes).hexdigest()
    orphan = objects / sha[:2] / sha[2:]
    temp = objects / sha[:2] / ".tmp-killed-mid-write"
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(orphan_bytes)
    temp.write_bytes(b"\x89PNG\r\n\x1a\n half an image")
    for path in (orphan, temp):
        os.utime(path, (STALE, STALE))
    return temp, orphan


def test_jobs_survive_sigkill_of_the_server(easel_home: Path, database_url: str, gate: tuple[Gate, str]) -> None:
    fake, base_url = gate
    env = {
        **os.environ,
        "EASEL_HOME": str(easel_home),
        "EASEL_DATABASE_URL": database_url,
        "EASEL_JOB_WORKERS": "2",
        "EASEL_BASE_URLS": json.dumps({"openai": base_url}),
        "EASEL_KEYS": json.dumps({"openai": KEY}),
    }
    objects = easel_home / "assets" / "objects"
    fake.held = frozenset({ONCE, TWICE})

    # Life 1: two jobs hang inside the provider call, three wait behind them; then SIGKILL.
    server = Server(easel_home, env, 1)
    try:
        once = server.submit(f"a kite, {ONCE}")
        twice = server.submit(f"a lighthouse, {TWICE}")
        queued = [server.submit(f"queued picture {i}") for i in range(3)]
        wait_for(lambda: sorted(fake.arrivals) == [ONCE, TWICE], "both held requests to reach the provider")
        assert [server.job(j)["status"] for j in (once, twice)] == ["running", "running"]
        assert [server.job(j)["status"] for j in queued] == ["queued"] * 3
    finally:
        server.kill()
    assert server.process.returncode == -signal.SIGKILL, server.output()
    wait_for(lambda: sorted(fake.disconnects) == [ONCE, TWICE], "the fake to see both held connections close")
    temp, orphan = _plant_crash_leftovers(objects)

    # Life 2: `once` runs again and succeeds, the queued ones run; `twice` hangs again; SIGKILL.
    fake.release(ONCE)
    server = Server(easel_home, env, 2)
    try:
        assert not temp.exists() and not orphan.exists(), "startup's sweep left a crash's files behind"
        done = {job_id: server.wait_done(job_id) for job_id in [once, *queued]}
        wait_for(lambda: fake.arrivals.count(TWICE) == 2, "the interrupted `twice` job to start again")
        again = server.job(twice)
        assert (again["status"], again["attempts"]) == ("running", 2)
    finally:
        server.kill()
    assert server.process.returncode == -signal.SIGKILL, server.output()
    assert (done[once]["status"], done[once]["attempts"], done[once]["error"]) == ("succeeded", 2, None)
    for job_id in queued:
        assert (done[job_id]["status"], done[job_id]["attempts"]) == ("succeeded", 1), done[job_id]
    assert fake.arrivals.count(ONCE) == 1  # attempt 2 of `once` was not held: it reached the fake directly

    # Life 3: `twice` has used both attempts; it fails with the clear reason instead of a third run.
    # Release only once the fake has seen life 2's held connection close: released earlier, that
    # dead request would be passed through and look like a third run.
    wait_for(lambda: fake.disconnects.count(TWICE) == 2, "the fake to see life 2's held connection close")
    fake.release(TWICE)
    server = Server(easel_home, env, 3)
    try:
        failed = server.wait_done(twice)
        assert (failed["status"], failed["error"], failed["error_code"]) == ("failed", INTERRUPTED_REASON,
                                                                            INTERRUPTED_CODE)
        assert failed["attempts"] == 2 and failed["outputs"] is None
        _check_assets(server, {job_id: server.job(job_id) for job_id in done}, objects)
    finally:
        server.stop()
    image_requests = [body for body in fake.app.state.requests if TWICE in body["prompt"]]
    assert image_requests == [], "a held request must never have reached the fake"


def _check_assets(server: Server, jobs: dict[str, dict[str, Any]], objects: Path) -> None:
    """Every asset the jobs name is listed, readable, a valid PNG with its digest; nothing else is
    stored, and no temporary file is left."""
    named = {asset_id for job in jobs.values() for asset_id in job["outputs"]["assets"]}
    assert len(named) == len(jobs)  # one image per job, none lost, none doubled by the re-run
    listed = server.http.get("/api/assets", params={"limit": 200}).json()
    assert listed["count"] == len(named) and {a["id"] for a in listed["data"]} == named
    expected_files: set[str] = set()
    for asset in listed["data"]:
        assert asset["job_id"] in jobs and asset["mime_type"] == "image/png"
        content = server.http.get(f"/api/assets/{asset['id']}/content")
        assert content.status_code == 200
        assert (len(content.content), hashlib.sha256(content.content).hexdigest()) == (asset["size_bytes"],
                                                                                        asset["sha256"])
        with Image.open(io.BytesIO(content.content)) as picture:
            assert picture.format == "PNG"
            picture.verify()  # a truncated or corrupt file raises here
        expected_files.update(sha for sha in (asset["sha256"], asset["thumbnail_sha256"]) if sha)
    stored = {p.parent.name + p.name for p in objects.rglob("*") if p.is_file()}
    assert stored == expected_files, "stray or missing files under EASEL_HOME/assets/objects"
    leftovers = list(objects.parent.rglob(".tmp-*"))
    assert leftovers == [], f"temporary files left: {leftovers}"
