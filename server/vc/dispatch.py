"""Steps 5–7 of the VC day: dispatch (送り出し) with equipment from the ledger (資機材), returns and
losses, the activity report (活動報告, idempotent by client id like visits), and the volunteer's own
phone view.

Stock never goes below zero even with two desks lending the last one at once: a loan is one
`UPDATE … SET stock = stock - n WHERE stock >= n`, which takes the row lock and re-reads the row
after a concurrent loan commits, and the CHECK (stock >= 0) stands behind it.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import cast

import msgspec
from geoalchemy2.shape import to_shape
from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from shapely.geometry import Point
from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from server.core import context
from server.core.context import current_tenant
from server.core.guards import roles
from server.core.problems import FieldError, Problem
from server.db.deps import DbSession
from server.operations.models import Operation
from server.vc.common import (
    CENTRE_ADMIN,
    DESK,
    DESK_ROLES,
    VOLUNTEER,
    Centre,
    audit_vc,
    emit_vc,
    get_centre,
    label,
)
from server.vc.models import (
    VcCentre,
    VcDispatch,
    VcEquipment,
    VcEquipmentMove,
    VcNeed,
    VcReport,
    VcTeam,
    VcTeamMember,
    VcVolunteer,
)
from server.vc.schemas import (
    DispatchIn,
    DispatchOut,
    EquipmentIn,
    EquipmentOut,
    MyCentre,
    MyDispatchOut,
    MyNeed,
    ReportIn,
    ReportOut,
    ReturnLine,
    ReturnsIn,
)
from server.vc.teams import team_out
from vocab import VC_EQUIPMENT

DESK_OR_LEADER = roles(*DESK_ROLES, "vc_volunteer")
# A report's device clock may run a little fast; beyond this it is wrong (as for visits).
CLOCK_SKEW = timedelta(minutes=5)

_OUTSTANDING = text(
    """
    SELECT e.code, e.id,
           sum(CASE m.kind WHEN 'loan' THEN m.quantity ELSE -m.quantity END) AS out
    FROM vc_equipment_move m JOIN vc_equipment e ON e.tenant_id = m.tenant_id AND e.id = m.equipment_id
    WHERE m.tenant_id = :t AND m.dispatch_id = :d
    GROUP BY e.code, e.id
    """
)

_OUTSTANDING_MANY = text(
    """
    SELECT m.dispatch_id, e.code,
           sum(CASE m.kind WHEN 'loan' THEN m.quantity ELSE -m.quantity END) AS out
    FROM vc_equipment_move m JOIN vc_equipment e ON e.tenant_id = m.tenant_id AND e.id = m.equipment_id
    WHERE m.tenant_id = :t AND m.dispatch_id = ANY(:ids)
    GROUP BY m.dispatch_id, e.code
    """
)


async def outstanding(db: AsyncSession, dispatch: VcDispatch) -> dict[str, tuple[uuid.UUID, int]]:
    rows = (await db.execute(_OUTSTANDING, {"t": dispatch.tenant_id, "d": dispatch.id})).all()
    return {r.code: (r.id, int(r.out)) for r in rows}


async def dispatch_out(db: AsyncSession, d: VcDispatch, mode: str) -> DispatchOut:
    out = await outstanding(db, d)
    return DispatchOut(
        id=d.id,
        operation_id=d.operation_id,
        team_id=d.team_id,
        need_id=d.need_id,
        vc_day=d.vc_day,
        state=d.state,
        equipment={code: n for code, (_, n) in sorted(out.items()) if n > 0},
        label=label(mode),
    )


def _move(
    c: Centre, equipment_id: uuid.UUID, kind: str, quantity: int, dispatch_id: uuid.UUID | None = None
) -> VcEquipmentMove:
    """One line of the equipment ledger, by whoever is signed in."""
    return VcEquipmentMove(
        tenant_id=c.op.tenant_id,
        id=uuid.uuid4(),
        equipment_id=equipment_id,
        dispatch_id=dispatch_id,
        kind=kind,
        quantity=quantity,
        by_user=context.current().user_id,
    )


async def lend(db: AsyncSession, c: Centre, dispatch: VcDispatch, code: str, quantity: int) -> None:
    """Take `quantity` off the shelf for the dispatch, or refuse (409 `vc_out_of_stock`)."""
    equipment_id = (
        await db.execute(
            update(VcEquipment)
            .where(
                VcEquipment.tenant_id == c.op.tenant_id,
                VcEquipment.operation_id == c.id,
                VcEquipment.code == code,
                VcEquipment.stock >= quantity,
            )
            .values(stock=VcEquipment.stock - quantity)
            .returning(VcEquipment.id)
        )
    ).scalar()
    if equipment_id is None:
        known = (
            await db.execute(
                select(VcEquipment.stock).where(
                    VcEquipment.tenant_id == c.op.tenant_id,
                    VcEquipment.operation_id == c.id,
                    VcEquipment.code == code,
                )
            )
        ).scalar()
        raise Problem("vc_out_of_stock", extra={"code_out_of_stock": code, "stock": int(known or 0)})
    db.add(_move(c, equipment_id, "loan", quantity, dispatch.id))


async def take_back(db: AsyncSession, c: Centre, dispatch: VcDispatch, lines: list[ReturnLine]) -> None:
    """Returns go back on the shelf, losses are written off; never more than is out with the team.
    The caller holds the dispatch's row lock, so two returns of one dispatch cannot both pass."""
    out = await outstanding(db, dispatch)
    errors = []
    lines = [line for line in lines if line.returned or line.lost]  # a line of zeros changes nothing
    for i, line in enumerate(lines):
        lent = out[line.code][1] if line.code in out else 0
        if line.returned + line.lost > lent:
            errors.append(
                FieldError(
                    f"items[{i}].returned",
                    "out_of_range",
                    f"貸出中は{lent}点です。",
                    f"{lent} are out with the team.",
                )
            )
        else:
            out[line.code] = (out[line.code][0], lent - line.returned - line.lost)
    if errors:
        raise Problem("vc_return_exceeds_loan", errors=errors)
    for line in lines:
        equipment_id = out[line.code][0]
        if line.returned:
            await db.execute(
                update(VcEquipment)
                .where(VcEquipment.tenant_id == c.op.tenant_id, VcEquipment.id == equipment_id)
                .values(stock=VcEquipment.stock + line.returned)
            )
            db.add(_move(c, equipment_id, "return", line.returned, dispatch.id))
        if line.lost:
            db.add(_move(c, equipment_id, "loss", line.lost, dispatch.id))
    await db.flush()


