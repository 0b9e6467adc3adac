"""Per-request context: who is asking, for which tenant, under which request id.

It lives in a contextvar so that the database layer can stamp every transaction with the tenant
(row-level security) and the audit helper can fill in who/where without each caller passing it.
"""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass, replace
from typing import Any

from server.core.problems import Problem


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    client_addr: str | None = None
    tenant_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    user_login: str | None = None
    role: str | None = None
    # District ids (with descendants) the user is limited to; None = the whole tenant.
    scope: frozenset[uuid.UUID] | None = None


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "tonari_request_context", default=RequestContext()
)


def current() -> RequestContext:
    return _current.get()


def current_tenant() -> uuid.UUID:
    """The request's tenant, for every query keyed by it. Without one, 401 `not_authenticated`: the
    guards make that unreachable on tenant routes, and this fails closed all the same."""
    tenant_id = _current.get().tenant_id
    if tenant_id is None:
        raise Problem("not_authenticated")
    return tenant_id


def update(**changes: Any) -> RequestContext:
    ctx = replace(_current.get(), **changes)
    _current.set(ctx)
    return ctx


def set_context(ctx: RequestContext) -> contextvars.Token[RequestContext]:
    return _current.set(ctx)


def reset(token: contextvars.Token[RequestContext]) -> None:
    _current.reset(token)
