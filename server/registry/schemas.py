"""Wire shapes of the registry API. Sensitive fields are Optional: absent means "not disclosed"."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

Kana = Annotated[str, msgspec.Meta(max_length=200)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Lon = Annotated[float, msgspec.Meta(ge=-180, le=180)]
Lat = Annotated[float, msgspec.Meta(ge=-90, le=90)]


class EmergencyContact(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=100)]
    phone: Annotated[str, msgspec.Meta(max_length=32)]
    relationship: Annotated[str, msgspec.Meta(max_length=50)] = ""


class PersonIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    kana: Kana = ""
    birth_date: date | None = None
    sex: Literal["female", "male", "other", "unknown"] = "unknown"
    phone: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    support_reasons: list[str] = []
    care_level: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    mobility: str | None = None
    medical_devices: list[str] = []
    communication_needs: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    emergency_contacts: list[EmergencyContact] = []
    notes: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class PersonPatch(PersonIn, forbid_unknown_fields=True):
    version: int = 0  # the version the edit was based on (409 if someone else changed it since)


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
    address: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    lon: Lon
    lat: Lat
    town: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    notes: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    people: list[PersonIn] = []


class HouseholdPatch(msgspec.Struct, forbid_unknown_fields=True):
    version: int
    address: Annotated[str, msgspec.Meta(min_length=1, max_length=300)] | None = None
    lon: Lon | None = None
    lat: Lat | None = None
    town: str | None = None
    notes: str | None = None
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
