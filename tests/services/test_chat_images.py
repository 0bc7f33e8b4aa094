"""When a chat message becomes a picture, and what is drawn: intent, refinement prompts, history text."""

from __future__ import annotations

import pytest

from easel.services.image_intent import (
    accept_rewrite,
    detect,
    history_text,
    invites_the_tool,
    merge_refinement,
)

REQUESTS = [
    ("draw the pier at dawn", "the pier at dawn"),
    ("Draw me a dragon", "a dragon"),
    ("Can you draw a cat?", "a cat"),
    ("please paint a sunset over the sea", "a sunset over the sea"),
    ("sketch a house on a hill", "a house on a hill"),
    ("make a picture of a fox in the snow", "a fox in the snow"),
    ("generate an image of a red car", "a red car"),
    ("show me an illustration of a castle", "a castle"),
    ("give me a picture of two dogs playing", "two dogs playing"),
    ("Could you make me a watercolor painting of a harbour", "a harbour, watercolor"),
    ("create a photorealistic image of a lighthouse at night", "a lighthouse at night, photorealistic"),
]
NOT_REQUESTS = [
    "how do I draw a circle in CSS?",
    "draw a circle in CSS",
    "Can you draw conclusions from this data?",
    "draw attention to the error",
    "Let's draw up a plan",
    "draw a bar chart of sales",
    "draw a graph of y = x^2",
    "create an image classifier",
    "generate a python function that draws a square",
    "what is a picture?",
    "Explain the image of the sun in Hamlet",
    "describe how to paint a fence",
    "I like to draw cats",
    "make a list of fruits",
    "tell me a story",
]
REFINEMENTS = [
    ("warmer light", "the pier at dawn, warmer light"),
    ("make it at night", "the pier at dawn, at night"),
    ("make it night", "the pier at dawn, night"),
    ("now with a dog", "the pier at dawn, with a dog"),
    ("add a boat", "the pier at dawn, with a boat"),
    ("remove the boats", "the pier at dawn, without the boats"),
    ("in the style of an old postcard", "the pier at dawn, in the style of an old postcard"),
    ("okay, darker please", "the pier at dawn, darker"),
    ("try again", "the pier at dawn"),
]
NOT_REFINEMENTS = ["thanks!", "nice", "what is this?", "great, how do I save it?", "tell me about piers",
                   "explain how light works", "never mind", "I love it",
                   "make it so that the function returns a list in python"]


@pytest.mark.parametrize(("message", "subject"), REQUESTS)
def test_a_request_for_a_picture_draws_its_subject(message: str, subject: str) -> None:
    intent = detect(message, previous_prompt=None, natural_language=True)
    assert intent is not None and intent.kind == "request" and intent.text == subject


@pytest.mark.parametrize("message", NOT_REQUESTS)
def test_questions_code_and_idioms_stay_chat(message: str) -> None:
    assert detect(message, previous_prompt="the pier at dawn", natural_language=True) is None


def test_a_tool_calling_model_decides_for_itself_except_for_the_command() -> None:
    assert detect("draw the pier at dawn", previous_prompt=None, natural_language=False) is None
    assert detect("warmer light", previous_prompt="the pier", natural_language=False) is None
    command = detect("/image the pier at dawn", previous_prompt=None, natural_language=False)
    assert command is not None and command.kind == "command" and command.text == "the pier at dawn"


@pytest.mark.parametrize(("message", "expected"), [("/image  a lighthouse\n at night ", "a lighthouse\n at night"),
                                                   ("/IMAGE fox", "fox"), ("/image", "")])
def test_the_image_command_takes_the_rest_of_the_message(message: str, expected: str) -> None:
    intent = detect(message, previous_prompt=None, natural_language=True)
    assert intent is not None and intent.kind == "command" and intent.text == expected


@pytest.mark.parametrize("message", ["/imagine a cat", "/images", "about /image a cat"])
def test_other_slash_words_are_not_the_command(message: str) -> None:
    intent = detect(message, previous_prompt=None, natural_language=True)
    assert intent is None or intent.kind != "command"


@pytest.mark.parametrize(("message", "prompt"), REFINEMENTS)
def test_a_refinement_after_a_picture_merges_into_its_prompt(message: str, prompt: str) -> None:
    intent = detect(message, previous_prompt="the pier at dawn", natural_language=True)
    assert intent is not None and intent.kind == "refine" and intent.previous == "the pier at dawn"
    assert merge_refinement("the pier at dawn.", intent.text) == prompt


@pytest.mark.parametrize("message", NOT_REFINEMENTS)
def test_chat_after_a_picture_stays_chat(message: str) -> None:
    assert detect(message, previous_prompt="the pier at dawn", natural_language=True) is None


def test_a_refinement_needs_a_picture_before_it() -> None:
    assert detect("warmer light", previous_prompt=None, natural_language=True) is None


def test_a_new_request_after_a_picture_is_a_new_picture() -> None:
    intent = detect("draw a cat on a sofa", previous_prompt="the pier at dawn", natural_language=True)
    assert intent is not None and intent.kind == "request" and intent.previous is None


@pytest.mark.parametrize(("answer", "expected"), [
    ("the pier at dawn bathed in warmer light", "the pier at dawn bathed in warmer light"),
    ('"The old pier at dawn, warmer light, golden tones"\nHope that helps!',
     "The old pier at dawn, warmer light, golden tones"),
    ("New prompt: pier at dawn with warmer light", "pier at dawn with warmer light"),
    ("You said: Prompt: the pier at dawn Change: warmer light New prompt:", None),  # an echo
    ("a cat in warmer light", None),  # a different picture
    ("the pier at dawn", None),  # the change was dropped
    ("", None),
    ("the pier at dawn, warmer light, " + "very " * 60, None),  # rambling
])
def test_a_chat_models_rewrite_is_used_only_when_it_is_one(answer: str, expected: str | None) -> None:
    assert accept_rewrite(answer, "the pier at dawn", "warmer light") == expected


def test_pictures_read_as_text_to_the_next_chat_model() -> None:
    drawn = {"images": [{"prompt": "a red car", "source": "command"}], "citations": []}
    assert history_text('Here is "a red car".', drawn) == "[image generated: a red car]"
    tool = {"images": [{"prompt": "a fox", "source": "tool"}]}
    assert history_text("Here is your fox.", tool) == "Here is your fox.\n[image generated: a fox]"
    assert history_text("plain answer", {"citations": [{"index": 1}]}) == "plain answer"
    assert history_text("plain answer", None) == "plain answer"


@pytest.mark.parametrize(("user", "previous", "offered"), [
    ("draw a fox", None, True),
    ("can I get a logo for my bakery", None, True),
    ("what is the capital of France?", None, False),
    ("warmer light", "[image generated: the pier]", True),
    ("warmer light", "It is warm today.", False),
])
def test_the_tool_is_offered_when_the_turn_is_about_pictures(user: str, previous: str | None, offered: bool) -> None:
    assert invites_the_tool(user, previous) is offered
