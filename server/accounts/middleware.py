"""Authentication middleware on Litestar's AbstractAuthenticationMiddleware.

It never rejects by itself: it resolves the session cookie to a user (or None) and puts the
tenant into the request context; the guards on each route decide. That keeps public routes
(login, health, the PWA shell) and protected ones on one path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.accounts.models import User, UserSession
from server.accounts.scope import expanded_scope
from server.accounts.sessions import COOKIE_NAME, load_session, parse_cookie
from server.core import context


@dataclass(frozen=True)
class AuthState:
    session: UserSession


def _sessionmaker(connection: ASGIConnection) -> async_sessionmaker[AsyncSession]:
    return connection.app.state["tonari_sessionmaker"]


class SessionCookieAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        cookie = parse_cookie(connection.cookies.get(COOKIE_NAME))
        if cookie is None:
            return AuthenticationResult(user=None, auth=None)
        settings = connection.app.state["tonari_settings"]
        context.update(tenant_id=cookie.tenant_id)
        async with _sessionmaker(connection)() as db, db.begin():
            found = await load_session(db, cookie, timedelta(minutes=settings.session_idle_minutes))
            if found is not None:
                user = found[1]
                scope = await expanded_scope(db, user.tenant_id, user.id, bool(user.district_scopes))
        if found is None:
            context.update(tenant_id=None)
            # Remember that a cookie was presented, so the 401 can say "session ended".
            connection.scope.setdefault("state", {})["tonari_stale_session"] = True
            return AuthenticationResult(user=None, auth=None)
        session, user = found
        context.update(
            tenant_id=user.tenant_id, user_id=user.id, user_login=user.login, role=user.role, scope=scope
        )
        return AuthenticationResult(user=user, auth=AuthState(session=session))


def current_user(connection: ASGIConnection) -> User | None:
    return connection.scope.get("user")  # type: ignore[return-value]
