"""A workflow run's Markdown is an asset too, over HTTP on SQLite and PostgreSQL: the built-in
`article` (on the `fake:fake-echo` chat model) stores its article as a `document` asset listed in the
run's outputs and the step's output, downloadable as `article-<run>.md`, kept out of the image
gallery, the jobs list's thumbnails and the bundle's images; a markdown step that runs again (a
crash after the document was stored, then a retry) stores no second copy.
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from typing import Any

import httpx

from easel.storage.db import Database
from easel.storage.workflows import WorkflowStore
from tests.api.conftest import Studio
from tests.api.test_workflows_api import finished

FAKE_MODELS = {"outline": "fake:fake-echo", "sections": "fake:fake-echo"}


def run_article(http: httpx.Client, topic: str) -> dict[str, Any]:
    started = http.post("/api/workflows/article/runs",
                        json={"inputs": {"topic": topic, "sections": 2, "length": 64}, "models": FAKE_MODELS})
    assert started.status_code == 202, started.text
    run = finished(http, started.json()["id"])
    assert run["status"] == "succeeded", run
    return run


def documents_of(http: httpx.Client, run_id: str) -> list[dict[str, Any]]:
    page = http.get("/api/assets", params={"kind": "document", "limit": 200}).json()
    return [a for a in page["data"] if a["settings"].get("run_id") == run_id]


def test_an_article_run_stores_its_markdown_as_a_downloadable_document(studio: Studio) -> None:
    with studio.http() as http:
        run = run_article(http, "tides")
        run_id, outputs = run["id"], run["outputs"]
        document = outputs["document"]
        assert document and outputs["documents"] == [document] and outputs["assets"] == [document]
        article = run["steps"][-1]
        assert article["output"]["assets"] == [document] and article["output"]["document"] == document

        listed = documents_of(http, run_id)
        assert [a["id"] for a in listed] == [document]
        record = listed[0]
        assert (record["kind"], record["mime_type"], record["filename"]) == ("document", "text/markdown",
                                                                             f"article-{run_id}.md")
        assert record["settings"] == {"workflow": "article", "run_id": run_id, "step_id": "article"}
        assert record["job_id"] == run["job_id"]

        content = http.get(f"/api/assets/{document}/content")
        assert content.status_code == 200 and content.headers["content-type"].startswith("text/markdown")
        assert content.headers["content-disposition"] == f'attachment; filename="article-{run_id}.md"'
        assert content.text == outputs["markdown"] and content.text.startswith("# tides")

        thumbnail = http.get(f"/api/assets/{document}/thumbnail")
        assert thumbnail.status_code == 404 and thumbnail.json()["error"]["code"] == "no_thumbnail"
        images = http.get("/api/assets", params={"kind": "image"}).json()
        assert document not in [a["id"] for a in images["data"]]

        job = http.get(f"/api/jobs/{run['job_id']}").json()  # the jobs list draws thumbnails of "assets"
        assert job["outputs"]["documents"] == [document] and job["outputs"]["assets"] == []
        bundle = zipfile.ZipFile(io.BytesIO(http.get(f"/api/runs/{run_id}/bundle").content))
        assert set(bundle.namelist()) == {"article.md", "workflow.yaml", "run.json"}  # not also images/<id>.md


def test_a_markdown_step_that_runs_again_stores_no_second_copy(studio: Studio) -> None:
    with studio.http() as http:
        run = run_article(http, "harbours")
        run_id, document = run["id"], run["outputs"]["document"]

        async def crashed_in_the_article_step() -> None:
            # What a crash after the document was stored, and before the step was recorded as done,
            # leaves once the job's recovery has failed it: the step and run failed, the asset kept.
            database = Database(studio.settings.resolved_database_url)
            try:
                store = WorkflowStore(database)
                await store.update_step(run_id, "article", status="failed", output={}, error="interrupted")
                await store.update_run(run_id, status="failed", error="interrupted", markdown=None, assets=[])
            finally:
                await database.dispose()

        asyncio.run(crashed_in_the_article_step())
        retried = http.post(f"/api/runs/{run_id}/steps/article/retry", json={})
        assert retried.status_code == 202, retried.text
        again = finished(http, run_id)
        assert again["status"] == "succeeded", again
        assert again["steps"][-1]["attempts"] == 2
        assert again["outputs"]["document"] == document and again["outputs"]["assets"] == [document]
        assert [a["id"] for a in documents_of(http, run_id)] == [document]


def test_a_document_cannot_be_sent_to_an_upscaler(studio: Studio) -> None:
    with studio.http() as http:
        document = run_article(http, "dunes")["outputs"]["document"]
        jobs_before = http.get("/api/jobs").json()["count"]
        refused = http.post("/api/upscale", json={"asset_id": document, "scale": 2})
        assert refused.status_code == 400, refused.text
        error = refused.json()["error"]
        assert (error["param"], error["code"]) == ("asset_id", "not_an_image") and "only images" in error["message"]
        assert http.get("/api/jobs").json()["count"] == jobs_before  # refused before any job was queued
