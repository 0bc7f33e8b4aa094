"""Reasoning apart from the answer: `<think>` text split out of the answer, and the two-pass think-first mode.

- `ThinkTagSplitter` turns `<think>...</think>` at the opening of an answer (as local and
  open models write it: DeepSeek-R1 distills, Qwen3, SmolLM3 through llama.cpp or vLLM)
  into ReasoningDeltas, whatever the chunking: tags may arrive split across chunks. It acts
  only when the answer *opens* with `<think>` (after optional whitespace), so an answer that
  merely mentions the tag is left alone; an unclosed think at the end stays reasoning.
  Token counts: the provider's usage is stored as reported; think-tag text is part of its
  completion tokens and is not counted apart (no host reports it separately, and counting
  it again with a tokenizer per request is not worth its cost on the hot path).
- `EffortControl` says how a host's models take `reasoning_effort`: which levels, which models;
  a provider profile declares one and `Provider.reasoning_effort` applies it.
- `think_first` is for models with no reasoning of their own: a first pass asks the model
  for a short plan, streamed as reasoning; a second pass answers with that plan in context.
  Usage is the sum of both passes (each pass is also accounted on its own by ChatService).
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from easel.catalog.entry import ModelEntry
from easel.tasks.chat import (
    ChatEvent,
    ChatMessage,
    Finish,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
    UsageEvent,
)

if TYPE_CHECKING:  # ChatService imports this module for the splitter
    from easel.services.chat import ChatService, ChatTimings, PreparedChat

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"

#: the planning pass is short: a plan, not an answer
PLAN_MAX_TOKENS = 256
PLAN_INSTRUCTION = (
    "Before answering, think it through. Write a short numbered plan (at most five steps) for how to "
    "answer the message below. Write only the plan, not the answer.\n\nMessage:\n"
)
PLAN_CONTEXT = "\n\n(Your plan for this answer, written in a first pass:\n{plan}\n)\nNow answer the message."
THINK_FIRST_MODE = "think_first"


class ThinkTagSplitter:
    """One answer's events in, the same events out with opening `<think>` text as reasoning.

    States: "start" (holding text until it is clear whether the answer opens with the tag),
    "thinking" (inside the tag), "after" (just closed: leading whitespace of the answer is
    dropped), "answer" (everything passes through untouched).
    """

    __slots__ = ("state", "_held", "_reasoning_chars", "_answer_chars")

    def __init__(self) -> None:
        self.state = "start"
        self._held = ""
        self._reasoning_chars = 0
        self._answer_chars = 0

    def split(self, event: ChatEvent) -> list[ChatEvent]:
        if self.state == "answer" and not self._reasoning_chars and not isinstance(event, UsageEvent):
            return [event]  # the common case, on the hot path: no think text, nothing to split or count
        if isinstance(event, UsageEvent):
            return [*self._counted(self.close()), self._with_reasoning_share(event)]
        return self._counted(self._split(event))

    def _counted(self, events: list[ChatEvent]) -> list[ChatEvent]:
        for event in events:
            if isinstance(event, ReasoningDelta):
                self._reasoning_chars += len(event.text)
            elif isinstance(event, TextDelta):
                self._answer_chars += len(event.text)
        return events

    def _with_reasoning_share(self, event: UsageEvent) -> UsageEvent:
        """A host that streamed `<think>` text counted it as completion tokens and reports no
        reasoning tokens; estimate them by the think text's share of the characters written, so the
        reasoning's token count is shown for these models too (an estimate: tokens are not chars)."""
        usage = event.usage
        written = self._reasoning_chars + self._answer_chars
        if usage.reasoning_tokens or not self._reasoning_chars or not usage.completion_tokens or not written:
            return event
        share = round(usage.completion_tokens * self._reasoning_chars / written)
        return UsageEvent(replace(usage, reasoning_tokens=share))

    def _split(self, event: ChatEvent) -> list[ChatEvent]:
        if self.state == "answer":
            return [event]
        if isinstance(event, TextDelta):
            return self._text(event.text)
        # anything else (a usage, a finish, a tool call) first releases what was held
        return [*self.close(), event]

    def close(self) -> list[ChatEvent]:
        """What is still held when the answer ends: an unclosed think stays reasoning."""
        held, self._held = self._held, ""
        if not held:
            return []
        if self.state == "thinking":
            return [ReasoningDelta(held)]
        self.state = "answer"
        return [TextDelta(held)]

    def _text(self, text: str) -> list[ChatEvent]:
        if self.state == "start":
            held = self._held + text
            opening = held.lstrip()
            if not opening or (len(opening) < len(OPEN_TAG) and OPEN_TAG.startswith(opening)):
                self._held = held  # whitespace, or maybe the start of the tag: wait for more
                return []
            self._held = ""
            if not opening.startswith(OPEN_TAG):
                self.state = "answer"
                return [TextDelta(held)]
            self.state = "thinking"
            text = opening[len(OPEN_TAG):]
        if self.state == "thinking":
            return self._thinking(self._held + text)
        return self._after(text)

    def _thinking(self, text: str) -> list[ChatEvent]:
        end = text.find(CLOSE_TAG)
        if end < 0:
            keep = _partial_suffix(text, CLOSE_TAG)
            self._held = text[len(text) - keep:] if keep else ""
            reasoning = text[: len(text) - keep]
            return [ReasoningDelta(reasoning)] if reasoning else []
        self._held = ""
        self.state = "after"
        out: list[ChatEvent] = [ReasoningDelta(text[:end])] if text[:end] else []
        return out + self._after(text[end + len(CLOSE_TAG):])

    def _after(self, text: str) -> list[ChatEvent]:
        text = text.lstrip()
        if not text:
            return []
        self.state = "answer"
        return [TextDelta(text)]


