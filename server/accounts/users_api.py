"""`/api/users`: an admin's account work in their own tenant — the user list, a password reset,
disabling and enabling, and signing a user out everywhere. Every action is audited (`user.*`).

Creating users and editing their role or district scope are not here yet (see the issue #14
report); the seed and the importers create accounts.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts import passwords, sessions
from server.accounts.middleware import SignedInUser
from server.accounts.models import User
from server.accounts.schemas import AccountOut, PasswordResetOut
from server.audit.record import record as audit
from server.core.guards import ADMIN
from server.core.problems import Problem
from server.db.deps import DbSession

MAX_USERS = 5000


async def _target(db: AsyncSession, admin: SignedInUser, user_id: uuid.UUID, *, lock: bool = True) -> User:
    """The user `user_id` of the admin's own tenant (404 for any other), locked for the change."""
    q = select(User).where(User.tenant_id == admin.tenant_id, User.id == user_id)
    user = (await db.execute(q.with_for_update() if lock else q)).scalar_one_or_none()
    if user is None:
        raise Problem("not_found")
    return user


class UsersController(Controller):
    path = "/api/users"
    tags = ("accounts",)
    guards = (ADMIN,)

    @get("/", summary="The tenant's users (admins only)")
    async def list_users(self, request: Request[Any, Any, Any], db_session: DbSession) -> list[AccountOut]:
        admin: SignedInUser = request.user
        rows = (
            (
                await db_session.execute(
                    select(User).where(User.tenant_id == admin.tenant_id).order_by(User.login).limit(MAX_USERS)
                )
            )
            .scalars()
            .all()
        )
        out = [AccountOut.of(u) for u in rows]
        if out:
            await audit(
                db_session,
                "user.read",
                object_type="user",
                object_ids=[u.id for u in out],
                details={"via": "users.list", "count": len(out)},
            )
            await db_session.commit()
        return out

    @post(
        "/{user_id:uuid}/password-reset",
        status_code=HTTP_200_OK,
        summary="Give a user a temporary password they must change at their next sign-in",
    )
    async def reset_password(
        self, request: Request[Any, Any, Any], db_session: DbSession, user_id: FromPath[uuid.UUID]
    ) -> PasswordResetOut:
        """The temporary password is in this answer only (never stored in the clear, never logged).
        The user's sessions end; until they choose a new password the API answers only me,
        change-password and logout."""
        admin: SignedInUser = request.user
        if user_id == admin.id:
            raise Problem("not_for_yourself")
        user = await _target(db_session, admin, user_id)
        temporary = passwords.temporary_password()
        user.password_hash = passwords.hash_password(temporary)
        user.password_changed_at = datetime.now(UTC)
        user.must_change_password = True
        ended = await sessions.end_all_sessions(db_session, user.tenant_id, user.id)
        await audit(
            db_session,
            "user.password_reset",
            object_type="user",
            object_ids=[user.id],
            details={"login": user.login, "sessions_ended": ended},
        )
        out = PasswordResetOut(user=AccountOut.of(user), temporary_password=temporary)
        await db_session.commit()
        return out

    @post("/{user_id:uuid}/disable", status_code=HTTP_200_OK, summary="Disable a user (their sessions end at once)")
    async def disable(
        self, request: Request[Any, Any, Any], db_session: DbSession, user_id: FromPath[uuid.UUID]
    ) -> AccountOut:
        admin: SignedInUser = request.user
        if user_id == admin.id:
            raise Problem(
                "not_for_yourself",
                detail_ja="自分自身のアカウントは無効にできません。",
                detail_en="You cannot disable your own account.",
            )
        if (await _target(db_session, admin, user_id, lock=False)).role == "admin":
            # Lock every active admin row of the tenant (in one order), so two admins disabling
            # each other at once cannot both pass the "another active admin remains" check.
            await db_session.execute(
                select(User.id)
                .where(User.tenant_id == admin.tenant_id, User.role == "admin", User.is_active)
                .order_by(User.id)
                .with_for_update()
            )
        user = await _target(db_session, admin, user_id)
        if user.is_active and user.role == "admin":
            others = (
                await db_session.execute(
                    select(func.count()).where(
                        User.tenant_id == admin.tenant_id, User.role == "admin", User.is_active, User.id != user.id
                    )
                )
            ).scalar_one()
            if others == 0:
                raise Problem("last_active_admin")
        was_active = user.is_active
        user.is_active = False
        ended = await sessions.end_all_sessions(db_session, user.tenant_id, user.id)
        await audit(
            db_session,
            "user.disable",
            object_type="user",
            object_ids=[user.id],
            details={"login": user.login, "sessions_ended": ended, "was_active": was_active},
        )
        out = AccountOut.of(user)
        await db_session.commit()
        return out

    @post("/{user_id:uuid}/enable", status_code=HTTP_200_OK, summary="Enable a disabled user")
    async def enable(
        self, request: Request[Any, Any, Any], db_session: DbSession, user_id: FromPath[uuid.UUID]
    ) -> AccountOut:
        admin: SignedInUser = request.user
        user = await _target(db_session, admin, user_id)
        was_active = user.is_active
        user.is_active = True
        await audit(
            db_session,
            "user.enable",
            object_type="user",
            object_ids=[user.id],
            details={"login": user.login, "was_active": was_active},
        )
        out = AccountOut.of(user)
        await db_session.commit()
        return out

    @post("/{user_id:uuid}/logout-everywhere", status_code=HTTP_200_OK, summary="Sign a user out on every device")
    async def logout_everywhere(
        self, request: Request[Any, Any, Any], db_session: DbSession, user_id: FromPath[uuid.UUID]
    ) -> AccountOut:
        admin: SignedInUser = request.user
        user = await _target(db_session, admin, user_id)
        ended = await sessions.end_all_sessions(db_session, user.tenant_id, user.id, forget_devices=True)
        await audit(
            db_session,
            "user.logout_everywhere",
            object_type="user",
            object_ids=[user.id],
            details={"login": user.login, "sessions_ended": ended},
        )
        out = AccountOut.of(user)
        await db_session.commit()
        return out
