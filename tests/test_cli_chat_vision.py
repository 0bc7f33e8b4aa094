"""`easel chat --image`, `--think-first` and `--effort`, as a user runs them: a real process and the local model."""

from __future__ import annotations

from pathlib import Path

from tests.services.test_vision_fallback import text_picture
from tests.test_cli import easel


def test_chat_with_an_image_tells_what_easel_read_for_the_local_model(easel_home: Path, tmp_path: Path) -> None:
    picture = tmp_path / "invoice.png"
    picture.write_bytes(text_picture("INVOICE 4721"))
    result = easel("chat", "-m", "local:smollm2-135m", "--image", str(picture), "What does this say?",
                   "--max-tokens", "20", "--seed", "1", home=easel_home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert 'easel read image 1 with OCR for local:smollm2-135m: "INVOICE 4721"' in result.stderr
    assert "cannot see images" in result.stderr


def test_think_first_and_effort_on_the_local_model(easel_home: Path) -> None:
    result = easel("chat", "-m", "smollm2", "--think-first", "--effort", "high", "Name a fruit", "--max-tokens", "20",
                   "--seed", "2", home=easel_home)
    assert result.returncode == 0, result.stderr
    assert "thinking…" in result.stderr and "two passes" in result.stderr
    assert "reasoning_effort ignored" in result.stderr  # the local model has no reasoning control
    assert result.stdout.strip()


def test_a_missing_or_non_image_file_is_one_clear_line_and_creates_no_conversation(easel_home: Path,
                                                                                     tmp_path: Path) -> None:
    missing = easel("chat", "-m", "smollm2", "--image", str(tmp_path / "nope.png"), "hi", home=easel_home)
    assert missing.returncode == 1
    assert "Cannot read the image" in missing.stderr and "nope.png" in missing.stderr
    assert "Traceback" not in missing.stderr
    notes = tmp_path / "notes.png"  # named like a picture, but text
    notes.write_text("not a picture")
    not_image = easel("chat", "-m", "smollm2", "--image", str(notes), "hi", home=easel_home)
    assert not_image.returncode == 1
    assert "notes.png" in not_image.stderr and "not an image" in not_image.stderr
    listed = easel("conversations", home=easel_home)
    assert listed.returncode == 0, listed.stderr
    assert "0 of 0 conversations" in listed.stdout
