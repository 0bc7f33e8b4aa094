"""Parsing, templates, validation order and lenient lists: the pure parts of workflows."""

from __future__ import annotations

import pytest

from easel.errors import InvalidRequest
from easel.workflows.definition import parse_workflow
from easel.workflows.structured import as_list, fit
from easel.workflows.template import TemplateError, evaluate, render
from easel.workflows.validate import check_inputs, dependents, validate_workflow

SCOPE = {"inputs": {"topic": "tides"}, "steps": {"outline": {"json": ["a", "b", "c"], "text": "Pick 2"}}}


def test_templates_give_values_whole_and_text_inline() -> None:
    assert evaluate("{{ steps.outline.json }}", SCOPE) == ["a", "b", "c"]
    assert render("About {{ inputs.topic }}: {{ steps.outline.json | join(' / ') }}", SCOPE) == "About tides: a / b / c"
    assert evaluate("{{ steps.outline.json | pick(steps.outline.text) }}", SCOPE) == "b"
    assert render("{{ steps.outline.json | numbered }}", SCOPE) == "1. a\n2. b\n3. c"
    assert render("{{ steps.outline.json[-1] | upper }}", SCOPE) == "C"
    with pytest.raises(TemplateError, match="'steps.outline.json\\[5\\]' is out of range"):
        evaluate("{{ steps.outline.json[5] }}", SCOPE)
    with pytest.raises(TemplateError, match="unknown filter 'exec'"):
        evaluate("{{ inputs.topic | exec }}", SCOPE)
    with pytest.raises(TemplateError, match="cannot read"):
        evaluate("{{ inputs.topic.__class__() }}", SCOPE)


def test_steps_run_in_dependency_order_and_dependents_follow_a_retry() -> None:
    definition = parse_workflow("""
name: order
steps:
  - {id: c, kind: markdown, template: "{{ steps.b.text }}"}
  - {id: a, kind: markdown, template: "start"}
  - {id: b, kind: markdown, template: "{{ steps.a.text }}"}
  - {id: d, kind: markdown, template: "alone"}
""")
    order = validate_workflow(definition)
    assert order == ["a", "b", "c", "d"]
    assert dependents(definition, order, "b") == ["b", "c"]


def test_inputs_are_completed_and_checked() -> None:
    definition = parse_workflow("""
name: inputs
inputs:
  topic: {type: string}
  n: {type: integer, default: 2, min: 1, max: 5}
  mood: {type: choice, choices: [calm, loud], default: calm}
steps: [{id: x, kind: markdown, template: "{{ inputs.topic }}"}]
""")
    assert check_inputs(definition, {"topic": "sea", "n": "4"}) == {"topic": "sea", "n": 4, "mood": "calm"}
    for given, param in [({}, "inputs.topic"), ({"topic": "s", "n": 9}, "inputs.n"),
                         ({"topic": "s", "mood": "odd"}, "inputs.mood"), ({"topic": "s", "x": 1}, "inputs.x")]:
        with pytest.raises(InvalidRequest) as caught:
            check_inputs(definition, given)
        assert caught.value.param == param


def test_lists_are_read_leniently_and_fitted_to_the_count() -> None:
    assert as_list('Sure! ```json\n["one", "two"]\n```') == ["one", "two"]
    assert as_list("Here:\n1. Waves\n2) Rocks\n- Crabs") == ["Waves", "Rocks", "Crabs"]
    assert as_list("```python\nx = 1\n```\nNo list here.") == []
    # The labelled lines a small model writes instead of a plain numbered list.
    assert as_list("Title: Tides\n\nTitle 1: The Edge\nTitle 2: Tide maps") == ["The Edge", "Tide maps"]
    assert as_list('1. Prompt 1: A runner at dawn\n2. **Prompt 2:** "Oat milk on a track"') == [
        "A runner at dawn", "Oat milk on a track"]
    assert fit(["a", "b", "c"], 2, str) == ["a", "b"]
    assert fit(["a"], 3, lambda i: f"pad {i}") == ["a", "pad 2", "pad 3"]
