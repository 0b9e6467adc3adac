"""Exception handlers: every error leaves as problem+json; nothing internal reaches the client."""

from __future__ import annotations

import re
import uuid
from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from server.core import context
from server.core.problems import FieldError, Problem

log = structlog.get_logger("tonari.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"

_STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    503: "service_unavailable",
}


def render(problem: Problem) -> Response[dict[str, Any]]:
    request_id = context.current().request_id
    if not request_id:
        # Raised before any route matched (router 404/405): our middleware never ran.
        request_id = context.update(request_id=uuid.uuid4().hex).request_id
    headers = dict(problem.headers)
    if request_id:
        headers["X-Request-ID"] = request_id
    return Response(
        content=problem.body(request_id),
        status_code=problem.http_status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers or None,
    )


def _field_errors(extra: Any) -> list[FieldError]:
    errors: list[FieldError] = []
    if not isinstance(extra, list):
        return errors
    for item in extra:
        if not isinstance(item, dict):
            continue
        key = str(item.get("key") or "")
        message = str(item.get("message") or "")
        if key in ("", "data"):
            # msgspec names the field inside the message: "missing required field `login`" or "at `$.login`"
            m = re.search(r"at `\$\.([^`]+)`", message) or re.search(r"field `([^`]+)`", message)
            key = m.group(1) if m else "body"
        lowered = message.lower()
        if "missing required" in lowered or "required" in lowered:
            code = "required"
        elif "expected `" in lowered:
            code = "invalid_type"
        elif "length <=" in lowered:
            code = "too_long"
        elif "length >=" in lowered:
            code = "too_short"
        elif "unknown field" in lowered:
            code = "unknown_field"
        else:
            code = "invalid"
        errors.append(FieldError(field=key, code=code))
    return errors


def problem_handler(request: Request[Any, Any, Any], exc: Problem) -> Response[dict[str, Any]]:
    return render(exc)


def validation_handler(request: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    detail = (exc.detail or "").lower()
    if "json" in detail and ("malformed" in detail or "decode" in detail):
        return render(Problem("invalid_json"))
    return render(Problem("validation_failed", errors=_field_errors(exc.extra)))


def http_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    if isinstance(exc, PermissionDeniedException) and "csrf" in (exc.detail or "").lower():
        code = "csrf_failed"
    elif isinstance(exc, NotAuthorizedException):
        code = "not_authenticated"
    elif isinstance(exc, NotFoundException):
        code = "not_found"
    else:
        code = _STATUS_CODES.get(status, "bad_request" if status < 500 else "internal_error")
    headers = dict(exc.headers or {})
    return render(Problem(code, headers=headers, status=status))


def internal_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled_error", path=request.url.path, error_type=type(exc).__name__)
    return render(Problem("internal_error", status=HTTP_500_INTERNAL_SERVER_ERROR))


EXCEPTION_HANDLERS = {
    Problem: problem_handler,
    ValidationException: validation_handler,
    HTTPException: http_handler,
    Exception: internal_handler,
}
