"""Wire shapes of the registry API. Sensitive fields are Optional: absent means "not disclosed"."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

from server.core.types import CodeList, Lat, Lon, Note, Version

Kana = Annotated[str, msgspec.Meta(max_length=200)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Phone = Annotated[str, msgspec.Meta(max_length=32)]
Town = Annotated[str, msgspec.Meta(max_length=100)]
Address = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
# Size caps of the free texts and lists a person carries (the columns check the same, migration 0014).
EMERGENCY_CONTACTS_MAX = 10
COMMUNICATION_NEEDS_MAX = 500
PEOPLE_PER_HOUSEHOLD_MAX = 50


class EmergencyContact(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=100)]
    phone: Phone
    relationship: Annotated[str, msgspec.Meta(max_length=50)] = ""


class PersonIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    kana: Kana = ""
    birth_date: date | None = None
    sex: Literal["female", "male", "other", "unknown"] = "unknown"
    phone: Phone | None = None
    support_reasons: CodeList = []
    care_level: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    mobility: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    medical_devices: CodeList = []
    communication_needs: Annotated[str, msgspec.Meta(max_length=COMMUNICATION_NEEDS_MAX)] | None = None
    emergency_contacts: Annotated[list[EmergencyContact], msgspec.Meta(max_length=EMERGENCY_CONTACTS_MAX)] = []
    notes: Note | None = None


class PersonPatch(PersonIn, forbid_unknown_fields=True):
    version: Version = 0  # the version the edit was based on (409 if someone else changed it since)


class ConsentOut(msgspec.Struct):
    recipient_class: str
    dataset: str
    consented_on: date
    source: str
    withdrawn_on: date | None


class PlanOut(msgspec.Struct):
    destination_shelter_id: uuid.UUID | None
    route_notes: str | None
    supporters: list[dict[str, Any]]
    version: int


class PersonOut(msgspec.Struct, omit_defaults=True):
    id: uuid.UUID
    household_id: uuid.UUID
    name: str
    kana: str
    birth_date: date | None
    sex: str
    phone: str | None
    version: int
    emergency_contacts: list[dict[str, Any]] = []
    # need-to-know
    support_reasons: list[str] | None = None
    care_level: str | None = None
    mobility: str | None = None
    medical_devices: list[str] | None = None
    communication_needs: str | None = None
    notes: str | None = None
    consents: list[ConsentOut] | None = None
    plan: PlanOut | None = None
    disclosed_under: Literal["normal", "disaster"] = "normal"


class HouseholdIn(msgspec.Struct, forbid_unknown_fields=True):
    address: Address
    lon: Lon
    lat: Lat
    town: Town | None = None
    notes: Note | None = None
    people: Annotated[list[PersonIn], msgspec.Meta(max_length=PEOPLE_PER_HOUSEHOLD_MAX)] = []


class HouseholdPatch(msgspec.Struct, forbid_unknown_fields=True):
    version: Version
    address: Address | None = None
    lon: Lon | None = None
    lat: Lat | None = None
    town: Town | None = None
    notes: Note | None = None
    location_approximate: bool | None = None


class HouseholdOut(msgspec.Struct, omit_defaults=True):
    id: uuid.UUID
    address: str
    town: str | None
    district_id: uuid.UUID | None
    lon: float
    lat: float
    location_approximate: bool
    version: int
    updated_at: datetime
    people: list[PersonOut] = []
    notes: str | None = None
    disclosed_under: Literal["normal", "disaster"] = "normal"


class Page(msgspec.Struct):
    items: list[Any]
    total: int
    offset: int
    limit: int