def _partial_suffix(text: str, tag: str) -> int:
    """The length of the longest end of `text` that is a start of `tag` (a tag split across chunks)."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


def split_think_tags(text: str) -> tuple[str, str]:
    """(reasoning, answer) of a whole answer, by the same rules as the streaming splitter."""
    splitter = ThinkTagSplitter()
    events = [*splitter.split(TextDelta(text)), *splitter.close()]
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    return reasoning, "".join(e.text for e in events if isinstance(e, TextDelta))


# ---- reasoning effort -------------------------------------------------------------

EFFORT_ORDER: tuple[str, ...] = ("none", "minimal", "low", "medium", "high")


@dataclass(frozen=True, slots=True)
class EffortControl:
    """How one host's models take `reasoning_effort` (declared on a provider profile, never branched on).

    `levels`: the values the host accepts (empty: it has no control, so the field is dropped);
    `models`: fnmatch patterns of the upstream names that take it (empty: every reasoning model);
    a reasoning model outside them reasons on its own and refuses the field (xAI's grok-4).
    A level the host lacks is sent as the nearest one it has, and a warning says so.
    """

    levels: tuple[str, ...] = EFFORT_ORDER
    models: tuple[str, ...] = ()

    def apply(self, entry: ModelEntry, effort: str) -> tuple[str | None, str | None]:
        """(the effort to send or None, a warning or None)."""
        if not self.levels:
            return None, f"reasoning_effort ignored: '{entry.id}' has no reasoning effort control"
        if self.models and not any(fnmatch.fnmatchcase(entry.upstream_name, p) for p in self.models):
            return None, f"reasoning_effort ignored: '{entry.id}' always reasons and takes no effort setting"
        if effort in self.levels:
            return effort, None
        wanted = EFFORT_ORDER.index(effort)
        # the nearest level the host has; on a tie, the higher one (asking for less thinking than
        # requested is the surprise to avoid)
        nearest = min(self.levels, key=lambda level: (abs(EFFORT_ORDER.index(level) - wanted),
                                                      -EFFORT_ORDER.index(level)))
        return nearest, (f"reasoning_effort '{effort}' sent as '{nearest}': '{entry.id}' takes "
                         f"{', '.join(self.levels)}")


# ---- think first --------------------------------------------------------------


def _with_text(message: ChatMessage, *, before: str = "", after: str = "") -> ChatMessage:
    """The message with text added before and after its own (image parts kept)."""
    if isinstance(message.content, list):
        parts: list[dict[str, Any]] = list(message.content)
        if before:
            parts.insert(0, {"type": "text", "text": before})
        if after:
            parts.append({"type": "text", "text": after})
        return message.model_copy(update={"content": parts})
    return message.model_copy(update={"content": before + (message.content or "") + after})


def plan_messages(messages: list[ChatMessage]) -> list[ChatMessage]:
    """The first pass: the history, with the last user message wrapped in the planning instruction."""
    *history, last = messages
    return [*history, _with_text(last, before=PLAN_INSTRUCTION)]


def answer_messages(messages: list[ChatMessage], plan: str) -> list[ChatMessage]:
    """The second pass: the history, with the plan added after the last user message."""
    *history, last = messages
    return [*history, _with_text(last, after=PLAN_CONTEXT.format(plan=plan.strip()))]


def think_first_warnings(entry: ModelEntry) -> list[str]:
    if entry.capabilities.reasoning:
        return [f"think_first with '{entry.id}', which reasons on its own: two passes cost more and may not help"]
    return []


def _sum(plan: Usage, answer: Usage) -> Usage:
    """Both passes; the whole plan pass is reasoning (it is shown as such), the answer's own reasoning too."""
    return Usage(prompt_tokens=plan.prompt_tokens + answer.prompt_tokens,
                 completion_tokens=plan.completion_tokens + answer.completion_tokens,
                 reasoning_tokens=plan.completion_tokens + answer.reasoning_tokens,
                 cached_tokens=plan.cached_tokens + answer.cached_tokens)


async def think_first(chat: ChatService, prepared: PreparedChat, *, owner_id: str, endpoint: str,
                      timings: ChatTimings) -> AsyncIterator[ChatEvent]:
    """Plan (streamed as reasoning), then answer with the plan in context; usage is both passes'."""
    from easel.services.chat import ChatTimings, PreparedChat  # noqa: PLC0415  (see TYPE_CHECKING above)

    # Each pass is a plain request: what ChatService.stream did before calling here (reading the web
    # for a web_search turn) is already in `request`, and must not run again per pass.
    request = prepared.request.model_copy(update={"think_first": False, "web_search": None})
    plan_limit = min(request.max_tokens or PLAN_MAX_TOKENS, PLAN_MAX_TOKENS)
    plan_request = request.model_copy(update={"messages": plan_messages(request.messages), "max_tokens": plan_limit,
                                              "tools": None, "tool_choice": None})
    plan_timings = ChatTimings(started=timings.started)
    plan = ""
    events = chat.stream(PreparedChat(prepared.entry, prepared.provider, plan_request), owner_id=owner_id,
                         endpoint=endpoint, timings=plan_timings)
    try:
        async for event in events:
            if isinstance(event, (TextDelta, ReasoningDelta)):
                plan += event.text if isinstance(event, TextDelta) else ""
                yield ReasoningDelta(event.text)
    finally:
        await events.aclose()  # type: ignore[attr-defined]
    timings.first_token_ms = plan_timings.first_token_ms
    answer_request = request.model_copy(update={"messages": answer_messages(request.messages, plan)})
    answer_timings = ChatTimings()
    events = chat.stream(PreparedChat(prepared.entry, prepared.provider, answer_request), owner_id=owner_id,
                         endpoint=endpoint, timings=answer_timings)
    finish: Finish | None = None
    try:
        async for event in events:
            if isinstance(event, (UsageEvent, Finish)):
                finish = event if isinstance(event, Finish) else finish
                continue  # the sum of both passes goes out once, below, then the finish
            if isinstance(event, (TextDelta, ToolCallDelta)) and timings.first_token_ms is None:
                timings.first_token_ms = (time.perf_counter() - timings.started) * 1000
            yield event
    finally:
        await events.aclose()  # type: ignore[attr-defined]
        timings.usage = _sum(plan_timings.usage or Usage(), answer_timings.usage or Usage())
        timings.total_ms = (time.perf_counter() - timings.started) * 1000
    yield UsageEvent(timings.usage)
    yield finish or Finish()
