"""`/api/operations`, `/api/escalations`, `/api/sync`: the field's writes and the coordinators' reads."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, cast

import msgspec
from geoalchemy2.shape import to_shape
from litestar import Controller, Request, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from shapely.geometry import Point
from sqlalchemy import select, text

from server.audit.record import record as audit
from server.core import context
from server.core.context import current_tenant
from server.core.csv_export import SafeWriter
from server.core.guards import STAFF, roles, signed_in
from server.core.input import ITEMS_JUDGED_ALONE, bad_characters
from server.core.openapi import CSV
from server.core.problems import Problem
from server.db.deps import DbSession
from server.db.driver import AUTH_AUTOCOMMIT
from server.operations import service
from server.operations.access import operation_readable
from server.operations.contacts import Contact, household_contacts
from server.operations.group_commit import record_single_visit
from server.operations.ingest import item_result, my_watcher_id
from server.operations.models import Escalation, Operation, OperationTarget
from server.operations.pull import Cursor, pull_page
from server.operations.schemas import (
    AssignmentOut,
    EscalationAction,
    EscalationOut,
    ItemResult,
    MyHouseholdsOut,
    OperationIn,
    OperationOut,
    RoundHousehold,
    SyncPullOut,
    SyncPushIn,
    SyncPushOut,
    VisitIn,
    VisitOut,
)
from server.registry import disclosure
from server.registry.disclosure import REGISTRY_READERS, household_visible
from server.registry.households import render_households
from server.registry.models import Household, Watcher
from server.services import services

FIELD = roles(*REGISTRY_READERS)
COORDINATION = roles("admin", "staff", "coordinator", "commissioner")
MAX_BATCH = 1000


class OperationController(Controller):
    path = "/api/operations"
    tags = ("operations",)

    @get("/", guards=[signed_in], summary="Operations I take part in (staff: all), newest first")
    async def list_operations(
        self,
        db_session: DbSession,
        status: Annotated[str | None, QueryParameter(max_length=16)] = None,
        mode: Annotated[str | None, QueryParameter(max_length=16)] = None,
    ) -> list[OperationOut]:
        if (context.current().role or "") == "vc_volunteer":
            raise Problem("forbidden")
        q = select(Operation).where(Operation.tenant_id == current_tenant(), await operation_readable(db_session))
        if status:
            q = q.where(Operation.status == status)
        if mode:
            q = q.where(Operation.mode == mode)
        ops = (await db_session.execute(q.order_by(Operation.created_at.desc()).limit(200))).scalars().all()
        return [await service.operation_out(db_session, o) for o in ops]

    @post("/", guards=[STAFF], status_code=HTTP_201_CREATED, summary="Create (and optionally start) an operation")
    async def create_operation(
        self, request: Request[Any, Any, Any], db_session: DbSession, data: JSONBody[OperationIn]
    ) -> OperationOut:
        op = await service.create(db_session, data)
        targets = await service.start(db_session, op) if data.start else 0
        if data.start:
            await after_start(request, db_session, op, targets)
        await db_session.commit()
        return await service.operation_out(db_session, op)

    @get("/{operation_id:uuid}", guards=[signed_in], summary="One operation")
    async def get_operation(self, db_session: DbSession, operation_id: FromPath[uuid.UUID]) -> OperationOut:
        return await service.operation_out(db_session, await service.get(db_session, operation_id))

    @post("/{operation_id:uuid}/start", guards=[STAFF], status_code=200, summary="Start: fix the target households")
    async def start_operation(
        self, request: Request[Any, Any, Any], db_session: DbSession, operation_id: FromPath[uuid.UUID]
    ) -> OperationOut:
        op = await service.get(db_session, operation_id)
        targets = await service.start(db_session, op)
        await after_start(request, db_session, op, targets)
        await db_session.commit()
        return await service.operation_out(db_session, op)

    @post("/{operation_id:uuid}/close", guards=[STAFF], status_code=200, summary="Close")
    async def close_operation(self, db_session: DbSession, operation_id: FromPath[uuid.UUID]) -> OperationOut:
        op = await service.get(db_session, operation_id)
        await service.close(db_session, op)
        await db_session.commit()
        return await service.operation_out(db_session, op)

    @get(
        "/{operation_id:uuid}/progress",
        guards=[COORDINATION],
        summary="Per-district progress (what the viewer may see)",
    )
    async def operation_progress(self, db_session: DbSession, operation_id: FromPath[uuid.UUID]) -> dict[str, Any]:
        op = await service.get(db_session, operation_id)
        return {
            "operation_id": str(op.id),
            "mode": op.mode,
            "label": service.label(op),
            "districts": await service.progress(db_session, op),
        }

    @get("/{operation_id:uuid}/my-households", guards=[FIELD], summary="My households in walking order")
    async def my_households(self, db_session: DbSession, operation_id: FromPath[uuid.UUID]) -> MyHouseholdsOut:
        op = await service.get(db_session, operation_id)
        watcher_id = await my_watcher_id(db_session)
        home = None
        if watcher_id is not None:
            home = cast(
                Point,
                to_shape(
                    (
                        await db_session.execute(
                            select(Watcher.home).where(Watcher.tenant_id == op.tenant_id, Watcher.id == watcher_id)
                        )
                    ).scalar_one()
                ),
            )
        q = (
            select(Household, OperationTarget.status)
            .join(
                OperationTarget,
                (OperationTarget.tenant_id == Household.tenant_id) & (OperationTarget.household_id == Household.id),
            )
            .where(
                OperationTarget.tenant_id == op.tenant_id,
                OperationTarget.operation_id == op.id,
                OperationTarget.watcher_ids.contains([watcher_id]) if watcher_id else text("false"),
            )
        )
        rows = (await db_session.execute(q)).all()
        rendered = {h.id: h for h in await render_households(db_session, [r[0] for r in rows])}
        statuses = {r[0].id: r[1] for r in rows}
        ordered = _walking_order(list(rendered.values()), home.x if home else None, home.y if home else None)
        from server.registry.households import audit_households_read

        await audit_households_read(
            db_session, ordered, via="operation.my_households", operation_id=op.id, drill=op.mode == "drill"
        )
        await db_session.commit()
        return MyHouseholdsOut(
            operation=await service.operation_out(db_session, op),
            households=[
                RoundHousehold(**msgspec.structs.asdict(h), status=statuses[h.id], order=i + 1)
                for i, h in enumerate(ordered)
            ],
        )

    @post(
        "/{operation_id:uuid}/visits",
        guards=[FIELD],
        summary="Record a visit (idempotent on client_id)",
        opt={AUTH_AUTOCOMMIT: True},
        responses={
            200: ResponseSpec(
                VisitOut, description="A retry of a stored visit: the stored visit", generate_examples=False
            )
        },
    )
    async def record_visit(
        self, request: Request[Any, Any, Any], operation_id: FromPath[uuid.UUID], data: JSONBody[VisitIn]
    ) -> Response[VisitOut]:
        # Group commit: committed together with concurrent single visits, answered after that commit.
        # No `db_session` here: the route authenticates in autocommit (AUTH_AUTOCOMMIT).
        outcome = await record_single_visit(services(request.app).visit_batcher, operation_id, data)
        result = outcome.results[0]
        if result.status in ("accepted", "duplicate"):
            assert result.visit is not None  # an accepted or duplicate visit carries the stored one
            return Response(result.visit, status_code=201 if result.status == "accepted" else 200)
        code = result.code or "invalid"
        status = {"conflict": 409, "forbidden": 403}.get(
            result.status, 404 if code == "not_in_operation" else 409 if code == "operation_not_active" else 400
        )
        raise Problem(
            "visit_problem" if code not in ("visit_conflict",) else "visit_conflict",
            status=status,
            detail_ja=result.message["ja"] if result.message else None,
            detail_en=result.message["en"] if result.message else None,
            extra={"reason": code},
        )


def _walking_order(households: list[Any], lon: float | None, lat: float | None) -> list[Any]:
    """Greedy nearest-neighbour chain from the watcher's home (a handful of points per watcher)."""
    if lon is None or lat is None:
        return sorted(households, key=lambda h: h.address)
    left, route, cur = list(households), [], (lon, lat)
    k = math.cos(math.radians(lat))
    while left:
        nxt = min(left, key=lambda h: ((h.lon - cur[0]) * k) ** 2 + (h.lat - cur[1]) ** 2)
        route.append(nxt)
        left.remove(nxt)
        cur = (nxt.lon, nxt.lat)
    return route


