"""What every step of the 災害VC day shares: who may work the desk, the centre a request is about,
the VC day, the audit and event helpers, and the normalisation of phones and kana."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.record import record as audit
from server.core.context import current_tenant
from server.core.guards import roles
from server.core.problems import FieldError, Problem
from server.events.emit import emit
from server.operations.models import Operation
from server.tenancy.models import Tenant
from server.vc.models import VcCentre

# 0025-vc-roles: the council's staff and coordinators run the VC; `vc_desk` (応援職員) works the
# desk and nothing else; opening a centre and correcting stock is for admins and staff.
DESK_ROLES = ("admin", "staff", "coordinator", "vc_desk")
DESK = roles(*DESK_ROLES)
CENTRE_ADMIN = roles("admin", "staff")
VOLUNTEER = roles("vc_volunteer")

DRILL_LABEL = "【訓練】"


def label(mode: str) -> str:
    return DRILL_LABEL if mode == "drill" else ""


class Centre:
    """A centre as a request sees it: its operation and its base."""

    def __init__(self, op: Operation, centre: VcCentre, time_zone: str = "Asia/Tokyo") -> None:
        self.op = op
        self.centre = centre
        self.time_zone = time_zone

    def today(self) -> date:
        """Today in the council's time zone: a VC day runs from midnight to midnight there."""
        return datetime.now(UTC).astimezone(ZoneInfo(self.time_zone)).date()

    def day_of(self, moment: datetime) -> date:
        """The VC day (the council's local date) a moment falls on: not its UTC date, which is
        the day before for the first nine hours of a day in Japan."""
        return moment.astimezone(ZoneInfo(self.time_zone)).date()

    @property
    def id(self) -> uuid.UUID:
        return self.op.id

    @property
    def mode(self) -> str:
        return self.op.mode

    @property
    def label(self) -> str:
        return label(self.op.mode)

    @property
    def audit_mode(self) -> str:
        return "drill" if self.op.mode == "drill" else "normal"


async def get_centre(db: AsyncSession, operation_id: uuid.UUID, *, writable: bool = False) -> Centre:
    """The centre of a `vc` operation of this tenant (404 otherwise); `writable`: it must be open."""
    row = (
        await db.execute(  # one round trip: the operation, its centre and the council's time zone
            select(Operation, VcCentre, Tenant.time_zone)
            .join(
                VcCentre,
                (VcCentre.tenant_id == Operation.tenant_id) & (VcCentre.operation_id == Operation.id),
            )
            .join(Tenant, Tenant.id == Operation.tenant_id)
            .where(Operation.tenant_id == current_tenant(), Operation.id == operation_id, Operation.kind == "vc")
        )
    ).first()
    if row is None:
        raise Problem("not_found")
    if writable and row[0].status != "active":
        raise Problem("vc_centre_closed")
    return Centre(row[0], row[1], row[2])


async def today(db: AsyncSession) -> date:
    """Today in the council's time zone: a VC day runs from midnight to midnight there."""
    zone = (await db.execute(select(Tenant.time_zone).where(Tenant.id == current_tenant()))).scalar_one()
    return datetime.now(UTC).astimezone(ZoneInfo(zone)).date()


async def vc_day(db: AsyncSession, centre: Centre, given: date | None, field: str = "vc_day") -> date:
    """The day a record belongs to: today, or an earlier day of this centre (entered late). A day
    before the centre opened or after today cannot be right: 400 `vc_bad_date`."""
    now = centre.today()
    if given is None:
        return now
    if given > now or given < centre.centre.opened_on:
        raise Problem(
            "vc_bad_date",
            errors=[
                FieldError(
                    field,
                    "out_of_range",
                    f"{centre.centre.opened_on}〜{now} の日付にしてください。",
                    f"Give a day from {centre.centre.opened_on} to {now}.",
                )
            ],
        )
    return given


async def audit_vc(
    db: AsyncSession, centre: Centre, action: str, object_type: str, ids: list[Any], **details: Any
) -> None:
    await audit(
        db,
        action,
        object_type=object_type,
        object_ids=ids,
        mode=centre.audit_mode,
        operation_id=centre.id,
        details=details or None,
    )


async def emit_vc(db: AsyncSession, centre: Centre, kind: str, payload: dict[str, Any]) -> None:
    """A board/map update on the event stream: ids and states only, never a name or an address."""
    await emit(db, kind, {**payload, "label": centre.label}, operation_id=centre.id, mode=centre.mode)


def normalise_phone(phone: str | None) -> str | None:
    """Digits only (full-width digits too): 0296-72-1234 and ０２９６７２１２３４ are one number."""
    if not phone:
        return None
    digits = "".join(c for c in unicodedata.normalize("NFKC", phone) if c.isdigit())
    return digits or None


def normalise_kana(kana: str) -> str:
    """Katakana without spaces (hiragana and half-width folded in): the key for similar-name search."""
    folded = unicodedata.normalize("NFKC", kana)
    out = []
    for c in folded:
        if c.isspace() or c in "・･-ー":
            continue
        if "ぁ" <= c <= "ゖ":
            c = chr(ord(c) + 0x60)
        out.append(c)
    return "".join(out)


def check_codes(field: str, values: list[str], allowed: dict[str, str]) -> FieldError | None:
    unknown = [v for v in values if v not in allowed]
    if unknown or len(set(values)) != len(values):
        return FieldError(
            field,
            "invalid",
            f"使えない値があります: {', '.join(unknown) or '重複'}",
            f"Unknown or repeated values: {', '.join(unknown) or 'duplicates'}",
        )
    return None


def raise_if(errors: list[FieldError | None]) -> None:
    found = [e for e in errors if e is not None]
    if found:
        raise Problem("validation_failed", errors=found)
