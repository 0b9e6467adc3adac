"""Route guards. Every route handler must carry one (tests/core/test_routes_guarded.py enforces it).

`public` is an explicit "anyone may call this", so a forgotten guard is never the same as an
intentionally open route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from server.core.problems import Problem

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]

# The guards are coroutines on purpose: Litestar runs a plain function guard through
# `sync_to_thread`, i.e. a thread-pool hop per guard per request (11 % of the server's CPU in the
# ingest benchmark). They never block, so they run on the event loop.


# Route option (`opt={PASSWORD_CHANGE_PENDING_OK: True}`) of the few routes a user whose password
# an admin has reset may call before choosing a new one: me, change-password, logout. Every
# other signed-in route answers 403 `password_change_required` until then.
PASSWORD_CHANGE_PENDING_OK = "tonari_password_change_pending_ok"


def _generated_options(handler: BaseRouteHandler) -> bool:
    """Litestar's own OPTIONS responder (the methods of a path, nothing else). It inherits its
    controller's guards, and authentication skips OPTIONS, so a guarded controller answered 401
    where an unguarded one answered 204: it passes every guard instead."""
    return handler.handler_name == "options_handler" and set(getattr(handler, "http_methods", ())) == {"OPTIONS"}


def _check_signed_in(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    user = connection.scope.get("user")
    if user is None:
        stale = connection.scope.get("state", {}).get("tonari_stale_session")
        raise Problem("session_expired" if stale else "not_authenticated")
    if user.must_change_password and not handler.opt.get(PASSWORD_CHANGE_PENDING_OK):
        raise Problem("password_change_required")


async def public(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Explicitly open to anyone (login page, health checks, the PWA shell, the API schema)."""


async def signed_in(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    if not _generated_options(handler):
        _check_signed_in(connection, handler)


def roles(*allowed: str) -> Guard:
    """Signed in and holding one of `allowed` roles."""
    allowed_set = frozenset(allowed)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        if _generated_options(handler):
            return
        _check_signed_in(connection, handler)
        if connection.scope["user"].role not in allowed_set:
            raise Problem("forbidden")

    guard.__name__ = f"roles({', '.join(sorted(allowed_set))})"
    guard.__qualname__ = guard.__name__
    return guard


STAFF = roles("admin", "staff")
ADMIN = roles("admin")
