"""Which operations a viewer may read: the list, one by id, its progress, its console, the field's
lists and the sync pull all ask this one rule (docs/decisions/0005-disclosure.md, addendum #14).

- admin, staff: every operation of the tenant;
- coordinator, commissioner: the operations they take part in — named as the operation's
  coordinator, or touching their district scope (one of its districts, or one of its households,
  is in their scope); a whole-tenant scope takes part in all;
- watcher: the operations in which one of their households is assigned to them;
- vc_volunteer, anyone else: none (the 災害VC day has its own module).

A refused read answers like a missing operation (404): an id says nothing about what exists.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from server.core import context
from server.operations.models import Operation, OperationTarget
from server.registry.disclosure import SEES_ALL
from server.registry.models import Household, Watcher

COORDINATING = frozenset({"coordinator", "commissioner"})


async def operation_readable(db: AsyncSession) -> ColumnElement[bool]:
    """Filter for the `Operation` rows the current viewer may read."""
    ctx = context.current()
    role = ctx.role or ""
    if role in SEES_ALL:
        return true()
    if role not in COORDINATING and role != "watcher":
        return false()
    watcher_id = (
        await db.execute(select(Watcher.id).where(Watcher.tenant_id == ctx.tenant_id, Watcher.user_id == ctx.user_id))
    ).scalar_one_or_none()
    clauses: list[ColumnElement[bool]] = []
    if watcher_id is not None:
        clauses.append(
            exists().where(
                OperationTarget.tenant_id == Operation.tenant_id,
                OperationTarget.operation_id == Operation.id,
                OperationTarget.watcher_ids.contains([watcher_id]),
            )
        )
    if role in COORDINATING:
        clauses.append(Operation.coordinator_ids.contains([ctx.user_id]))
        if ctx.scope is None:
            clauses.append(true())
        elif ctx.scope:
            scope = sorted(ctx.scope)
            clauses.append(Operation.district_ids.overlap(scope))
            clauses.append(
                exists().where(
                    OperationTarget.tenant_id == Operation.tenant_id,
                    OperationTarget.operation_id == Operation.id,
                    Household.tenant_id == OperationTarget.tenant_id,
                    Household.id == OperationTarget.household_id,
                    Household.district_id.in_(scope),
                )
            )
    return or_(*clauses) if clauses else false()
