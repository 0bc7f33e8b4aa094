"""Workflows: the use cases behind the API and CLI: templates, saved workflows, runs.

A run is one job (task "workflow") in the job system, so claiming, heartbeats, restarts and
cancel come from there; its step states live in the workflow tables, written by
`workflows.runner` as each step and item ends. Starting a run checks everything that can be
checked first (the definition, the models, the inputs), so a bad request leaves no run.
Run events (`events`): a snapshot, then each step's every change, then the final run. The runner
in this process publishes each step as it writes it (`workflows.events`); another process's
runner is seen by re-reading the tables every `watch_interval` seconds.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from functools import cached_property
from importlib import resources
from typing import Any

from easel.catalog.catalog import Catalog
from easel.config import Settings
from easel.errors import Conflict, EaselError, InvalidRequest, NotFound
from easel.jobs import HandlerRegistry, JobService
from easel.services.chat import ChatService
from easel.services.images import ImageService
from easel.storage.db import Database
from easel.storage.tables import utcnow
from easel.storage.workflows import NewStep, RunRecord, StepRecord, WorkflowStore
from easel.workflows.definition import KIND_TASKS, WorkflowDefinition, parse_workflow
from easel.workflows.events import RunEvents
from easel.workflows.runner import WorkflowRunner
from easel.workflows.steps import StepKinds
from easel.workflows.validate import check_inputs, dependents, validate_workflow
from easel.workflows.views import step_public, workflow_public

WORKFLOW_TASK = "workflow"
MODEL_PREFIX = "workflow:"
RUNS_PER_WORKFLOW = 4  # how many runs of one workflow a worker pool runs at once


class WorkflowService:
    def __init__(self, *, database: Database, settings: Settings, catalog: Catalog, chat: ChatService,
                 images: ImageService, jobs: JobService | None = None, watch_interval: float = 1.0) -> None:
        self.settings = settings
        self.catalog = catalog
        self.jobs = jobs
        self.store = WorkflowStore(database)
        self.kinds = StepKinds(settings=settings, chat=chat, images=images)
        self.run_events = RunEvents()
        self.runner = WorkflowRunner(store=self.store, kinds=self.kinds, events=self.run_events)
        self.watch_interval = watch_interval

    # -- wiring --------------------------------------------------------------------------------

    def register_handlers(self, registry: HandlerRegistry) -> None:
        registry.register(WORKFLOW_TASK, self.runner.run)

    def concurrency_for(self, model_id: str) -> int | None:
        """The pool's limit for workflow jobs (their model is `workflow:<name>`); None for others."""
        return RUNS_PER_WORKFLOW if model_id.startswith(MODEL_PREFIX) else None

    def _jobs(self) -> JobService:
        if self.jobs is None:
            raise RuntimeError("WorkflowService used before the job service was attached")
        return self.jobs

    # -- definitions -----------------------------------------------------------------------------

    @cached_property
    def builtins(self) -> dict[str, tuple[WorkflowDefinition, str]]:
        """The shipped templates, by name (read once, on first use)."""
        found: dict[str, tuple[WorkflowDefinition, str]] = {}
        folder = resources.files("easel.workflows") / "builtin"
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".yaml"):
                source = entry.read_text(encoding="utf-8")
                definition = parse_workflow(source)
                found[definition.name] = (definition, source)
        return found

    def check(self, source: str) -> WorkflowDefinition:
        """Parse and validate a workflow file against the catalog."""
        definition = parse_workflow(source)
        validate_workflow(definition, catalog=self.catalog)
        return definition

    async def definition(self, *, owner_id: str, name: str) -> tuple[WorkflowDefinition, str, bool]:
        """A workflow by name: a builtin, else the owner's saved one. (definition, source, builtin)"""
        if name in self.builtins:
            definition, source = self.builtins[name]
            return definition, source, True
        saved = await self.store.get_workflow(owner_id=owner_id, name=name)
        if saved is None:
            known = ", ".join(sorted(self.builtins))
            raise NotFound(f"No workflow named '{name}' (templates: {known}).", param="name")
        return parse_workflow(saved.source), saved.source, False

    async def list_workflows(self, *, owner_id: str) -> list[dict[str, Any]]:
        views = [workflow_public(d, s, builtin=True) for d, s in self.builtins.values()]
        for saved in await self.store.list_workflows(owner_id=owner_id):
            try:
                views.append(workflow_public(parse_workflow(saved.source), saved.source, builtin=False))
            except EaselError:
                continue  # saved before a stricter parser; still deletable by name
        return views

    async def get_workflow(self, *, owner_id: str, name: str) -> dict[str, Any]:
        definition, source, builtin = await self.definition(owner_id=owner_id, name=name)
        return workflow_public(definition, source, builtin=builtin)

    async def save_workflow(self, *, owner_id: str, source: str, replace: bool = False,
                            name: str | None = None) -> tuple[dict[str, Any], bool]:
        """Save a workflow under its name: (the workflow, whether it was new). A saved workflow of
        that name is replaced only when asked (`replace`); `name`, when given, must be the file's."""
        definition = self.check(source)
        if name is not None and name != definition.name:
            raise InvalidRequest(f"The file names the workflow '{definition.name}', not '{name}'.",
                                 param="source", code="name_mismatch")
        if definition.name in self.builtins:
            raise Conflict(f"'{definition.name}' is a built-in template; save your version under another name.",
                           param="name", code="builtin_workflow")
        existing = await self.store.get_workflow(owner_id=owner_id, name=definition.name)
        if existing is not None and not replace:
            raise Conflict(f"A workflow named '{definition.name}' is already saved; to replace it, send it with "
                           f"PUT /api/workflows/{definition.name} (or `easel workflows save FILE --replace`), "
                           "or rename the workflow in the file.", param="name", code="workflow_exists")
        await self.store.save_workflow(owner_id=owner_id, name=definition.name, title=definition.display_title,
                                       description=definition.description, source=source)
        return workflow_public(definition, source, builtin=False), existing is None

    async def delete_workflow(self, *, owner_id: str, name: str) -> None:
        if name in self.builtins:
            raise Conflict(f"'{name}' is a built-in template and cannot be deleted.", param="name",
                           code="builtin_workflow")
        if not await self.store.delete_workflow(owner_id=owner_id, name=name):
            raise NotFound(f"No saved workflow named '{name}'.", param="name")

    # -- runs --------------------------------------------------------------------------------------

    def _check_models(self, definition: WorkflowDefinition, models: dict[str, str]) -> None:
        for step_id, model in models.items():
            step = definition.step(step_id)
            if step is None:
                raise InvalidRequest(f"models: workflow '{definition.name}' has no step '{step_id}'.",
                                     param=f"models.{step_id}")
            task = KIND_TASKS.get(step.kind)  # type: ignore[attr-defined]
            if task is None:
                raise InvalidRequest(f"models: step '{step_id}' uses no model.", param=f"models.{step_id}")
            entry = self.catalog.resolve(model, task=task)  # type: ignore[arg-type]
            models[step_id] = entry.id

    async def start_run(self, *, owner_id: str, inputs: dict[str, Any], models: dict[str, str] | None = None,
                        name: str | None = None, source: str | None = None) -> RunRecord:
        """Check and queue a run of a named workflow, or of a workflow file's text (not saved)."""
        if source is not None:
            definition = self.check(source)
        else:
            definition, source, _ = await self.definition(owner_id=owner_id, name=name or "")
            validate_workflow(definition, catalog=self.catalog)
        order = validate_workflow(definition)
        chosen = dict(models or {})
        self._check_models(definition, chosen)
        values = check_inputs(definition, inputs)
        steps = [NewStep(step_id=s, kind=definition.step(s).kind, title=definition.step(s).display_title)  # type: ignore[union-attr]
                 for s in order]
        run = await self.store.create_run(owner_id=owner_id, workflow=definition.name, source=source,
                                          inputs=values, models=chosen, steps=steps)
        return await self._submit(run)

    async def _submit(self, run: RunRecord) -> RunRecord:
        job, _ = await self._jobs().submit(owner_id=run.owner_id, task=WORKFLOW_TASK,
                                           model=f"{MODEL_PREFIX}{run.workflow}", request={"run_id": run.id})
        await self.store.update_run(run.id, job_id=job.id)
        self.run_events.publish(run.id)
        return await self.store.get_run(owner_id=run.owner_id, run_id=run.id)

    async def get_run(self, *, owner_id: str, run_id: str) -> RunRecord:
        run = await self.store.get_run(owner_id=owner_id, run_id=run_id)
        return await self._reconcile(run)

    async def _reconcile(self, run: RunRecord) -> RunRecord:
        """A run whose job ended without its runner saying so (canceled while queued, or failed by
        recovery after a crash) takes the job's end."""
        if run.done or run.job_id is None:
            return run
        job = await self._jobs().store.fetch(run.job_id)
        if job is None or not job.done or job.status == "succeeded":
            return run
        now = utcnow()
        for step in run.steps:
            if step.status == "running":
                await self.store.update_step(run.id, step.step_id, status=job.status, finished_at=now,
                                             error=job.error if job.status == "failed" else None)
        await self.store.update_run(run.id, status=job.status, error=job.error, finished_at=job.finished_at or now)
        return await self.store.get_run(owner_id=run.owner_id, run_id=run.id)

    async def list_runs(self, *, owner_id: str, workflow: str | None = None, limit: int = 20,
                        offset: int = 0) -> tuple[list[RunRecord], int]:
        runs, total = await self.store.list_runs(owner_id=owner_id, workflow=workflow, limit=limit, offset=offset)
        return [await self._reconcile(r) if not r.done else r for r in runs], total

    async def cancel_run(self, *, owner_id: str, run_id: str) -> RunRecord:
        run = await self.get_run(owner_id=owner_id, run_id=run_id)
        if run.done or run.job_id is None:
            raise Conflict(f"Run {run_id} already {run.status}; there is nothing to cancel.", param="run_id",
                           code="run_finished")
        await self._jobs().cancel(owner_id=owner_id, job_id=run.job_id)
        return await self.get_run(owner_id=owner_id, run_id=run_id)

    async def retry_step(self, *, owner_id: str, run_id: str, step_id: str, model: str | None = None) -> RunRecord:
        """Run a failed or canceled step again (optionally with another model), and what follows it;
        finished items of a `for_each` step are kept, steps that do not depend on it are not re-run."""
        run = await self.get_run(owner_id=owner_id, run_id=run_id)
        if not run.done:
            raise Conflict(f"Run {run_id} is {run.status}; retry a step once it has stopped.", param="run_id",
                           code="run_active")
        state = run.step(step_id)
        if state is None:
            raise NotFound(f"Run {run_id} has no step '{step_id}'.", param="step")
        if state.status not in ("failed", "canceled"):
            raise InvalidRequest(f"Step '{step_id}' is {state.status}; only a failed or canceled step can be "
                                 "retried.", param="step", code="step_not_failed")
        definition = parse_workflow(run.source)
        models = dict(run.models)
        if model:
            models[step_id] = model
            self._check_models(definition, models)
        order = validate_workflow(definition)
        for affected in dependents(definition, order, step_id):
            await self.store.drop_items(run.id, affected, unfinished_only=affected == step_id)
            await self.store.update_step(run.id, affected, status="pending", error=None, output={},
                                         started_at=None, finished_at=None, cost=None)
        await self.store.update_run(run.id, status="queued", error=None, finished_at=None, models=models,
                                    markdown=None, assets=[])
        return await self._submit(run)

    # -- events ------------------------------------------------------------------------------------

    async def events(self, *, owner_id: str, run_id: str) -> AsyncGenerator[tuple[str, Any], None]:
        """("snapshot", run), then ("step", step) per change, then ("done", run). NotFound here,
        before the stream starts."""
        await self.store.get_run(owner_id=owner_id, run_id=run_id)
        return self._stream(owner_id, run_id)

    async def _stream(self, owner_id: str, run_id: str) -> AsyncGenerator[tuple[str, Any], None]:
        with self.run_events.follow(run_id) as feed:
            run = await self.get_run(owner_id=owner_id, run_id=run_id)
            yield "snapshot", run
            seen = {s.step_id: step_public(s) for s in run.steps}

            def news(steps: list[StepRecord]) -> list[StepRecord]:
                """The steps that moved on from what the follower last saw (a change published while
                the snapshot was read may be older than the snapshot)."""
                moved = []
                for step in steps:
                    view, before = step_public(step), seen.get(step.step_id)
                    if view != before and (before is None or _advance(view) >= _advance(before)):
                        seen[step.step_id] = view
                        moved.append(step)
                return moved

            while not run.done:
                change = await feed.next(self.watch_interval)
                if change is not None:
                    for step in news([change]):
                        yield "step", step
                    continue
                run = await self.get_run(owner_id=owner_id, run_id=run_id)
                for step in news([*feed.drain(), *run.steps] if run.done else run.steps):
                    yield "step", step
            yield "done", run


_STAGE = {"pending": 0, "running": 1}  # every other status is an end


def _advance(view: dict[str, Any]) -> tuple[int, int]:
    """How far a step (and its items) has come within one attempt; a change never goes back."""
    items = view.get("items") or []
    return _STAGE.get(view["status"], 2), sum(_STAGE.get(i["status"], 2) for i in items)
