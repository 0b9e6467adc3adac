"""The one helper every audited action goes through (logins, personal-data reads and writes…).

It adds the row to the caller's transaction, so an audited write and its audit row commit or
roll back together; callers that must keep the row even on failure commit it themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

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
