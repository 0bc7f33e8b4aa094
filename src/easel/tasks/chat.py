"""The chat task: ChatRequest (what is asked) and the ChatEvent stream (what comes back).

Every provider adapter turns a ChatRequest into its own wire format and turns the
provider's answer back into ChatEvents: text and reasoning are separate events, so
the answer and the reasoning never mix anywhere downstream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "developer", "user", "assistant", "tool"]
ReasoningEffort = Literal["none", "minimal", "low", "medium", "high"]
WebSearchMode = Literal["off", "auto", "on"]


class ChatMessage(BaseModel):
    """One message in OpenAI's shape. `content` is text or a list of content parts."""

    model_config = ConfigDict(extra="allow")

    role: Role
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    reasoning_content: str | None = None

    def text(self) -> str:
        """The message's text, joining text parts; other parts are skipped."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.get("text", "") for p in self.content if p.get("type") == "text")


class ChatRequest(BaseModel):
    """What is asked of a chat model, whatever serves it. `model` is the resolved catalog id."""

    model_config = ConfigDict(extra="forbid")

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    stop: list[str] | None = None
    seed: int | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    reasoning_effort: ReasoningEffort | None = None
    # Two passes (plan as reasoning, then the answer): services.reasoning.think_first. Never sent to a provider.
    think_first: bool = False
    # Live web (services.web_context): search, read pages, answer with citations. Never sent to a provider.
    web_search: WebSearchMode | None = None
    # "native": the provider's own server-side search tool instead of easel's (models that have one)
    web_search_backend: Literal["native"] | None = None
    # Provider-specific fields passed through untouched (documented extension).
    extra: dict[str, Any] = Field(default_factory=dict)


# ---- the event stream -------------------------------------------------------


@dataclass(slots=True)
class TextDelta:
    text: str


@dataclass(slots=True)
class ReasoningDelta:
    text: str


@dataclass(slots=True)
class ToolCallDelta:
    """A piece of a tool call; `index` groups the pieces of one call, as in OpenAI's stream."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    cached_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_openai(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }
        if self.cached_tokens:
            body["prompt_tokens_details"] = {"cached_tokens": self.cached_tokens}
        if self.reasoning_tokens:
            body["completion_tokens_details"] = {"reasoning_tokens": self.reasoning_tokens}
        return body


@dataclass(slots=True)
class UsageEvent:
    usage: Usage


FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]


@dataclass(slots=True)
class Finish:
    reason: FinishReason = "stop"


@dataclass(slots=True)
class Citations:
    """The numbered sources an answer may cite as [n]: {index, title, url, quote} each (easel.websearch),
    with `cited` once the answer is complete. Each event carries the whole list: a later one replaces it."""

    items: list[dict[str, Any]]


@dataclass(slots=True)
class ImageEvent:
    """A picture being drawn inside a chat turn (services.chat_images): its job's progress, then, with
    status "succeeded", the stored images ({asset_id, prompt, model, job_id, width, height, ...} each)."""

    job_id: str
    status: Literal["queued", "running", "succeeded"]
    progress: float
    prompt: str
    model: str
    message: str | None = None
    images: list[dict[str, Any]] = field(default_factory=list)


ChatEvent = Union[TextDelta, ReasoningDelta, ToolCallDelta, UsageEvent, Finish, Citations, ImageEvent]


@dataclass(slots=True)
class ChatResult:
    """A whole answer, gathered from the event stream."""

    text: str = ""
    reasoning: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    finish_reason: FinishReason = "stop"
    citations: list[dict[str, Any]] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)

    def add(self, event: ChatEvent) -> None:
        if isinstance(event, TextDelta):
            self.text += event.text
        elif isinstance(event, ReasoningDelta):
            self.reasoning += event.text
        elif isinstance(event, ToolCallDelta):
            while len(self.tool_calls) <= event.index:
                self.tool_calls.append({"id": None, "type": "function", "function": {"name": "", "arguments": ""}})
            call = self.tool_calls[event.index]
            if event.id:
                call["id"] = event.id
            if event.name:
                call["function"]["name"] += event.name
            call["function"]["arguments"] += event.arguments
        elif isinstance(event, UsageEvent):
            self.usage = event.usage
        elif isinstance(event, Finish):
            self.finish_reason = event.reason
        elif isinstance(event, Citations):  # each carries the whole list so far: the last one holds
            self.citations = list(event.items)
        elif isinstance(event, ImageEvent):
            self.images.extend(event.images)
