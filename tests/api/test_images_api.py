"""Images through the API: jobs with progress, assets with metadata, OpenAI's images endpoint, bad input."""

from __future__ import annotations

import base64
import io
import json
import struct
import time
import zlib

import httpx
import openai
import pytest
from PIL import Image

from tests.api.conftest import Studio


def _events(http: httpx.Client, job_id: str) -> list[tuple[str, dict]]:
    events, name = [], None
    with http.stream("GET", f"/api/jobs/{job_id}/events", timeout=60) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[6:])))
    return events


def _final_status(http: httpx.Client, job_id: str) -> str:
    name, body = _events(http, job_id)[-1]
    return body["job"]["status"] if name == "snapshot" else name


def _png(width: int = 64, height: int = 48, colour: str = "orange") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def _bomb_png(width: int = 50_000, height: int = 50_000) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_image_job_runs_with_progress_and_stores_assets_with_metadata(studio: Studio) -> None:
    with studio.http() as http:
        submitted = http.post("/api/images", json={"model": "gpt-image-1", "prompt": "a red kite over dunes",
                                                    "n": 2, "aspect_ratio": "3:2"})
        assert submitted.status_code == 202, submitted.text
        job = submitted.json()
        assert job["status"] in ("queued", "running") and job["task"] == "image"
        names = [name for name, _ in _events(http, job["id"])]
        assert names[0] == "snapshot"  # a job that already ended is a snapshot alone
        assert _final_status(http, job["id"]) == "succeeded"
        done = http.get(f"/api/jobs/{job['id']}").json()
        assert done["status"] == "succeeded" and done["cost"] > 0
        asset_ids = done["outputs"]["assets"]
        assert len(asset_ids) == 2

        asset = http.get(f"/api/assets/{asset_ids[0]}").json()
        assert asset["model"] == "openai:gpt-image-1" and asset["prompt"] == "a red kite over dunes"
        assert (asset["width"], asset["height"]) == (1536, 1024)
        content = http.get(f"/api/assets/{asset_ids[0]}/content")
        assert content.headers["content-type"] == "image/png"
        picture = Image.open(io.BytesIO(content.content))
        assert picture.text["prompt"] == "a red kite over dunes"
        assert http.get(f"/api/assets/{asset_ids[0]}/thumbnail").status_code == 200

        listed = http.get("/api/assets", params={"q": "kite", "model": "openai:gpt-image-1"}).json()
        assert listed["count"] == 2
    sent = studio.fakes.images_app.state.requests[-1]
    assert sent["size"] == "1536x1024" and sent["n"] == 2


def test_idempotency_key_gives_one_job(studio: Studio) -> None:
    with studio.http() as http:
        body = {"model": "gpt-image-1", "prompt": "a lighthouse"}
        first = http.post("/api/images", json=body, headers={"Idempotency-Key": "k-1"})
        second = http.post("/api/images", json=body, headers={"Idempotency-Key": "k-1"})
        assert first.status_code == 202 and second.status_code == 200
        assert first.json()["id"] == second.json()["id"]
        assert http.get("/api/jobs", params={"task": "image"}).json()["count"] == 1


def test_openai_sdk_images_generate(studio: Studio) -> None:
    client = openai.OpenAI(base_url=f"{studio.url}/v1", api_key="x", max_retries=0, timeout=60)
    result = client.images.generate(model="gpt-image-1", prompt="a blue teapot", size="1024x1024", n=1)
    picture = Image.open(io.BytesIO(base64.b64decode(result.data[0].b64_json)))
    assert picture.size == (1024, 1024)

    linked = client.images.generate(model="dall-e-3", prompt="a green door", response_format="url")
    with studio.http() as http:
        assert http.get(linked.data[0].url).headers["content-type"] == "image/png"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "gpt-image-1", "prompt": "x", "n": 0}, "n"),
        ({"model": "gpt-image-1", "prompt": "x", "n": 99}, "n"),
        ({"model": "gpt-image-1", "prompt": "x", "aspect_ratio": "5:4"}, "aspect_ratio"),
        ({"model": "gpt-image-1", "prompt": "x", "aspect_ratio": "21:9"}, "aspect_ratio"),
        ({"model": "gpt-image-1", "prompt": ""}, None),
        ({"model": "gpt-image-1", "prompt": "x" * 9000}, "prompt"),
        ({"model": "gpt-image-1", "prompt": "x", "width": 0, "height": 0}, "width"),
        ({"model": "gpt-image-1", "prompt": "x", "width": 50000, "height": 50000}, "width"),
        ({"model": "gpt-image-1", "prompt": "x", "steps": 20}, "steps"),
        ({"model": "grok-4", "prompt": "x"}, "model"),
        ({"model": "no-such-image-model", "prompt": "x"}, "model"),
    ],
)
def test_bad_image_requests_are_4xx_and_leave_no_job(studio: Studio, body: dict, param: str | None) -> None:
    with studio.http() as http:
        response = http.post("/api/images", json=body)
        assert 400 <= response.status_code < 500, response.text
        error = response.json()["error"]
        assert error["message"]
        if param:
            assert error["param"] == param
        assert http.get("/api/jobs").json()["count"] == 0


