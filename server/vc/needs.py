"""Steps 1–2 of the VC day: opening a centre, need intake (ニーズ受付) with the duplicate search, the
board of needs by state, and the site survey (現地調査)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, cast

from geoalchemy2.shape import to_shape
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from shapely.geometry import Point
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.core import context
from server.core.context import current_tenant
from server.core.problems import FieldError, Problem
from server.db.deps import DbSession
from server.operations.models import Operation
from server.registry.disclosure import household_visible
from server.registry.models import Household, Town
from server.registry.validation import check_inside_tenant, point, to_db
from server.vc.common import (
    CENTRE_ADMIN,
    DESK,
    Centre,
    audit_vc,
    check_codes,
    emit_vc,
    get_centre,
    label,
    normalise_kana,
    normalise_phone,
    raise_if,
    today,
    vc_day,
)
from server.vc.models import VcCentre, VcCheckin, VcNeed, VcSurvey
from server.vc.schemas import (
    CentreFigures,
    CentreIn,
    CentreOut,
    DuplicateOut,
    DuplicateQuery,
    NeedIn,
    NeedOut,
    NeedStateIn,
    SurveyIn,
    SurveyOut,
)
from vocab import (
    VC_DAMAGE_KINDS,
    VC_EQUIPMENT,
    VC_NEED_FLAGS,
    VC_NEED_STATES,
    VC_RISKS,
    VC_SKILLS,
    VC_SURVEY_VERDICTS,
    VC_WORK_TYPES,
)

# Within this distance two needs are "the same address" for the duplicate search (geocoding and
# map picks of one house differ by a few metres to tens of metres).
DUPLICATE_RADIUS_M = 30
KANA_SIMILARITY = 0.5

_DUPLICATES = text(
    """
    SELECT n.id, n.requester_name, n.address, n.state,
           (CAST(:phone AS text) IS NOT NULL AND n.phone_normalised = :phone) AS same_phone,
           (CAST(:lon AS float8) IS NOT NULL
            AND ST_DWithin(n.location::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :radius))
             AS near,
           (:kana <> '' AND similarity(n.requester_kana_normalised, :kana) >= :similarity) AS similar_kana,
           CASE WHEN CAST(:lon AS float8) IS NOT NULL THEN
             ST_Distance(n.location::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) END AS distance
    FROM vc_need n
    WHERE n.tenant_id = :t AND n.operation_id = :o
      AND ((CAST(:phone AS text) IS NOT NULL AND n.phone_normalised = :phone)
        OR (CAST(:lon AS float8) IS NOT NULL AND ST_DWithin(n.location::geography,
              ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :radius))
        OR (:kana <> '' AND n.requester_kana_normalised % :kana
            AND similarity(n.requester_kana_normalised, :kana) >= :similarity))
    ORDER BY distance NULLS LAST, n.received_on DESC
    LIMIT 20
    """
)

_DISTRICT_AT = text(
    "SELECT id FROM district WHERE tenant_id = :t AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
    " ORDER BY ST_Area(geom) LIMIT 1"
)


def need_out(n: VcNeed, mode: str, linked: bool = True) -> NeedOut:
    """`linked`: whether the viewer may know the requester's registry household (see `needs_out`)."""
    pt = cast(Point, to_shape(n.location))
    return NeedOut(
        id=n.id,
        operation_id=n.operation_id,
        requester_name=n.requester_name,
        requester_kana=n.requester_kana,
        phone=n.phone,
        address=n.address,
        lon=pt.x,
        lat=pt.y,
        location_approximate=n.location_approximate,
        district_id=n.district_id,
        household_id=n.household_id if linked else None,
        damage_kinds=list(n.damage_kinds),
        work_types=list(n.work_types),
        equipment=list(n.equipment),
        skills=list(n.skills),
        flags=list(n.flags),
        people_needed=n.people_needed,
        hours_estimated=float(n.hours_estimated) if n.hours_estimated is not None else None,
        needs_truck=n.needs_truck,
        notes=n.notes,
        remaining=n.remaining,
        state=n.state,
        received_on=n.received_on,
        closed_on=n.closed_on,
        label=label(mode),
    )


