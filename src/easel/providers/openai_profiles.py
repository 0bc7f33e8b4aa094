"""Profiles of the OpenAI-compatible hosts: who each one is and how it bends the wire format.

A `Profile` names a host (OpenAI, xAI, DeepSeek, OpenRouter, Groq, Together, Mistral, or a
server declared under `endpoints` in the config), its base URL and key variable, its wire
`Dialect`, which reasoning_effort levels its models take, and how (or whether) its own
server-side web search is asked for. `openai_compatible.OpenAICompatibleProvider` serves any
of them; adding a host is adding a profile here, never a branch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from easel.adapters.openai_chat import Dialect
from easel.config import EndpointConfig
from easel.services.reasoning import EffortControl


@dataclass(frozen=True, slots=True)
class Profile:
    """Who one OpenAI-compatible host is and how it bends the wire format."""

    name: str
    display_name: str
    base_url: str
    #: the environment variable that holds the key; None when the host needs none
    credentials_env: str | None = None
    #: a key written in the config itself (declared endpoints)
    api_key: str | None = None
    #: False for servers that take requests without a key (a local vLLM or Ollama)
    key_required: bool = True
    dialect: Dialect = field(default_factory=Dialect)
    #: extra request headers (OpenRouter's app attribution)
    headers: tuple[tuple[str, str], ...] = ()
    #: models served by a declared endpoint, as the server names them
    models: tuple[str, ...] = ()
    context_window: int | None = None
    #: which reasoning_effort levels the host's models take, and which models take it at all
    effort: EffortControl = field(default_factory=EffortControl)
    #: body fields that turn on the host's server-side web search (chat completions), if it has one
    native_web_search: dict[str, Any] | None = None
    #: why the host's own search cannot be asked for on chat completions (a 400 says so), if it cannot
    native_web_search_refusal: str | None = None

    @classmethod
    def from_endpoint(cls, endpoint: EndpointConfig) -> Profile:
        """A config-declared server. It needs a key only when the config names one."""
        return cls(
            name=endpoint.name,
            display_name=endpoint.name,
            base_url=endpoint.base_url,
            credentials_env=endpoint.api_key_env,
            api_key=endpoint.api_key,
            key_required=bool(endpoint.api_key_env or endpoint.api_key),
            models=tuple(endpoint.models),
            context_window=endpoint.context_window,
        )


# Reasoning already given back to OpenAI-style hosts is refused (OpenAI, Mistral) or
# ignored; DeepSeek requires it on tool-call turns, so only it and declared servers keep it.
_NO_HISTORY = Dialect(reasoning_history_field=None)

BUILTIN_PROFILES: tuple[Profile, ...] = (
    Profile("openai", "OpenAI", "https://api.openai.com/v1", "OPENAI_API_KEY",
            dialect=Dialect(max_tokens_field="max_completion_tokens", reasoning_history_field=None),
            native_web_search={"web_search_options": {}}),
    # xAI: only the grok-3-mini family takes reasoning_effort (low or high); grok-4 and later
    # always reason and answer 400 to the field. Live Search (`search_parameters`, answered with a
    # `citations` URL list) is gone from chat completions: api.x.ai answers 410 Gone "Live search is
    # deprecated. Please switch to the Agent Tools API" (docs.x.ai/docs/guides/tools/overview; seen
    # live in github.com/vercel/ai/pull/15713, May 2026); web_search/x_search run on /v1/responses.
    Profile("xai", "xAI", "https://api.x.ai/v1", "XAI_API_KEY", dialect=_NO_HISTORY,
            effort=EffortControl(levels=("low", "high"), models=("grok-3-mini*",)),
            native_web_search_refusal=(
                "xAI retired Live Search (search_parameters) from chat completions (it answers 410 Gone); "
                "its web_search and x_search tools run only on xAI's Responses API, which easel does not "
                "call yet. Leave web_search_backend unset to use easel's own search.")),
    # DeepSeek's reasoner has no effort control (it ignores the field)
    Profile("deepseek", "DeepSeek", "https://api.deepseek.com", "DEEPSEEK_API_KEY",
            effort=EffortControl(levels=())),
    Profile("openrouter", "OpenRouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY",
            dialect=Dialect(reasoning_effort="object", reasoning_history_field=None),
            headers=(("X-Title", "easel"),), native_web_search={"plugins": [{"id": "web"}]}),
    Profile("groq", "Groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY", dialect=_NO_HISTORY),
    Profile("together", "Together AI", "https://api.together.xyz/v1", "TOGETHER_API_KEY", dialect=_NO_HISTORY),
    Profile("mistral", "Mistral AI", "https://api.mistral.ai/v1", "MISTRAL_API_KEY",
            dialect=Dialect(reasoning_effort=None, seed_field="random_seed", stream_usage=False,
                            reasoning_history_field=None), effort=EffortControl(levels=())),
)