def test_unsupported_aspect_ratio_lists_the_supported_ones(studio: Studio) -> None:
    with studio.http() as http:
        error = http.post("/api/images", json={"model": "gpt-image-1", "prompt": "x", "aspect_ratio": "21:9"}).json()
    assert "supported" in error["error"]["message"] and "1:1" in error["error"]["message"]


@pytest.mark.parametrize("trigger", ["trigger-500", "trigger-broken"])
def test_provider_failures_fail_the_job_not_the_worker(studio: Studio, trigger: str) -> None:
    with studio.http() as http:
        bad = http.post("/api/images", json={"model": "gpt-image-1", "prompt": f"a cat {trigger}"}).json()
        assert _final_status(http, bad["id"]) == "failed"
        failed = http.get(f"/api/jobs/{bad['id']}").json()
        assert failed["status"] == "failed" and failed["error"].startswith("openai")
        good = http.post("/api/images", json={"model": "gpt-image-1", "prompt": "a dog"}).json()
        assert _final_status(http, good["id"]) == "succeeded"


def test_cancel_running_then_finished(studio: Studio) -> None:
    with studio.http() as http:
        job = http.post("/api/images", json={"model": "gpt-image-1", "prompt": "slow trigger-hang"}).json()
        deadline = time.monotonic() + 30
        while http.get(f"/api/jobs/{job['id']}").json()["status"] != "running":
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.02)
        assert http.post(f"/api/jobs/{job['id']}/cancel").status_code == 200
        assert _final_status(http, job["id"]) == "canceled"
        again = http.post(f"/api/jobs/{job['id']}/cancel")
        assert again.status_code == 409 and again.json()["error"]["code"] == "job_finished"
        assert http.post("/api/jobs/job_nope/cancel").status_code == 404
    deadline = time.monotonic() + 10
    while "slow trigger-hang" not in list(studio.fakes.images_app.state.disconnects):
        assert time.monotonic() < deadline, "the upstream request was not closed on cancel"
        time.sleep(0.05)


def test_cancel_queued_job_is_immediate(studio: Studio) -> None:
    with studio.http() as http:
        blockers = [http.post("/api/images", json={"model": "gpt-image-1", "prompt": f"hold {i} trigger-hang"}).json()
                    for i in range(5)]
        queued = http.post("/api/images", json={"model": "gpt-image-1", "prompt": "waiting"}).json()
        response = http.post(f"/api/jobs/{queued['id']}/cancel").json()
        assert response["status"] in ("canceled", "running")
        assert _final_status(http, queued["id"]) == "canceled"
        for job in blockers:
            http.post(f"/api/jobs/{job['id']}/cancel")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"just some text, not a picture", "image"),
        (_png()[:40], ""),
        (_bomb_png(), ""),
    ],
)
def test_bad_uploads_are_refused_and_leave_nothing(studio: Studio, data: bytes, message: str) -> None:
    with studio.http() as http:
        response = http.post("/api/assets", files={"file": ("cat.png", data, "image/png")})
        assert response.status_code == 400, response.text
        assert response.json()["error"]["param"] == "file"
        assert message in response.json()["error"]["message"].lower()
        assert http.get("/api/assets").json()["count"] == 0


def test_upload_then_upscale_as_a_job(studio: Studio) -> None:
    with studio.http() as http:
        uploaded = http.post("/api/assets", files={"file": ("in.png", _png(64, 48), "image/png")})
        assert uploaded.status_code == 201, uploaded.text
        asset = uploaded.json()
        job = http.post("/api/upscale", json={"asset_id": asset["id"], "scale": 2,
                                              "model": "local:realesrgan-fast-x4"})
        assert job.status_code == 202, job.text
        assert _final_status(http, job.json()["id"]) == "succeeded"
        done = http.get(f"/api/jobs/{job.json()['id']}").json()
        result = http.get(f"/api/assets/{done['outputs']['assets'][0]}").json()
        assert (result["width"], result["height"]) == (128, 96)
        assert result["source_asset_id"] == asset["id"]
        missing = http.post("/api/upscale", json={"asset_id": "asset_missing", "scale": 4})
        assert missing.status_code == 404


def test_prompt_enhance_uses_a_chat_model(studio: Studio) -> None:
    with studio.http() as http:
        response = http.post("/api/prompts/enhance", json={"idea": "fox in snow", "model": "fake:fake-echo",
                                                           "parts": {"lighting": "golden hour"}})
    assert response.status_code == 200
    body = response.json()
    assert body["model"] == "fake:fake-echo"
    assert "fox in snow" in body["prompt"] and "golden hour" in body["prompt"]
