"""ASGI middleware: request id, client address, access log line.

Runs outermost so every log line and problem document of a request carries the same id. A
client-supplied `X-Request-ID` is kept when it looks sane, so a PWA retry can be traced.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
import time

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server.core import context
from server.core.input import check_url

_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
log = structlog.get_logger("tonari.access")


def client_address(scope: Scope) -> str | None:
    """The peer address. Behind a proxy, uvicorn's --proxy-headers rewrites scope['client'] from
    X-Forwarded-For; anything that is not an IP address (a test client's name, a malformed
    forwarded value) is None: it goes into inet columns of the audit and the sessions."""
    client = scope.get("client")
    return _ip_or_none(client[0]) if client and client[0] else None


@functools.lru_cache(maxsize=4096)  # a phone sends many requests: its address is checked once while cached
def _ip_or_none(host: str) -> str | None:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None
    return host


def request_id_for(incoming: bytes) -> str:
    """The client's X-Request-ID when it looks sane (so a PWA retry can be traced), else a new one."""
    text = incoming.decode("latin-1") if incoming else ""
    return text if text and _SANE_ID.match(text) else os.urandom(16).hex()


def start_request(scope: Scope) -> str:
    """The request id, put into the request context and onto every log line of the request.
    Returns it."""
    incoming = next((value for name, value in scope.get("headers", []) if name == b"x-request-id"), b"")
    request_id = request_id_for(incoming)
    # Not reset at the end on purpose: an error raised in the request is rendered by Litestar's
    # outermost exception middleware, which needs the request id. Each request runs in its own
    # task, so nothing leaks into the next one.
    context.set_context(context.RequestContext(request_id=request_id, client_addr=client_address(scope)))
    structlog.contextvars.bind_contextvars(request_id=request_id)
    return request_id


def log_request(scope: Scope, status: int | None, started: float) -> None:
    """The access log line (one per request)."""
    ctx = context.current()
    log.info(
        "request",
        method=scope.get("method"),
        path=scope.get("path"),
        status=status,
        ms=round((time.perf_counter() - started) * 1000, 1),
        user=str(ctx.user_id) if ctx.user_id else None,
        tenant=str(ctx.tenant_id) if ctx.tenant_id else None,
    )


def request_context_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        request_id = start_request(scope)
        started = time.perf_counter()
        status_holder: dict[str, int] = {}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = MutableScopeHeaders.from_message(message)
                headers["X-Request-ID"] = request_id
            await send(message)

        failure_status: int | None = None
        try:
            check_url(scope)
            await app(scope, receive, send_wrapper)
        except Exception as exc:
            # Litestar's outer exception middleware renders it; note the status for the log line.
            failure_status = getattr(exc, "http_status", None) or getattr(exc, "status_code", None) or 500
            raise
        finally:
            log_request(scope, status_holder.get("status", failure_status), started)

    return middleware