async def _dispatch_for_update(db: AsyncSession, dispatch_id: uuid.UUID) -> tuple[Centre, VcDispatch]:
    d = (
        await db.execute(
            select(VcDispatch)
            .where(VcDispatch.tenant_id == current_tenant(), VcDispatch.id == dispatch_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if d is None:
        raise Problem("not_found")
    return await get_centre(db, d.operation_id, writable=True), d


class DispatchController(Controller):
    path = "/api/vc/centres/{operation_id:uuid}"
    tags = ("vc",)
    guards = (DESK,)

    @post("/dispatches", status_code=HTTP_201_CREATED, summary="Send a team to a need with equipment (送り出し)")
    async def dispatch(
        self, db_session: DbSession, operation_id: FromPath[uuid.UUID], data: JSONBody[DispatchIn]
    ) -> DispatchOut:
        c = await get_centre(db_session, operation_id, writable=True)
        d = await send_team(db_session, c, data)
        await db_session.commit()
        return await dispatch_out(db_session, d, c.mode)

    @post("/equipment", status_code=200, guards=[CENTRE_ADMIN], summary="Add stock to the equipment ledger")
    async def add_stock(
        self, db_session: DbSession, operation_id: FromPath[uuid.UUID], data: JSONBody[EquipmentIn]
    ) -> EquipmentOut:
        c = await get_centre(db_session, operation_id, writable=True)
        await add_stock(db_session, c, data)
        await db_session.commit()
        return next(e for e in await ledger(db_session, c) if e.code == data.code)

    @get(
        "/dispatches",
        summary="Dispatches of a VC day (default today), active ones first, with what is still out",
    )
    async def list_dispatches(
        self, db_session: DbSession, operation_id: FromPath[uuid.UUID], vc_day: FromQuery[date | None] = None
    ) -> list[DispatchOut]:
        """The desk's returns list survives a reload: ids, states and equipment only, no personal data."""
        c = await get_centre(db_session, operation_id)
        day = vc_day or c.today()
        dispatches = (
            (
                await db_session.execute(
                    select(VcDispatch)
                    .where(
                        VcDispatch.tenant_id == c.op.tenant_id,
                        VcDispatch.operation_id == c.id,
                        VcDispatch.vc_day == day,
                    )
                    .order_by(VcDispatch.state, VcDispatch.dispatched_at)
                    .limit(2_000)
                )
            )
            .scalars()
            .all()
        )
        out: dict[uuid.UUID, dict[str, int]] = {d.id: {} for d in dispatches}
        if dispatches:  # what is still out, for all of them in one query
            rows = await db_session.execute(_OUTSTANDING_MANY, {"t": c.op.tenant_id, "ids": [d.id for d in dispatches]})
            for r in rows:
                if int(r.out) > 0:
                    out[r.dispatch_id][r.code] = int(r.out)
        return [
            DispatchOut(
                id=d.id,
                operation_id=d.operation_id,
                team_id=d.team_id,
                need_id=d.need_id,
                vc_day=d.vc_day,
                state=d.state,
                equipment=dict(sorted(out[d.id].items())),
                label=label(c.mode),
            )
            for d in dispatches
        ]

    @get("/equipment", summary="The equipment ledger: on the shelf, out with teams, lost")
    async def list_equipment(self, db_session: DbSession, operation_id: FromPath[uuid.UUID]) -> list[EquipmentOut]:
        return await ledger(db_session, await get_centre(db_session, operation_id))


async def add_stock(db: AsyncSession, c: Centre, data: EquipmentIn) -> None:
    """Stock added to the ledger (a `stock` move); the caller commits."""
    if data.code not in VC_EQUIPMENT:
        raise Problem("validation_failed", errors=[FieldError("code", "invalid")])
    equipment_id = (
        await db.execute(
            insert(VcEquipment)
            .values(
                tenant_id=c.op.tenant_id,
                id=uuid.uuid4(),
                operation_id=c.id,
                code=data.code,
                stock=data.quantity,
            )
            .on_conflict_do_update(
                index_elements=["tenant_id", "operation_id", "code"],
                set_={"stock": VcEquipment.stock + data.quantity},
            )
            .returning(VcEquipment.id)
        )
    ).scalar_one()
    db.add(_move(c, equipment_id, "stock", data.quantity))
    await db.flush()
    await audit_vc(db, c, "vc.equipment.stock", "vc_equipment", [equipment_id], quantity=data.quantity)


async def ledger(db: AsyncSession, c: Centre) -> list[EquipmentOut]:
    rows = (
        await db.execute(
            text(
                """
        SELECT e.code, e.stock,
               coalesce(sum(CASE m.kind WHEN 'loan' THEN m.quantity WHEN 'return' THEN -m.quantity
                                       WHEN 'loss' THEN -m.quantity ELSE 0 END), 0) AS out,
               coalesce(sum(m.quantity) FILTER (WHERE m.kind = 'loss'), 0) AS lost
        FROM vc_equipment e LEFT JOIN vc_equipment_move m ON m.tenant_id = e.tenant_id AND m.equipment_id = e.id
        WHERE e.tenant_id = :t AND e.operation_id = :o
        GROUP BY e.code, e.stock ORDER BY e.code
        """
            ),
            {"t": c.op.tenant_id, "o": c.id},
        )
    ).all()
    return [EquipmentOut(code=r.code, stock=int(r.stock), out=int(r.out), lost=int(r.lost)) for r in rows]


def _report_hash(dispatch_id: uuid.UUID, data: ReportIn) -> str:
    body = msgspec.json.encode({"dispatch_id": str(dispatch_id), **msgspec.to_builtins(data)}, order="sorted")
    return hashlib.sha256(body).hexdigest()


def report_out(r: VcReport, need_state: str) -> ReportOut:
    return ReportOut(
        id=r.id,
        client_id=r.client_id,
        dispatch_id=r.dispatch_id,
        outcome=r.outcome,
        people=r.people,
        hours=float(r.hours),
        injuries=r.injuries,
        work_done=r.work_done,
        remaining=r.remaining,
        near_misses=r.near_misses,
        device_time=r.device_time,
        server_time=r.server_time,
        need_state=need_state,
    )


async def _stored_report(db: AsyncSession, client_id: uuid.UUID, content_hash: str) -> ReportOut | None:
    """A retry of a stored report is answered with it; the same id with other content is a 409."""
    row = (
        await db.execute(
            select(VcReport, VcNeed.state)
            .join(
                VcDispatch,
                (VcDispatch.tenant_id == VcReport.tenant_id) & (VcDispatch.id == VcReport.dispatch_id),
            )
            .join(VcNeed, (VcNeed.tenant_id == VcDispatch.tenant_id) & (VcNeed.id == VcDispatch.need_id))
            .where(VcReport.tenant_id == current_tenant(), VcReport.client_id == client_id)
        )
    ).first()
    if row is None:
        return None
    if row[0].content_hash != content_hash:
        raise Problem("vc_report_conflict")
    return report_out(row[0], row[1])


async def _leader_of(db: AsyncSession, d: VcDispatch) -> bool:
    """A vc_volunteer may report only for a team they lead."""
    ctx = context.current()
    if ctx.role != "vc_volunteer":
        return True
    leader_user = (
        await db.execute(
            select(VcVolunteer.user_id)
            .join(VcTeam, (VcTeam.tenant_id == VcVolunteer.tenant_id) & (VcTeam.leader_id == VcVolunteer.id))
            .where(VcTeam.tenant_id == d.tenant_id, VcTeam.id == d.team_id)
        )
    ).scalar()
    return leader_user is not None and leader_user == ctx.user_id


async def send_team(db: AsyncSession, c: Centre, data: DispatchIn) -> VcDispatch:
    """Send a team to a need with equipment (送り出し) by the rules: the need waiting, the team free
    and every member insured, the stock there; the caller commits (the route, or a drill's desk bot)."""
    team = (
        await db.execute(
            select(VcTeam)
            .where(VcTeam.tenant_id == c.op.tenant_id, VcTeam.operation_id == c.id, VcTeam.id == data.team_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    need = (
        await db.execute(
            select(VcNeed)
            .where(VcNeed.tenant_id == c.op.tenant_id, VcNeed.operation_id == c.id, VcNeed.id == data.need_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    missing = [FieldError(f, "unknown_reference") for f, row in (("team_id", team), ("need_id", need)) if row is None]
    if missing or team is None or need is None:
        raise Problem("invalid_reference", errors=missing)
    if need.state not in ("waiting", "continued"):
        raise Problem("vc_need_state")
    busy = (
        await db.execute(
            select(VcDispatch.id).where(
                VcDispatch.tenant_id == team.tenant_id,
                VcDispatch.team_id == team.id,
                VcDispatch.state == "active",
            )
        )
    ).scalar()
    if busy is not None:
        raise Problem("vc_team_busy")
    uninsured = (
        (
            await db.execute(
                select(VcVolunteer.id)
                .join(
                    VcTeamMember,
                    (VcTeamMember.tenant_id == VcVolunteer.tenant_id) & (VcTeamMember.volunteer_id == VcVolunteer.id),
                )
                .where(
                    VcTeamMember.tenant_id == team.tenant_id,
                    VcTeamMember.team_id == team.id,
                    VcVolunteer.insurance == "none",
                )
            )
        )
        .scalars()
        .all()
    )
    if uninsured:
        raise Problem("vc_not_insured", extra={"volunteer_ids": sorted(str(v) for v in uninsured)})
    unknown = [
        FieldError(f"equipment[{i}].code", "invalid")
        for i, e in enumerate(data.equipment)
        if e.code not in VC_EQUIPMENT
    ]
    if unknown:
        raise Problem("validation_failed", errors=unknown)
    d = VcDispatch(
        tenant_id=c.op.tenant_id,
        id=uuid.uuid4(),
        operation_id=c.id,
        team_id=team.id,
        need_id=need.id,
        vc_day=team.vc_day,
        state="active",
        dispatched_by=context.current().user_id,
    )
    db.add(d)
    await db.flush()
    for line in sorted(data.equipment, key=lambda e: e.code):  # one lock order: no deadlock between desks
        await lend(db, c, d, line.code, line.quantity)
    need.state, need.updated_at = "active", datetime.now(UTC)
    await db.flush()
    await audit_vc(db, c, "vc.dispatch.create", "vc_dispatch", [d.id], team_id=str(team.id), need_id=str(need.id))
    await emit_vc(db, c, "vc.need", {"need_id": str(need.id), "state": need.state, "team_id": str(team.id)})
    return d


async def file_report(
    db: AsyncSession, c: Centre, d: VcDispatch, data: ReportIn, content_hash: str | None = None
) -> tuple[VcReport, VcNeed]:
    """The activity report of an active dispatch (the caller holds its row lock, has checked who
    reports and the device time, and commits): returns and losses, 完了 closes the need, 継続
    leaves it for the next team."""
    await take_back(db, c, d, data.returns)
    report = VcReport(
        tenant_id=d.tenant_id,
        id=uuid.uuid4(),
        client_id=data.client_id,
        dispatch_id=d.id,
        outcome=data.outcome,
        work_done=data.work_done,
        remaining=data.remaining,
        people=data.people,
        hours=data.hours,
        injuries=data.injuries,
        injury_notes=data.injury_notes,
        near_misses=data.near_misses,
        device_time=data.device_time,
        reported_by=context.current().user_id,
        content_hash=content_hash or _report_hash(d.id, data),
    )
    db.add(report)
    need = (
        await db.execute(
            select(VcNeed).where(VcNeed.tenant_id == d.tenant_id, VcNeed.id == d.need_id).with_for_update()
        )
    ).scalar_one()
    if data.outcome == "done":  # 完了 closes the need
        need.state, need.closed_on = "done", max(c.today(), need.received_on)
    else:  # 継続: open again tomorrow, with what is left
        need.state, need.remaining = "continued", data.remaining
    need.updated_at = datetime.now(UTC)
    d.state = "reported"
    await db.flush()
    await db.refresh(report)
    await audit_vc(db, c, "vc.report.create", "vc_report", [report.id], dispatch_id=str(d.id), injuries=data.injuries)
    await emit_vc(db, c, "vc.need", {"need_id": str(need.id), "state": need.state})
    return report, need


class DispatchActionController(Controller):
    path = "/api/vc/dispatches"
    tags = ("vc",)

    @post("/{dispatch_id:uuid}/returns", guards=[DESK], status_code=200, summary="Equipment back (or lost)")
    async def returns(
        self, db_session: DbSession, dispatch_id: FromPath[uuid.UUID], data: JSONBody[ReturnsIn]
    ) -> DispatchOut:
        c, d = await _dispatch_for_update(db_session, dispatch_id)
        await take_back(db_session, c, d, data.items)
        await audit_vc(db_session, c, "vc.equipment.return", "vc_dispatch", [d.id])
        await db_session.commit()
        return await dispatch_out(db_session, d, c.mode)

    @post(
        "/{dispatch_id:uuid}/report",
        guards=[DESK_OR_LEADER],
        summary="Activity report (idempotent on client_id)",
        status_code=HTTP_201_CREATED,
    )
    async def report(
        self, db_session: DbSession, dispatch_id: FromPath[uuid.UUID], data: JSONBody[ReportIn]
    ) -> Response[ReportOut]:
        db = db_session
        content_hash = _report_hash(dispatch_id, data)
        stored = await _stored_report(db, data.client_id, content_hash)
        if stored is not None:
            return Response(stored, status_code=200)
        c, d = await _dispatch_for_update(db, dispatch_id)
        if not await _leader_of(db, d):
            raise Problem("forbidden")
        stored = await _stored_report(db, data.client_id, content_hash)  # a retry that raced us to the lock
        if stored is not None:
            return Response(stored, status_code=200)
        if d.state != "active":
            raise Problem("vc_already_reported")
        now = datetime.now(UTC)
        if data.device_time > now + CLOCK_SKEW or data.device_time < d.dispatched_at - CLOCK_SKEW:
            raise Problem("vc_bad_date", errors=[FieldError("device_time", "out_of_range")])
        report, need = await file_report(db, c, d, data, content_hash)
        await db.commit()
        return Response(report_out(report, need.state), status_code=201)


class MyDispatchController(Controller):
    path = "/api/vc/me"
    tags = ("vc",)

    @get(
        "/",
        guards=[VOLUNTEER],
        summary="My team, where to go, what to bring (the volunteer's phone): one centre per answer",
    )
    async def me(self, db_session: DbSession, operation_id: FromQuery[uuid.UUID | None] = None) -> MyDispatchOut:
        """A login may be a volunteer at several centres (this week's and a later one, a drill and a
        real one): the answer is about one of them, `operation_id` or else the first of
        `my_centres()`, and carries that centre's label; the others are listed, each labelled."""
        db = db_session
        mine = await my_centres(db)
        if not mine:
            raise Problem("vc_not_registered")
        chosen = mine[0] if operation_id is None else next((m for m in mine if m[1].id == operation_id), None)
        if chosen is None:
            raise Problem("vc_not_registered")
        v = chosen[0]
        c = await get_centre(db, v.operation_id)
        team = (
            await db.execute(
                select(VcTeam)
                .join(
                    VcTeamMember,
                    (VcTeamMember.tenant_id == VcTeam.tenant_id) & (VcTeamMember.team_id == VcTeam.id),
                )
                .where(VcTeamMember.tenant_id == v.tenant_id, VcTeamMember.volunteer_id == v.id)
                .order_by(VcTeam.vc_day.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        dispatch = need = None
        if team is not None:
            dispatch = (
                await db.execute(
                    select(VcDispatch)
                    .where(VcDispatch.tenant_id == team.tenant_id, VcDispatch.team_id == team.id)
                    .order_by(VcDispatch.dispatched_at.desc())
                    .limit(1)
                )
            ).scalar_one_or_none()
        if dispatch is not None:
            n = (
                await db.execute(
                    select(VcNeed).where(VcNeed.tenant_id == dispatch.tenant_id, VcNeed.id == dispatch.need_id)
                )
            ).scalar_one()
            active = dispatch.state == "active"
            pt = cast(Point, to_shape(n.location))
            need = MyNeed(
                id=n.id,
                work_types=list(n.work_types),
                equipment=list(n.equipment),
                lon=pt.x,
                lat=pt.y,
                location_approximate=n.location_approximate,
                requester_name=n.requester_name if active else None,
                address=n.address if active else None,
                phone=n.phone if active else None,
            )
            if active:
                await audit_vc(db, c, "vc.need.read", "vc_need", [n.id], via="volunteer")
                await db.commit()
        return MyDispatchOut(
            volunteer_id=v.id,
            team=await team_out(db, team, c.mode) if team else None,
            dispatch=await dispatch_out(db, dispatch, c.mode) if dispatch else None,
            need=need,
            emergency=["110", "119"],
            label=c.label,
            operation_id=c.id,
            centre=c.op.name,
            centres=[MyCentre(operation_id=o.id, name=o.name, status=o.status, label=label(o.mode)) for _, o in mine],
        )


async def my_centres(db: AsyncSession) -> list[tuple[VcVolunteer, Operation]]:
    """The signed-in login's volunteer records with their centres: open centres first, then the
    newest (opened last; created last on the same day)."""
    rows = await db.execute(
        select(VcVolunteer, Operation)
        .join(Operation, (Operation.tenant_id == VcVolunteer.tenant_id) & (Operation.id == VcVolunteer.operation_id))
        .join(VcCentre, (VcCentre.tenant_id == Operation.tenant_id) & (VcCentre.operation_id == Operation.id))
        .where(VcVolunteer.tenant_id == current_tenant(), VcVolunteer.user_id == context.current().user_id)
        .order_by((Operation.status == "active").desc(), VcCentre.opened_on.desc(), Operation.created_at.desc())
        .limit(100)
    )
    return [(v, o) for v, o in rows.all()]
