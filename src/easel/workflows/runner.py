"""Run a workflow: one job, its steps in order, each step and item persisted as it ends.

The runner is the handler of "workflow" jobs. On every start (the first, a restart after a
crash, a retry) it reads the run's stored state and skips what already succeeded, so a step
that finished is never run (or paid for) again; a `for_each` step keeps its finished items
and runs only the rest, up to `concurrency` at a time, outputs in item order.

A step that fails tries its `fallback_models` (or the run's override first) in turn; when
all fail, the step and run fail with the step's error and later steps stay pending, ready
for a retry. A cancel stops the running items at once, even a model call that is waiting on a
provider which sends nothing: each call races the job's stop signal, and loses its task (closing
the provider stream) when the signal wins. The step and run are then marked canceled. A shutdown
leaves the state as it is: the next attempt resumes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from easel.errors import EaselError, InvalidRequest
from easel.jobs import JobContext, JobOutcome, JobRecord, JobStopped
from easel.storage.tables import utcnow
from easel.storage.workflows import RunRecord, StepRecord, WorkflowStore
from easel.workflows.definition import StepBase, WorkflowDefinition, parse_workflow
from easel.workflows.events import RunEvents
from easel.workflows.steps import StepCall, StepKinds, StepResult
from easel.workflows.template import evaluate
from easel.workflows.validate import validate_workflow
from easel.workflows.views import run_documents

MAX_ITEMS = 50
T = TypeVar("T")


class StepFailed(EaselError):
    """A step failed with every model it may use; the message names the step (and the item)."""

    status_code = 502
    error_type = "workflow_error"
    default_code = "step_failed"


class StepProgress:
    """The job context seen by one step: its fraction maps into the step's slice of the job."""

    def __init__(self, ctx: JobContext, start: float, width: float, label: str) -> None:
        self.ctx, self.start, self.width, self.label = ctx, start, width, label

    def progress(self, fraction: float, message: str | None = None) -> None:
        text = f"{self.label}: {message}" if message else self.label
        self.ctx.progress(self.start + self.width * min(1.0, max(0.0, fraction)), text)

    def is_canceled(self) -> bool:
        return self.ctx.is_canceled()

    def raise_if_canceled(self) -> None:
        self.ctx.raise_if_canceled()

    async def wait_canceled(self, timeout: float | None = None) -> bool:
        return await self.ctx.wait_canceled(timeout)

    async def unless_stopped(self, work: Awaitable[T]) -> T:
        """`work`'s result, or `JobStopped` as soon as the job is stopped: a call that checks for a
        cancel only between chunks would otherwise wait for a silent provider's timeout."""
        task = asyncio.ensure_future(work)
        stop = asyncio.ensure_future(self.ctx.wait_canceled())
        try:
            await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            if not task.done():
                task.cancel()  # its own `finally`s close the provider's stream
                await asyncio.gather(task, return_exceptions=True)
        self.ctx.raise_if_canceled()
        return task.result()


def step_scope(step: StepRecord) -> dict[str, Any]:
    """What later steps see of a finished step: its output, and its items' outputs."""
    return {"text": None, "json": None, "assets": [], "markdown": None, **step.output,
            "items": [item.output for item in step.items], "model": step.model}


def _sum(costs: list[float | None]) -> float | None:
    known = [c for c in costs if c is not None]
    return sum(known) if known else None


