"""Route guards. Every route handler must carry one (tests/test_routes_guarded.py enforces it).

`public` is an explicit "anyone may call this", so a forgotten guard is never the same as an
intentionally open route.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from server.core.problems import Problem

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def public(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Explicitly open to anyone (login page, health checks, the PWA shell, the API schema)."""


def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if connection.scope.get("user") is None:
        stale = connection.scope.get("state", {}).get("tonari_stale_session")
        raise Problem("session_expired" if stale else "not_authenticated")


def roles(*allowed: str) -> Guard:
    """Signed in and holding one of `allowed` roles."""
    allowed_set = frozenset(allowed)

    def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        signed_in(connection, handler)
        if connection.scope["user"].role not in allowed_set:  # type: ignore[union-attr]
            raise Problem("forbidden")

    guard.__name__ = f"roles({', '.join(sorted(allowed_set))})"
    guard.__qualname__ = guard.__name__
    return guard


STAFF = roles("admin", "staff")
