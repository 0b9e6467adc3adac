"""A user's district scope, expanded to every sub-district, for the disclosure GUCs."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_DESCENDANTS = text(
    """
    WITH RECURSIVE tree AS (
        SELECT d.id FROM district d
        JOIN user_district_scope s ON s.tenant_id = d.tenant_id AND s.district_id = d.id
        WHERE s.tenant_id = :tenant AND s.user_id = :user
        UNION
        SELECT c.id FROM district c JOIN tree t ON c.parent_id = t.id WHERE c.tenant_id = :tenant
    )
    SELECT id FROM tree
    """
)


async def expanded_scope(
    db: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, scoped: bool
) -> frozenset[uuid.UUID] | None:
    """None when the user has no district scope (whole tenant)."""
    if not scoped:
        return None
    rows = await db.execute(_DESCENDANTS, {"tenant": tenant_id, "user": user_id})
    return frozenset(r[0] for r in rows)
