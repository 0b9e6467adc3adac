"""Authentication middleware on Litestar's AbstractAuthenticationMiddleware.

It never rejects by itself: it resolves the session cookie to a user (or None) and puts the
tenant into the request context; the guards on each route decide. That keeps public routes
(login, health, the PWA shell) and protected ones on one path.

The lookup is one call (`AUTHENTICATE`) made as the FIRST statement of the request's own
database work, so it stamps that transaction for row-level security: on the request's ORM
session (the one handlers get as `db_session`), or for the routes marked AUTH_ON_DRIVER /
AUTH_AUTOCOMMIT on the driver (server/db/driver.py, which holds that machinery). Nothing is
cached between requests: every request reads the session row, so signing out, an expiry or a
disabled account takes effect on the very next request in every worker.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import Receive, Scope, Send
from sqlalchemy import Row, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.sessions import COOKIE_NAME, TOUCH_INTERVAL, ParsedCookie, parse_cookie
from server.core import context
from server.db.driver import AUTH_AUTOCOMMIT, AUTH_ON_DRIVER, DriverPool, DriverTransaction, first_statement
from server.db.driver import SCOPE_KEY as DRIVER_SCOPE_KEY
from server.db.engine import AUTH_PENDING
from server.services import services

# Who is signed in: one call (migration 0008) that reads the session, slides its idle deadline at
# most once per TOUCH_INTERVAL and stamps the transaction for RLS. The driver paths send the same
# text in asyncpg's positional form.
AUTHENTICATE = text(
    "SELECT session_id, user_id, login, display_name, role, expires_at, absolute_expires_at,"
    " district_ids, scope, touched, must_change_password FROM tonari_authenticate(:tenant, :session, :idle, :touch)"
)


@dataclass(frozen=True)
class SignedInUser:
    """What handlers and guards read of the signed-in user (`request.user`). Not an ORM object:
    it is built from the one authentication row and never lazy-loads anything."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    login: str
    display_name: str
    role: str
    district_ids: list[uuid.UUID]  # the user's own district scope rows (not expanded)
    all_districts: bool  # whole tenant (then district_ids is empty); else no rows means no district
    # An admin reset the password: only me / change-password / logout answer (server/core/guards.py).
    must_change_password: bool = False


@dataclass(frozen=True)
class SessionRef:
    tenant_id: uuid.UUID
    id: str  # sha256 hex of the cookie token
    user_id: uuid.UUID
    expires_at: datetime
    absolute_expires_at: datetime


@dataclass(frozen=True)
class AuthState:
    session: SessionRef


def _request_session(connection: ASGIConnection[Any, Any, Any, Any]) -> AsyncSession:
    """The request's db session (created here, or reused by the `db_session` dependency)."""
    return services(connection.app).db_config.provide_session(connection.app.state, connection.scope)


async def _lookup(db: AsyncSession, cookie: ParsedCookie, idle: timedelta) -> Row[Any] | None:
    db.info[AUTH_PENDING] = True  # the call stamps the transaction itself: skip the generic stamp
    try:
        params = {"tenant": cookie.tenant_id, "session": cookie.token_hash, "idle": idle, "touch": TOUCH_INTERVAL}
        try:
            return (await db.execute(AUTHENTICATE, params)).first()
        except DBAPIError as exc:
            # No pool pre-ping: a connection the server dropped fails here, before anything was
            # done in this transaction, so retrying once on a fresh connection is safe.
            if not exc.connection_invalidated:
                raise
            await db.rollback()
            return (await db.execute(AUTHENTICATE, params)).first()
    finally:
        db.info.pop(AUTH_PENDING, None)


class _AuthRow:
    """Attribute access over the driver's record of the authentication call (the shape of the
    ORM's row, which `_lookup` returns)."""

    __slots__ = (
        "absolute_expires_at",
        "display_name",
        "district_ids",
        "expires_at",
        "login",
        "must_change_password",
        "role",
        "scope",
        "session_id",
        "touched",
        "user_id",
    )
    session_id: str
    user_id: uuid.UUID
    login: str
    display_name: str
    role: str
    expires_at: datetime
    absolute_expires_at: datetime
    district_ids: list[uuid.UUID] | None
    scope: list[uuid.UUID] | None
    touched: bool
    must_change_password: bool

    def __init__(self, record: asyncpg.Record) -> None:
        for name in self.__slots__:
            setattr(self, name, record[name])


def enter_signed_in(tenant_id: uuid.UUID, row: Any) -> context.RequestContext:
    """The request context of a signed-in request, from the authentication row (either path),
    keeping the request id and client address the request-context middleware set."""
    now = context.current()
    ctx = context.RequestContext(
        request_id=now.request_id,
        client_addr=now.client_addr,
        tenant_id=tenant_id,
        user_id=row.user_id,
        user_login=row.login,
        role=row.role,
        scope=frozenset(row.scope) if row.district_ids is not None else None,
    )
    context.set_context(ctx)
    return ctx


