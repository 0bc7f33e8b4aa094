"""The image vocabulary: prompt building, size checks, aspect ratios."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from easel.tasks.image import ImageRequest, dimensions_for, nearest_aspect_ratio


def test_prompt_parts_compose_once_even_when_validated_again() -> None:
    parts = {"subject": "a red fox", "setting": "in snow", "lighting": "golden hour", "mood": "calm"}
    first = ImageRequest(model="m", prompt_parts=parts)
    assert first.prompt == "a red fox, in snow, golden hour lighting, calm mood"
    again = ImageRequest.model_validate(first.model_dump())
    assert again.prompt == first.prompt

    with_prompt = ImageRequest(model="m", prompt="a poster", prompt_parts={"style": "art deco"})
    assert with_prompt.prompt == "a poster, in art deco style"
    assert ImageRequest.model_validate(with_prompt.model_dump()).prompt == with_prompt.prompt


@pytest.mark.parametrize(
    "fields",
    [{"prompt": ""}, {"prompt": "x", "width": 512}, {"prompt": "x", "width": 512, "height": 512, "aspect_ratio": "1:1"},
     {"prompt": "x", "n": 9}, {"prompt": "x", "aspect_ratio": "5:4"}, {"prompt": "x", "width": 10, "height": 10}],
)
def test_bad_requests_are_refused(fields: dict) -> None:
    with pytest.raises(ValidationError):
        ImageRequest(model="m", **fields)


def test_aspect_ratio_dimensions() -> None:
    assert dimensions_for("1:1") == (1024, 1024)
    width, height = dimensions_for("16:9")
    assert width > height and width % 64 == 0 and height % 64 == 0
    assert nearest_aspect_ratio(1792, 1024) == "16:9"
    assert nearest_aspect_ratio(1024, 1536) == "2:3"
