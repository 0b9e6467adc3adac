"""`/api/staff/…`: small reads the staff screens need that no other endpoint gives.

`GET /api/staff/audit/actors` lists who appears in the tenant's audit log (id, login, name,
role), so the audit viewer can offer "who" as a choice instead of asking for a user id. Only
staff and admins (the audit log's own readers) may call it, and the read is itself audited.
"""

from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, get
from sqlalchemy import func, select

from server.accounts.models import User
from server.audit.models import AuditEntry
from server.audit.record import record as audit
from server.core.context import current_tenant
from server.core.guards import STAFF
from server.db.deps import DbSession

MAX_ACTORS = 1000


class AuditActorOut(msgspec.Struct):
    user_id: uuid.UUID
    login: str | None
    display_name: str | None
    role: str | None
    entries: int


class StaffController(Controller):
    path = "/api/staff"
    tags = ("staff",)
    guards = (STAFF,)

    @get("/audit/actors", summary="Users who appear as actors in the audit log (for the viewer's filter)")
    async def audit_actors(self, db_session: DbSession) -> list[AuditActorOut]:
        tenant = current_tenant()
        counts = (
            select(AuditEntry.actor_user_id, func.max(AuditEntry.actor_login).label("login"), func.count().label("n"))
            .where(AuditEntry.tenant_id == tenant, AuditEntry.actor_user_id.is_not(None))
            .group_by(AuditEntry.actor_user_id)
            .subquery()
        )
        rows = (
            await db_session.execute(
                select(counts.c.actor_user_id, counts.c.login, counts.c.n, User.display_name, User.role, User.login)
                .outerjoin(User, (User.tenant_id == tenant) & (User.id == counts.c.actor_user_id))
                .order_by(func.coalesce(User.login, counts.c.login))
                .limit(MAX_ACTORS)
            )
        ).all()
        out = [AuditActorOut(r[0], r[5] or r[1], r[3], r[4], int(r[2])) for r in rows]
        if out:
            await audit(
                db_session,
                "user.read",
                object_type="user",
                object_ids=[a.user_id for a in out],
                details={"via": "staff.audit_actors", "count": len(out)},
            )
            await db_session.commit()
        return out
