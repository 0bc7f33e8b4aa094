"""The EaselError tree: every error a client may see, with its HTTP status and OpenAI error type.

    EaselError                       500 api_error (never raised directly)
    ├── InvalidRequest               400 invalid_request_error
    │   ├── ContextWindowExceeded    400 code=context_length_exceeded
    │   └── UnsupportedParameter     400 code=unsupported_parameter
    ├── AuthenticationFailed         401 authentication_error
    │   └── MissingCredentials       401 code=missing_credentials (names the variable to set)
    ├── PermissionDenied             403 permission_error
    ├── NotFound                     404 not_found_error
    │   └── ModelNotFound            404 code=model_not_found (suggests the nearest ids)
    ├── Conflict                     409 conflict_error
    └── UpstreamError                502 upstream_error (names the provider)
        ├── UpstreamBadRequest       400 invalid_request_error (the provider refused the request)
        ├── UpstreamRateLimited      429 rate_limit_error (carries retry_after)
        ├── UpstreamTimeout          504 timeout_error
        └── UpstreamUnavailable      503 overloaded_error (provider said 503/529)

Only these map to 4xx/5xx answers with a message; any other exception is a bug
and becomes a 500 with a request id.
"""

from __future__ import annotations

from typing import Any


class EaselError(Exception):
    """Base of every error easel reports to a client."""

    status_code: int = 500
    error_type: str = "api_error"
    default_code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code if code is not None else self.default_code
        self.headers: dict[str, str] = dict(headers or {})

    def to_body(self) -> dict[str, Any]:
        """The OpenAI error shape: {"error": {"message", "type", "param", "code"}}."""
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }


class InvalidRequest(EaselError):
    status_code = 400
    error_type = "invalid_request_error"


class ContextWindowExceeded(InvalidRequest):
    default_code = "context_length_exceeded"


class UnsupportedParameter(InvalidRequest):
    default_code = "unsupported_parameter"


class AuthenticationFailed(EaselError):
    status_code = 401
    error_type = "authentication_error"
    default_code = "invalid_api_key"


class MissingCredentials(AuthenticationFailed):
    """A provider has no key configured; the message names the variable to set."""

    default_code = "missing_credentials"


class PermissionDenied(EaselError):
    status_code = 403
    error_type = "permission_error"


class NotFound(EaselError):
    status_code = 404
    error_type = "not_found_error"
    default_code = "not_found"


class ModelNotFound(NotFound):
    error_type = "invalid_request_error"
    default_code = "model_not_found"


class Conflict(EaselError):
    status_code = 409
    error_type = "conflict_error"


class UpstreamError(EaselError):
    """A provider failed. `provider` names it; `upstream_status` is what it answered, if anything."""

    status_code = 502
    error_type = "upstream_error"
    default_code = "upstream_error"

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        upstream_status: int | None = None,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{provider}: {message}", param=param, code=code, headers=headers)
        self.provider = provider
        self.upstream_status = upstream_status


class UpstreamBadRequest(UpstreamError):
    """The provider refused the request itself (its 400/422): the client has something to fix."""

    status_code = 400
    error_type = "invalid_request_error"
    default_code = "upstream_bad_request"


class UpstreamRateLimited(UpstreamError):
    status_code = 429
    error_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"

    def __init__(self, message: str, *, provider: str, retry_after: float | None = None, **kw: Any) -> None:
        headers = dict(kw.pop("headers", None) or {})
        if retry_after is not None:
            headers["Retry-After"] = str(max(1, round(retry_after)))
        super().__init__(message, provider=provider, headers=headers, **kw)
        self.retry_after = retry_after


class UpstreamTimeout(UpstreamError):
    status_code = 504
    error_type = "timeout_error"
    default_code = "upstream_timeout"


class UpstreamUnavailable(UpstreamError):
    status_code = 503
    error_type = "overloaded_error"
    default_code = "upstream_overloaded"
