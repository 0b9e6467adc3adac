"""`/api/households`, `/api/persons`: the registry of people who need support, behind the policy."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import date
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from server.audit.record import record as audit
from server.core.context import current_tenant
from server.core.guards import STAFF, roles
from server.core.problems import FieldError, Problem
from server.core.types import MAX_OFFSET, Code, Note, Version
from server.db.deps import DbSession
from server.events.emit import emit
from server.registry import validation as v
from server.registry.crud import delete_audited
from server.registry.disclosure import REGISTRY_READERS
from server.registry.households import (
    HouseholdFilter,
    audit_households_read,
    page_households,
    render_households,
)
from server.registry.models import Consent, EvacuationPlan, Household, Person
from server.registry.schemas import HouseholdIn, HouseholdOut, HouseholdPatch, Page, PersonIn, PersonOut, PersonPatch
from vocab import CONSENT_DATASETS, RECIPIENT_CLASSES

READERS = roles(*REGISTRY_READERS)


async def _validate_person(db: DbSession, data: PersonIn, prefix: str) -> Person:
    kana = v.normalise_kana(data.kana)
    phone = v.normalise_phone(data.phone)
    errors: list[FieldError | None] = [
        v.check_kana(f"{prefix}kana", kana),
        v.check_phone(f"{prefix}phone", phone),
        v.check_birth_date(f"{prefix}birth_date", data.birth_date),
        *[FieldError(f"{prefix}{e.field}", e.code, e.ja, e.en) for e in v.check_support(data)],
        *[
            v.check_phone(f"{prefix}emergency_contacts[{i}].phone", c.phone)
            for i, c in enumerate(data.emergency_contacts)
        ],
    ]
    v.raise_if(errors)
    return Person(
        tenant_id=current_tenant(),
        id=uuid.uuid4(),
        name=" ".join(data.name.split()),
        kana=kana,
        birth_date=data.birth_date,
        sex=data.sex,
        phone=phone,
        support_reasons=sorted(set(data.support_reasons)),
        care_level=data.care_level,
        mobility=data.mobility,
        medical_devices=sorted(set(data.medical_devices)),
        communication_needs=data.communication_needs,
        emergency_contacts=[msgspec.to_builtins(c) for c in data.emergency_contacts],
        notes=data.notes,
    )


async def _one_household(db: DbSession, household_id: FromPath[uuid.UUID]) -> HouseholdOut:
    from server.registry.households import household_query

    h = (await db.execute(household_query(HouseholdFilter()).where(Household.id == household_id))).scalar_one_or_none()
    if h is None:
        raise Problem("not_found")
    return (await render_households(db, [h]))[0]


async def household_changed(db: AsyncSession, household_id: uuid.UUID) -> None:
    """Tell the field devices a household's details changed (their next pull sends it again, if
    they may still see it). The event carries no personal data, only the id."""
    await emit(db, "household.updated", {}, household_id=household_id)


class HouseholdController(Controller):
    path = "/api/households"
    tags = ("registry",)

    @get("/", guards=[READERS], summary="Households the viewer may see, with their people")
    async def list_households(
        self,
        db_session: DbSession,
        district_id: Annotated[list[uuid.UUID] | None, QueryParameter(description="Repeatable", max_items=100)] = None,
        support_reason: Annotated[
            str | None, QueryParameter(max_length=32, description="A support reason code")
        ] = None,
        q: Annotated[str | None, QueryParameter(max_length=100, description="Name, kana or address")] = None,
        offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    ) -> Page:
        rows, total = await page_households(db_session, HouseholdFilter(district_id, support_reason, q), offset, limit)
        rendered = await render_households(db_session, rows)
        await audit_households_read(db_session, rendered, via="rest")
        await db_session.commit()
        return Page(items=rendered, total=total, offset=offset, limit=limit)

    @get("/{household_id:uuid}", guards=[READERS], summary="One household")
    async def get_household(self, db_session: DbSession, household_id: FromPath[uuid.UUID]) -> HouseholdOut:
        out = await _one_household(db_session, household_id)
        await audit_households_read(db_session, [out], via="rest")
        await db_session.commit()
        return out

    @post("/", guards=[STAFF], status_code=HTTP_201_CREATED, summary="Register a household and its people")
    async def create_household(self, db_session: DbSession, data: JSONBody[HouseholdIn]) -> HouseholdOut:
        db = db_session
        tenant = current_tenant()
        pt = v.point(data.lon, data.lat)
        v.raise_if([await v.check_inside_tenant(db, tenant, "lon", pt)])
        people = [await _validate_person(db, p, f"people[{i}].") for i, p in enumerate(data.people)]
        h = Household(
            tenant_id=tenant,
            id=uuid.uuid4(),
            address=data.address.strip(),
            town=data.town,
            location=v.to_db(pt),
            notes=data.notes,
        )
        db.add(h)
        await db.flush()
        for p in people:
            p.household_id = h.id
            db.add(p)
        await v.reassign_households(db, tenant, [h.id])
        await db.flush()
        hid = h.id
        await audit(db, "household.create", object_type="household", object_ids=[hid, *[p.id for p in people]])
        await db.commit()
        db.expire_all()  # reassignment ran in SQL: reload what the client sees
        return await _one_household(db, hid)

    @patch("/{household_id:uuid}", guards=[STAFF], summary="Edit a household (send the version you edited)")
    async def update_household(
        self, db_session: DbSession, household_id: FromPath[uuid.UUID], data: JSONBody[HouseholdPatch]
    ) -> HouseholdOut:
        db = db_session
        tenant = current_tenant()
        h = await db.get(Household, (tenant, household_id))
        if h is None:
            raise Problem("not_found")
        if h.version != data.version:
            raise Problem(
                "conflict",
                extra={"current_version": h.version},
                detail_ja="他の人がこの世帯を先に更新しました。最新の内容を確認してから、もう一度編集してください。",
                detail_en="Someone else changed this household first. Review the latest version and edit again.",
            )
        if (data.lon is None) != (data.lat is None):
            raise Problem("validation_failed", errors=[FieldError("lat", "required")])
        if data.lon is not None and data.lat is not None:
            pt = v.point(data.lon, data.lat)
            v.raise_if([await v.check_inside_tenant(db, tenant, "lon", pt)])
            h.location = v.to_db(pt)
            h.location_approximate = False
        for field in ("address", "town", "notes", "location_approximate"):
            value = getattr(data, field)
            if value is not None:
                setattr(h, field, value)
        try:
            await db.flush()
        except StaleDataError as exc:
            raise Problem("conflict") from exc
        hid = h.id
        await v.reassign_households(db, tenant, [hid])
        await audit(db, "household.update", object_type="household", object_ids=[hid])
        await household_changed(db, hid)
        await db.commit()
        db.expire_all()
        return await _one_household(db, hid)

    @delete(
        "/{household_id:uuid}",
        guards=[STAFF],
        status_code=HTTP_204_NO_CONTENT,
        summary="Remove a household (refused while an operation holds it or its visits: 409)",
    )
    async def delete_household(self, db_session: DbSession, household_id: FromPath[uuid.UUID]) -> None:
        tenant = current_tenant()
        await _refuse_if_recorded(db_session, tenant, household_id)
        person_ids = (
            (
                await db_session.execute(
                    select(Person.id).where(Person.tenant_id == tenant, Person.household_id == household_id)
                )
            )
            .scalars()
            .all()
        )
        await delete_audited(db_session, Household, household_id, "household", list(person_ids))

    @post("/{household_id:uuid}/people", guards=[STAFF], status_code=HTTP_201_CREATED, summary="Add a person")
    async def add_person(
        self, db_session: DbSession, household_id: FromPath[uuid.UUID], data: JSONBody[PersonIn]
    ) -> PersonOut:
        if await db_session.get(Household, (current_tenant(), household_id)) is None:
            raise Problem("not_found")
        p = await _validate_person(db_session, data, "")
        p.household_id = household_id
        db_session.add(p)
        await db_session.flush()
        pid = p.id
        await audit(db_session, "person.create", object_type="person", object_ids=[pid])
        await household_changed(db_session, household_id)
        await db_session.commit()
        return await _person(db_session, pid)


_RECORDS = text(
    """
    SELECT (SELECT count(*) FROM visit WHERE tenant_id = :t AND household_id = :h) AS visits,
           (SELECT count(*) FROM operation_target WHERE tenant_id = :t AND household_id = :h) AS targets
    """
)


async def _refuse_if_recorded(db: DbSession, tenant: uuid.UUID, household_id: uuid.UUID) -> None:
    """Visits are append-only records and an operation's targets are its figures: a household that
    has either is kept (its people can be removed), so deleting it is a 409 naming both counts.
    The row is locked first, so an operation starting meanwhile cannot add a target under us."""
    locked = await db.execute(
        select(Household.id).where(Household.tenant_id == tenant, Household.id == household_id).with_for_update()
    )
    if locked.first() is None:
        raise Problem("not_found")
    r = (await db.execute(_RECORDS, {"t": tenant, "h": household_id})).one()
    if r.visits or r.targets:
        raise Problem(
            "household_has_records",
            detail_ja=f"この世帯には訪問・安否確認の記録が{r.visits}件、活動の対象としての登録が{r.targets}件あるため削除できません。"
            "記録は残す必要があります（世帯員の削除や見守りの終了はできます）。",
            detail_en=f"This household has {r.visits} visit record(s) and is a target of {r.targets} operation(s); "
            "those records must be kept, so it cannot be deleted (its people and watch links can be removed).",
            extra={"dependents": {"visits": r.visits, "operation_targets": r.targets}},
        )


async def _person(db: DbSession, person_id: FromPath[uuid.UUID]) -> PersonOut:
    from server.registry.households import household_query

    p = (
        await db.execute(select(Person).where(Person.tenant_id == current_tenant(), Person.id == person_id))
    ).scalar_one_or_none()
    if p is None:
        raise Problem("not_found")
    h = (
        await db.execute(household_query(HouseholdFilter()).where(Household.id == p.household_id))
    ).scalar_one_or_none()
    if h is None:
        raise Problem("not_found")
    rendered = await render_households(db, [h])
    for person in rendered[0].people:
        if person.id == person_id:
            return person
    raise Problem("not_found")


class ConsentIn(msgspec.Struct, forbid_unknown_fields=True):
    recipient_class: Code
    dataset: Code
    consented_on: date
    source: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    withdrawn_on: date | None = None


class SupporterIn(msgspec.Struct, forbid_unknown_fields=True):
    """A designated supporter of an individual plan (stored as JSON on the plan). The supporter's
    own consent date decides whether their details are shown (households._disclosed_supporters)."""

    name: Annotated[str, msgspec.Meta(max_length=100)]
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    relationship: Annotated[str, msgspec.Meta(max_length=50)] | None = None
    role: Literal["primary", "backup"] | None = None
    watcher_id: uuid.UUID | None = None
    consented_on: date | None = None
    withdrawn_on: date | None = None


class PlanIn(msgspec.Struct, forbid_unknown_fields=True):
    destination_shelter_id: uuid.UUID | None = None
    route_notes: Note | None = None
    supporters: Annotated[list[SupporterIn], msgspec.Meta(max_length=20)] = []
    version: Version = 0


class PersonController(Controller):
    path = "/api/persons"
    tags = ("registry",)

    @get("/", guards=[READERS], summary="Search people (name, kana, address) the viewer may see")
    async def search_people(
        self,
        db_session: DbSession,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        district_id: Annotated[list[uuid.UUID] | None, QueryParameter(description="Repeatable", max_items=100)] = None,
        support_reason: Annotated[
            str | None, QueryParameter(max_length=32, description="A support reason code")
        ] = None,
        offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    ) -> Page:
        rows, total = await page_households(db_session, HouseholdFilter(district_id, support_reason, q), offset, limit)
        rendered = await render_households(db_session, rows)
        people = [p for h in rendered for p in h.people]
        await audit_households_read(db_session, rendered, via="search")
        await db_session.commit()
        return Page(items=people, total=total, offset=offset, limit=limit)

    @get("/{person_id:uuid}", guards=[READERS], summary="One person")
    async def get_person(self, db_session: DbSession, person_id: FromPath[uuid.UUID]) -> PersonOut:
        out = await _person(db_session, person_id)
        from server.registry.disclosure import audit_read

        await audit_read(
            db_session,
            "person",
            [person_id],
            via="rest",
            disaster_ids=[person_id] if out.disclosed_under == "disaster" else (),
        )
        await db_session.commit()
        return out

    @patch("/{person_id:uuid}", guards=[STAFF], summary="Edit a person (send the version you edited)")
    async def update_person(
        self, db_session: DbSession, person_id: FromPath[uuid.UUID], data: JSONBody[PersonPatch]
    ) -> PersonOut:
        p = await db_session.get(Person, (current_tenant(), person_id))
        if p is None:
            raise Problem("not_found")
        if p.version != data.version:
            raise Problem("conflict", extra={"current_version": p.version})
        fresh = await _validate_person(db_session, data, "")
        for field in (
            "name",
            "kana",
            "birth_date",
            "sex",
            "phone",
            "support_reasons",
            "care_level",
            "mobility",
            "medical_devices",
            "communication_needs",
            "emergency_contacts",
            "notes",
        ):
            setattr(p, field, getattr(fresh, field))
        try:
            await db_session.flush()
        except StaleDataError as exc:
            raise Problem("conflict") from exc
        pid = p.id
        await audit(db_session, "person.update", object_type="person", object_ids=[pid])
        await household_changed(db_session, p.household_id)
        await db_session.commit()
        return await _person(db_session, pid)

    @delete("/{person_id:uuid}", guards=[STAFF], status_code=HTTP_204_NO_CONTENT, summary="Remove a person")
    async def delete_person(self, db_session: DbSession, person_id: FromPath[uuid.UUID]) -> None:
        await delete_audited(db_session, Person, person_id, "person")

    @put(
        "/{person_id:uuid}/consents",
        guards=[STAFF],
        summary="Record or withdraw consent (one entry per class × data set)",
    )
    async def put_consents(
        self,
        db_session: DbSession,
        person_id: FromPath[uuid.UUID],
        data: JSONBody[Annotated[list[ConsentIn], msgspec.Meta(max_length=64)]],
    ) -> PersonOut:
        db = db_session
        tenant = current_tenant()
        p = await db.get(Person, (tenant, person_id))
        if p is None:
            raise Problem("not_found")
        errors: list[FieldError | None] = []
        for i, c in enumerate(data):
            errors.append(v.check_codes(f"[{i}].recipient_class", [c.recipient_class], RECIPIENT_CLASSES))
            errors.append(v.check_codes(f"[{i}].dataset", [c.dataset], CONSENT_DATASETS))
            if c.consented_on > v.latest_today():
                errors.append(
                    FieldError(
                        f"[{i}].consented_on",
                        "invalid",
                        "同意日が未来の日付です。",
                        "The consent date is in the future.",
                    )
                )
            if c.withdrawn_on and c.withdrawn_on < c.consented_on:
                errors.append(
                    FieldError(
                        f"[{i}].withdrawn_on", "invalid", "撤回日が同意日より前です。", "Withdrawal precedes consent."
                    )
                )
        v.raise_if(errors)
        for c in data:
            existing = (
                await db.execute(
                    select(Consent).where(
                        Consent.tenant_id == tenant,
                        Consent.person_id == person_id,
                        Consent.recipient_class == c.recipient_class,
                        Consent.dataset == c.dataset,
                    )
                )
            ).scalar_one_or_none()
            if existing is None:
                db.add(
                    Consent(
                        tenant_id=tenant,
                        id=uuid.uuid4(),
                        person_id=person_id,
                        household_id=p.household_id,
                        recipient_class=c.recipient_class,
                        dataset=c.dataset,
                        consented_on=c.consented_on,
                        source=c.source,
                        withdrawn_on=c.withdrawn_on,
                    )
                )
            else:
                existing.consented_on, existing.source, existing.withdrawn_on = c.consented_on, c.source, c.withdrawn_on
        await db.flush()
        await audit(
            db,
            "consent.update",
            object_type="person",
            object_ids=[person_id],
            details={"consents": [msgspec.to_builtins(c) for c in data]},
        )
        await household_changed(db, p.household_id)
        await db.commit()
        return await _person(db, person_id)

    @put("/{person_id:uuid}/plan", guards=[STAFF], summary="Create or replace the individual evacuation plan")
    async def put_plan(
        self, db_session: DbSession, person_id: FromPath[uuid.UUID], data: JSONBody[PlanIn]
    ) -> PersonOut:
        db = db_session
        tenant = current_tenant()
        person = await db.get(Person, (tenant, person_id))
        if person is None:
            raise Problem("not_found")
        plan = (
            await db.execute(
                select(EvacuationPlan).where(EvacuationPlan.tenant_id == tenant, EvacuationPlan.person_id == person_id)
            )
        ).scalar_one_or_none()
        if plan is None:
            plan = EvacuationPlan(tenant_id=tenant, id=uuid.uuid4(), person_id=person_id)
            db.add(plan)
        elif plan.version != data.version:
            raise Problem("conflict", extra={"current_version": plan.version})
        errors: list[FieldError | None] = []
        supporters: list[dict[str, Any]] = []
        for i, sup in enumerate(data.supporters):
            name = unicodedata.normalize("NFKC", sup.name).strip()
            if not name:
                errors.append(
                    FieldError(
                        f"supporters[{i}].name",
                        "required",
                        "支援者の氏名を入力してください。",
                        "Enter the supporter's name.",
                    )
                )
            phone = v.normalise_phone(sup.phone)
            errors.append(v.check_phone(f"supporters[{i}].phone", phone))
            if sup.consented_on and sup.consented_on > v.latest_today():
                errors.append(
                    FieldError(
                        f"supporters[{i}].consented_on",
                        "invalid",
                        "同意日が未来の日付です。",
                        "The consent date is in the future.",
                    )
                )
            if sup.withdrawn_on and sup.consented_on and sup.withdrawn_on < sup.consented_on:
                errors.append(
                    FieldError(
                        f"supporters[{i}].withdrawn_on",
                        "invalid",
                        "撤回日が同意日より前です。",
                        "Withdrawal precedes consent.",
                    )
                )
            supporters.append(
                {
                    "name": sup.name.strip(),
                    "phone": phone,
                    "relationship": sup.relationship,
                    "role": sup.role,
                    "watcher_id": str(sup.watcher_id) if sup.watcher_id else None,
                    "consented_on": sup.consented_on.isoformat() if sup.consented_on else None,
                    "withdrawn_on": sup.withdrawn_on.isoformat() if sup.withdrawn_on else None,
                }
            )
        v.raise_if(errors)
        plan.destination_shelter_id = data.destination_shelter_id
        plan.route_notes = data.route_notes
        plan.supporters = supporters
        await db.flush()
        await audit(db, "plan.update", object_type="person", object_ids=[person_id])
        await household_changed(db, person.household_id)
        await db.commit()
        return await _person(db, person_id)
