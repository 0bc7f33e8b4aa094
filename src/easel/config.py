"""Settings: environment (prefix EASEL_), an optional TOML file, and provider credentials.

Built once by the caller (`Settings()` in the CLI, a fixture in tests) and passed down;
nothing here runs at import time.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_home() -> Path:
    return Path(os.environ.get("EASEL_HOME") or Path.home() / ".easel")


class EndpointConfig(BaseModel):
    """An OpenAI-compatible server declared in config (vLLM, Ollama, LM Studio, llama.cpp server...)."""

    name: str
    base_url: str
    api_key_env: str | None = None
    api_key: str | None = None
    models: list[str] = Field(default_factory=list)
    context_window: int | None = None


class LocalModelConfig(BaseModel):
    """A GGUF file the user points at; it becomes `local:<name>`."""

    name: str
    path: Path
    context_window: int = 4096
    chat_template: str | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EASEL_", extra="ignore")

    home: Path = Field(default_factory=default_home)
    host: str = "127.0.0.1"
    port: int = 8321
    database_url: str | None = None

    # Keys for this server itself; empty means the embedded single-account mode (127.0.0.1 only).
    api_keys: list[str] = Field(default_factory=list)

    default_chat_model: str = "local:smollm2-135m"
    default_image_model: str = "local:illustrator"
    default_upscale_model: str = "local:realesrgan-x4"
    job_workers: int = 4
    local_idle_unload_seconds: float = 600.0  # <= 0: never unload
    local_threads: int = 0  # 0: all cores but one
    local_parallel: int = 2
    upstream_timeout_seconds: float = 120.0
    upstream_connect_timeout_seconds: float = 10.0

    endpoints: list[EndpointConfig] = Field(default_factory=list)
    local_models: list[LocalModelConfig] = Field(default_factory=list)
    # provider name -> key, as read from the config file's [keys] table
    keys: dict[str, str] = Field(default_factory=dict)
    # provider name -> base URL override (tests point providers at local fakes this way)
    base_urls: dict[str, str] = Field(default_factory=dict)

    # Live web for chat (easel.websearch). Brave/Tavily keys follow the [keys] convention
    # (`brave`, `tavily`; else BRAVE_API_KEY / TAVILY_API_KEY); their base URLs go in base_urls.
    search_backend: str = "searxng"  # an `easel.search_backends` entry point: searxng | brave | tavily
    searxng_url: str | None = None
    # CIDRs or host names the page fetcher may reach although they are private/loopback
    fetch_allow: list[str] = Field(default_factory=list)
    fetch_timeout_seconds: float = 10.0
    fetch_max_bytes: int = 2_000_000
    fetch_max_redirects: int = 5
    web_search_results: int = 5  # hits asked of the search backend
    web_pages: int = 3  # pages fetched and read per turn
    web_context_tokens: int = 1200  # budget for the passages put into the model's context

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.home / 'easel.db'}"

    def credential(self, provider: str, env_var: str | None) -> str | None:
        """A provider's key: the config file's [keys] table first, then the environment."""
        if provider in self.keys:
            return self.keys[provider]
        if env_var:
            return os.environ.get(env_var) or None
        return None


def config_file_path() -> Path:
    """EASEL_CONFIG_FILE, else $EASEL_HOME/config.toml."""
    explicit = os.environ.get("EASEL_CONFIG_FILE")
    return Path(explicit) if explicit else default_home() / "config.toml"


def load_settings(**overrides: Any) -> Settings:
    """Settings from, highest first: `overrides`, EASEL_* environment variables, the TOML file, defaults."""
    path = config_file_path()
    file_values: dict[str, Any] = {}
    if path.is_file():
        with path.open("rb") as fh:
            file_values = tomllib.load(fh)
    from_env = Settings()
    env_set = {name for name in Settings.model_fields if f"EASEL_{name.upper()}" in os.environ}
    merged = {**file_values, **{name: getattr(from_env, name) for name in env_set}, **overrides}
    return Settings(**merged)
