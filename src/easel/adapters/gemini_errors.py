"""Gemini API error answers -> EaselErrors, reading what only Google's body says.

Google answers a bad key with 400 (reason API_KEY_INVALID) and says when to retry in a
RetryInfo detail rather than a Retry-After header; everything else is the shared mapping in
`adapters.upstream`. Used by the Gemini chat provider and the Imagen provider alike.
"""

from __future__ import annotations

import json
from typing import Any

from easel.adapters.upstream import error_for_status
from easel.errors import UpstreamError, UpstreamRateLimited

PROVIDER = "gemini"


def error_from_body(status: int, body: bytes | str, headers: Any = None, *, provider: str = PROVIDER,
                    credentials_env: str | None = "GEMINI_API_KEY") -> UpstreamError:
    """The EaselError for a Gemini error answer, reading what only Google's body says.

    Google answers a bad key with 400 (reason API_KEY_INVALID), which is a credentials
    problem, not the client's request; and says when to retry in a RetryInfo detail
    rather than a Retry-After header. Everything else is the shared mapping.
    """
    error = error_for_status(provider, status, body, headers, credentials_env)
    details = _details(body)
    reasons = {d.get("reason") for d in details}
    if status == 400 and "API_KEY_INVALID" in reasons:
        hint = f" (check {credentials_env})" if credentials_env else ""
        message = error.message.removeprefix(f"{provider}: ")
        return UpstreamError(f"rejected the credentials{hint}: {message}", provider=provider,
                             upstream_status=status, code="upstream_authentication_failed")
    if isinstance(error, UpstreamRateLimited) and error.retry_after is None:
        delay = next((_seconds(d.get("retryDelay")) for d in details if d.get("retryDelay")), None)
        if delay is not None:
            return UpstreamRateLimited(error.message.removeprefix(f"{provider}: "), provider=provider,
                                       retry_after=delay, upstream_status=status)
    return error


def _details(body: bytes | str) -> list[dict[str, Any]]:
    try:
        payload: Any = json.loads(body)
    except ValueError:
        return []
    if isinstance(payload, list) and payload:
        payload = payload[0]
    error = payload.get("error") if isinstance(payload, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def _seconds(value: Any) -> float | None:
    """A protobuf Duration in JSON ("7s", "0.5s") as seconds."""
    if isinstance(value, str) and value.endswith("s"):
        try:
            return float(value[:-1])
        except ValueError:
            return None
    return None
