"""What each step kind does with one model for one item: chat, image, upscale, markdown.

`StepKinds.run(kind, call)` answers a `StepResult`: the output (text, json, assets,
markdown), its cost, and the details the run's record keeps (the rendered prompt, the
settings, usage). Templates are rendered here, from `call.context` (inputs, earlier steps,
and `item`/`index` inside a `for_each`). Chat steps call `ChatService`; image and upscale
steps call the image service's provider path inside the workflow's own job (no child jobs:
a job that waits on others in the same pool can starve it) and store assets for that job.
Markdown steps store what they render as a document asset of the run's owner (see
`storage.documents`), named `<step>-<run>.md`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from easel.config import Settings
from easel.errors import InvalidRequest
from easel.jobs import JobRecord
from easel.services.chat import ChatService
from easel.services.images import ImageService
from easel.storage.documents import DocumentStore
from easel.tasks.chat import ChatMessage, ChatRequest, ChatResult
from easel.tasks.image import ASPECT_RATIOS, ImageRequest, UpscaleRequest
from easel.tasks.progress import Progress
from easel.workflows.definition import ChatStep, ImageStep, MarkdownStep, StepBase, UpscaleStep
from easel.workflows.structured import as_json, as_list, fit
from easel.workflows.template import as_text, evaluate, render

# A numbered list, not JSON: every model writes one naturally, while asking small local
# models for JSON gets invented objects instead of the list (structured.as_list reads both).
LIST_INSTRUCTION = "\n\nAnswer with a numbered list of {count}items, one per line, and nothing else."
JSON_INSTRUCTION = "\n\nAnswer with JSON only, no other text."
CHAT_ENDPOINT = "workflow"


@dataclass(slots=True)
class StepCall:
    """One execution of a step: which step, which model, for which job and run, with what in scope."""

    step: StepBase
    model: str | None
    job: JobRecord
    context: Mapping[str, Any]
    progress: Progress
    run_id: str
    workflow: str


@dataclass(slots=True)
class StepResult:
    output: dict[str, Any]
    cost: float | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _integer(value: Any, field_name: str, step: StepBase) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        raise InvalidRequest(f"Step '{step.id}', field '{field_name}': '{value}' is not a whole number.",
                             param=f"steps.{step.id}.{field_name}", code="invalid_value") from None


def _field(call: StepCall, name: str) -> Any:
    """A templated field's value in this call's scope (None when the field is unset)."""
    template = getattr(call.step, name)
    if template is None:
        return None
    return evaluate(template, call.context) if isinstance(template, str) else template


def sized(aspect_ratio: str, max_side: int, multiple: int = 64) -> tuple[int, int]:
    """Width and height for an aspect ratio with the long side about `max_side` pixels."""
    w, h = (int(x) for x in aspect_ratio.split(":"))
    long_side = max(multiple, round(max_side / multiple) * multiple)
    short_side = max(multiple, round(long_side * min(w, h) / max(w, h) / multiple) * multiple)
    return (long_side, short_side) if w >= h else (short_side, long_side)


class StepKinds:
    """The step kinds, registered by name; the runner never branches on a kind."""

    def __init__(self, *, settings: Settings, chat: ChatService, images: ImageService) -> None:
        self.settings = settings
        self.chat = chat
        self.images = images
        self.documents = DocumentStore(images.assets)
        self._kinds: dict[str, Callable[[StepCall], Awaitable[StepResult]]] = {
            "chat": self._chat, "image": self._image, "upscale": self._upscale, "markdown": self._markdown}

    def default_model(self, kind: str) -> str | None:
        """The studio's default model for a kind (None for kinds that use no model)."""
        return getattr(self.settings, f"default_{kind}_model", None) if kind != "markdown" else None

    async def run(self, call: StepCall) -> StepResult:
        return await self._kinds[call.step.kind](call)  # type: ignore[attr-defined]

    async def _chat(self, call: StepCall) -> StepResult:
        step = call.step
        assert isinstance(step, ChatStep) and call.model
        prompt = render(step.prompt, call.context)
        count = _integer(_field(call, "count"), "count", step)
        if step.output == "list":
            prompt += LIST_INSTRUCTION.format(count=f"{count} " if count else "")
        elif step.output == "json":
            prompt += JSON_INSTRUCTION
        messages = [ChatMessage(role="user", content=prompt)]
        system = render(step.system, call.context) if step.system else None
        if system:
            messages.insert(0, ChatMessage(role="system", content=system))
        request = ChatRequest(model=call.model, messages=messages, temperature=step.temperature,
                              max_tokens=_integer(_field(call, "max_tokens"), "max_tokens", step))
        prepared = self.chat.prepare(request)
        result = ChatResult()
        events = self.chat.stream(prepared, owner_id=call.job.owner_id, endpoint=CHAT_ENDPOINT)
        try:
            async for event in events:
                call.progress.raise_if_canceled()
                result.add(event)
        finally:
            await events.aclose()
        text = result.text.strip()
        usage = result.usage
        details = {"model": prepared.entry.id, "prompt": prompt, "system": system,
                   "settings": request.model_dump(include={"max_tokens", "temperature"}, exclude_none=True),
                   "usage": {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}}
        output: dict[str, Any] = {"text": text}
        if step.output == "list":
            def pad(index: int) -> str:
                scope = {**call.context, "index": index}
                return render(step.default_item, scope) if step.default_item else f"{step.display_title} {index}"
            output["json"] = fit(as_list(text), count, pad)
        elif step.output == "json":
            output["json"] = as_json(text)
        cost = prepared.entry.cost(usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens)
        return StepResult(output, cost, details)

    async def _image(self, call: StepCall) -> StepResult:
        step = call.step
        assert isinstance(step, ImageStep) and call.model
        fields: dict[str, Any] = {"model": call.model, "prompt": as_text(_field(call, "prompt")).strip(),
                                  "n": step.n, "steps": step.steps,
                                  "negative_prompt": as_text(_field(call, "negative_prompt")) or None,
                                  "seed": _integer(_field(call, "seed"), "seed", step)}
        aspect = as_text(_field(call, "aspect_ratio")).strip() or None
        max_side = _integer(_field(call, "max_side"), "max_side", step)
        if aspect is not None and aspect not in ASPECT_RATIOS:
            raise InvalidRequest(f"Step '{step.id}', field 'aspect_ratio': '{aspect}' is not one of "
                                 f"{', '.join(ASPECT_RATIOS)}.", param=f"steps.{step.id}.aspect_ratio")
        entry = self.images.resolve(call.model, "image").entry
        if max_side is not None and "custom" in entry.media.resolutions:
            fields["width"], fields["height"] = sized(aspect or "1:1", max_side)
        else:
            fields["aspect_ratio"] = aspect
        request = ImageRequest.model_validate({k: v for k, v in fields.items() if v is not None})
        _, request = self.images.prepare_image(request)
        outcome = await self.images.generate(call.progress, job=call.job, request=request)
        assets = list(outcome.outputs.get("assets", []))
        details = {"model": request.model, "prompt": request.prompt,
                   "settings": request.model_dump(exclude={"model", "prompt", "extra"}, exclude_none=True)}
        return StepResult({"assets": assets}, outcome.cost, details)

    async def _upscale(self, call: StepCall) -> StepResult:
        step = call.step
        assert isinstance(step, UpscaleStep) and call.model
        source = _field(call, "image")
        if isinstance(source, list):
            source = source[0] if source else None
        if not isinstance(source, str) or not source:
            raise InvalidRequest(f"Step '{step.id}', field 'image': no image to upscale (got {as_text(source)!r}).",
                                 param=f"steps.{step.id}.image")
        scale = _integer(_field(call, "scale"), "scale", step) or 4
        if scale not in (2, 4):
            raise InvalidRequest(f"Step '{step.id}', field 'scale': 2 or 4, not {scale}.",
                                 param=f"steps.{step.id}.scale")
        request = UpscaleRequest(model=call.model, asset_id=source, scale=scale)  # type: ignore[arg-type]
        outcome = await self.images.upscale(call.progress, job=call.job, request=request)
        details = {"model": call.model, "prompt": None, "settings": {"scale": scale, "source_asset_id": source}}
        return StepResult({"assets": list(outcome.outputs.get("assets", []))}, outcome.cost, details)

    async def _markdown(self, call: StepCall) -> StepResult:
        step = call.step
        assert isinstance(step, MarkdownStep)
        text = render(step.template, call.context).strip() + "\n"
        origin: dict[str, Any] = {"workflow": call.workflow, "run_id": call.run_id, "step_id": step.id}
        name = f"{step.id}-{call.run_id}"
        if "index" in call.context:  # one item of a for_each step: one document per item
            origin["item"] = call.context["index"]
            name += f"-{call.context['index']}"
        document = await self.documents.save_markdown(owner_id=call.job.owner_id, text=text, filename=f"{name}.md",
                                                      settings=origin, job_id=call.job.id)
        output = {"markdown": text, "text": text, "assets": [document.id], "document": document.id}
        return StepResult(output, None, {"model": None, "prompt": None, "settings": {}})