def centre_out(op: Operation, c: VcCentre) -> CentreOut:
    pt = cast(Point, to_shape(c.base))
    return CentreOut(
        operation_id=op.id,
        name=op.name,
        mode=op.mode,
        status=op.status,
        opened_on=c.opened_on,
        lon=pt.x,
        lat=pt.y,
        label=label(op.mode),
    )


_NEED_COUNTS = (
    select(
        VcNeed.operation_id,
        func.count().filter(VcNeed.closed_on.is_(None)).label("open_needs"),
        func.count().filter(VcNeed.state.in_(("waiting", "continued"))).label("waiting_needs"),
    )
    .where(VcNeed.tenant_id == bindparam("t"))
    .group_by(VcNeed.operation_id)
    .subquery()
)
_PEOPLE_TODAY = (
    select(VcCheckin.operation_id, func.sum(VcCheckin.people).label("people"))
    .where(VcCheckin.tenant_id == bindparam("t"), VcCheckin.vc_day == bindparam("day"))
    .group_by(VcCheckin.operation_id)
    .subquery()
)


async def list_centres(db: AsyncSession) -> list[CentreOut]:
    """The council's centres, newest first, each with its figures of today: one statement that
    counts the needs and today's check-ins of all centres at once (grouped, then joined)."""
    day = await today(db)
    rows = (
        await db.execute(
            select(
                Operation,
                VcCentre,
                func.coalesce(_NEED_COUNTS.c.open_needs, 0),
                func.coalesce(_NEED_COUNTS.c.waiting_needs, 0),
                func.coalesce(_PEOPLE_TODAY.c.people, 0),
            )
            .join(VcCentre, (VcCentre.tenant_id == Operation.tenant_id) & (VcCentre.operation_id == Operation.id))
            .outerjoin(_NEED_COUNTS, _NEED_COUNTS.c.operation_id == Operation.id)
            .outerjoin(_PEOPLE_TODAY, _PEOPLE_TODAY.c.operation_id == Operation.id)
            .where(Operation.tenant_id == current_tenant())
            .order_by(Operation.created_at.desc())
            .limit(200),
            {"t": current_tenant(), "day": day},
        )
    ).all()
    out = []
    for op, centre, open_needs, waiting_needs, people in rows:
        c = centre_out(op, centre)
        c.figures = CentreFigures(
            vc_day=day, open_needs=int(open_needs), waiting_needs=int(waiting_needs), volunteers_today=int(people)
        )
        out.append(c)
    return out


async def _locate(db: AsyncSession, data: NeedIn) -> tuple[float, float, bool]:
    """The need's point: the map pick, or the town's representative point (marked approximate)."""
    tenant = current_tenant()
    if data.lon is not None and data.lat is not None:
        lon, lat, approximate = data.lon, data.lat, False
    elif data.town:
        row = (
            await db.execute(
                select(func.ST_X(Town.location), func.ST_Y(Town.location))
                .where(
                    Town.tenant_id == tenant,
                    (Town.name == data.town) | (func.concat(Town.name, Town.koaza) == data.town),
                )
                .limit(1)
            )
        ).first()
        if row is None:
            raise Problem("vc_town_unknown", errors=[FieldError("town", "unknown_reference")])
        lon, lat, approximate = float(row[0]), float(row[1]), True
    else:
        raise Problem("vc_town_unknown", errors=[FieldError("lon", "required"), FieldError("town", "required")])
    outside = await check_inside_tenant(db, tenant, "lon", point(lon, lat))
    if outside is not None:
        raise Problem("vc_outside_area", errors=[outside])
    return lon, lat, approximate