async def after_start(request: Request[Any, Any, Any], db: DbSession, op: Operation, targets: int) -> None:
    """What goes with any start (here or from a disaster declaration), in its transaction: the push
    to the assigned watchers. (It also vacuumed the targets; the app's role may not: 0002 addendum.)"""
    await service.push_started(db, op)


def _esc_out(e: Escalation, contact: Contact | None = None) -> EscalationOut:
    return EscalationOut(
        e.id,
        e.operation_id,
        e.household_id,
        e.visit_id,
        e.mode,
        e.level,
        e.outcome,
        e.status,
        e.created_at,
        e.acknowledged_at,
        e.resolved_at,
        e.notes,
        contact.address if contact else None,
        contact.people if contact else [],
    )


class EscalationController(Controller):
    path = "/api/escalations"
    tags = ("operations",)
    guards = (COORDINATION,)

    @get("/", summary="Escalations routed to me (staff and admins see all), of households I may see")
    async def list_escalations(
        self,
        db_session: DbSession,
        operation_id: FromQuery[uuid.UUID | None] = None,
        status: Annotated[str | None, QueryParameter(max_length=16)] = None,
    ) -> list[EscalationOut]:
        ctx = context.current()
        # The household must still be visible: a withdrawn consent or a lifted declaration hides
        # its escalations as it hides the household everywhere else.
        q = (
            select(Escalation)
            .join(Household, (Household.tenant_id == Escalation.tenant_id) & (Household.id == Escalation.household_id))
            .where(Escalation.tenant_id == ctx.tenant_id, household_visible())
        )
        if ctx.role not in ("admin", "staff"):
            q = q.where(Escalation.recipient_ids.contains([ctx.user_id]))
        if operation_id:
            q = q.where(Escalation.operation_id == operation_id)
        if status:
            q = q.where(Escalation.status == status)
        rows = (await db_session.execute(q.order_by(Escalation.created_at.desc()).limit(500))).scalars().all()
        decided = await disclosure.disaster_decided(db_session, {e.household_id for e in rows})
        await disclosure.audit_reads(
            db_session,
            "escalation",
            [disclosure.Read(e.id, e.household_id in decided, e.operation_id, e.mode == "drill") for e in rows],
            via="escalations",
            details={"household_ids": sorted({str(e.household_id) for e in rows})},
        )
        contacts = await household_contacts(db_session, {e.household_id for e in rows})
        await db_session.commit()
        return [_esc_out(e, contacts.get(e.household_id)) for e in rows]

    @post("/{escalation_id:uuid}/acknowledge", status_code=200, summary="Acknowledge")
    async def acknowledge(
        self, db_session: DbSession, escalation_id: FromPath[uuid.UUID], data: JSONBody[EscalationAction]
    ) -> EscalationOut:
        return await _act(db_session, escalation_id, data, "acknowledged")

    @post("/{escalation_id:uuid}/resolve", status_code=200, summary="Resolve, with a note")
    async def resolve(
        self, db_session: DbSession, escalation_id: FromPath[uuid.UUID], data: JSONBody[EscalationAction]
    ) -> EscalationOut:
        return await _act(db_session, escalation_id, data, "resolved")


