"""`/api/field`: what a field user recorded themselves — their visits to a household and the
escalations their visits raised, with the state a coordinator put them in.

`/api/escalations` is for the recipients (coordinators, 民生委員); a watcher who raised one is not
a recipient, yet must see that someone acknowledged or resolved it. Both lists go through the
disclosure rule (a household the viewer can no longer see, e.g. after a disaster declaration was
lifted, drops out with its visits) and every answer that carries personal data is audited.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter
from sqlalchemy import select

from server.core import context
from server.db.deps import DbSession
from server.operations.api import FIELD
from server.operations.models import Escalation, Operation, Visit
from server.operations.service import label
from server.registry.disclosure import Read, audit_reads, disaster_decided, household_visible
from server.registry.models import Household

MAX_ROWS = 500


class MyVisitOut(msgspec.Struct):
    id: uuid.UUID
    client_id: uuid.UUID
    operation_id: uuid.UUID
    operation_name: str
    mode: str
    label: str  # "【訓練】" for drills
    household_id: uuid.UUID
    outcome: str
    note: str | None
    shelter_id: uuid.UUID | None
    device_time: datetime
    server_time: datetime
    shelter_unknown: bool = False  # 避難済 with 「避難先がわからない」


class MyEscalationOut(msgspec.Struct):
    id: uuid.UUID
    operation_id: uuid.UUID
    operation_name: str
    mode: str
    label: str
    household_id: uuid.UUID
    address: str
    visit_id: uuid.UUID
    level: str
    outcome: str
    status: str  # open | acknowledged | resolved
    created_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    notes: str | None  # what the coordinator wrote when acknowledging / resolving


class FieldController(Controller):
    path = "/api/field"
    tags = ("operations",)
    guards = (FIELD,)

    @get("/visits", summary="My own visits (newest first), optionally for one household / operation")
    async def my_visits(
        self,
        db_session: DbSession,
        household_id: FromQuery[uuid.UUID | None] = None,
        operation_id: FromQuery[uuid.UUID | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_ROWS)] = 200,
    ) -> list[MyVisitOut]:
        ctx = context.current()
        q = (
            select(Visit, Operation)
            .join(Operation, (Operation.tenant_id == Visit.tenant_id) & (Operation.id == Visit.operation_id))
            .join(Household, (Household.tenant_id == Visit.tenant_id) & (Household.id == Visit.household_id))
            .where(Visit.tenant_id == ctx.tenant_id, Visit.user_id == ctx.user_id, household_visible())
        )
        if household_id:
            q = q.where(Visit.household_id == household_id)
        if operation_id:
            q = q.where(Visit.operation_id == operation_id)
        q = q.order_by(Visit.device_time.desc(), Visit.id.desc()).limit(limit)
        out = [
            MyVisitOut(
                v.id,
                v.client_id,
                v.operation_id,
                o.name,
                v.mode,
                label(o),
                v.household_id,
                v.outcome,
                v.note,
                v.shelter_id,
                v.device_time,
                v.server_time,
                v.shelter_unknown,
            )
            for v, o in (await db_session.execute(q)).all()
        ]
        decided = await disaster_decided(db_session, {v.household_id for v in out})
        await audit_reads(
            db_session,
            "visit",
            [Read(v.id, v.household_id in decided, v.operation_id, v.mode == "drill") for v in out],
            via="field.my_visits",
            details={"household_ids": sorted({str(v.household_id) for v in out})},
        )
        await db_session.commit()
        return out

    @get("/escalations", summary="Escalations my visits raised, with their state (newest first)")
    async def my_escalations(
        self, db_session: DbSession, operation_id: FromQuery[uuid.UUID | None] = None
    ) -> list[MyEscalationOut]:
        ctx = context.current()
        same_tenant = Escalation.tenant_id
        q = (
            select(Escalation, Operation, Household.address)
            .join(Operation, (Operation.tenant_id == same_tenant) & (Operation.id == Escalation.operation_id))
            .join(Household, (Household.tenant_id == same_tenant) & (Household.id == Escalation.household_id))
            .where(same_tenant == ctx.tenant_id, Escalation.raised_by == ctx.user_id, household_visible())
        )
        if operation_id:
            q = q.where(Escalation.operation_id == operation_id)
        rows = (await db_session.execute(q.order_by(Escalation.created_at.desc()).limit(MAX_ROWS))).all()
        out = [
            MyEscalationOut(
                e.id,
                e.operation_id,
                o.name,
                e.mode,
                label(o),
                e.household_id,
                address,
                e.visit_id,
                e.level,
                e.outcome,
                e.status,
                e.created_at,
                e.acknowledged_at,
                e.resolved_at,
                e.notes,
            )
            for e, o, address in rows
        ]
        decided = await disaster_decided(db_session, {e.household_id for e in out})
        await audit_reads(
            db_session,
            "escalation",
            [Read(e.id, e.household_id in decided, e.operation_id, e.mode == "drill") for e in out],
            via="field.my_escalations",
            details={"household_ids": sorted({str(e.household_id) for e in out})},
        )
        await db_session.commit()
        return out
