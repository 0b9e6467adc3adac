"""`/api/devices/unsent` and `/api/operations/{id}/unsent-devices`: which field devices still hold
records for an operation (#17).

A device reports, whenever it is online and its outbox changes, how many records it holds per
operation (waiting, and refused by the server); the report replaces its previous one. Staff about
to close an operation ask which users' devices last said they still hold records for it, and are
warned before closing (docs/decisions/0006-visits-sync-events.md, addendum #17). Counts only: no
household, no content, so nothing personal is stored or shown.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get, put
from litestar.params import FromPath, JSONBody
from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert

from server.core import context
from server.core.guards import STAFF
from server.core.problems import FieldError, Problem
from server.db.deps import DbSession
from server.operations import service
from server.operations.api import FIELD
from server.operations.models import DeviceUnsent, Operation

Count = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]


class OperationUnsent(msgspec.Struct, forbid_unknown_fields=True):
    operation_id: uuid.UUID
    waiting: Count
    refused: Count


class UnsentReport(msgspec.Struct, forbid_unknown_fields=True):
    operations: Annotated[list[OperationUnsent], msgspec.Meta(max_length=200)]


class UnsentDevice(msgspec.Struct):
    user_id: uuid.UUID
    display_name: str
    waiting: int
    refused: int
    reported_at: datetime


_UNSENT_DEVICES = text(
    """
    SELECT d.user_id, u.display_name, d.waiting, d.refused, d.reported_at
    FROM device_unsent d JOIN app_user u ON u.tenant_id = d.tenant_id AND u.id = d.user_id
    WHERE d.tenant_id = :t AND d.operation_id = :o
    ORDER BY d.reported_at DESC
    LIMIT 500
    """
)


class DeviceController(Controller):
    path = "/api/devices"
    tags = ("operations",)

    @put("/unsent", guards=[FIELD], status_code=200, summary="What this device still holds, per operation")
    async def report_unsent(self, db_session: DbSession, data: JSONBody[UnsentReport]) -> dict[str, int]:
        ctx = context.current()
        held = {o.operation_id: o for o in data.operations if o.waiting or o.refused}
        known = (
            set(
                (
                    await db_session.execute(
                        select(Operation.id).where(Operation.tenant_id == ctx.tenant_id, Operation.id.in_(list(held)))
                    )
                ).scalars()
            )
            if held
            else set()
        )
        unknown = [i for i, o in enumerate(data.operations) if o.operation_id in held and o.operation_id not in known]
        if unknown:
            raise Problem(
                "validation_failed",
                errors=[
                    FieldError(
                        f"operations[{i}].operation_id", "invalid", "この活動はありません。", "No such operation."
                    )
                    for i in unknown
                ],
            )
        # The report replaces the last one: an operation it no longer names holds nothing now.
        await db_session.execute(
            delete(DeviceUnsent).where(
                DeviceUnsent.tenant_id == ctx.tenant_id,
                DeviceUnsent.user_id == ctx.user_id,
                DeviceUnsent.operation_id.not_in(list(held)),
            )
        )
        for o in held.values():
            stmt = insert(DeviceUnsent).values(
                tenant_id=ctx.tenant_id,
                operation_id=o.operation_id,
                user_id=ctx.user_id,
                waiting=o.waiting,
                refused=o.refused,
            )
            await db_session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["tenant_id", "operation_id", "user_id"],
                    set_={
                        "waiting": stmt.excluded.waiting,
                        "refused": stmt.excluded.refused,
                        "reported_at": stmt.excluded.reported_at,
                    },
                )
            )
        await db_session.commit()
        return {"operations": len(held)}


class OperationDevicesController(Controller):
    path = "/api/operations"
    tags = ("operations",)

    @get(
        "/{operation_id:uuid}/unsent-devices",
        guards=[STAFF],
        summary="Users whose devices last said they hold unsent records for this operation",
    )
    async def unsent_devices(self, db_session: DbSession, operation_id: FromPath[uuid.UUID]) -> list[UnsentDevice]:
        op = await service.get(db_session, operation_id)
        rows = (await db_session.execute(_UNSENT_DEVICES, {"t": op.tenant_id, "o": op.id})).all()
        return [UnsentDevice(r.user_id, r.display_name, r.waiting, r.refused, r.reported_at) for r in rows]
