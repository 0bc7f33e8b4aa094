"""GET /api/settings: what this studio runs with, for the settings page; never a secret.

Which providers have credentials (a yes or no, and the variable to set when no), the
local models (installed or why not, loaded and the memory they took), the data folder,
the database's kind, and the provider plugins that failed to load. Keys, passwords and
database URLs never leave the process: only booleans and variable names do.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from easel.api.deps import AccountDep, Services, ServicesDep
from easel.api.errors import json_response
from easel.config import config_file_path
from easel.providers.base import Provider
from easel.storage.db import sqlite_file

router = APIRouter(tags=["settings"])

# Local models are named `local:<name>` (DESIGN.md), whichever local provider serves them.
LOCAL_PREFIX = "local:"
_MIB = 1024 * 1024


def provider_public(provider: Provider, models: int, usable: int) -> dict[str, Any]:
    """One provider's credential status: whether a key is set, never the key itself."""
    has_key = bool(provider.api_key())
    needs_key = bool(provider.credentials_env) or has_key
    missing = needs_key and not has_key
    return {
        "name": provider.name,
        "display_name": provider.display_name or provider.name,
        "credentials_env": provider.credentials_env,
        "needs_key": needs_key,
        "has_key": has_key,
        "missing": f"set {provider.credentials_env}" if missing else None,
        "models_count": models,
        "usable_count": usable,
    }


def _loaded_by_name(provider: Provider) -> dict[str, Any] | None:
    """What a local provider reports as loaded, by model name; None when it cannot tell.
    Providers that keep models warm expose `loaded_models()`, records with a `name` or a `folder`."""
    loaded = getattr(provider, "loaded_models", None)
    if not callable(loaded):
        return None
    found: dict[str, Any] = {}
    for info in loaded():
        name = getattr(info, "name", None) or getattr(getattr(info, "folder", None), "name", None)
        if name:
            found[name] = info
    return found


def local_models(services: Services) -> list[dict[str, Any]]:
    """Every `local:` catalog entry: installed or what to do, loaded and its memory."""
    entries = [e for e in services.catalog.list() if e.id.startswith(LOCAL_PREFIX)]
    loaded: dict[str, dict[str, Any] | None] = {}
    for provider_name in sorted({e.provider for e in entries}):
        provider = services.providers.get(provider_name)
        loaded[provider_name] = _loaded_by_name(provider) if provider else None
    items = []
    for entry in entries:
        provider = services.providers.get(entry.provider)
        availability = provider.availability(entry) if provider else None
        warm = loaded[entry.provider]
        info = None if warm is None else warm.get(entry.name) or warm.get(entry.upstream_name)
        memory = getattr(info, "memory_bytes", None)
        item: dict[str, Any] = {
            "id": entry.id,
            "display_name": entry.display_name,
            "task": entry.task,
            "provider": entry.provider,
            "installed": bool(availability and availability.usable),
            "reason": None if availability and availability.usable
            else (availability.reason if availability else "provider not installed"),
            "loaded": None if warm is None else info is not None,  # None: the provider cannot tell
        }
        if memory is not None:
            item["memory_mb"] = round(memory / _MIB, 1)
        items.append(item)
    return items


def settings_public(services: Services) -> dict[str, Any]:
    providers = []
    for provider in sorted(services.providers, key=lambda p: p.name):
        entries = services.catalog.list(provider=provider.name)
        usable = sum(provider.availability(entry).usable for entry in entries)
        providers.append(provider_public(provider, len(entries), usable))
    database = services.database
    sqlite_path = sqlite_file(database.url) if database.is_sqlite else None
    return {
        "data_folder": str(services.settings.home),
        "config_file": str(config_file_path()),
        "database": {
            "kind": "sqlite" if database.is_sqlite else "postgresql",
            # A SQLite file's path is no secret; a server URL may hold a password, so it never leaves.
            "file": str(sqlite_path) if sqlite_path else None,
        },
        "providers": providers,
        "local_models": local_models(services),
        "plugin_failures": dict(services.providers.failed),
    }


@router.get("/api/settings")
async def get_settings(services: ServicesDep, _: AccountDep) -> Response:
    return json_response(settings_public(services))
