"""`easel chat` drawing pictures as a user runs it: real processes, the offline illustrator, the local chat model."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from tests.test_cli import easel


def _paths(stdout: str) -> list[Path]:
    return [Path(line) for line in stdout.splitlines() if line.strip()]


def test_image_command_then_a_refinement_print_the_saved_pictures(easel_home: Path, tmp_path: Path) -> None:
    first = easel("chat", "/image a lighthouse at night", home=easel_home)
    assert first.returncode == 0, first.stderr
    [drawn] = _paths(first.stdout)
    assert drawn.is_file() and drawn.is_relative_to(easel_home / "assets")
    assert Image.open(drawn).text["prompt"] == "a lighthouse at night"

    outdir = tmp_path / "pictures"
    refined = easel("chat", "-c", "warmer light", "-o", str(outdir), home=easel_home)
    assert refined.returncode == 0, refined.stderr
    [copy] = _paths(refined.stdout)
    assert copy.parent == outdir and copy.suffix == ".png"
    prompt = Image.open(copy).text["prompt"]
    assert "warmer" in prompt and "lighthouse" in prompt
    assert copy.read_bytes() != drawn.read_bytes()


def test_image_model_option_picks_the_model_and_refuses_a_chat_model(easel_home: Path) -> None:
    refused = easel("chat", "--image-model", "local:smollm2-135m", "/image a fox", home=easel_home)
    assert refused.returncode == 1 and "not an image model" in refused.stderr
    assert "Traceback" not in refused.stderr
    listed = easel("conversations", home=easel_home)
    assert "0 of 0 conversations" in listed.stdout  # nothing was created for the refused command

    drawn = easel("chat", "--image-model", "illustrator", "draw a fox in the snow", home=easel_home)
    assert drawn.returncode == 0, drawn.stderr
    [path] = _paths(drawn.stdout)
    assert Image.open(path).text["prompt"] == "a fox in the snow"


def test_a_failed_picture_is_one_clear_line(easel_home: Path) -> None:
    empty = easel("chat", "/image", home=easel_home)
    assert empty.returncode == 1 and "Say what to draw after /image" in empty.stderr
    assert "Traceback" not in empty.stderr
