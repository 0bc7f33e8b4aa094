"""`easel run`, `easel workflows` as a user runs them: real processes, the real local models."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import easel

POSTCARD = """
name: postcard
title: Postcard
inputs:
  place: {type: string}
steps:
  - id: line
    kind: chat
    model: local:smollm2-135m
    max_tokens: 12
    prompt: "One sentence about {{ inputs.place }}."
  - id: picture
    kind: image
    prompt: "a lighthouse at {{ inputs.place }}"
    max_side: 128
  - id: card
    kind: markdown
    template: |
      # Greetings from {{ inputs.place }}

      {{ steps.picture.assets | images("Postcard") }}

      {{ steps.line.text }}
"""


def test_run_a_file_then_save_show_and_list_it(easel_home: Path, tmp_path: Path) -> None:
    source = tmp_path / "postcard.yaml"
    source.write_text(POSTCARD)
    outdir = tmp_path / "out"
    result = easel("run", str(source), "--input", "place=the coast", "-o", str(outdir), home=easel_home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(outdir.resolve())
    assert "succeeded" in result.stderr and "local:smollm2-135m" in result.stderr  # the live table's last frame
    markdown = (outdir / "postcard.md").read_text()
    record = json.loads((outdir / "run.json").read_text())
    picture = record["steps"][1]["output"]["assets"][0]
    assert markdown.startswith("# Greetings from the coast") and f"(images/{picture}.png)" in markdown
    assert (outdir / "images" / f"{picture}.png").stat().st_size > 0
    assert (outdir / "workflow.yaml").read_text() == POSTCARD

    listed = easel("workflows", home=easel_home)
    assert "campaign" in listed.stdout and "postcard" not in listed.stdout  # a file run is not saved
    saved = easel("workflows", "save", str(source), home=easel_home)
    assert saved.returncode == 0 and "saved postcard" in saved.stdout
    source.write_text(POSTCARD.replace("title: Postcard", "title: Postcard home"))
    again = easel("workflows", "save", str(source), home=easel_home)
    assert again.returncode == 1 and "already saved" in again.stderr and "--replace" in again.stderr
    replaced = easel("workflows", "save", str(source), "--replace", home=easel_home)
    assert replaced.returncode == 0 and "replaced postcard" in replaced.stdout
    assert "postcard" in easel("workflows", home=easel_home).stdout
    shown = easel("workflows", "show", "postcard", home=easel_home).stdout
    assert shown == POSTCARD.replace("title: Postcard", "title: Postcard home")  # the replacement


def test_bad_inputs_and_names_are_one_clear_line(easel_home: Path, tmp_path: Path) -> None:
    missing = easel("run", "campaign", "--input", "product=oat milk", home=easel_home)
    assert missing.returncode == 1 and "Missing input 'audience'" in missing.stderr
    assert "Traceback" not in missing.stderr
    unknown = easel("run", "no-such-flow", home=easel_home)
    assert unknown.returncode == 1 and "No workflow named 'no-such-flow'" in unknown.stderr
    shape = easel("run", "article", "--input", "topic", home=easel_home)
    assert shape.returncode == 1 and "NAME=VALUE" in shape.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text(POSTCARD.replace("{{ inputs.place }}.", "{{ steps.nope.text }}."))
    refused = easel("workflows", "save", str(broken), home=easel_home)
    assert refused.returncode == 1 and "Step 'line', field 'prompt'" in refused.stderr