class WorkflowRunner:
    def __init__(self, *, store: WorkflowStore, kinds: StepKinds, events: RunEvents) -> None:
        self.store = store
        self.kinds = kinds
        self.events = events

    async def run(self, ctx: JobContext, job: JobRecord) -> JobOutcome:
        run = await self.store.fetch_run(str(job.request.get("run_id")))
        if run is None or run.owner_id != job.owner_id:
            raise InvalidRequest("The run of this job no longer exists.", code="run_missing")
        definition = parse_workflow(run.source)
        order = validate_workflow(definition)
        await self._write_run(run.id, status="running", error=None, finished_at=None,
                              **({} if run.started_at else {"started_at": utcnow()}))
        scope: dict[str, Any] = {"inputs": run.inputs, "steps": {}}
        for state in run.steps:
            if state.status == "succeeded":
                scope["steps"][state.step_id] = step_scope(state)
        current: str | None = None
        try:
            for position, step_id in enumerate(order):
                state = run.step(step_id)
                step = definition.step(step_id)
                assert state is not None and step is not None
                if state.status == "succeeded":
                    continue
                current = step_id
                label = f"step {position + 1}/{len(order)}: {step.display_title}"
                progress = StepProgress(ctx, position / len(order), 1 / len(order), label)
                progress.progress(0.0)
                done = await self._run_step(run, step, state, job, scope, progress)
                scope["steps"][step_id] = step_scope(done)
            current = None
        except JobStopped as stop:
            if stop.reason == "canceled":
                await self._cancel(run.id, current)
            raise
        except EaselError as exc:
            message = f"Step '{current}' failed: {exc.message}" if current else exc.message
            await self._write_run(run.id, status="failed", error=message, finished_at=utcnow())
            raise StepFailed(message, code=exc.code) from exc
        return await self._finish(run.id, definition)

    # -- one step ------------------------------------------------------------------------------

    async def _run_step(self, run: RunRecord, step: StepBase, state: StepRecord, job: JobRecord,
                        scope: dict[str, Any], progress: StepProgress) -> StepRecord:
        await self._write_step(run.id, step.id, status="running", error=None, started_at=utcnow(),
                               finished_at=None, attempts=state.attempts + 1)
        models = self._models(run, step)
        try:
            if step.for_each is None:
                result = await self._with_fallbacks(run, step, models, job, scope, progress)
                await self._write_step(run.id, step.id, status="succeeded", model=result.details.get("model"),
                                       output=result.output, cost=result.cost, details=result.details,
                                       finished_at=utcnow())
            else:
                await self._run_items(run, step, state, models, job, scope, progress)
        except EaselError as exc:
            await self._write_step(run.id, step.id, status="failed", error=exc.message, finished_at=utcnow())
            raise
        done = (await self.store.fetch_run(run.id)).step(step.id)  # type: ignore[union-attr]
        assert done is not None
        return done

    def _models(self, run: RunRecord, step: StepBase) -> list[str | None]:
        """The models to try, in order: the run's override, the step's, its fallbacks."""
        first = run.models.get(step.id) or step.model or self.kinds.default_model(step.kind)  # type: ignore[attr-defined]
        rest = [m for m in step.fallback_models if m != first]
        return [first, *rest]

    async def _with_fallbacks(self, run: RunRecord, step: StepBase, models: list[str | None], job: JobRecord,
                              scope: dict[str, Any], progress: StepProgress) -> StepResult:
        failures: list[dict[str, str | None]] = []
        last: EaselError | None = None
        for model in models:
            try:
                call = StepCall(step, model, job, scope, progress, run.id, run.workflow)
                result = await progress.unless_stopped(self.kinds.run(call))
            except EaselError as exc:
                if exc.code in ("invalid_template", "invalid_workflow"):
                    raise  # no other model can fix the workflow itself
                failures.append({"model": model, "error": exc.message})
                last = exc
                continue
            if failures:
                result.details["fallbacks"] = failures
            return result
        assert last is not None  # `models` is never empty
        if len(failures) > 1:
            tried = "; ".join(f"{f['model']}: {f['error']}" for f in failures)
            raise StepFailed(f"every model failed ({tried})", code=last.code)
        raise last

    async def _run_items(self, run: RunRecord, step: StepBase, state: StepRecord, models: list[str | None],
                         job: JobRecord, scope: dict[str, Any], progress: StepProgress) -> None:
        items = evaluate(step.for_each or "", scope)
        if not isinstance(items, list):
            raise InvalidRequest(f"Step '{step.id}', field 'for_each': the value is not a list.",
                                 param=f"steps.{step.id}.for_each", code="invalid_workflow")
        items = items[:MAX_ITEMS]
        await self.store.drop_items(run.id, step.id, from_index=len(items))
        kept = {i.index: i for i in state.items if i.status == "succeeded" and i.index < len(items)}
        for index in range(len(items)):
            if index not in kept:
                await self.store.put_item(run.id, step.id, index, status="pending", error=None, output={},
                                          details={}, model=None, started_at=None, finished_at=None)
        await self._publish(run.id, step.id)
        limit = asyncio.Semaphore(step.concurrency)
        finished = [len(kept)]

        async def one(index: int) -> None:
            async with limit:
                progress.raise_if_canceled()
                await self.store.put_item(run.id, step.id, index, status="running", started_at=utcnow())
                await self._publish(run.id, step.id)
                item_scope = {**scope, "item": items[index], "index": index + 1}
                try:
                    result = await self._with_fallbacks(run, step, models, job, item_scope, progress)
                except EaselError as exc:
                    await self.store.put_item(run.id, step.id, index, status="failed", error=exc.message,
                                              finished_at=utcnow())
                    await self._publish(run.id, step.id)
                    raise
                output = {**result.output, "item": items[index]}
                await self.store.put_item(run.id, step.id, index, status="succeeded", output=output,
                                          cost=result.cost, details=result.details,
                                          model=result.details.get("model"), finished_at=utcnow())
                await self._publish(run.id, step.id)
                finished[0] += 1
                progress.progress(finished[0] / len(items), f"{finished[0]}/{len(items)} done")

        pending = [index for index in range(len(items)) if index not in kept]
        outcomes = await asyncio.gather(*(one(i) for i in pending), return_exceptions=True)
        stopped = next((o for o in outcomes if isinstance(o, JobStopped)), None)
        if stopped is not None:
            raise stopped
        errors = [(i, o) for i, o in zip(pending, outcomes, strict=True) if isinstance(o, BaseException)]
        if errors:
            index, error = errors[0]
            if not isinstance(error, EaselError):
                raise error
            raise StepFailed(f"item {index + 1} of {len(items)}: {error.message}", code=error.code)
        await self._finish_items(run.id, step)

    async def _finish_items(self, run_id: str, step: StepBase) -> None:
        """The step's output from its items: texts in order, every asset in order, the total cost."""
        state = (await self.store.fetch_run(run_id)).step(step.id)  # type: ignore[union-attr]
        assert state is not None
        texts = [i.output.get("text") for i in state.items]
        output: dict[str, Any] = {"assets": [a for i in state.items for a in i.output.get("assets", [])]}
        if any(t is not None for t in texts):
            output["text"] = "\n\n".join(t or "" for t in texts)
            output["json"] = [t or "" for t in texts]
        models = sorted({i.model for i in state.items if i.model})
        await self._write_step(run_id, step.id, status="succeeded", output=output,
                               cost=_sum([i.cost for i in state.items]), model=", ".join(models) or None,
                               finished_at=utcnow())

    # -- the run's end -------------------------------------------------------------------------

    async def _finish(self, run_id: str, definition: WorkflowDefinition) -> JobOutcome:
        run = await self.store.fetch_run(run_id)
        assert run is not None
        markdown = next((s.output.get("markdown") for s in reversed(run.steps) if s.output.get("markdown")), None)
        assets = [a for s in run.steps for a in s.output.get("assets", [])]
        cost = _sum([s.cost for s in run.steps])
        await self._write_run(run_id, status="succeeded", markdown=markdown, assets=assets, cost=cost,
                              finished_at=utcnow(), error=None)
        # The job's "assets" are what the jobs list shows as thumbnails; documents have none.
        documents = run_documents(run)
        outputs = {"run_id": run_id, "workflow": definition.name, "documents": documents,
                   "assets": [a for a in assets if a not in documents]}
        return JobOutcome(outputs=outputs, cost=cost)

    async def _cancel(self, run_id: str, step_id: str | None) -> None:
        now = utcnow()
        run = await self.store.fetch_run(run_id)
        if run is not None and step_id is not None:
            state = run.step(step_id)
            for item in state.items if state else []:
                if item.status in ("running", "pending"):
                    await self.store.put_item(run_id, step_id, item.index, status="canceled", finished_at=now)
            await self._write_step(run_id, step_id, status="canceled", finished_at=now)
        await self._write_run(run_id, status="canceled", finished_at=now,
                              cost=_sum([s.cost for s in run.steps]) if run else None)

    async def _write_run(self, run_id: str, **values: Any) -> None:
        await self.store.update_run(run_id, **values)
        self.events.publish(run_id)

    async def _write_step(self, run_id: str, step_id: str, **values: Any) -> None:
        await self.store.update_step(run_id, step_id, **values)
        await self._publish(run_id, step_id)

    async def _publish(self, run_id: str, step_id: str) -> None:
        """The step as just written, to this process's followers of the run (if any)."""
        if not self.events.watched(run_id):
            return
        run = await self.store.fetch_run(run_id)
        step = run.step(step_id) if run is not None else None
        if step is not None:
            self.events.publish(run_id, step)

