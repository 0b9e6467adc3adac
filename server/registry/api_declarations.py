"""`/api/disaster-declarations`: disaster mode for an area, declared and lifted by staff, audited.

Only a `real` declaration widens disclosure (everyone in the area becomes visible to responders
regardless of consent); a `drill` declaration is recorded and marks reads as drill, nothing more.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, cast
from zoneinfo import ZoneInfo

import msgspec
from geoalchemy2.shape import to_shape
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.ops import unary_union
from sqlalchemy import select

from server.audit.record import record as audit
from server.core import context
from server.core.context import current_tenant
from server.core.guards import STAFF, roles
from server.core.problems import FieldError, Problem
from server.core.types import NOTE_MAX, AreaGeometry, CodeList
from server.db.deps import DbSession
from server.registry import validation as v
from server.registry.models import DisasterDeclaration, District
from server.tenancy.models import Tenant

# Who may read declarations, reasons included (decision 0005, addendum #14). Everyone else learns
# of disaster mode where it matters to them: a household shown under it says so.
READERS = roles("admin", "staff", "coordinator")


class DeclarationIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=4, max_length=NOTE_MAX)]
    mode: Literal["real", "drill"] = "real"
    geometry: AreaGeometry | None = None
    district_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=1000)] = []
    confirm: bool = False  # an explicit "yes, disclose without consent" from the person declaring


class SafetyCheckIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    support_reasons: CodeList = []
    hazard_kinds: CodeList = []


class LiftIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=2, max_length=NOTE_MAX)]


class DeclarationOut(msgspec.Struct):
    id: uuid.UUID
    mode: str
    reason: str
    district_ids: list[uuid.UUID]
    geometry: dict[str, Any]
    declared_by: uuid.UUID
    declared_at: datetime
    lifted_at: datetime | None
    lift_reason: str | None


def _out(d: DisasterDeclaration) -> DeclarationOut:
    return DeclarationOut(
        d.id,
        d.mode,
        d.reason,
        list(d.district_ids),
        mapping(to_shape(d.area)),
        d.declared_by,
        d.declared_at,
        d.lifted_at,
        d.lift_reason,
    )


class DeclarationController(Controller):
    path = "/api/disaster-declarations"
    tags = ("registry",)

    @get("/", guards=[READERS], summary="Declarations, active first (staff and coordinators: the reasons are theirs)")
    async def list_declarations(self, db_session: DbSession, active: FromQuery[bool] = False) -> list[DeclarationOut]:
        q = select(DisasterDeclaration).where(DisasterDeclaration.tenant_id == current_tenant())
        if active:
            q = q.where(DisasterDeclaration.lifted_at.is_(None))
        rows = (
            await db_session.execute(
                q.order_by(DisasterDeclaration.lifted_at.is_not(None), DisasterDeclaration.declared_at.desc())
            )
        ).scalars()
        return [_out(d) for d in rows]

    @post("/", guards=[STAFF], status_code=HTTP_201_CREATED, summary="Declare disaster mode for an area")
    async def declare(self, db_session: DbSession, data: JSONBody[DeclarationIn]) -> DeclarationOut:
        tenant = current_tenant()
        if data.mode == "real" and not data.confirm:
            raise Problem(
                "validation_failed",
                errors=[
                    FieldError(
                        "confirm",
                        "required",
                        "同意のない方の情報も開示されます。確認のうえ confirm を true にしてください。",
                        "People who did not consent will be disclosed: set confirm to true to proceed.",
                    )
                ],
            )
        parts = []
        if data.geometry:
            parts.append(v.parse_area("geometry", data.geometry))
        if data.district_ids:
            rows = (
                (
                    await db_session.execute(
                        select(District).where(District.tenant_id == tenant, District.id.in_(data.district_ids))
                    )
                )
                .scalars()
                .all()
            )
            if len(rows) != len(set(data.district_ids)):
                raise Problem(
                    "validation_failed",
                    errors=[
                        FieldError(
                            "district_ids", "invalid", "存在しない地区が含まれています。", "Unknown district id."
                        )
                    ],
                )
            parts.extend(cast(MultiPolygon, to_shape(d.geom)) for d in rows)
        if not parts:
            raise Problem(
                "validation_failed",
                errors=[
                    FieldError(
                        "geometry",
                        "required",
                        "対象区域（ポリゴンまたは地区）を指定してください。",
                        "Give an area (a polygon or districts).",
                    )
                ],
            )
        area = unary_union(parts)
        if not isinstance(area, MultiPolygon):
            area = MultiPolygon([cast(Polygon, area)])
        d = DisasterDeclaration(
            tenant_id=tenant,
            id=uuid.uuid4(),
            mode=data.mode,
            reason=data.reason,
            area=v.to_db(area),
            district_ids=data.district_ids,
            declared_by=context.current().user_id,
            declared_at=datetime.now(UTC),
        )
        db_session.add(d)
        await db_session.flush()
        await audit(
            db_session,
            "disaster.declare",
            object_type="disaster_declaration",
            object_ids=[d.id],
            mode="disaster" if data.mode == "real" else "drill",
            details={"reason": data.reason},
        )
        await db_session.commit()
        return _out(d)

    @post(
        "/{declaration_id:uuid}/safety-check",
        guards=[STAFF],
        status_code=HTTP_201_CREATED,
        summary="Start a safety check (安否確認) of the declared area in one step",
    )
    async def start_safety_check(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        declaration_id: FromPath[uuid.UUID],
        data: JSONBody[SafetyCheckIn],
    ) -> dict[str, Any]:
        from server.operations import service as operations
        from server.operations.api import after_start
        from server.operations.schemas import OperationIn

        d = await db_session.get(DisasterDeclaration, (current_tenant(), declaration_id))
        if d is None:
            raise Problem("not_found")
        if d.lifted_at is not None:
            raise Problem("conflict", detail_ja="解除済みの宣言です。", detail_en="The declaration was lifted.")
        # The default name tells the watchers when, not why: a declaration's reason is for staff
        # and coordinators, while every watcher taking part reads the operation's name.
        tz = (await db_session.execute(select(Tenant.time_zone).where(Tenant.id == d.tenant_id))).scalar_one_or_none()
        name = data.name or f"安否確認（{d.declared_at.astimezone(ZoneInfo(tz or 'Asia/Tokyo')):%Y-%m-%d %H:%M} 宣言）"
        op = await operations.create(
            db_session,
            OperationIn(
                kind="safety_check",
                mode=cast(Literal["real", "drill"], d.mode),
                name=name,
                district_ids=list(d.district_ids),
                support_reasons=data.support_reasons,
                hazard_kinds=data.hazard_kinds,
            ),
            area=cast(MultiPolygon, to_shape(d.area)),
            declaration_id=d.id,
        )
        targets = await operations.start(db_session, op)
        await after_start(request, db_session, op, targets)
        await db_session.commit()
        out: dict[str, Any] = msgspec.to_builtins(await operations.operation_out(db_session, op))
        return out

    @post(
        "/{declaration_id:uuid}/lift",
        guards=[STAFF],
        status_code=200,
        summary="Lift a declaration: wider disclosure ends at once",
    )
    async def lift(
        self, db_session: DbSession, declaration_id: FromPath[uuid.UUID], data: JSONBody[LiftIn]
    ) -> DeclarationOut:
        d = await db_session.get(DisasterDeclaration, (current_tenant(), declaration_id))
        if d is None:
            raise Problem("not_found")
        if d.lifted_at is not None:
            raise Problem("conflict", detail_ja="この宣言はすでに解除されています。", detail_en="Already lifted.")
        d.lifted_at, d.lifted_by, d.lift_reason = datetime.now(UTC), context.current().user_id, data.reason
        await audit(
            db_session,
            "disaster.lift",
            object_type="disaster_declaration",
            object_ids=[d.id],
            mode="disaster" if d.mode == "real" else "drill",
            details={"reason": data.reason},
        )
        await db_session.commit()
        return _out(d)
