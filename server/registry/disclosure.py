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
from server.core.context import current_tenant
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
    """Need-to-know: staff; the district's 民生委員 (their scope); assigned watchers; and where the
    disaster rule applies to the viewer (`disaster_decided`). Coordinators see health data only there."""
    if not household_ids:
        return {}
    role = context.current().role or ""
    tenant = current_tenant()
    rows = await db.execute(
        select(
            Household.id,
            func.tonari_household_disaster_applies(Household.tenant_id, Household.id, Household.location),
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
            result[hid] = Access(
                sensitive=bool(assigned or disaster), plan=bool(assigned or disaster), disaster=bool(disaster)
            )
        elif role == "coordinator":
            result[hid] = Access(sensitive=bool(disaster), plan=bool(disaster), disaster=bool(disaster))
    return result


async def disaster_decided(db: AsyncSession, household_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """The households whose disclosure to the current viewer the disaster rule decides: inside a
    real declaration's area, for a commissioner or coordinator, or for a watcher assigned there in
    a real operation of that declaration. Never for registry keepers (the rule widens nothing for
    them). What the audit records as mode 'disaster'."""
    ids = list(household_ids)
    if not ids or (context.current().role or "") not in RESPONDERS:
        return set()
    rows = await db.execute(
        select(Household.id).where(
            Household.tenant_id == current_tenant(),
            Household.id.in_(ids),
            func.tonari_household_disaster_applies(Household.tenant_id, Household.id, Household.location),
        )
    )
    return {r[0] for r in rows}


async def plan_consented(db: AsyncSession, person_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    ids = list(person_ids)
    if not ids:
        return set()
    tenant = current_tenant()
    rows = await db.execute(
        select(Person.id).where(
            Person.tenant_id == tenant,
            Person.id.in_(ids),
            func.tonari_person_consented(Person.tenant_id, Person.id, "plan"),
        )
    )
    return {r[0] for r in rows}


@dataclass(frozen=True)
class Read:
    """One record a read returned, with what decided its disclosure (the audit mode of its row)."""

    id: object
    disaster: bool = False  # the disaster rule decided it (see disaster_decided)
    operation_id: uuid.UUID | None = None  # read through this operation
    drill: bool = False  # …which is a drill

    @property
    def mode(self) -> str:
        # A drill never widens disclosure, so where the disaster rule decided, it is what decided.
        return "disaster" if self.disaster else "drill" if self.drill else "normal"


async def audit_reads(
    db: AsyncSession,
    object_type: str,
    reads: Iterable[Read],
    *,
    via: str,
    details: dict[str, object] | None = None,
    action: str | None = None,
) -> None:
    """One audit row per (mode, operation) of a request that returned personal data, listing every
    id it returned under that mode: a row's mode is what actually decided its disclosure, and a
    read through an operation carries the operation's id."""
    groups: dict[tuple[str, uuid.UUID | None], list[str]] = {}
    for r in reads:
        groups.setdefault((r.mode, r.operation_id), []).append(str(r.id))
    for (mode, operation_id), ids in groups.items():
        await audit(
            db,
            action or f"{object_type}.read",
            object_type=object_type,
            object_ids=ids,
            mode=mode,
            operation_id=operation_id,
            details={"via": via, "count": len(ids), **(details or {})},
        )


async def audit_read(
    db: AsyncSession,
    object_type: str,
    ids: Iterable[object],
    *,
    via: str,
    disaster_ids: Iterable[object] = (),
    operation_id: uuid.UUID | None = None,
    drill: bool = False,
    details: dict[str, object] | None = None,
    action: str | None = None,
) -> None:
    """`audit_reads` for ids read together: `disaster_ids` are those the disaster rule decided,
    `operation_id`/`drill` the operation they were read through, if any."""
    disaster = {str(i) for i in disaster_ids}
    await audit_reads(
        db,
        object_type,
        [Read(i, str(i) in disaster, operation_id, drill) for i in ids],
        via=via,
        details=details,
        action=action,
    )
