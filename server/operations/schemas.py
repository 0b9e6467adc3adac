"""Wire shapes of operations, visits, escalations and sync."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from server.core.types import NOTE_MAX, AreaGeometry, CodeList, Lat, Lon, Note
from server.registry.schemas import HouseholdOut

# Escalation notes grow with each acknowledge/resolve/assign note: the column keeps at most this.
ESCALATION_NOTES_MAX = 10 * NOTE_MAX


class OperationIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Literal["watch_round", "safety_check", "vc"]  # vc: opened through /api/vc/centres
    mode: Literal["real", "drill"]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    district_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=1000)] = []
    geometry: AreaGeometry | None = None
    support_reasons: CodeList = []
    hazard_kinds: CodeList = []
    first_report_minutes: Annotated[int, msgspec.Meta(ge=1, le=10080)] | None = None
    completion_minutes: Annotated[int, msgspec.Meta(ge=1, le=43200)] | None = None
    coordinator_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=100)] = []
    start: bool = False


class OperationOut(msgspec.Struct):
    id: uuid.UUID
    kind: str
    mode: str
    name: str
    status: str
    district_ids: list[uuid.UUID]
    support_reasons: list[str]
    hazard_kinds: list[str]
    first_report_minutes: int
    completion_minutes: int
    started_at: datetime | None
    closed_at: datetime | None
    targets: int = 0
    label: str = ""  # "【訓練】" for drills: every screen shows it


class VisitIn(msgspec.Struct, forbid_unknown_fields=True):
    client_id: uuid.UUID
    household_id: uuid.UUID
    outcome: Annotated[str, msgspec.Meta(max_length=16)]
    device_time: datetime
    note: Note | None = None
    # 避難済 needs one of these two: the shelter, or an explicit 「避難先がわからない」.
    shelter_id: uuid.UUID | None = None
    shelter_unknown: bool = False
    lon: Lon | None = None
    lat: Lat | None = None


class VisitOut(msgspec.Struct):
    id: uuid.UUID
    client_id: uuid.UUID
    operation_id: uuid.UUID
    household_id: uuid.UUID
    outcome: str
    note: str | None
    shelter_id: uuid.UUID | None
    device_time: datetime
    server_time: datetime
    mode: str
    shelter_unknown: bool = False


class SyncMutation(msgspec.Struct, forbid_unknown_fields=True):
    type: Literal["visit"]
    client_id: uuid.UUID
    operation_id: uuid.UUID
    household_id: uuid.UUID
    outcome: str
    device_time: datetime
    note: str | None = None
    shelter_id: uuid.UUID | None = None
    shelter_unknown: bool = False
    lon: float | None = None
    lat: float | None = None


class SyncPushIn(msgspec.Struct, forbid_unknown_fields=True):
    # Each item is judged alone (a result per item, `SyncMutation`'s shape): one malformed item —
    # not an object, a NUL, a broken clock — is answered `invalid` and never fails the others.
    mutations: list[Any]


ItemStatus = Literal["accepted", "duplicate", "conflict", "invalid", "forbidden"]


class ItemResult(msgspec.Struct, omit_defaults=True):
    client_id: str | None
    status: ItemStatus
    code: str | None = None
    message: dict[str, str] | None = None
    visit: VisitOut | None = None


class ContactPerson(msgspec.Struct):
    name: str
    phone: str | None


class EscalationOut(msgspec.Struct):
    id: uuid.UUID
    operation_id: uuid.UUID
    household_id: uuid.UUID
    visit_id: uuid.UUID
    mode: str
    level: str
    outcome: str
    status: str
    created_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    notes: str | None
    # Who it is about, where the viewer may see it (server/operations/contacts.py); None = not shown.
    address: str | None = None
    people: list[ContactPerson] = msgspec.field(default_factory=list)


class EscalationAction(msgspec.Struct, forbid_unknown_fields=True):
    note: Note | None = None


class SyncPushOut(msgspec.Struct):
    results: list[ItemResult]  # one per mutation, in order
    counts: dict[str, int]  # per status


class AssignmentOut(msgspec.Struct):
    operation_id: uuid.UUID
    household_id: uuid.UUID
    status: str
    updated_at: datetime


class SyncPullOut(msgspec.Struct):
    cursor: str  # give it back on the next pull
    more: bool  # pull again now: this page did not reach the newest change
    operations: list[OperationOut]
    assignments: list[AssignmentOut]
    households: list[HouseholdOut]


class RoundHousehold(HouseholdOut, kw_only=True):
    """A household of my round: what the disclosure rule lets me see, its status, my walking order."""

    status: str
    order: int


class MyHouseholdsOut(msgspec.Struct):
    operation: OperationOut
    households: list[RoundHousehold]
