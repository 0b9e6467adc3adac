"""Exception handlers: every error leaves as problem+json; nothing internal reaches the client."""

from __future__ import annotations

import re
import uuid
from typing import Any

import asyncpg
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
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

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
        elif "length <=" in lowered:
            code = "too_long"
        elif "length >=" in lowered:
            code = "too_short"
        elif re.search(r"expected `(int|float)` [<>]=? ", lowered):
            code = "out_of_range"
        elif "expected `" in lowered:
            code = "invalid_type"
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


# ---- database errors ---------------------------------------------------------------------------
# What the database refuses because of what a client sent (typed bodies catch nearly all of it
# first; this is the net under them). Anything else stays a 500: it is our bug, not theirs.

_KEY_COLUMNS = re.compile(r"Key \(([^)]*)\)=")
_REFERENCED_FROM = re.compile(r'is still referenced from table "([^"]+)"')
# Check constraints are named `<column>_<rule>` (ck_<table>_ is the naming convention's prefix).
_CHECK_RULE = re.compile(r"_(known|range|positive|given|after_given|length|katakana|count)$")


def _pg_error(exc: BaseException) -> asyncpg.PostgresError | None:
    """The driver's error behind SQLAlchemy's wrapper (or the driver's own, on the driver paths)."""
    seen = exc
    for _ in range(4):
        if isinstance(seen, asyncpg.PostgresError):
            return seen
        nxt = getattr(seen, "orig", None) or seen.__cause__
        if nxt is None:
            return None
        seen = nxt
    return None


_NOT_PRESENT_IN = re.compile(r'is not present in table "([^"]+)"')


def _key_fields(pg: asyncpg.PostgresError, kind: str) -> list[str]:
    """The columns of a key, without tenant_id. PostgreSQL leaves them out of the detail of a table
    under row-level security, so they are read from the constraint's conventional name then
    (`fk_<table>_<columns>_<referred table>`, `uq_<table>_<columns>`, server/db/base.py)."""
    m = _KEY_COLUMNS.search(pg.detail or "")
    if m:
        return [c.strip() for c in m.group(1).split(",") if c.strip() and c.strip() != "tenant_id"]
    name = pg.constraint_name or ""
    prefix = f"{kind}_{pg.table_name}_"
    if not pg.table_name or not name.startswith(prefix):
        return []
    name = name[len(prefix) :]
    referred = _NOT_PRESENT_IN.search(pg.detail or "")
    if kind == "fk" and referred and name.endswith(f"_{referred.group(1)}"):
        name = name[: -len(referred.group(1)) - 1]
    name = name.removeprefix("tenant_id_").removeprefix("tenant_id")
    return [name] if name else []


def _check_field(pg: asyncpg.PostgresError) -> str:
    name = pg.constraint_name or ""
    prefix = f"ck_{pg.table_name}_" if pg.table_name else "ck_"
    if name.startswith(prefix):
        name = name[len(prefix) :]
    return _CHECK_RULE.sub("", name) or "body"


def problem_for_db_error(exc: BaseException) -> Problem | None:
    """The problem a client can act on for a database error its input caused, else None."""
    pg = _pg_error(exc)
    if pg is None:
        return None
    state = pg.sqlstate or ""
    if state == "23503":  # foreign_key_violation
        referenced_from = _REFERENCED_FROM.search(pg.detail or "")
        if referenced_from:
            return Problem("in_use", extra={"referenced_by": referenced_from.group(1)})
        return Problem("invalid_reference", errors=[FieldError(f, "unknown_reference") for f in _key_fields(pg, "fk")])
    if state == "23505":  # unique_violation: the columns, never the values (they may be personal)
        return Problem("duplicate", errors=[FieldError(f, "taken") for f in _key_fields(pg, "uq")])
    if state == "23514":  # check_violation
        if pg.constraint_name == "district_no_cycle":  # the trigger of migration 0011
            return Problem("district_cycle", errors=[FieldError("parent_id", "invalid")])
        return Problem("validation_failed", errors=[FieldError(_check_field(pg), "invalid")])
    if state == "23502":  # not_null_violation
        return Problem("validation_failed", errors=[FieldError(pg.column_name or "body", "required")])
    if state == "22001":  # string_data_right_truncation
        return Problem("validation_failed", errors=[FieldError(pg.column_name or "body", "too_long")])
    message = pg.message or ""
    if state == "22003" or (state.startswith("22") and ("out of int" in message or "out of range" in message)):
        return Problem("validation_failed", errors=[FieldError(pg.column_name or "body", "out_of_range")])
    if state in ("22021", "22P05"):  # NUL or an unpaired surrogate that got past the normaliser
        return Problem("validation_failed", errors=[FieldError(pg.column_name or "body", "invalid_character")])
    if state.startswith(("22", "54")):  # data exception, program limit exceeded
        return Problem("validation_failed", errors=[FieldError(pg.column_name or "body", "invalid")])
    return None


# Seconds a client is asked to wait (Retry-After) when the database is out of reach for a moment.
RETRY_AFTER_SECONDS = 2

# What a connection the database dropped (a restart, an idle timeout, an administrator) raises on
# its first use, or a database that is down or starting up. Its transaction was rolled back
# (only a COMMIT cut off mid-way may have landed, which the client cannot tell from a 500 either):
# the client's retry is the way on, and the field's writes answer a retry as a duplicate.
_CONNECTION_LOST = (
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.InterfaceError,
    ConnectionError,
)


def _connection_lost(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return False
        if isinstance(seen, _CONNECTION_LOST):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


def unavailable(code: str) -> Problem:
    """A fast 503 the client retries (database_busy: no connection free within the pool's
    timeout; database_unavailable: the connection was lost or the database is down)."""
    return Problem(code, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def pool_timeout_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.warning("db_pool_exhausted", path=request.url.path)
    return render(unavailable("database_busy"))


def connection_lost_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    if not _connection_lost(exc):
        return internal_handler(request, exc)
    log.warning("db_connection_lost", path=request.url.path, error_type=type(exc).__name__)
    return render(unavailable("database_unavailable"))


def db_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    problem = problem_for_db_error(exc)
    if problem is None:
        return connection_lost_handler(request, exc)
    pg = _pg_error(exc)
    log.info(
        "db_error_refused",
        path=request.url.path,
        sqlstate=getattr(pg, "sqlstate", None),
        constraint=getattr(pg, "constraint_name", None),
        code=problem.code,
    )
    return render(problem)


EXCEPTION_HANDLERS = {
    Problem: problem_handler,
    DBAPIError: db_error_handler,
    asyncpg.PostgresError: db_error_handler,
    ValidationException: validation_handler,
    HTTPException: http_handler,
    PoolTimeout: pool_timeout_handler,
    Exception: connection_lost_handler,  # a lost database connection is a 503; anything else a 500
}
