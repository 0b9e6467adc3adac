"""Reading households and people through the disclosure policy: the one read path that REST,
GeoJSON, search, exports and counts share (tiles use the same SQL rule in their own query)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.core import context
from server.core.context import current_tenant
from server.core.problems import Problem
from server.registry import disclosure
from server.registry.models import Consent, EvacuationPlan, Household, Person
from server.registry.schemas import ConsentOut, HouseholdOut, PersonOut, PlanOut

SENSITIVE_FILTER_ROLES = frozenset({"admin", "staff", "commissioner"})


@dataclass
class HouseholdFilter:
    district_ids: Sequence[uuid.UUID] | None = None
    support_reason: str | None = None
    q: str | None = None


def _escape_like(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def household_query(f: HouseholdFilter) -> Select[Household]:
    tenant = current_tenant()
    stmt = select(Household).where(Household.tenant_id == tenant, disclosure.household_visible())
    if f.district_ids:
        stmt = stmt.where(Household.district_id.in_(f.district_ids))
    visible_person = (
        (Person.tenant_id == Household.tenant_id) & (Person.household_id == Household.id) & disclosure.person_visible()
    )
    if f.support_reason:
        # Filtering by a health reason reveals it, so only need-to-know roles may use it.
        if (context.current().role or "") not in SENSITIVE_FILTER_ROLES:
            raise Problem(
                "forbidden",
                detail_ja="要支援事由での絞り込みは権限のある方のみ使えます。",
                detail_en="Only need-to-know roles may filter by support reason.",
            )
        stmt = stmt.where(exists().where(visible_person, Person.support_reasons.contains([f.support_reason])))
    if f.q:
        like = f"%{_escape_like(f.q.strip())}%"
        stmt = stmt.where(
            or_(
                Household.address.ilike(like),
                exists().where(visible_person, or_(Person.name.ilike(like), Person.kana.ilike(like))),
            )
        )
    return stmt


async def page_households(db: AsyncSession, f: HouseholdFilter, offset: int, limit: int) -> tuple[list[Household], int]:
    stmt = household_query(f)
    total = (await db.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (
        (await db.execute(stmt.order_by(Household.address, Household.id).offset(offset).limit(limit))).scalars().all()
    )
    return list(rows), total


async def people_of(db: AsyncSession, household_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Person]]:
    if not household_ids:
        return {}
    tenant = current_tenant()
    rows = (
        await db.execute(
            select(Person)
            .where(Person.tenant_id == tenant, Person.household_id.in_(household_ids), disclosure.person_visible())
            .order_by(Person.kana, Person.id)
        )
    ).scalars()
    grouped: dict[uuid.UUID, list[Person]] = defaultdict(list)
    for p in rows:
        grouped[p.household_id].append(p)
    return grouped


async def consents_of(db: AsyncSession, person_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[ConsentOut]]:
    tenant = current_tenant()
    rows = (
        await db.execute(
            select(Consent)
            .where(Consent.tenant_id == tenant, Consent.person_id.in_(person_ids))
            .order_by(Consent.recipient_class, Consent.dataset)
        )
    ).scalars()
    out: dict[uuid.UUID, list[ConsentOut]] = defaultdict(list)
    for c in rows:
        out[c.person_id].append(ConsentOut(c.recipient_class, c.dataset, c.consented_on, c.source, c.withdrawn_on))
    return out


async def plans_of(db: AsyncSession, person_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, PlanOut]:
    tenant = current_tenant()
    rows = (
        await db.execute(
            select(EvacuationPlan).where(EvacuationPlan.tenant_id == tenant, EvacuationPlan.person_id.in_(person_ids))
        )
    ).scalars()
    return {
        p.person_id: PlanOut(p.destination_shelter_id, p.route_notes, _disclosed_supporters(p.supporters), p.version)
        for p in rows
    }


def _disclosed_supporters(supporters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A supporter's own details are shown only while their consent stands (PRODUCT.md §3)."""
    out = []
    for s in supporters:
        if s.get("consented_on") and not s.get("withdrawn_on"):
            out.append(s)
        else:
            out.append({"name": None, "consent": "not_given"})
    return out


def person_out(
    p: Person, access: disclosure.Access, consents: list[ConsentOut] | None, plan: PlanOut | None
) -> PersonOut:
    out = PersonOut(
        id=p.id,
        household_id=p.household_id,
        name=p.name,
        kana=p.kana,
        birth_date=p.birth_date,
        sex=p.sex,
        phone=p.phone,
        version=p.version,
        emergency_contacts=list(p.emergency_contacts),
        disclosed_under="disaster" if access.disaster else "normal",
    )
    if access.sensitive:
        out.support_reasons = list(p.support_reasons)
        out.care_level = p.care_level
        out.mobility = p.mobility
        out.medical_devices = list(p.medical_devices)
        out.communication_needs = p.communication_needs
        out.notes = p.notes
    out.consents = consents
    out.plan = plan
    return out


async def render_households(db: AsyncSession, households: Sequence[Household]) -> list[HouseholdOut]:
    """Households with their visible people, fields cut to what the viewer may know."""
    ids = [h.id for h in households]
    people = await people_of(db, ids)
    access = await disclosure.household_access(db, ids)
    person_ids = [p.id for group in people.values() for p in group]
    role = context.current().role or ""
    consents = await consents_of(db, person_ids) if role in disclosure.SEES_ALL else {}
    plans = await plans_of(db, person_ids)
    plan_ok = await disclosure.plan_consented(db, person_ids)
    out = []
    for h in households:
        a = access.get(h.id)
        if a is None:  # visibility changed between queries (e.g. a declaration lifted): drop it
            continue
        pt = cast(Point, to_shape(h.location))
        rendered = []
        for p in people.get(h.id, []):
            show_plan = a.plan and (role in disclosure.SEES_ALL or a.disaster or p.id in plan_ok)
            rendered.append(
                person_out(
                    p,
                    a,
                    consents.get(p.id) if role in disclosure.SEES_ALL else None,
                    plans.get(p.id) if show_plan else None,
                )
            )
        out.append(
            HouseholdOut(
                id=h.id,
                address=h.address,
                town=h.town,
                district_id=h.district_id,
                lon=pt.x,
                lat=pt.y,
                location_approximate=h.location_approximate,
                version=h.version,
                updated_at=h.updated_at,
                people=rendered,
                notes=h.notes if a.sensitive else None,
                disclosed_under="disaster" if a.disaster else "normal",
            )
        )
    return out


async def audit_households_read(
    db: AsyncSession,
    rendered: Sequence[HouseholdOut],
    via: str,
    *,
    operation_id: uuid.UUID | None = None,
    drill: bool = False,
) -> None:
    """One audit row per mode that decided the households' disclosure (disclosed_under), each
    listing its households and their people; `operation_id`/`drill`: read through that operation."""
    for under in ("normal", "disaster"):
        group = [h for h in rendered if h.disclosed_under == under]
        if group:
            await disclosure.audit_read(
                db,
                "household",
                [h.id for h in group],
                via=via,
                operation_id=operation_id,
                drill=drill,
                disaster_ids=[h.id for h in group] if under == "disaster" else (),
                details={"person_ids": [str(p.id) for h in group for p in h.people]},
            )
