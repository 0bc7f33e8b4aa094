"""The public shapes of workflows, runs and steps: what the API answers and the CLI shows."""

from __future__ import annotations

from typing import Any

from easel.storage.workflows import ItemRecord, RunRecord, StepRecord
from easel.workflows.definition import WorkflowDefinition

STEP_OUTPUT_FIELDS = ("text", "json", "assets", "markdown", "document")


def workflow_public(definition: WorkflowDefinition, source: str, *, builtin: bool) -> dict[str, Any]:
    return {
        "name": definition.name,
        "title": definition.display_title,
        "description": definition.description,
        "builtin": builtin,
        "inputs": [{"name": name, "type": spec.type, "title": spec.title or name.replace("_", " ").capitalize(),
                    "description": spec.description, "default": spec.default, "choices": spec.choices,
                    "required": spec.is_required, "min": spec.min, "max": spec.max}
                   for name, spec in definition.inputs.items()],
        "steps": [{"id": step.id, "kind": step.kind, "model": step.model, "for_each": step.for_each,  # type: ignore[attr-defined]
                   "title": step.display_title, "fallback_models": step.fallback_models}
                  for step in definition.steps],
        "source": source,
    }


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def item_public(item: ItemRecord) -> dict[str, Any]:
    return {"index": item.index, "status": item.status, "model": item.model, "output": item.output,
            "error": item.error, "cost": item.cost, "started_at": _time(item.started_at),
            "finished_at": _time(item.finished_at)}


def step_public(step: StepRecord) -> dict[str, Any]:
    output = {k: v for k, v in step.output.items() if k in STEP_OUTPUT_FIELDS and v not in (None, [])}
    return {"id": step.step_id, "kind": step.kind, "title": step.title, "status": step.status, "model": step.model,
            "started_at": _time(step.started_at), "finished_at": _time(step.finished_at), "cost": step.cost,
            "error": step.error, "attempts": step.attempts, "output": output,
            "prompt": step.details.get("prompt"), "items": [item_public(i) for i in step.items]}


def run_documents(run: RunRecord) -> list[str]:
    """The document assets (Markdown) the run's steps and items stored, in run order, each once."""
    found: list[str] = []
    for step in run.steps:
        for output in (step.output, *(item.output for item in step.items)):
            document = output.get("document")
            if document and document not in found:
                found.append(document)
    return found


def final_document(run: RunRecord) -> str | None:
    """The document holding the run's Markdown (the last step that wrote some), once the run has it."""
    if not run.markdown:
        return None
    return next((s.output.get("document") for s in reversed(run.steps) if s.output.get("markdown")), None)


def run_public(run: RunRecord) -> dict[str, Any]:
    return {"id": run.id, "workflow": run.workflow, "status": run.status, "inputs": run.inputs,
            "models": run.models, "created_at": _time(run.created_at), "started_at": _time(run.started_at),
            "finished_at": _time(run.finished_at), "cost": run.cost, "error": run.error, "job_id": run.job_id,
            "steps": [step_public(s) for s in run.steps],
            "outputs": {"markdown": run.markdown, "document": final_document(run),
                        "documents": [d for d in run_documents(run) if d in run.assets], "assets": list(run.assets)}}

