"""What a user may see of a person or household: the one policy module.

Row visibility is the SQL rule in `disclosure_sql` (also enforced by RLS); this module applies it
as an explicit filter on every path out and decides field-level access (sensitive health data,
evacuation plans) and the audit mode of each read. See docs/decisions/0005-disclosure.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.record import record as audit
from server.core import context
from server.registry.models import Household, Person

SEES_ALL = frozenset({"admin", "staff"})
RESPONDERS = frozenset({"coordinator", "commissioner", "watcher"})
REGISTRY_READERS = SEES_ALL | RESPONDERS
RECIPIENT_CLASS = {"commissioner": "commissioner", "watcher": "watcher", "coordinator": "council"}


def household_visible() -> ColumnElement[bool]:
    """Filter for `Household` rows the current viewer may see (the same rule RLS enforces).

    Registry keepers short-circuit before the per-row function (it cannot be inlined)."""
    return or_(
        func.tonari_sees_all(),
        func.tonari_household_visible(Household.tenant_id, Household.id, Household.district_id, Household.location),
    )


def person_visible() -> ColumnElement[bool]:
    return or_(func.tonari_sees_all(), func.tonari_person_visible(Person.tenant_id, Person.id, Person.household_id))


@dataclass(frozen=True)
class Access:
    """Field-level access to one household's people, decided per household."""

    sensitive: bool  # support reasons, care level, mobility, medical devices, communication, notes
    plan: bool  # 個別避難計画 (still needs the person's 'plan' consent unless disaster/staff)
    disaster: bool  # visible because a real disaster declaration covers it


async def household_access(db: AsyncSession, household_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Access]:
    """Need-to-know: staff; the district's 民生委員 (their scope); assigned watchers; any responder
    in an area under a real disaster declaration. Coordinators see health data only in disaster."""
    if not household_ids:
        return {}
    role = context.current().role or ""
    tenant = context.current().tenant_id
    rows = await db.execute(
        select(
            Household.id,
            func.tonari_household_under_disaster(Household.location),
            func.tonari_household_assigned(Household.tenant_id, Household.id),
        ).where(Household.tenant_id == tenant, Household.id.in_(household_ids), household_visible())
    )
    result: dict[uuid.UUID, Access] = {}
    for hid, disaster, assigned in rows:
        if role in SEES_ALL:
            result[hid] = Access(sensitive=True, plan=True, disaster=False)
        elif role == "commissioner":
            result[hid] = Access(sensitive=True, plan=True, disaster=bool(disaster))
        elif role == "watcher":
            result[hid] = Access(sensitive=bool(assigned or disaster), plan=bool(assigned or disaster), disaster=bool(disaster))
        elif role == "coordinator":
            result[hid] = Access(sensitive=bool(disaster), plan=bool(disaster), disaster=bool(disaster))
    return result


async def plan_consented(db: AsyncSession, person_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    ids = list(person_ids)
    if not ids:
        return set()
    tenant = context.current().tenant_id
    rows = await db.execute(
        select(Person.id).where(
            Person.tenant_id == tenant,
            Person.id.in_(ids),
            func.tonari_person_consented(Person.tenant_id, Person.id, "plan"),
        )
    )
    return {r[0] for r in rows}


async def active_modes(db: AsyncSession) -> tuple[bool, bool]:
    """(real disaster active, drill declaration active) anywhere in the tenant."""
    from server.registry.models import DisasterDeclaration

    tenant = context.current().tenant_id
    rows = await db.execute(
        select(DisasterDeclaration.mode).where(
            DisasterDeclaration.tenant_id == tenant, DisasterDeclaration.lifted_at.is_(None)
        )
    )
    modes = {r[0] for r in rows}
    return "real" in modes, "drill" in modes


async def audit_read(
    db: AsyncSession,
    object_type: str,
    ids: Iterable[object],
    *,
    via: str,
    disaster: bool = False,
    details: dict[str, object] | None = None,
    modes: tuple[bool, bool] | None = None,
) -> None:
    """One audit row per request that returned personal data, listing every id it returned.
    `modes`: the caller's active_modes() result, if it has one (saves a query)."""
    id_list = [str(i) for i in ids]
    if not id_list:
        return
    mode = "disaster" if disaster else "normal"
    if mode == "normal":
        _, drill = modes if modes is not None else await active_modes(db)
        mode = "drill" if drill else "normal"
    await audit(
        db,
        f"{object_type}.read",
        object_type=object_type,
        object_ids=id_list,
        mode=mode,
        details={"via": via, "count": len(id_list), **(details or {})},
    )