async def _act(db: DbSession, escalation_id: uuid.UUID, data: EscalationAction, new_status: str) -> EscalationOut:
    from server.events.emit import emit

    ctx = context.current()
    e = await db.get(Escalation, (ctx.tenant_id, escalation_id))
    if e is None or (ctx.role not in ("admin", "staff") and ctx.user_id not in e.recipient_ids):
        raise Problem("not_found")
    visible = (
        await db.execute(
            select(Household.id).where(
                Household.tenant_id == ctx.tenant_id, Household.id == e.household_id, household_visible()
            )
        )
    ).scalar()
    if visible is None:  # as in the list: a household the viewer may no longer see
        raise Problem("not_found")
    if e.status == "resolved" or (e.status == new_status):
        raise Problem("conflict", detail_ja="この対応はすでに記録されています。", detail_en="Already recorded.")
    now = datetime.now(UTC)
    if new_status == "acknowledged":
        e.acknowledged_by, e.acknowledged_at = ctx.user_id, now
    else:
        e.resolved_by, e.resolved_at = ctx.user_id, now
        e.acknowledged_at = e.acknowledged_at or now
    e.status = new_status
    if data.note:
        e.notes = service.append_note(e.notes, data.note)
    decided = await disclosure.disaster_decided(db, [e.household_id])
    await audit(
        db,
        f"escalation.{new_status}",
        object_type="escalation",
        object_ids=[e.id],
        mode=disclosure.Read(e.id, e.household_id in decided, e.operation_id, e.mode == "drill").mode,
        operation_id=e.operation_id,
    )
    await emit(
        db,
        f"escalation.{new_status}",
        {"escalation_id": str(e.id), "household_id": str(e.household_id)},
        operation_id=e.operation_id,
        household_id=e.household_id,
        mode=e.mode,
        audience=list(e.recipient_ids),
    )
    contacts = await household_contacts(db, [e.household_id])
    await db.commit()
    return _esc_out(e, contacts.get(e.household_id))


