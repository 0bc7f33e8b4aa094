"""Wire models for the OpenAI-compatible endpoints, in the spec's field order.

Unknown fields are refused with OpenAI's own wording ("Unrecognized request argument
supplied"), so typos don't vanish silently. Fields easel accepts but does not act on
are listed and documented here; a few are passed through to providers via `extra`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from easel.tasks.chat import ChatMessage, ReasoningEffort


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_usage: bool = False
    include_obfuscation: bool | None = None


class ChatCompletionRequest(BaseModel):
    """POST /v1/chat/completions."""

    model_config = ConfigDict(extra="forbid")

    messages: list[ChatMessage] = Field(min_length=1)
    model: str = Field(min_length=1)
    store: bool | None = None
    reasoning_effort: ReasoningEffort | None = None
    metadata: dict[str, str] | None = None
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    logit_bias: dict[str, int] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    n: int | None = Field(default=None, ge=1, le=1, description="easel serves one choice per request.")
    modalities: list[str] | None = None
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    response_format: dict[str, Any] | None = None
    seed: int | None = None
    service_tier: str | None = None
    stop: str | list[str] | None = None
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    tools: list[dict[str, Any]] | None = None
    tool_choice: Literal["none", "auto", "required"] | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    user: str | None = None
    prompt_cache_key: str | None = None
    safety_identifier: str | None = None
    verbosity: Literal["low", "medium", "high"] | None = None
    # easel extension: two passes, a plan (sent as reasoning_content) then the answer conditioned on it
    think_first: bool | None = Field(default=None, description="easel extension: plan first (returned as "
                                     "reasoning_content), then answer with the plan in context; two model calls.")
    # easel extension: live web. The answer carries top-level `citations` [{index, title, url, quote}]
    # (streamed: in one chunk before the finish, with an empty delta).
    web_search: Literal["off", "auto", "on"] | None = Field(default=None, description="easel extension: "
                                                             "search the web and answer with cited sources.")
    web_search_backend: Literal["native"] | None = Field(default=None, description="easel extension: 'native' "
                                                         "uses the provider's own server-side search.")

    @field_validator("stop")
    @classmethod
    def _stop_limit(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and len(value) > 4:
            raise ValueError("at most 4 stop sequences")
        return value

    #: fields passed to the provider untouched (OpenAI-compatible hosts understand them)
    PASSTHROUGH: ClassVar[tuple[str, ...]] = (
        "frequency_penalty", "presence_penalty", "logit_bias", "response_format", "parallel_tool_calls",
    )

    def effective_max_tokens(self) -> int | None:
        return self.max_completion_tokens if self.max_completion_tokens is not None else self.max_tokens

    def stop_list(self) -> list[str] | None:
        if self.stop is None:
            return None
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)

    def passthrough(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.PASSTHROUGH if getattr(self, name) is not None}
