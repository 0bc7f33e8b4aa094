"""Every failure answers in OpenAI's error shape, with the right status, as application/json.

Only EaselError subclasses become 4xx answers with their own message. Malformed JSON and
schema violations are turned into InvalidRequest at the edge. Anything else is a bug: a 500
that carries a request id, logged with its traceback.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from easel.errors import EaselError, InvalidRequest

log = logging.getLogger(__name__)


def json_response(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json", headers=headers)


def warning_headers(warnings: list[str]) -> dict[str, str]:
    """A `Warning` header (code 299, "miscellaneous persistent warning") for what easel ignored or changed."""
    return {"Warning": "; ".join(f'299 easel "{w}"' for w in warnings)} if warnings else {}


def error_response(error: EaselError) -> Response:
    return json_response(error.to_body(), error.status_code, error.headers or None)


def _loc_to_param(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if item in ("body", "query", "path"):
            continue
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def invalid_from_validation(errors: list[dict[str, Any]]) -> InvalidRequest:
    """One clear InvalidRequest from pydantic's error list: what is wrong, and where."""
    first = errors[0]
    loc = tuple(first.get("loc", ()))
    # Union members add their type name to the location; they are noise to a client.
    loc = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in {"str", "list[str]"})))
    param = _loc_to_param(loc) or None
    kind = first.get("type", "")
    if kind == "extra_forbidden":
        message = f"Unrecognized request argument supplied: {param}"
    elif kind == "missing":
        message = f"Missing required parameter: '{param}'."
    else:
        message = f"Invalid value for '{param}': {first.get('msg', 'invalid')}." if param else str(first.get("msg"))
    if len(errors) > 1:
        message += f" ({len(errors) - 1} more problem{'s' if len(errors) > 2 else ''} in the request.)"
    return InvalidRequest(message, param=param, code="invalid_value" if kind != "missing" else "missing_required_parameter")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(EaselError)
    async def _easel(_: Request, exc: EaselError) -> Response:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _request_validation(_: Request, exc: RequestValidationError) -> Response:
        errors = list(exc.errors())
        if errors and errors[0].get("type") == "json_invalid":
            return error_response(InvalidRequest("Malformed JSON in the request body.", code="invalid_json"))
        return error_response(invalid_from_validation(errors))

    @app.exception_handler(ValidationError)
    async def _validation(_: Request, exc: ValidationError) -> Response:
        return error_response(invalid_from_validation(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        kinds = {404: "not_found_error", 405: "invalid_request_error"}
        body = {"error": {"message": str(exc.detail), "type": kinds.get(exc.status_code, "invalid_request_error"),
                          "param": None, "code": None}}
        return json_response(body, exc.status_code, dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        request_id = uuid.uuid4().hex[:12]
        log.exception("unhandled error (request %s) on %s %s", request_id, request.method, request.url.path)
        body = {"error": {"message": f"Internal error (request id {request_id}); this is a bug in easel.",
                          "type": "api_error", "param": None, "code": "internal_error"}}
        return json_response(body, 500, {"X-Request-Id": request_id})