class SyncController(Controller):
    path = "/api/sync"
    tags = ("sync",)
    guards = (FIELD,)

    @post(
        "/push",
        status_code=200,
        summary="Up to 1,000 queued mutations; one result per item",
        opt={ITEMS_JUDGED_ALONE: True, AUTH_AUTOCOMMIT: True},
    )
    async def push(self, request: Request[Any, Any, Any], data: JSONBody[SyncPushIn]) -> SyncPushOut:
        """The PWA's write path. The visits go through the process's group commit (decision 0006,
        addendum #16): a small push shares a transaction with concurrent ones, a large one is a
        transaction of its own; answered after the commit that holds all of its visits. No
        `db_session`: the route authenticates in autocommit (AUTH_AUTOCOMMIT) and holds no
        connection while it reads its body or waits for the flush."""
        if len(data.mutations) > MAX_BATCH:
            raise Problem(
                "payload_too_large",
                status=413,
                detail_ja=f"一度に送れるのは{MAX_BATCH}件までです。",
                detail_en=f"At most {MAX_BATCH} mutations per push.",
            )
        raw: list[tuple[uuid.UUID, Any]] = []
        bad: dict[int, ItemResult] = {}
        for i, m in enumerate(data.mutations):
            client_id = m.get("client_id") if isinstance(m, dict) else None
            client_id = client_id if isinstance(client_id, str) and not bad_characters(client_id) else None
            if isinstance(m, dict) and bad_characters(m):  # NUL or an unpaired surrogate: nothing to store
                bad[i] = item_result(client_id, "invalid", "invalid_character")
                continue
            try:
                if m.get("type") != "visit":
                    raise ValueError
                op_id = uuid.UUID(str(m["operation_id"]))
            except (ValueError, KeyError, TypeError, AttributeError):
                bad[i] = item_result(client_id, "invalid", "invalid")
                continue
            body = {k: v for k, v in m.items() if k not in ("type", "operation_id")}
            raw.append((op_id, body))
        outcome = await services(request.app).visit_batcher.submit_many(raw)
        it = iter(outcome.results)
        results = [bad[i] if i in bad else next(it) for i in range(len(data.mutations))]
        counts: dict[str, int] = {}
        for r in results:
            counts[r.status] = counts.get(r.status, 0) + 1
        return SyncPushOut(results=results, counts=counts)

    @get("/pull", summary="What changed since the cursor, scoped to what I may see, in pages (`more`)")
    async def pull(
        self,
        db_session: DbSession,
        cursor: Annotated[str | None, QueryParameter(max_length=100, description="From the previous pull")] = None,
    ) -> SyncPullOut:
        """Never skips a commit: the cursor is a position in the commit-ordered event table
        (server/operations/pull.py). Pull again while `more` is true."""
        page = await pull_page(db_session, Cursor.parse(cursor))
        households = await render_households(db_session, list({h.id: h for _, h, _ in page.rows}.values()))
        from server.registry.households import audit_households_read

        rendered = {h.id: h for h in households}
        by_operation: dict[tuple[uuid.UUID, str], list[Any]] = {}
        for t, h, op_mode in page.rows:
            if h.id in rendered:
                by_operation.setdefault((t.operation_id, op_mode), []).append(rendered[h.id])
        for (op_id, op_mode), group in by_operation.items():
            await audit_households_read(
                db_session, group, via="sync.pull", operation_id=op_id, drill=op_mode == "drill"
            )
        await db_session.commit()
        return SyncPullOut(
            cursor=str(page.cursor),
            more=page.more,
            operations=[await service.operation_out(db_session, o) for o in page.operations],
            assignments=[
                AssignmentOut(t.operation_id, t.household_id, t.status, t.updated_at) for t, _, _ in page.rows
            ],
            households=households,
        )


