"""The catalog over HTTP: GET /v1/models (OpenAI's shape) and GET /api/models (the full records)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from easel.api.deps import AccountDep, ServicesDep, Services
from easel.api.errors import json_response
from easel.catalog.entry import Capabilities, ModelEntry, Task
from easel.errors import EaselError, InvalidRequest
from easel.providers.base import Provider

router = APIRouter(tags=["models"])

_EPOCH_2024 = 1704067200


def _created(entry: ModelEntry) -> int:
    """Unix time of the release date when the catalog knows it (OpenAI's `created`)."""
    if entry.release_date:
        from datetime import datetime, timezone

        try:
            day = datetime.strptime(entry.release_date[:10], "%Y-%m-%d").replace(tzinfo=timezone.utc)
            return int(day.timestamp())
        except ValueError:
            pass
    return _EPOCH_2024


def model_public(entry: ModelEntry, services: Services) -> dict[str, Any]:
    provider = services.providers.get(entry.provider)
    availability = provider.availability(entry) if provider else None
    body = entry.model_dump(mode="json")
    body["available"] = bool(availability and availability.usable)
    body["provider_name"] = (provider.display_name if provider else "") or entry.provider  # "OpenAI", for the UI
    body["native_web_search"] = _has_native_search(provider, entry)
    body["unavailable_reason"] = (
        None if body["available"] else (availability.reason if availability else "provider not installed")
    )
    return body


def _has_native_search(provider: Provider | None, entry: ModelEntry) -> bool:
    """Whether `web_search_backend: native` would work: the provider says, not the catalog flag alone
    (xAI's models can search, but not through chat completions any more)."""
    if provider is None:
        return False
    try:
        return provider.native_web_search(entry) is not None
    except EaselError:
        return False


def openai_model(entry: ModelEntry) -> dict[str, Any]:
    return {"id": entry.id, "object": "model", "created": _created(entry), "owned_by": entry.provider}


@router.get("/v1/models")
async def list_models_openai(services: ServicesDep, _: AccountDep) -> Response:
    data = [openai_model(e) for e in services.catalog.list()]
    return json_response({"object": "list", "data": data})


@router.get("/v1/models/{model:path}")
async def get_model_openai(model: str, services: ServicesDep, _: AccountDep) -> Response:
    return json_response(openai_model(services.catalog.resolve(model)))


@router.get("/api/models")
async def list_models(
    services: ServicesDep,
    _: AccountDep,
    task: Task | None = None,
    provider: str | None = None,
    available: bool | None = None,
    capability: list[str] = Query(default_factory=list),
) -> Response:
    unknown = [name for name in capability if name not in Capabilities.model_fields]
    if unknown:
        raise InvalidRequest(f"Unknown capability '{unknown[0]}'; pick from {', '.join(Capabilities.model_fields)}.",
                             param="capability")
    items = []
    for entry in services.catalog.list(task=task, provider=provider):
        caps = entry.capabilities
        if any(not getattr(caps, name, False) for name in capability):
            continue
        body = model_public(entry, services)
        if available is not None and body["available"] != available:
            continue
        items.append(body)
    return json_response({"data": items, "count": len(items)})


@router.get("/api/models/{model:path}")
async def get_model(model: str, services: ServicesDep, _: AccountDep) -> Response:
    return json_response(model_public(services.catalog.resolve(model), services))
