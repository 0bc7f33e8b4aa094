"""What a workflow file says: named inputs and steps, as pydantic models, and `parse_workflow`.

A workflow is YAML:

    name: campaign
    title: Campaign
    inputs:
      product: {type: string, title: Product}
      count: {type: integer, default: 3}
    steps:
      - id: brief
        kind: chat
        prompt: "Write a brief for {{ inputs.product }}"
      - id: pictures
        kind: image
        for_each: "{{ steps.prompts.json }}"
        prompt: "{{ item }}"

Parsing checks the shape only (field names, types, ids); `validate.validate_workflow`
checks what needs the whole file and the catalog (references, cycles, model kinds).
Unknown fields are refused, so a typo never silently does nothing.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from easel.errors import InvalidRequest

NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
STEP_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_SOURCE_CHARS = 200_000
MAX_STEPS = 50

InputType = Literal["string", "text", "integer", "choice"]
StepKind = Literal["chat", "image", "upscale", "markdown"]
# The catalog task each model-backed kind calls; `markdown` assembles text and needs no model.
KIND_TASKS: dict[str, str] = {"chat": "chat", "image": "image", "upscale": "upscale"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WorkflowInput(_Strict):
    """One named input: what the form shows and what a run must supply."""

    type: InputType = "string"
    title: str | None = None
    description: str | None = None
    default: str | int | None = None
    choices: list[str] | None = None
    required: bool | None = None  # None: required unless there is a default
    min: int | None = None
    max: int | None = None

    @model_validator(mode="after")
    def _choices(self) -> WorkflowInput:
        if self.type == "choice" and not self.choices:
            raise ValueError("a choice input needs a list of choices")
        if self.type != "choice" and self.choices:
            raise ValueError("choices are only for inputs of type choice")
        return self

    @property
    def is_required(self) -> bool:
        return self.required if self.required is not None else self.default is None


class StepBase(_Strict):
    """What every step has. Text fields may hold `{{ ... }}` templates (see `template`)."""

    id: str
    title: str | None = None
    model: str | None = None  # None: the studio's default for this kind
    fallback_models: list[str] = Field(default_factory=list)
    for_each: str | None = None  # a template naming a list; the step runs once per item
    concurrency: int = Field(default=3, ge=1, le=16)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not STEP_ID_RE.fullmatch(value):
            raise ValueError("a step id is lowercase letters, digits and _, starting with a letter")
        return value

    def template_fields(self) -> dict[str, str]:
        """The fields rendered at run time (name -> template text), for validation and running."""
        names = self._templated()
        return {name: value for name in names if isinstance(value := getattr(self, name), str)}

    def _templated(self) -> tuple[str, ...]:
        return ()

    @property
    def display_title(self) -> str:
        return self.title or self.id.replace("_", " ").capitalize()


class ChatStep(StepBase):
    """Ask a chat model. `output: list` asks for a JSON list and parses it leniently."""

    kind: Literal["chat"]
    prompt: str
    system: str | None = None
    output: Literal["text", "json", "list"] = "text"
    count: int | str | None = None  # list output: trim or pad to this many items
    default_item: str | None = None  # list output: the padding, rendered with `index` (1-based)
    max_tokens: int | str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)

    def _templated(self) -> tuple[str, ...]:
        return ("prompt", "system", "count", "default_item", "max_tokens")


class ImageStep(StepBase):
    """Text to image. `max_side` picks the long side in pixels for an aspect ratio."""

    kind: Literal["image"]
    prompt: str
    negative_prompt: str | None = None
    aspect_ratio: str | None = None
    max_side: int | str | None = None
    n: int = Field(default=1, ge=1, le=8)
    seed: int | str | None = None
    steps: int | None = Field(default=None, ge=1, le=150)

    def _templated(self) -> tuple[str, ...]:
        return ("prompt", "negative_prompt", "aspect_ratio", "max_side", "seed")


class UpscaleStep(StepBase):
    """Upscale one image: `image` names an asset id (e.g. `{{ steps.pictures.assets | first }}`)."""

    kind: Literal["upscale"]
    image: str
    scale: int | str = 4

    def _templated(self) -> tuple[str, ...]:
        return ("image", "scale")


class MarkdownStep(StepBase):
    """Assemble a document from earlier outputs; no model. The run's Markdown is the last one's."""

    kind: Literal["markdown"]
    template: str

    def _templated(self) -> tuple[str, ...]:
        return ("template",)


Step = Annotated[Union[ChatStep, ImageStep, UpscaleStep, MarkdownStep], Field(discriminator="kind")]


class WorkflowDefinition(_Strict):
    name: str
    title: str | None = None
    description: str = ""
    inputs: dict[str, WorkflowInput] = Field(default_factory=dict)
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RE.fullmatch(value):
            raise ValueError("a workflow name is lowercase letters, digits, - and _, starting with a letter")
        return value

    @field_validator("inputs")
    @classmethod
    def _input_names(cls, value: dict[str, WorkflowInput]) -> dict[str, WorkflowInput]:
        for name in value:
            if not STEP_ID_RE.fullmatch(name):
                raise ValueError(f"input name '{name}' must be lowercase letters, digits and _")
        return value

    @property
    def display_title(self) -> str:
        return self.title or self.name.replace("-", " ").capitalize()

    def step(self, step_id: str) -> StepBase | None:
        return next((s for s in self.steps if s.id == step_id), None)


def _where(loc: tuple[Any, ...], raw: Any) -> str:
    """A pydantic location as the file's words: `steps.brief.prompt` rather than `steps.0.chat.prompt`."""
    parts: list[str] = []
    node = raw
    for item in loc:
        if isinstance(item, int) and parts and parts[-1] == "steps":
            step = node[item] if isinstance(node, list) and item < len(node) else None
            step_id = step.get("id") if isinstance(step, dict) else None
            parts.append(str(step_id) if step_id else str(item))
            node = step
            continue
        if isinstance(item, str) and item in KIND_TASKS | {"markdown": ""} and parts and parts[-2:-1] == ["steps"]:
            continue  # the union's tag adds nothing for a reader
        parts.append(str(item))
        node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts)


def parse_workflow(source: str) -> WorkflowDefinition:
    """The definition in a YAML text; `InvalidRequest` naming the field when it is not one."""
    if len(source) > MAX_SOURCE_CHARS:
        raise InvalidRequest(f"The workflow file is too long ({len(source)} characters; at most "
                             f"{MAX_SOURCE_CHARS}).", param="source")
    try:
        raw = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise InvalidRequest(f"The workflow file is not valid YAML{where}: {problem}.", param="source",
                             code="invalid_yaml") from exc
    if not isinstance(raw, dict):
        raise InvalidRequest("A workflow file is a YAML mapping with name, inputs and steps.", param="source")
    try:
        return WorkflowDefinition.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _where(tuple(first.get("loc", ())), raw) or "workflow"
        kind = first.get("type", "")
        if kind == "extra_forbidden":
            message = f"Unknown field '{where}' in the workflow."
        elif kind == "missing":
            message = f"Missing field '{where}' in the workflow."
        elif kind == "union_tag_invalid":
            message = (f"Unknown step kind at '{where}': use one of chat, image, upscale, markdown.")
        else:
            message = f"Invalid '{where}': {first.get('msg', 'invalid')}."
        raise InvalidRequest(message, param=where, code="invalid_workflow") from exc