class VisitExportController(Controller):
    path = "/api/exports"
    tags = ("operations",)

    @get(
        "/visits.csv",
        guards=[roles("admin", "staff", "coordinator", "commissioner")],
        media_type=CSV,
        summary="Visits as CSV (UTF-8 with BOM). Real operations only unless mode=drill",
    )
    async def export_visits(
        self,
        db_session: DbSession,
        mode: Annotated[str, QueryParameter(max_length=16)] = "real",
        operation_id: FromQuery[uuid.UUID | None] = None,
    ) -> Response[bytes]:
        """Drill and real figures never mix: one mode per export, drill rows marked 【訓練】."""
        import io

        from vocab import OUTCOMES

        if mode not in ("real", "drill"):
            raise Problem(
                "validation_failed", detail_ja="mode は real か drill です。", detail_en="mode is real or drill."
            )
        ctx = context.current()
        rows = (
            await db_session.execute(
                text(
                    """
            SELECT o.name, o.mode, o.kind, v.household_id, h.address, v.outcome, v.device_time, v.server_time, v.note, v.id
            FROM visit v
            JOIN operation o ON o.tenant_id = v.tenant_id AND o.id = v.operation_id
            JOIN household h ON h.tenant_id = v.tenant_id AND h.id = v.household_id
            WHERE v.tenant_id = :t AND v.mode = :mode AND (CAST(:op AS uuid) IS NULL OR v.operation_id = :op)
              AND (tonari_sees_all() OR tonari_household_visible(h.tenant_id, h.id, h.district_id, h.location))
            ORDER BY v.server_time
            """
                ),
                {"t": ctx.tenant_id, "mode": mode, "op": operation_id},
            )
        ).all()
        buf = io.StringIO()
        w = SafeWriter(buf)
        w.writerow(["活動", "世帯ID", "住所", "結果", "端末時刻", "受信時刻", "メモ"])
        for r in rows:
            prefix = "【訓練】" if r.mode == "drill" else ""
            w.writerow(
                [
                    prefix + r.name,
                    r.household_id,
                    r.address,
                    OUTCOMES[r.kind].get(r.outcome, r.outcome),
                    r.device_time.isoformat(),
                    r.server_time.isoformat(),
                    r.note or "",
                ]
            )
        decided = await disclosure.disaster_decided(db_session, {r.household_id for r in rows})
        await disclosure.audit_read(
            db_session,
            "visit",
            [r.id for r in rows],
            via="export.visits_csv",
            disaster_ids=[r.id for r in rows if r.household_id in decided],
            operation_id=operation_id,
            drill=mode == "drill",
            action="visit.export",
        )
        await db_session.commit()
        return Response(
            b"\xef\xbb\xbf" + buf.getvalue().encode(),
            media_type=CSV,
            encoding="utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="visits-{mode}.csv"',
                "Cache-Control": "private, no-store",
            },
        )
