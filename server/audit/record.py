"""The one helper every audited action goes through (logins, personal-data reads and writes…).

It adds the row to the caller's transaction, so an audited write and its audit row commit or
roll back together; callers that must keep the row even on failure commit it themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.models import AuditEntry
from server.core import context


async def record(
    db: AsyncSession,
    action: str,
    *,
    object_type: str | None = None,
    object_ids: Iterable[object] = (),
    mode: str = "normal",
    operation_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
    tenant_id: uuid.UUID | None = None,
    actor_user_id: uuid.UUID | None = None,
    actor_login: str | None = None,
) -> AuditEntry:
    ctx = context.current()
    tenant = tenant_id or ctx.tenant_id
    if tenant is None:
        raise RuntimeError("audit.record needs a tenant: set the request context or pass tenant_id")
    entry = AuditEntry(
        tenant_id=tenant,
        action=action,
        object_type=object_type,
        object_ids=[str(i) for i in object_ids],
        mode=mode,
        operation_id=operation_id,
        details=details or {},
        actor_user_id=actor_user_id or ctx.user_id,
        actor_login=actor_login or ctx.user_login,
        request_id=ctx.request_id or None,
        client_addr=ctx.client_addr,
    )
    db.add(entry)
    await db.flush()
    return entry


@dataclass(frozen=True)
class AuditRow:
    """One row for `record_many`; `context` is the request it is written for (actor, request id)."""

    action: str
    context: context.RequestContext
    object_type: str | None = None
    object_ids: Sequence[object] = ()
    mode: str = "normal"
    operation_id: uuid.UUID | None = None
    details: dict[str, Any] = field(default_factory=dict)


async def record_many(db: AsyncSession, rows: Sequence[AuditRow]) -> None:
    """Several rows, of several requests, in one INSERT in the caller's transaction (the visit
    group commit writes one per request it commits)."""
    if not rows:
        return
    await db.execute(insert(AuditEntry), [
        {"tenant_id": r.context.tenant_id, "action": r.action, "object_type": r.object_type,
         "object_ids": [str(i) for i in r.object_ids], "mode": r.mode, "operation_id": r.operation_id,
         "details": r.details, "actor_user_id": r.context.user_id, "actor_login": r.context.user_login,
         "request_id": r.context.request_id or None, "client_addr": r.context.client_addr}
        for r in rows])
