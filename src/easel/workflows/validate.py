"""Check a whole workflow before anything runs, and give the order its steps run in.

Every refusal is an `InvalidRequest` whose message names the step and the field and whose
`param` is `steps.<id>.<field>`: unknown step or input references, a step that depends on
itself (directly or through others), a model of the wrong kind, an unknown output field,
`item` outside a `for_each` step, and a `for_each` over something that is not a list.
The order is topological and otherwise keeps the file's order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from easel.catalog.catalog import Catalog
from easel.errors import EaselError, InvalidRequest
from easel.workflows.definition import KIND_TASKS, ChatStep, StepBase, WorkflowDefinition
from easel.workflows.template import Expression, Path, TemplateError, parse_expressions

OUTPUT_FIELDS = ("text", "json", "assets", "markdown", "items", "model")
ITEM_NAMES = ("item", "index")
# Outputs that are lists whatever the model answers (chat `output: list` is padded and trimmed).
LIST_OUTPUTS = ("assets", "items")


def _fail(step: StepBase, field: str, message: str, code: str = "invalid_workflow") -> InvalidRequest:
    return InvalidRequest(f"Step '{step.id}', field '{field}': {message}", param=f"steps.{step.id}.{field}",
                          code=code)


def _expressions(step: StepBase, field: str, template: str) -> list[Expression]:
    try:
        return parse_expressions(template)
    except TemplateError as exc:
        raise _fail(step, field, exc.message, "invalid_template") from exc


def _check_path(definition: WorkflowDefinition, step: StepBase, field: str, path: Path) -> str | None:
    """Check one reference; the step id it depends on, if any."""
    root = path.parts[0]
    if root == "inputs":
        name = path.parts[1] if len(path.parts) > 1 else None
        if name not in definition.inputs:
            known = ", ".join(definition.inputs) or "none"
            raise _fail(step, field, f"'{path}' names an input that is not declared (inputs: {known}).")
        return None
    if root == "steps":
        target = path.parts[1] if len(path.parts) > 1 else None
        if not isinstance(target, str) or definition.step(target) is None:
            raise _fail(step, field, f"'{path}' refers to an unknown step '{target}'.")
        if target == step.id:
            raise _fail(step, field, f"'{path}' refers to the step itself (a cycle).")
        attribute = path.parts[2] if len(path.parts) > 2 else None
        if attribute not in OUTPUT_FIELDS:
            raise _fail(step, field, f"'{path}' names no output; a step's outputs are {', '.join(OUTPUT_FIELDS)}.")
        return target
    if root in ITEM_NAMES:
        if root == "index" and field == "default_item":
            return None  # the padding of a list answer is numbered too
        if step.for_each is None or field == "for_each":
            raise _fail(step, field, f"'{root}' is only defined inside a for_each step.")
        return None
    raise _fail(step, field, f"'{path}' is unknown; a reference starts with inputs, steps, item or index.")


def _check_for_each(definition: WorkflowDefinition, step: StepBase, expressions: list[Expression]) -> None:
    template = step.for_each or ""
    if len(expressions) != 1 or not template.strip().startswith("{{") or not template.strip().endswith("}}"):
        raise _fail(step, "for_each", "for_each is one reference to a list, such as '{{ steps.prompts.json }}'.")
    expression = expressions[0]
    if expression.filters:
        return  # a filtered value is checked when the step runs
    parts = expression.path.parts
    if parts[0] == "steps" and len(parts) == 3:
        source = definition.step(str(parts[1]))
        if parts[2] in LIST_OUTPUTS or (parts[2] == "json" and isinstance(source, ChatStep)
                                        and source.output in ("list", "json")):
            return
    raise _fail(step, "for_each", f"'{expression.path}' is not a list; for_each takes a chat step's list "
                                  "output (output: list, then '.json'), or a step's '.assets' or '.items'.")


def _check_models(catalog: Catalog, step: StepBase) -> None:
    task = KIND_TASKS.get(step.kind)  # type: ignore[attr-defined]
    named = [("model", step.model)] + [(f"fallback_models[{i}]", m) for i, m in enumerate(step.fallback_models)]
    if task is None:
        if step.model or step.fallback_models:
            raise _fail(step, "model", f"a {step.kind} step uses no model.")  # type: ignore[attr-defined]
        return
    for field, model in named:
        if not model:
            continue
        try:
            entry = catalog.resolve(model)
        except EaselError as exc:
            raise _fail(step, field, exc.message, "model_not_found") from exc
        if entry.task != task:
            raise _fail(step, field, f"'{entry.id}' is a model for {entry.task}; a {step.kind} step "  # type: ignore[attr-defined]
                                     f"needs a model for {task}.", "wrong_task")


def _order(definition: WorkflowDefinition, depends: Mapping[str, dict[str, str]]) -> list[str]:
    """Kahn's algorithm, taking ready steps in file order; a cycle names a step and the field
    that closes it."""
    remaining = [s.id for s in definition.steps]
    done: list[str] = []
    while remaining:
        ready = next((s for s in remaining if set(depends[s]) <= set(done)), None)
        if ready is None:
            first = definition.step(remaining[0])
            assert first is not None
            target, field = next((t, f) for t, f in depends[first.id].items() if t in remaining)
            raise _fail(first, field, f"it uses step '{target}', which depends on it: the steps "
                                      f"{', '.join(remaining)} form a cycle.")
        done.append(ready)
        remaining.remove(ready)
    return done


def validate_workflow(definition: WorkflowDefinition, *, catalog: Catalog | None = None) -> list[str]:
    """Check the definition (models too, given a catalog); the step ids in the order they run."""
    seen: set[str] = set()
    for step in definition.steps:
        if step.id in seen:
            raise _fail(step, "id", f"the id '{step.id}' is used by more than one step.")
        seen.add(step.id)
    for name, spec in definition.inputs.items():
        if spec.type == "choice" and spec.default is not None and spec.default not in (spec.choices or []):
            raise InvalidRequest(f"Input '{name}': the default '{spec.default}' is not one of its choices.",
                                 param=f"inputs.{name}.default", code="invalid_workflow")
    depends: dict[str, dict[str, str]] = {}  # step -> {step it uses: the field that uses it}
    for step in definition.steps:
        depends[step.id] = {}
        fields: dict[str, Any] = dict(step.template_fields())
        if step.for_each is not None:
            fields["for_each"] = step.for_each
        for field, template in fields.items():
            expressions = _expressions(step, field, template)
            for expression in expressions:
                for path in expression.paths():
                    target = _check_path(definition, step, field, path)
                    if target is not None:
                        depends[step.id].setdefault(target, field)
            if field == "for_each":
                _check_for_each(definition, step, expressions)
        if catalog is not None:
            _check_models(catalog, step)
    return _order(definition, depends)


def dependents(definition: WorkflowDefinition, order: list[str], step_id: str) -> list[str]:
    """`step_id` and every step that uses its output, directly or not, in run order."""
    uses: dict[str, set[str]] = {}
    for step in definition.steps:
        fields = dict(step.template_fields())
        if step.for_each is not None:
            fields["for_each"] = step.for_each
        uses[step.id] = {str(p.parts[1]) for t in fields.values() for e in parse_expressions(t)
                         for p in e.paths() if p.parts[0] == "steps" and len(p.parts) > 1}
    affected = {step_id}
    for candidate in order:
        if uses[candidate] & affected:
            affected.add(candidate)
    return [s for s in order if s in affected]


def check_inputs(definition: WorkflowDefinition, given: Mapping[str, Any]) -> dict[str, Any]:
    """A run's inputs, complete: defaults filled in, integers parsed; 400 naming a bad one."""
    for name in given:
        if name not in definition.inputs:
            known = ", ".join(definition.inputs) or "none"
            raise InvalidRequest(f"Unknown input '{name}' for workflow '{definition.name}' (inputs: {known}).",
                                 param=f"inputs.{name}", code="unknown_input")
    values: dict[str, Any] = {}
    for name, spec in definition.inputs.items():
        value = given.get(name)
        if value is None or (isinstance(value, str) and not value.strip() and spec.type != "text"):
            if spec.is_required:
                raise InvalidRequest(f"Missing input '{name}' for workflow '{definition.name}'.",
                                     param=f"inputs.{name}", code="missing_input")
            value = spec.default
        if value is None:
            values[name] = None
            continue
        if spec.type == "integer":
            try:
                value = int(str(value).strip()) if not isinstance(value, bool) else None
            except ValueError:
                value = None
            if value is None:
                raise InvalidRequest(f"Input '{name}' must be a whole number.", param=f"inputs.{name}",
                                     code="invalid_value")
            if (spec.min is not None and value < spec.min) or (spec.max is not None and value > spec.max):
                raise InvalidRequest(f"Input '{name}' must be between {spec.min} and {spec.max}; got {value}.",
                                     param=f"inputs.{name}", code="invalid_value")
        elif spec.type == "choice":
            if str(value) not in (spec.choices or []):
                raise InvalidRequest(f"Input '{name}' must be one of {', '.join(spec.choices or [])}; got '{value}'.",
                                     param=f"inputs.{name}", code="invalid_value")
            value = str(value)
        else:
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise InvalidRequest(f"Input '{name}' must be text.", param=f"inputs.{name}", code="invalid_value")
            value = str(value)
            if len(value) > 20_000:
                raise InvalidRequest(f"Input '{name}' is too long (at most 20000 characters).",
                                     param=f"inputs.{name}", code="invalid_value")
        values[name] = value
    return values