async def authenticate_on_driver(
    pool: DriverPool, cookie: ParsedCookie, idle: timedelta, *, hold: bool
) -> tuple[_AuthRow | None, DriverTransaction | None]:
    """The authentication call on the driver (`first_statement`, server/db/driver.py), for the
    routes marked AUTH_AUTOCOMMIT (hold=False) or AUTH_ON_DRIVER (hold=True: the transaction it
    stamped is returned for the handler and ended by `__call__`)."""
    params = {"tenant": cookie.tenant_id, "session": cookie.token_hash, "idle": idle, "touch": TOUCH_INTERVAL}
    record, held = await first_statement(pool, AUTHENTICATE, params, hold=hold)
    if record is None:
        if held is not None:
            await held.release()
        return None, None
    row = _AuthRow(record)
    if held is not None:
        # A moved sliding deadline is kept whatever the handler does (committing now would drop
        # the stamp the handler needs).
        held.commit_on_release = bool(row.touched)
    return row, held


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def body_first(receive: Receive, limit: int) -> Receive:
    """Read the request body before anything takes a database connection, and replay it to the
    app: a slow upload (a phone on a weak signal) then holds no pooled connection idle in a
    transaction while it trickles in (issue #16 item 5). At most `limit` + 1 bytes are held here;
    past that the rest streams on, and Litestar refuses the body as too large."""
    held: list[Any] = []  # request messages, replayed as they came
    size = 0
    while size <= limit:
        message = await receive()
        held.append(message)
        if message["type"] != "http.request":  # the client went away: replay that
            break
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            break

    async def replay() -> Any:
        return held.pop(0) if held else await receive()

    return replay


class SessionCookieAuthMiddleware(AbstractAuthenticationMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and scope.get("method") in _BODY_METHODS:
            receive = await body_first(receive, services(scope["app"]).settings.max_body_bytes)
        try:
            await super().__call__(scope, receive, send)
        finally:
            # An AUTH_ON_DRIVER route's transaction ends here, after the response was sent
            # (or the guard refused, or the handler failed): rollback unless committed.
            held = scope.get("state", {}).pop(DRIVER_SCOPE_KEY, None)
            if held is not None:
                await held.release()

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        cookie = parse_cookie(connection.cookies.get(COOKIE_NAME))
        if cookie is None:
            return AuthenticationResult(user=None, auth=None)
        settings = services(connection.app).settings
        context.update(tenant_id=cookie.tenant_id)
        handler = connection.scope.get("route_handler")
        idle = timedelta(minutes=settings.session_idle_minutes)
        db: AsyncSession | None = None
        held: DriverTransaction | None = None
        row: _AuthRow | Row[Any] | None
        opt = getattr(handler, "opt", None) or {}
        if opt.get(AUTH_AUTOCOMMIT) or opt.get(AUTH_ON_DRIVER):
            row, held = await authenticate_on_driver(
                services(connection.app).driver_pool, cookie, idle, hold=bool(opt.get(AUTH_ON_DRIVER))
            )
            if held is not None:
                connection.scope.setdefault("state", {})[DRIVER_SCOPE_KEY] = held
        else:
            db = _request_session(connection)
            row = await _lookup(db, cookie, idle)
        if row is None:
            # Nothing of this transaction is wanted (it was stamped for the cookie's tenant).
            if db is not None:
                await db.close()
            context.update(tenant_id=None)
            # Remember that a cookie was presented, so the 401 can say "session ended".
            connection.scope.setdefault("state", {})["tonari_stale_session"] = True
            return AuthenticationResult(user=None, auth=None)
        enter_signed_in(cookie.tenant_id, row)
        if row.touched and db is not None:
            # The sliding deadline must stick even if the handler only reads (its transaction is
            # rolled back): commit now. At most once a minute per session (TOUCH_INTERVAL).
            await db.commit()
        user = SignedInUser(
            id=row.user_id,
            tenant_id=cookie.tenant_id,
            login=row.login,
            display_name=row.display_name,
            role=row.role,
            district_ids=list(row.district_ids or []),
            all_districts=row.district_ids is None,
            must_change_password=bool(row.must_change_password),
        )
        session = SessionRef(
            tenant_id=cookie.tenant_id,
            id=row.session_id,
            user_id=row.user_id,
            expires_at=row.expires_at,
            absolute_expires_at=row.absolute_expires_at,
        )
        return AuthenticationResult(user=user, auth=AuthState(session=session))
