"""Who an escalation is about, as the viewer may see it: the household's address and the names and
phone numbers of its people, for the cards a coordinator or the district's 民生委員 acts on (#17).

The same disclosure rule as every other read decides (`household_visible()` for the address,
`person_visible()` per person): an unconsented person stays hidden outside a real disaster, and a
drill widens nothing. The callers audit the read with the escalations they return.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.core.context import current_tenant
from server.operations.schemas import ContactPerson
from server.registry.disclosure import household_visible, person_visible
from server.registry.models import Household, Person


class Contact(msgspec.Struct):
    address: str
    people: list[ContactPerson]


async def household_contacts(db: AsyncSession, household_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Contact]:
    """Address and visible people per household the viewer may see (others are absent)."""
    ids = sorted(set(household_ids))
    if not ids:
        return {}
    tenant = current_tenant()
    homes = await db.execute(
        select(Household.id, Household.address).where(
            Household.tenant_id == tenant, Household.id.in_(ids), household_visible()
        )
    )
    out = {hid: Contact(address=address, people=[]) for hid, address in homes}
    people = await db.execute(
        select(Person.household_id, Person.name, Person.phone)
        .where(Person.tenant_id == tenant, Person.household_id.in_(list(out)), person_visible())
        .order_by(Person.household_id, Person.kana, Person.id)
    )
    for hid, name, phone in people:
        out[hid].people.append(ContactPerson(name=name, phone=phone))
    return out
