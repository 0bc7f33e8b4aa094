"""A run as one zip: its Markdown, its images, the workflow file, and a JSON record of every step.

    <workflow>.md      the run's Markdown, with image links pointing into images/
    images/<id>.png    every image the run made (images, upscales), in run order; its Markdown
                       documents are the .md file above, not copied again
    workflow.yaml      the exact file the run ran (a snapshot, so the run can be repeated)
    run.json           the run, and each step's (and item's) model, prompt, settings, usage,
                       cost, timings, fallbacks and error
"""

from __future__ import annotations

import io
import json
import mimetypes
import zipfile
from typing import Any

from easel.errors import NotFound
from easel.storage.assets import AssetStore
from easel.storage.workflows import ItemRecord, RunRecord, StepRecord
from easel.workflows.views import run_documents, run_public

CONTENT_LINK = "/api/assets/{asset_id}/content"


def _seconds(record: StepRecord | ItemRecord) -> float | None:
    if record.started_at is None or record.finished_at is None:
        return None
    return round((record.finished_at - record.started_at).total_seconds(), 3)


def _entry(record: StepRecord | ItemRecord) -> dict[str, Any]:
    details = record.details
    return {"status": record.status, "model": record.model, "prompt": details.get("prompt"),
            "system": details.get("system"), "settings": details.get("settings", {}), "usage": details.get("usage"),
            "fallbacks": details.get("fallbacks", []), "cost": record.cost, "error": record.error,
            "started_at": record.started_at.isoformat() if record.started_at else None,
            "finished_at": record.finished_at.isoformat() if record.finished_at else None,
            "seconds": _seconds(record), "output": record.output}


def run_record(run: RunRecord) -> dict[str, Any]:
    """What run.json holds."""
    summary = {k: v for k, v in run_public(run).items() if k != "steps"}
    steps = [{"id": s.step_id, "kind": s.kind, "title": s.title, "attempts": s.attempts, **_entry(s),
              "items": [{"index": i.index, **_entry(i)} for i in s.items]} for s in run.steps]
    return {"run": summary, "steps": steps}


def run_assets(run: RunRecord) -> list[str]:
    """Every asset the run made, in run order, each once."""
    found: list[str] = []
    for step in run.steps:
        for asset_id in step.output.get("assets", []) + [a for i in step.items for a in i.output.get("assets", [])]:
            if asset_id not in found:
                found.append(asset_id)
    return found


async def build_bundle(run: RunRecord, *, assets: AssetStore) -> bytes:
    buffer = io.BytesIO()
    markdown = run.markdown
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        documents = run_documents(run)
        for asset_id in (a for a in run_assets(run) if a not in documents):
            try:
                path, mime = await assets.open_content(owner_id=run.owner_id, asset_id=asset_id)
            except NotFound:
                continue  # deleted from the gallery since; the record still names it
            name = f"images/{asset_id}{mimetypes.guess_extension(mime) or '.bin'}"
            archive.write(path, name)
            if markdown:
                markdown = markdown.replace(CONTENT_LINK.format(asset_id=asset_id), name)
        if markdown:
            archive.writestr(f"{run.workflow}.md", markdown)
        archive.writestr("workflow.yaml", run.source)
        archive.writestr("run.json", json.dumps(run_record(run), indent=2, ensure_ascii=False))
    return buffer.getvalue()
