"""The Provider interface and the registry that loads providers from entry points.

A provider module exposes `create_providers(settings) -> list[Provider]` and is named in
pyproject's `[project.entry-points."easel.providers"]`, exactly as an outside plugin
would be. Nothing else in easel branches on a provider's name.
"""

from __future__ import annotations

import logging
from abc import ABC
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from importlib.metadata import entry_points

from easel.catalog.entry import ModelEntry
from easel.config import Settings
from easel.errors import InvalidRequest, MissingCredentials
from easel.tasks.chat import ChatEvent, ChatRequest
from easel.tasks.image import ImageRequest, ImageResult, UpscaleRequest
from easel.tasks.progress import Progress

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "easel.providers"


class UnsupportedTask(InvalidRequest):
    """A provider was asked for a task it does not serve (the catalog and the provider disagree)."""

    default_code = "wrong_task"


@dataclass(frozen=True, slots=True)
class Availability:
    """Whether a model can be called now, and if not, what the user should do about it."""

    usable: bool
    reason: str | None = None


class Provider(ABC):
    """A backend that serves models over one wire format, with its credentials and base URL."""

    #: the `provider` part of `provider:name` ids
    name: str
    #: a human name for tables and the UI
    display_name: str = ""
    #: the environment variable that holds the key, if the provider needs one
    credentials_env: str | None = None
    #: how many jobs of one model may run at once in a process (a local model: one at a time)
    job_concurrency: int = 4

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    # -- credentials ---------------------------------------------------------

    def api_key(self) -> str | None:
        return self.settings.credential(self.name, self.credentials_env)

    def require_api_key(self) -> str:
        key = self.api_key()
        if not key:
            raise MissingCredentials(
                f"No API key for provider '{self.name}': set {self.credentials_env} "
                f"(or add it under [keys] in the config file).",
                param="model",
            )
        return key

    def reasoning_effort(self, entry: ModelEntry, effort: str) -> tuple[str | None, str | None]:
        """The reasoning effort to send for `entry` (None: drop it) and a warning when it was changed
        or dropped. Only asked for models with reasoning; by default the effort goes as asked (the
        Anthropic and Gemini adapters map it onto thinking budgets themselves)."""
        return effort, None

    def availability(self, entry: ModelEntry) -> Availability:
        """Usable now? Remote providers: a key is present. Local ones override (weights installed)."""
        if self.credentials_env and not self.api_key():
            return Availability(False, f"set {self.credentials_env}")
        return Availability(True)

    # -- models --------------------------------------------------------------

    def extra_models(self) -> list[ModelEntry]:
        """Entries this provider adds at run time (config-declared GGUFs or endpoints)."""
        return []

    # -- work ----------------------------------------------------------------

    def stream_chat(self, entry: ModelEntry, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        """Stream one chat answer as ChatEvents. Closing the iterator stops the upstream work."""
        raise UnsupportedTask(f"Provider '{self.name}' does not serve chat models.", param="model")

    def native_web_search(self, entry: ModelEntry) -> dict[str, Any] | None:
        """The request fields that turn on this provider's own server-side web search for `entry`
        (merged into the wire body), or None when it has none. Used for `web_search_backend: native`."""
        return None

    def check_image_request(self, entry: ModelEntry, request: ImageRequest) -> None:
        """Refuse, before any job exists, what this provider's wire format can't express (raise a 4xx).
        The default accepts: `tasks.image.check_supported` has already applied the catalog's limits."""

    async def generate_images(self, entry: ModelEntry, request: ImageRequest, progress: Progress) -> ImageResult:
        """Make `request.n` images. Report progress; stop (and cancel upstream) when canceled."""
        raise UnsupportedTask(f"Provider '{self.name}' does not serve image models.", param="model")

    async def upscale(self, entry: ModelEntry, image: bytes, request: UpscaleRequest,
                      progress: Progress) -> ImageResult:
        """Upscale one image (its bytes) by `request.scale`."""
        raise UnsupportedTask(f"Provider '{self.name}' does not serve upscale models.", param="model")

    async def aclose(self) -> None:
        """Release clients, models and threads."""


ProviderFactory = Callable[[Settings], Iterable[Provider]]


class ProviderRegistry:
    """Providers by name, loaded from entry points."""

    def __init__(self, providers: Iterable[Provider] = ()) -> None:
        self._providers: dict[str, Provider] = {}
        #: entry point name -> why it could not be loaded
        self.failed: dict[str, str] = {}
        for provider in providers:
            self.add(provider)

    @classmethod
    def from_entry_points(cls, settings: Settings) -> ProviderRegistry:
        registry = cls()
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            try:
                factory: ProviderFactory = ep.load()
            except ImportError as exc:
                # A plugin that cannot be imported (a missing optional dependency) must not take the
                # studio down; its models simply do not appear. The log says why.
                log.error("provider plugin %r could not be loaded (%s); its models are unavailable", ep.name, exc)
                log.debug("import failure of %r", ep.name, exc_info=True)
                registry.failed[ep.name] = f"{ep.value} could not be imported: {exc}"
                continue
            for provider in factory(settings):
                registry.add(provider)
        return registry

    def add(self, provider: Provider) -> None:
        if provider.name in self._providers:
            raise ValueError(f"provider {provider.name!r} registered twice")
        self._providers[provider.name] = provider

    def get(self, name: str) -> Provider | None:
        return self._providers.get(name)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._providers.values())

    def names(self) -> list[str]:
        return sorted(self._providers)

    async def aclose(self) -> None:
        for provider in self._providers.values():
            try:
                await provider.aclose()
            except Exception:  # closing must not stop the others from closing
                log.exception("closing provider %s failed", provider.name)
