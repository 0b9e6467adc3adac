"""`/api/auth`: sign in, sign out, who am I, and a CSRF cookie for a fresh client."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT
from sqlalchemy import select
from server.db.deps import DbSession

from server.accounts import passwords, sessions, throttle
from server.accounts.middleware import AuthState, SignedInUser
from server.accounts.models import LoginDirectory, User
from server.accounts.schemas import LoginRequest, UserOut
from server.audit.record import record as audit
from server.core import context
from server.core.guards import public, signed_in
from server.core.problems import Problem
from server.settings import Settings
from server.tenancy.models import Tenant


def _session_cookie(settings: Settings, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=sessions.COOKIE_NAME,
        value=value,
        max_age=max_age,
        path="/",
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
    )


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @get("/csrf", guards=[public], status_code=HTTP_204_NO_CONTENT, summary="Obtain the CSRF cookie")
    async def csrf(self) -> None:
        """The CSRF middleware sets the `tonari_csrf` cookie on any safe request; this one does nothing else."""

    @post("/login", guards=[public], status_code=HTTP_200_OK, summary="Sign in")
    async def login(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        data: JSONBody[LoginRequest],
    ) -> Response[UserOut]:
        """Sets the HttpOnly `tonari_session` cookie. Unknown login and wrong password answer alike."""
        settings: Settings = request.app.state["tonari_settings"]
        window = timedelta(minutes=settings.login_window_minutes)
        key = throttle.login_key(data.login)
        client = context.current().client_addr or "unknown"
        db = db_session

        wait = await throttle.retry_after(db, key, client, max_failures=settings.login_max_failures, window=window)
        if wait is not None:
            raise Problem("too_many_attempts", headers={"Retry-After": str(wait)}, extra={"retry_after": wait})

        entry = (await db.execute(select(LoginDirectory).where(LoginDirectory.login == key))).scalar_one_or_none()
        user: User | None = None
        if entry is not None:
            context.update(tenant_id=entry.tenant_id)
            # The tenant GUC is stamped when a transaction begins: start a fresh one for this tenant.
            await db.commit()
            user = (
                await db.execute(select(User).where(User.tenant_id == entry.tenant_id, User.id == entry.user_id))
            ).scalar_one_or_none()
        ok = passwords.verify_password(user.password_hash if user else None, data.password)
        if not ok or user is None or not user.is_active:
            await throttle.note_failure(db, key, client, window=window)
            if user is not None:
                await audit(
                    db,
                    "auth.login_failed",
                    object_type="user",
                    object_ids=[user.id],
                    tenant_id=user.tenant_id,
                    actor_user_id=user.id,
                    actor_login=user.login,
                    details={"reason": "inactive" if ok else "wrong_password"},
                )
            await db.commit()  # the failure must be remembered even though we answer 401
            context.update(tenant_id=None)
            raise Problem("invalid_credentials")

        context.update(tenant_id=user.tenant_id, user_id=user.id, user_login=user.login, role=user.role)
        await throttle.clear_account(db, key)
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash_password(data.password)
        await sessions.prune_expired(db, user.tenant_id)
        idle = timedelta(minutes=settings.session_idle_minutes)
        cookie_value = await sessions.create_session(
            db,
            user,
            idle=idle,
            absolute=timedelta(hours=settings.session_max_hours),
            client_addr=context.current().client_addr,
            user_agent=request.headers.get("user-agent"),
        )
        await audit(db, "auth.login", object_type="user", object_ids=[user.id])
        tenant = (await db.execute(select(Tenant).where(Tenant.id == user.tenant_id))).scalar_one()
        body = UserOut.of(user, tenant)
        await db.commit()
        return Response(body, cookies=[_session_cookie(settings, cookie_value, int(idle.total_seconds()))])

    @post("/logout", guards=[signed_in], status_code=HTTP_204_NO_CONTENT, summary="Sign out")
    async def logout(self, request: Request[Any, Any, Any], db_session: DbSession) -> Response[None]:
        """Deletes the server-side session, so the old cookie is worthless even if it was copied."""
        settings: Settings = request.app.state["tonari_settings"]
        auth: AuthState = request.auth
        await sessions.end_session(db_session, auth.session.tenant_id, auth.session.id)
        await audit(db_session, "auth.logout", object_type="user", object_ids=[request.user.id])
        await db_session.commit()
        return Response(
            None,
            status_code=HTTP_204_NO_CONTENT,
            cookies=[_session_cookie(settings, "", 0)],
        )

    @get("/me", guards=[signed_in], summary="The signed-in user")
    async def me(self, request: Request[Any, Any, Any], db_session: DbSession) -> UserOut:
        user: SignedInUser = request.user
        tenant = (await db_session.execute(select(Tenant).where(Tenant.id == user.tenant_id))).scalar_one()
        return UserOut.of(user, tenant)