class CentreController(Controller):
    path = "/api/vc/centres"
    tags = ("vc",)

    @post(
        "/",
        guards=[CENTRE_ADMIN],
        status_code=HTTP_201_CREATED,
        summary="Open a volunteer centre (real or drill)",
    )
    async def open_centre(self, db_session: DbSession, data: JSONBody[CentreIn]) -> CentreOut:
        c = await create_centre(db_session, data)
        await db_session.commit()
        return centre_out(c.op, c.centre)

    @get("/", guards=[DESK], summary="Volunteer centres, newest first, with today's open needs and volunteers")
    async def list_centres(self, db_session: DbSession) -> list[CentreOut]:
        return await list_centres(db_session)

    @post("/{operation_id:uuid}/close", guards=[CENTRE_ADMIN], status_code=200, summary="Close a centre")
    async def close_centre(self, db_session: DbSession, operation_id: FromPath[uuid.UUID]) -> CentreOut:
        c = await get_centre(db_session, operation_id, writable=True)
        c.op.status, c.op.closed_at = "closed", datetime.now(UTC)
        await audit_vc(db_session, c, "vc.centre.close", "operation", [c.id])
        await emit_vc(db_session, c, "vc.centre", {"state": "closed"})
        await db_session.commit()
        return centre_out(c.op, c.centre)

    @post(
        "/{operation_id:uuid}/needs/duplicates",
        guards=[DESK],
        status_code=200,
        summary="Likely duplicates of a need being taken: same phone, within 30 m, similar kana",
    )
    async def duplicates(
        self, db_session: DbSession, operation_id: FromPath[uuid.UUID], data: JSONBody[DuplicateQuery]
    ) -> list[DuplicateOut]:
        c = await get_centre(db_session, operation_id)
        found = await find_duplicates(
            db_session,
            c,
            normalise_phone(data.phone),
            normalise_kana(data.requester_kana),
            data.lon,
            data.lat,
        )
        if found:
            await audit_vc(db_session, c, "vc.need.read", "vc_need", [d.need_id for d in found], via="duplicates")
            await db_session.commit()
        return found

    @post(
        "/{operation_id:uuid}/needs",
        guards=[DESK],
        status_code=HTTP_201_CREATED,
        summary="Take a need (受付)",
    )
    async def create_need(
        self, db_session: DbSession, operation_id: FromPath[uuid.UUID], data: JSONBody[NeedIn]
    ) -> NeedOut:
        c = await get_centre(db_session, operation_id, writable=True)
        need = await take_need(db_session, c, data)
        await db_session.commit()
        return need_out(need, c.mode)

    @get("/{operation_id:uuid}/needs", guards=[DESK], summary="The board: needs by state")
    async def list_needs(
        self,
        db_session: DbSession,
        operation_id: FromPath[uuid.UUID],
        need_state: Annotated[str | None, QueryParameter(name="state", max_length=16)] = None,
    ) -> list[NeedOut]:
        c = await get_centre(db_session, operation_id)
        if need_state is not None and need_state not in VC_NEED_STATES:
            raise Problem("validation_failed", errors=[FieldError("state", "invalid")])
        q = select(VcNeed).where(VcNeed.tenant_id == c.op.tenant_id, VcNeed.operation_id == c.id)
        if need_state:
            q = q.where(VcNeed.state == need_state)
        needs = (
            (await db_session.execute(q.order_by(VcNeed.received_on, VcNeed.created_at).limit(10_000))).scalars().all()
        )
        if needs:
            await audit_vc(db_session, c, "vc.need.read", "vc_need", [n.id for n in needs], via="board")
            await db_session.commit()
        return await needs_out(db_session, needs, c.mode)


async def needs_out(db: AsyncSession, needs: Sequence[VcNeed], mode: str) -> list[NeedOut]:
    """Needs as the viewer may read them: the link to a registry household only where the
    disclosure rule lets the viewer see that household (a lent VC desk helper sees none), since the
    link alone says the requester is on the support-needs registry."""
    linked = {n.household_id for n in needs if n.household_id is not None}
    if linked:
        linked = set(
            (
                await db.execute(
                    select(Household.id).where(
                        Household.tenant_id == current_tenant(), Household.id.in_(linked), household_visible()
                    )
                )
            ).scalars()
        )
    return [need_out(n, mode, n.household_id in linked) for n in needs]


async def find_duplicates(
    db: AsyncSession, c: Centre, phone: str | None, kana: str, lon: float | None, lat: float | None
) -> list[DuplicateOut]:
    if lon is None or lat is None:
        lon = lat = None
    rows = (
        await db.execute(
            _DUPLICATES,
            {
                "t": c.op.tenant_id,
                "o": c.id,
                "phone": phone,
                "kana": kana,
                "lon": lon,
                "lat": lat,
                "radius": DUPLICATE_RADIUS_M,
                "similarity": KANA_SIMILARITY,
            },
        )
    ).all()
    return [
        DuplicateOut(
            need_id=r.id,
            requester_name=r.requester_name,
            address=r.address,
            state=r.state,
            reasons=[k for k, on in (("phone", r.same_phone), ("near", r.near), ("kana", r.similar_kana)) if on],
            distance_m=round(float(r.distance), 1) if r.distance is not None else None,
        )
        for r in rows
    ]


