"""Small helpers shared by the registry controllers."""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import CursorResult, delete
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.record import record as audit
from server.core.context import current_tenant
from server.core.problems import Problem


async def delete_audited(
    db: AsyncSession, model: Any, object_id: uuid.UUID, object_type: str, extra_ids: list[uuid.UUID] | None = None
) -> None:
    """Delete one tenant row by id (404 if absent), audit it, commit."""
    result = cast(
        "CursorResult[Any]",
        await db.execute(delete(model).where(model.tenant_id == current_tenant(), model.id == object_id)),
    )
    if result.rowcount == 0:
        raise Problem("not_found")
    await audit(db, f"{object_type}.delete", object_type=object_type, object_ids=[object_id, *(extra_ids or [])])
    await db.commit()
