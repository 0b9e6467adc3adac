"""The OpenAPI schema says how errors look: every error of every route is a problem document.

Litestar documents a generic `400 ValidationException` body that this app never sends (its
exception handlers answer `application/problem+json`, server/core/errors.py). This replaces it, once
at start-up, with the problem document's schema under each status a route can answer and under
`default` for the rest, so a client (and schemathesis, tests/core/test_schemathesis.py) can rely on it.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)
from litestar.routes import HTTPRoute

from server.core.errors import PROBLEM_MEDIA_TYPE
from server.core.guards import public
from server.core.problems import CATALOGUE
from server.core.types import FeatureCollection

GEOJSON = "application/geo+json"
CSV = "text/csv"


def geojson_responses(description: str = "A GeoJSON FeatureCollection") -> dict[int, ResponseSpec]:
    """`responses=` of a route that answers GeoJSON (its handler returns a plain dict or bytes)."""
    return {
        200: ResponseSpec(
            data_container=FeatureCollection, description=description, media_type=GEOJSON, generate_examples=False
        )
    }


_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_STRING = Schema(type=OpenAPIType.STRING)
_MESSAGE = Schema(type=OpenAPIType.OBJECT, required=["ja", "en"], properties={"ja": _STRING, "en": _STRING})

PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    title="Problem",
    description="RFC 9457 problem document. `code` is stable; `message` is for people (ja, en); "
    "`errors` names the fields at fault. Some codes add members (e.g. `current_version`, `report`).",
    required=["type", "title", "status", "detail", "code", "message"],
    properties={
        "type": _STRING,
        "title": _STRING,
        "status": Schema(type=OpenAPIType.INTEGER, minimum=400, maximum=599),
        "detail": _STRING,
        "code": Schema(type=OpenAPIType.STRING, enum=sorted(CATALOGUE)),
        "message": _MESSAGE,
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(
                type=OpenAPIType.OBJECT,
                required=["field", "code", "message"],
                properties={"field": _STRING, "code": _STRING, "message": _MESSAGE},
            ),
        ),
        "request_id": _STRING,
    },
)

_WHY = {
    "400": "The request is malformed or a field is not valid (`errors` names them).",
    "401": "Not signed in, or the session has ended.",
    "403": "The role may not do this, or the CSRF check failed.",
    "404": "Nothing with this id exists for the viewer.",
    "409": "It conflicts with the current state (a version, a duplicate, something that depends on it).",
    "413": "The request body is too large.",
    "422": "Something it refers to does not exist.",
    "default": "Any other error, as a problem document.",
}


def _statuses(method: str, handler: Any, has_path_params: bool, has_body: bool) -> list[str]:
    guarded = public not in handler.resolve_guards()
    out = ["400"]
    if guarded:
        out.append("401")
    if guarded or method in _UNSAFE:
        out.append("403")  # a role the route refuses; a write without the CSRF token
    if has_path_params:
        out.append("404")
    if method in _UNSAFE and guarded:
        out += ["409", "422"]
    if has_body:
        out.append("413")
    return out


def document_problems(app: Litestar) -> None:
    """Put the problem document under every operation's error statuses and `default`."""
    openapi = app.openapi_schema
    components = openapi.components
    components.schemas = {**(components.schemas or {}), "Problem": PROBLEM_SCHEMA}
    openapi.components = components
    ref = Reference(ref="#/components/schemas/Problem")
    handlers: dict[tuple[str, str], Any] = {
        (route.path_format, method): handler
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for method, handler in route.route_handler_map.items()
    }
    for path, item in (openapi.paths or {}).items():
        for method in ("get", "put", "post", "patch", "delete"):
            operation: Operation | None = getattr(item, method, None)
            if operation is None:
                continue
            entry = handlers.get((path, method.upper()))
            handler = entry[0] if isinstance(entry, tuple) else entry
            if handler is None:
                continue
            responses = dict(operation.responses or {})
            responses.pop("400", None)  # Litestar's ValidationException body: not what is sent
            no_content = responses.get("204")
            if isinstance(no_content, OpenAPIResponse):  # a handler typed Response[None] (to set a cookie)
                no_content.content = None  # got an application/json body documented; 204 has none
            has_path_params = any(getattr(p, "param_in", None) == "path" for p in operation.parameters or [])
            for status in (
                *_statuses(method.upper(), handler, has_path_params, operation.request_body is not None),
                "default",
            ):
                responses.setdefault(
                    status,
                    OpenAPIResponse(
                        description=_WHY.get(status, "An error, as a problem document."),
                        content={PROBLEM_MEDIA_TYPE: OpenAPIMediaType(schema=ref)},
                    ),
                )
            operation.responses = responses
