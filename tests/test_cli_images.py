"""`easel image`, `easel upscale`, `easel jobs` as a user runs them: real processes, real local models."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from tests.test_cli import easel


def test_upscale_writes_the_file_and_jobs_lists_it(easel_home: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.png"
    Image.new("RGB", (40, 30), "teal").save(source)
    target = tmp_path / "out.png"
    result = easel("upscale", str(source), "-x", "2", "-m", "local:realesrgan-fast-x4", "-o", str(target),
                   home=easel_home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(target)
    assert Image.open(target).size == (80, 60)

    listed = easel("jobs", home=easel_home)
    assert listed.returncode == 0
    assert "upscale" in listed.stdout and "succeeded" in listed.stdout


def test_upscale_of_a_missing_or_bad_file_is_one_clear_line(easel_home: Path, tmp_path: Path) -> None:
    missing = easel("upscale", str(tmp_path / "nope.png"), home=easel_home)
    assert missing.returncode == 1 and "No such file" in missing.stderr
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image at all")
    refused = easel("upscale", str(bad), home=easel_home)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr


def test_image_with_the_offline_default_saves_pngs_with_metadata(easel_home: Path, tmp_path: Path) -> None:
    outdir = tmp_path / "out"
    result = easel("image", "a red car under a tree at sunset", "--aspect", "16:9", "-n", "2", "--seed", "7",
                   "-o", str(outdir), home=easel_home)
    assert result.returncode == 0, result.stderr
    paths = [Path(line) for line in result.stdout.split()]
    assert len(paths) == 2 and all(p.parent == outdir for p in paths)
    picture = Image.open(io.BytesIO(paths[0].read_bytes()))
    assert picture.width > picture.height
    assert picture.text["prompt"] == "a red car under a tree at sunset"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["image", "x", "--aspect", "5:4"], "aspect_ratio"),
        (["image", "x", "-n", "0"], "n"),
        (["image", ""], "prompt"),
    ],
)
def test_image_bad_input_is_one_clear_line(easel_home: Path, args: list[str], needle: str) -> None:
    result = easel(*args, home=easel_home)
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr and "Traceback" not in result.stderr