async def need_for_update(db: AsyncSession, need_id: uuid.UUID) -> tuple[Centre, VcNeed]:
    need = (
        await db.execute(
            select(VcNeed).where(VcNeed.tenant_id == current_tenant(), VcNeed.id == need_id).with_for_update()
        )
    ).scalar_one_or_none()
    if need is None:
        raise Problem("not_found")
    return await get_centre(db, need.operation_id, writable=True), need


class NeedController(Controller):
    path = "/api/vc/needs"
    tags = ("vc",)
    guards = (DESK,)

    @get("/{need_id:uuid}", summary="One need")
    async def get_need(self, db_session: DbSession, need_id: FromPath[uuid.UUID]) -> NeedOut:
        need = (
            await db_session.execute(select(VcNeed).where(VcNeed.tenant_id == current_tenant(), VcNeed.id == need_id))
        ).scalar_one_or_none()
        if need is None:
            raise Problem("not_found")
        c = await get_centre(db_session, need.operation_id)
        await audit_vc(db_session, c, "vc.need.read", "vc_need", [need.id], via="detail")
        [out] = await needs_out(db_session, [need], c.mode)
        await db_session.commit()
        return out

    @post("/{need_id:uuid}/state", status_code=200, summary="Send to survey, or straight to matching")
    async def set_state(
        self, db_session: DbSession, need_id: FromPath[uuid.UUID], data: JSONBody[NeedStateIn]
    ) -> NeedOut:
        c, need = await need_for_update(db_session, need_id)
        await set_need_state(db_session, c, need, data.state)
        [out] = await needs_out(db_session, [need], c.mode)
        await db_session.commit()
        return out

    @post("/{need_id:uuid}/surveys", status_code=HTTP_201_CREATED, summary="Record a site survey (現地調査)")
    async def survey(self, db_session: DbSession, need_id: FromPath[uuid.UUID], data: JSONBody[SurveyIn]) -> SurveyOut:
        c, need = await need_for_update(db_session, need_id)
        s = await record_survey(db_session, c, need, data)
        await db_session.commit()
        return SurveyOut(
            id=s.id,
            need_id=need.id,
            verdict=s.verdict,
            risks=list(s.risks),
            risk_notes=s.risk_notes,
            surveyor=s.surveyor,
            surveyed_at=s.surveyed_at,
            need_state=need.state,
        )


async def create_centre(db: AsyncSession, data: CentreIn) -> Centre:
    """Open a centre: its `vc` operation (active) and its base, audited and on the stream; the
    caller commits (the route, or a drill run that opens its drill centre)."""
    ctx = context.current()
    tenant = current_tenant()
    outside = await check_inside_tenant(db, tenant, "lon", point(data.lon, data.lat))
    if outside is not None:
        raise Problem("vc_outside_area", errors=[outside])
    now = await today(db)
    opened = data.opened_on or now
    if opened > now:
        raise Problem("vc_bad_date", errors=[FieldError("opened_on", "out_of_range")])
    op = Operation(
        tenant_id=tenant,
        id=uuid.uuid4(),
        kind="vc",
        mode=data.mode,
        name=data.name,
        status="active",
        created_by=ctx.user_id,
        started_at=datetime.now(UTC),
    )
    db.add(op)
    await db.flush()
    centre = VcCentre(
        tenant_id=tenant,
        operation_id=op.id,
        mode=op.mode,
        opened_on=opened,
        base=to_db(point(data.lon, data.lat)),
    )
    db.add(centre)
    await db.flush()
    c = Centre(op, centre)
    await audit_vc(db, c, "vc.centre.open", "operation", [op.id])
    await emit_vc(db, c, "vc.centre", {"state": "active"})
    return c


