"""The `<think>` splitter and the think-first message shaping (pure functions, no I/O)."""

from __future__ import annotations

import pytest

from easel.catalog.entry import Capabilities, ModelEntry
from easel.providers.openai_compatible import BUILTIN_PROFILES
from easel.services.reasoning import (
    PLAN_INSTRUCTION,
    ThinkTagSplitter,
    answer_messages,
    plan_messages,
    split_think_tags,
)
from easel.tasks.chat import ChatEvent, ChatMessage, Finish, ReasoningDelta, TextDelta, Usage, UsageEvent

ANSWER = "  \n<think>Count the words: four.\nThen answer.</think>\n\nThere are four words."


def _run(chunks: list[str]) -> tuple[str, str, list[ChatEvent]]:
    splitter = ThinkTagSplitter()
    events: list[ChatEvent] = []
    for chunk in chunks:
        events += splitter.split(TextDelta(chunk))
    events += splitter.split(Finish())
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    return reasoning, text, events


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 13, len(ANSWER)])
def test_think_text_becomes_reasoning_however_it_is_chunked(size: int) -> None:
    chunks = [ANSWER[i:i + size] for i in range(0, len(ANSWER), size)]
    reasoning, text, events = _run(chunks)
    assert reasoning == "Count the words: four.\nThen answer."
    assert text == "There are four words."
    assert isinstance(events[-1], Finish)
    # reasoning comes first, the answer after it, never interleaved
    kinds = [type(e).__name__ for e in events if isinstance(e, (TextDelta, ReasoningDelta))]
    assert kinds == sorted(kinds, key=lambda k: k != "ReasoningDelta")


def test_every_split_point_of_the_closing_tag() -> None:
    for cut in range(len("<think>ab</think>ok") + 1):
        whole = "<think>ab</think>ok"
        reasoning, text, _ = _run([whole[:cut], whole[cut:]])
        assert (reasoning, text) == ("ab", "ok"), cut


def test_an_answer_that_does_not_open_with_the_tag_is_left_alone() -> None:
    reasoning, text, _ = _run(["The tag ", "<think> is ", "how R1 marks thoughts</think>."])
    assert reasoning == ""
    assert text == "The tag <think> is how R1 marks thoughts</think>."


def test_a_prefix_of_the_tag_that_turns_out_not_to_be_one() -> None:
    reasoning, text, _ = _run(["<th", "ink about it"])
    assert (reasoning, text) == ("", "<think about it")


def test_an_unclosed_think_stays_reasoning() -> None:
    reasoning, text, events = _run(["<think>still going", " when the tokens ran out </thi"])
    assert reasoning == "still going when the tokens ran out </thi"
    assert text == ""
    assert isinstance(events[-1], Finish)


def test_usage_after_held_text_releases_it_first() -> None:
    splitter = ThinkTagSplitter()
    assert splitter.split(TextDelta("<thi")) == []
    usage = UsageEvent(Usage(prompt_tokens=3, completion_tokens=2))
    assert splitter.split(usage) == [TextDelta("<thi"), usage]


def test_think_text_gets_its_share_of_the_completion_tokens_when_the_host_counts_none() -> None:
    splitter = ThinkTagSplitter()
    events = [e for chunk in ["<think>", "x" * 30, "</think>", "y" * 10] for e in splitter.split(TextDelta(chunk))]
    (counted,) = [e for e in splitter.split(UsageEvent(Usage(prompt_tokens=5, completion_tokens=20)))
                  if isinstance(e, UsageEvent)]
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)) == "x" * 30
    assert (counted.usage.completion_tokens, counted.usage.reasoning_tokens) == (20, 15)  # 30 of 40 characters


def test_a_hosts_own_reasoning_count_and_answers_without_think_text_are_left_alone() -> None:
    reported = UsageEvent(Usage(prompt_tokens=5, completion_tokens=20, reasoning_tokens=7))
    splitter = ThinkTagSplitter()
    splitter.split(TextDelta("<think>plan</think>answer"))
    assert splitter.split(reported)[-1] is reported
    plain = ThinkTagSplitter()
    plain.split(TextDelta("just an answer"))
    usage = UsageEvent(Usage(prompt_tokens=5, completion_tokens=20))
    assert plain.split(usage) == [usage] and usage.usage.reasoning_tokens == 0


def test_whole_answer_helper() -> None:
    assert split_think_tags("<think>plan</think>answer") == ("plan", "answer")
    assert split_think_tags("answer") == ("", "answer")


def test_think_first_messages_keep_history_and_image_parts() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    history = [ChatMessage(role="system", content="Be brief."),
               ChatMessage(role="user", content=[{"type": "text", "text": "What is this?"}, image])]
    planning = plan_messages(history)
    assert planning[0] == history[0]
    assert planning[-1].text().startswith(PLAN_INSTRUCTION) and "What is this?" in planning[-1].text()
    assert image in planning[-1].content  # type: ignore[operator]
    answering = answer_messages(history, "1. Look. 2. Say.")
    assert "What is this?" in answering[-1].text() and "1. Look. 2. Say." in answering[-1].text()
    assert not answering[-1].text().startswith(PLAN_INSTRUCTION)


def _reasoner(model_id: str) -> ModelEntry:
    provider, name = model_id.split(":", 1)
    return ModelEntry(id=model_id, provider=provider, upstream_name=name, task="chat", display_name=name,
                      capabilities=Capabilities(reasoning=True))


@pytest.mark.parametrize(("effort", "sent", "warned"), [
    ("low", "low", False), ("high", "high", False), ("medium", "high", True), ("minimal", "low", True),
    ("none", "low", True)])
def test_xai_mini_models_take_low_or_high(effort: str, sent: str, warned: bool) -> None:
    xai = next(p for p in BUILTIN_PROFILES if p.name == "xai")
    value, warning = xai.effort.apply(_reasoner("xai:grok-3-mini-fast"), effort)
    assert value == sent
    assert (warning is not None) is warned
    if warning:
        assert f"'{effort}' sent as '{sent}'" in warning


def test_hosts_without_an_effort_control_drop_it() -> None:
    for name, model in (("deepseek", "deepseek:deepseek-reasoner"), ("mistral", "mistral:magistral-medium")):
        profile = next(p for p in BUILTIN_PROFILES if p.name == name)
        value, warning = profile.effort.apply(_reasoner(model), "high")
        assert value is None and warning and "no reasoning effort control" in warning


def test_grok_4_reasons_always() -> None:
    xai = next(p for p in BUILTIN_PROFILES if p.name == "xai")
    assert xai.effort.apply(_reasoner("xai:grok-4"), "low") == (
        None, "reasoning_effort ignored: 'xai:grok-4' always reasons and takes no effort setting")
