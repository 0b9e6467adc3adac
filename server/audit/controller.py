"""`GET /api/audit`: staff and admins read (never change) their tenant's audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get
from litestar.params import FromQuery, QueryParameter
from sqlalchemy import select

from server.audit.models import AuditEntry
from server.core.guards import STAFF
from server.core.types import INT64_MAX
from server.db.deps import DbSession


class AuditEntryOut(msgspec.Struct):
    id: int
    at: datetime
    actor_user_id: uuid.UUID | None
    actor_login: str | None
    action: str
    object_type: str | None
    object_ids: list[str]
    mode: str
    operation_id: uuid.UUID | None
    request_id: str | None
    client_addr: str | None
    details: dict[str, Any]


class AuditPage(msgspec.Struct):
    items: list[AuditEntryOut]
    next_before_id: int | None


class AuditController(Controller):
    path = "/api/audit"
    tags = ("audit",)
    guards = (STAFF,)

    @get("/", summary="List audit entries, newest first")
    async def list_entries(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        action: Annotated[
            str | None, QueryParameter(max_length=64, description="Exact action, e.g. auth.login")
        ] = None,
        actor_user_id: FromQuery[uuid.UUID | None] = None,
        object_type: Annotated[str | None, QueryParameter(max_length=64)] = None,
        object_id: Annotated[
            str | None, QueryParameter(max_length=100, description="Entries touching this object id")
        ] = None,
        mode: Annotated[
            Literal["normal", "disaster", "drill"] | None, QueryParameter(description="normal, disaster or drill")
        ] = None,
        operation_id: FromQuery[uuid.UUID | None] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        before_id: Annotated[
            int | None, QueryParameter(ge=1, le=INT64_MAX, description="Paging cursor from next_before_id")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> AuditPage:
        tenant_id = request.user.tenant_id
        q = select(AuditEntry).where(AuditEntry.tenant_id == tenant_id)
        if action:
            q = q.where(AuditEntry.action == action)
        if actor_user_id:
            q = q.where(AuditEntry.actor_user_id == actor_user_id)
        if object_type:
            q = q.where(AuditEntry.object_type == object_type)
        if object_id:
            q = q.where(AuditEntry.object_ids.contains([object_id]))
        if mode:
            q = q.where(AuditEntry.mode == mode)
        if operation_id:
            q = q.where(AuditEntry.operation_id == operation_id)
        if since:
            q = q.where(AuditEntry.at >= since)
        if until:
            q = q.where(AuditEntry.at < until)
        if before_id:
            q = q.where(AuditEntry.id < before_id)
        rows = (await db_session.execute(q.order_by(AuditEntry.id.desc()).limit(limit + 1))).scalars().all()
        items = [
            AuditEntryOut(
                id=r.id,
                at=r.at,
                actor_user_id=r.actor_user_id,
                actor_login=r.actor_login,
                action=r.action,
                object_type=r.object_type,
                object_ids=list(r.object_ids),
                mode=r.mode,
                operation_id=r.operation_id,
                request_id=r.request_id,
                client_addr=str(r.client_addr) if r.client_addr else None,
                details=r.details,
            )
            for r in rows[:limit]
        ]
        return AuditPage(items=items, next_before_id=items[-1].id if len(rows) > limit else None)