async def take_need(db: AsyncSession, c: Centre, data: NeedIn) -> VcNeed:
    """Take a need (受付) at an open centre by its rules (codes, day, place, household); the caller
    commits (the route, or a drill's phoned-in need)."""
    raise_if(
        [
            check_codes("damage_kinds", data.damage_kinds, VC_DAMAGE_KINDS),
            check_codes("work_types", data.work_types, VC_WORK_TYPES),
            check_codes("equipment", data.equipment, VC_EQUIPMENT),
            check_codes("skills", data.skills, VC_SKILLS),
            check_codes("flags", data.flags, VC_NEED_FLAGS),
        ]
    )
    received = await vc_day(db, c, data.received_on, "received_on")
    lon, lat, approximate = await _locate(db, data)
    if data.household_id is not None:
        visible = (
            await db.execute(
                select(Household.id).where(
                    Household.tenant_id == c.op.tenant_id,
                    Household.id == data.household_id,
                    household_visible(),
                )
            )
        ).scalar()
        if visible is None:
            raise Problem("vc_household_not_visible", errors=[FieldError("household_id", "unknown_reference")])
    district = (await db.execute(_DISTRICT_AT, {"t": c.op.tenant_id, "lon": lon, "lat": lat})).scalar()
    need = VcNeed(
        tenant_id=c.op.tenant_id,
        id=uuid.uuid4(),
        operation_id=c.id,
        requester_name=data.requester_name,
        requester_kana=data.requester_kana,
        requester_kana_normalised=normalise_kana(data.requester_kana),
        phone=data.phone,
        phone_normalised=normalise_phone(data.phone),
        address=data.address,
        location=to_db(point(lon, lat)),
        location_approximate=approximate,
        district_id=district,
        household_id=data.household_id,
        damage_kinds=data.damage_kinds,
        work_types=data.work_types,
        equipment=data.equipment,
        skills=data.skills,
        flags=data.flags,
        people_needed=data.people_needed,
        hours_estimated=data.hours_estimated,
        needs_truck=data.needs_truck,
        notes=data.notes,
        state="received",
        received_on=received,
        created_by=context.current().user_id,
    )
    db.add(need)
    await db.flush()
    await audit_vc(db, c, "vc.need.create", "vc_need", [need.id])
    await emit_vc(db, c, "vc.need", {"need_id": str(need.id), "state": need.state})
    return need


async def set_need_state(db: AsyncSession, c: Centre, need: VcNeed, state: str) -> None:
    """Send a need to survey, or straight to matching (the caller holds its row lock and commits)."""
    allowed = {"survey": {"received"}, "waiting": {"received", "survey"}}[state]
    if need.state not in allowed:
        raise Problem("vc_need_state")
    need.state, need.updated_at = state, datetime.now(UTC)
    await audit_vc(db, c, "vc.need.update", "vc_need", [need.id], state=state)
    await emit_vc(db, c, "vc.need", {"need_id": str(need.id), "state": need.state})


async def record_survey(db: AsyncSession, c: Centre, need: VcNeed, data: SurveyIn) -> VcSurvey:
    """A site survey (現地調査) and the state its verdict moves the need to (the caller holds the
    need's row lock and commits)."""
    raise_if(
        [
            check_codes("verdict", [data.verdict], VC_SURVEY_VERDICTS),
            check_codes("risks", data.risks, VC_RISKS),
        ]
    )
    if need.state not in ("received", "survey", "waiting"):
        raise Problem("vc_need_state")
    day = c.today()
    at = data.surveyed_at or datetime.now(UTC)
    if at > datetime.now(UTC) or c.day_of(at) < c.centre.opened_on:
        raise Problem("vc_bad_date", errors=[FieldError("surveyed_at", "out_of_range")])
    s = VcSurvey(
        tenant_id=need.tenant_id,
        id=uuid.uuid4(),
        need_id=need.id,
        verdict=data.verdict,
        risks=data.risks,
        risk_notes=data.risk_notes,
        surveyor=data.surveyor,
        surveyed_at=at,
        vc_day=day,
    )
    db.add(s)
    # Work needed → the matching board; not needed → closed (完了 without a team); to discuss → stays in survey.
    need.state = {"needed": "waiting", "not_needed": "done", "discuss": "survey"}[data.verdict]
    if need.state == "done":
        need.closed_on = max(day, need.received_on)
    need.updated_at = datetime.now(UTC)
    await db.flush()
    await audit_vc(db, c, "vc.survey.create", "vc_survey", [s.id], need_id=str(need.id))
    await emit_vc(db, c, "vc.need", {"need_id": str(need.id), "state": need.state})
    return s
