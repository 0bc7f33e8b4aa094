"""Map a provider's HTTP failures onto the EaselError tree, naming the provider.

Shared by every remote adapter so that a 429 from OpenAI and a 429 from Anthropic
reach the client the same way (status, Retry-After, a message that names who failed).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from typing import Any

import httpx

from easel.errors import (
    UpstreamBadRequest,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        ms = headers.get("retry-after-ms")
        return float(ms) / 1000 if ms and ms.replace(".", "", 1).isdigit() else None
    try:
        return float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def upstream_message(body: bytes | str) -> str:
    """The human part of a provider's error body, whatever its shape."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        payload: Any = json.loads(text)
    except ValueError:
        return text.strip()[:500] or "no details given"
    if isinstance(payload, list) and payload:  # Gemini sometimes wraps errors in a list
        payload = payload[0]
    if isinstance(payload, dict):
        err = payload.get("error", payload)
        if isinstance(err, dict):
            msg = err.get("message") or err.get("detail") or err.get("type")
            if isinstance(msg, dict):  # Tavily nests it: {"detail": {"error": "..."}}
                msg = msg.get("error") or msg
            if msg:
                return str(msg)
        elif isinstance(err, str):
            return err
        if "detail" in payload:
            return str(payload["detail"])
    return text.strip()[:500]


def error_for_status(provider: str, status: int, body: bytes | str, headers: httpx.Headers | None = None,
                     credentials_env: str | None = None) -> UpstreamError:
    """The EaselError for a provider's non-2xx answer."""
    message = upstream_message(body)
    headers = headers or httpx.Headers()
    if status in (400, 413, 422):
        return UpstreamBadRequest(message, provider=provider, upstream_status=status)
    if status in (401, 403):
        hint = f" (check {credentials_env})" if credentials_env else ""
        return UpstreamError(f"rejected the credentials{hint}: {message}", provider=provider,
                             upstream_status=status, code="upstream_authentication_failed")
    if status == 404:
        return UpstreamError(f"not found: {message}", provider=provider, upstream_status=status,
                             code="upstream_not_found")
    if status == 429:
        return UpstreamRateLimited(message, provider=provider, retry_after=_retry_after(headers),
                                   upstream_status=status)
    if status in (408, 504):
        return UpstreamTimeout(message, provider=provider, upstream_status=status)
    if status in (503, 529):
        return UpstreamUnavailable(f"overloaded: {message}", provider=provider, upstream_status=status)
    return UpstreamError(f"HTTP {status}: {message}", provider=provider, upstream_status=status)


def error_for_transport(provider: str, exc: httpx.HTTPError) -> UpstreamError:
    """The EaselError for a connection that failed, hung or was cut."""
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeout(f"no answer in time ({type(exc).__name__})", provider=provider)
    if isinstance(exc, httpx.RemoteProtocolError):
        return UpstreamError(f"connection closed mid-answer: {exc}", provider=provider,
                             code="upstream_stream_cut")
    return UpstreamError(f"could not reach the provider: {exc}", provider=provider,
                         code="upstream_unreachable")


@asynccontextmanager
async def open_stream(client: httpx.AsyncClient, request: httpx.Request, *, provider: str,
                      credentials_env: str | None = None) -> AsyncIterator[httpx.Response]:
    """Send a request with streaming; non-2xx and transport failures become UpstreamErrors.

    The response is closed when the block exits, which is how a client disconnect
    (the generator being closed) stops the upstream generation.
    """
    try:
        response = await client.send(request, stream=True)
    except httpx.HTTPError as exc:
        raise error_for_transport(provider, exc) from exc
    try:
        if response.status_code >= 400:
            body = await response.aread()
            raise error_for_status(provider, response.status_code, body, response.headers, credentials_env)
        try:
            yield response
        except httpx.HTTPError as exc:
            raise error_for_transport(provider, exc) from exc
    finally:
        await response.aclose()


