"""`/api/auth`: sign in, sign out (here or everywhere), change one's password, who am I, and a CSRF
cookie for a fresh client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts import devices, passwords, sessions, throttle
from server.accounts.middleware import AuthState, SignedInUser
from server.accounts.models import LoginDirectory, User
from server.accounts.schemas import LoginRequest, PasswordChangeRequest, UserOut
from server.audit.models import AuditEntry
from server.audit.record import record as audit
from server.core import context
from server.core.guards import PASSWORD_CHANGE_PENDING_OK, public, signed_in
from server.core.problems import FieldError, Problem
from server.db.deps import DbSession
from server.services import services
from server.settings import Settings
from server.tenancy.models import Tenant

log = structlog.get_logger("tonari.auth")

# At most one `auth.login_refused` audit row per account and client address in this interval;
# every refusal is logged (docs/decisions/0003, addendum).
REFUSAL_AUDIT_INTERVAL = timedelta(minutes=1)


def session_cookie(settings: Settings, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=sessions.COOKIE_NAME,
        value=value,
        max_age=max_age,
        path="/",
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
    )


def _device_cookie(settings: Settings, user: User) -> Cookie:
    return Cookie(
        key=devices.COOKIE_NAME,
        value=devices.issue(settings.secret_key, _owner(user)),
        max_age=int(devices.LIFETIME.total_seconds()),
        path=devices.COOKIE_PATH,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="strict",
    )


def _owner(user: User) -> devices.DeviceOwner:
    return devices.DeviceOwner(tenant_id=user.tenant_id, user_id=user.id)


def _budget(settings: Settings) -> throttle.Budget:
    return throttle.Budget(
        max_failures=settings.login_max_failures,
        account_max_failures=settings.login_account_max_failures,
        max_delay_seconds=settings.login_max_delay_seconds,
        window=timedelta(minutes=settings.login_window_minutes),
    )


async def _refuse(
    db: AsyncSession, user: User | None, key: str, decision: throttle.Decision, *, device_cookie: bool, via: str
) -> Problem:
    """Log every refusal; audit it on the account (at most once a minute per client address,
    so a flood of refused attempts cannot flood the append-only log). Commits."""
    client = context.current().client_addr
    log.warning(
        "login_refused", login=key, reason=decision.refused, retry_after=decision.retry_after, client=client, via=via
    )
    if user is not None:
        recent = (
            await db.execute(
                select(AuditEntry.id)
                .where(
                    AuditEntry.tenant_id == user.tenant_id,
                    AuditEntry.action == "auth.login_refused",
                    AuditEntry.at > datetime.now(UTC) - REFUSAL_AUDIT_INTERVAL,
                    AuditEntry.object_ids.contains([str(user.id)]),
                    AuditEntry.client_addr.is_not_distinct_from(client),
                )
                .limit(1)
            )
        ).first()
        if recent is None:
            await _audit_sign_in(
                db,
                user,
                "auth.login_refused",
                {
                    "reason": decision.refused,
                    "retry_after": decision.retry_after,
                    "device_cookie": device_cookie,
                    "via": via,
                },
            )
    await db.commit()
    return Problem(
        "too_many_attempts",
        headers={"Retry-After": str(decision.retry_after)},
        extra={"retry_after": decision.retry_after},
    )


async def _audit_sign_in(db: AsyncSession, user: User, action: str, details: dict[str, Any]) -> None:
    """A sign-in event about `user`, by `user` (who is not signed in yet: the actor is named here)."""
    await audit(
        db,
        action,
        object_type="user",
        object_ids=[user.id],
        tenant_id=user.tenant_id,
        actor_user_id=user.id,
        actor_login=user.login,
        details=details,
    )


def _client_key() -> str:
    return context.current().client_addr or "unknown"


class AuthController(Controller):
    path = "/api/auth"
    tags = ("auth",)

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
        """Sets the HttpOnly `tonari_session` cookie and the device cookie `tonari_device`.
        Unknown login and wrong password answer alike. Throttling: docs/decisions/0003."""
        settings = services(request.app).settings
        budget = _budget(settings)
        key = throttle.login_key(data.login)
        client = _client_key()
        db = db_session

        entry = (await db.execute(select(LoginDirectory).where(LoginDirectory.login == key))).scalar_one_or_none()
        user: User | None = None
        if entry is not None:
            context.update(tenant_id=entry.tenant_id)
            # The tenant GUC is stamped when a transaction begins: start a fresh one for this tenant.
            await db.commit()
            user = (
                await db.execute(select(User).where(User.tenant_id == entry.tenant_id, User.id == entry.user_id))
            ).scalar_one_or_none()
        presented = request.cookies.get(devices.COOKIE_NAME)
        device = devices.device_key(settings.secret_key, _owner(user), presented) if user is not None else None

        decision = await throttle.check(db, key, client, device, budget)
        if decision.refused is not None:
            problem = await _refuse(db, user, key, decision, device_cookie=device is not None, via="login")
            context.update(tenant_id=None)
            raise problem

        ok = passwords.verify_password(user.password_hash if user else None, data.password)
        if not ok or user is None or not user.is_active:
            await throttle.note_failure(db, key, client, decision.device_key, window=budget.window)
            if user is not None:
                await _audit_sign_in(db, user, "auth.login_failed", {"reason": "inactive" if ok else "wrong_password"})
            await db.commit()  # the failure must be remembered even though we answer 401
            context.update(tenant_id=None)
            raise Problem("invalid_credentials")

        if user.must_change_password and user.password_changed_at < datetime.now(UTC) - timedelta(
            days=settings.temporary_password_days
        ):
            # Right password, but a reset nobody used in time: it no longer opens the account.
            await _audit_sign_in(
                db, user, "auth.temporary_password_expired", {"issued_at": user.password_changed_at.isoformat()}
            )
            await db.commit()
            context.update(tenant_id=None)
            raise Problem("temporary_password_expired")

        context.update(tenant_id=user.tenant_id, user_id=user.id, user_login=user.login, role=user.role)
        await throttle.clear_after_success(db, key, client, decision.device_key)
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash_password(data.password)
        user.last_login_at = datetime.now(UTC)
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
        await audit(
            db,
            "auth.login",
            object_type="user",
            object_ids=[user.id],
            details={"trusted_device": decision.device_key is not None},
        )
        tenant = (await db.execute(select(Tenant).where(Tenant.id == user.tenant_id))).scalar_one()
        body = UserOut.of(user, tenant)
        await db.commit()
        cookies = [session_cookie(settings, cookie_value, int(idle.total_seconds()))]
        if decision.device_key is None:
            cookies.append(_device_cookie(settings, user))  # this browser is now a known device
        return Response(body, cookies=cookies)

    @post(
        "/logout",
        guards=[signed_in],
        status_code=HTTP_204_NO_CONTENT,
        summary="Sign out",
        opt={PASSWORD_CHANGE_PENDING_OK: True},
    )
    async def logout(self, request: Request[Any, Any, Any], db_session: DbSession) -> Response[None]:
        """Deletes the server-side session, so the old cookie is worthless even if it was copied."""
        settings = services(request.app).settings
        auth: AuthState = request.auth
        await sessions.end_session(db_session, auth.session.tenant_id, auth.session.id)
        await audit(db_session, "auth.logout", object_type="user", object_ids=[request.user.id])
        await db_session.commit()
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=[session_cookie(settings, "", 0)])

    @post(
        "/logout-everywhere",
        guards=[signed_in],
        status_code=HTTP_204_NO_CONTENT,
        summary="Sign out on every device, this one included",
    )
    async def logout_everywhere(self, request: Request[Any, Any, Any], db_session: DbSession) -> Response[None]:
        """Ends every session of the signed-in user (a lost phone, a shared PC left signed in)."""
        settings = services(request.app).settings
        user: SignedInUser = request.user
        ended = await sessions.end_all_sessions(db_session, user.tenant_id, user.id, forget_devices=True)
        await audit(
            db_session, "auth.logout_everywhere", object_type="user", object_ids=[user.id], details={"sessions": ended}
        )
        await db_session.commit()
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=[session_cookie(settings, "", 0)])

    @post(
        "/password",
        guards=[signed_in],
        status_code=HTTP_200_OK,
        summary="Change my password",
        opt={PASSWORD_CHANGE_PENDING_OK: True},
    )
    async def change_password(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        data: JSONBody[PasswordChangeRequest],
    ) -> Response[UserOut]:
        """Needs the current password (throttled like a sign-in). Every other session of the user
        ends; this one continues under a new session cookie. Clears `must_change_password`."""
        settings = services(request.app).settings
        budget = _budget(settings)
        me: SignedInUser = request.user
        db = db_session
        user = (
            await db.execute(select(User).where(User.tenant_id == me.tenant_id, User.id == me.id).with_for_update())
        ).scalar_one()
        key = throttle.login_key(user.login)
        client = _client_key()
        # Budgeted as an untrusted attempt: whoever holds this session holds its device cookie too.
        decision = await throttle.check(db, key, client, None, budget)
        if decision.refused is not None:
            raise await _refuse(db, user, key, decision, device_cookie=False, via="password_change")
        if not passwords.verify_password(user.password_hash, data.current_password):
            await throttle.note_failure(db, key, client, decision.device_key, window=budget.window)
            await audit(
                db,
                "auth.password_change_failed",
                object_type="user",
                object_ids=[user.id],
                details={"reason": "wrong_current_password"},
            )
            await db.commit()
            raise Problem("current_password_incorrect", errors=[FieldError("current_password", "invalid")])
        if data.new_password == data.current_password:
            raise Problem("password_unchanged", errors=[FieldError("new_password", "invalid")])
        if not passwords.is_acceptable(data.new_password, personal=[user.login, user.display_name]):
            raise Problem("weak_password", errors=[FieldError("new_password", "invalid")])

        was_required = user.must_change_password
        user.password_hash = passwords.hash_password(data.new_password)
        user.password_changed_at = datetime.now(UTC)
        user.must_change_password = False
        ended = await sessions.end_all_sessions(db, user.tenant_id, user.id)
        idle = timedelta(minutes=settings.session_idle_minutes)
        cookie_value = await sessions.create_session(
            db,
            user,
            idle=idle,
            absolute=timedelta(hours=settings.session_max_hours),
            client_addr=context.current().client_addr,
            user_agent=request.headers.get("user-agent"),
        )
        await throttle.clear_after_success(db, key, client, decision.device_key)
        await audit(
            db,
            "auth.password_change",
            object_type="user",
            object_ids=[user.id],
            details={"other_sessions_ended": max(ended - 1, 0), "after_reset": was_required},
        )
        tenant = (await db.execute(select(Tenant).where(Tenant.id == user.tenant_id))).scalar_one()
        body = UserOut.of(user, tenant)
        await db.commit()
        return Response(body, cookies=[session_cookie(settings, cookie_value, int(idle.total_seconds()))])

    @get("/me", guards=[signed_in], summary="The signed-in user", opt={PASSWORD_CHANGE_PENDING_OK: True})
    async def me(self, request: Request[Any, Any, Any], db_session: DbSession) -> UserOut:
        user: SignedInUser = request.user
        tenant = (await db_session.execute(select(Tenant).where(Tenant.id == user.tenant_id))).scalar_one()
        return UserOut.of(user, tenant)
