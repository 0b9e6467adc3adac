"""Wire shapes of the 災害VC API: every limit matches its column (server/vc/models.py)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from server.core.types import Code, CodeList, Lat, Lon, Note

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Kana = Annotated[str, msgspec.Meta(max_length=100)]
Phone = Annotated[str, msgspec.Meta(max_length=20)]
Address = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
Count = Annotated[int, msgspec.Meta(ge=1, le=500)]
Prefecture = Annotated[str, msgspec.Meta(pattern="^(0[1-9]|[1-3][0-9]|4[0-7])$")]  # JIS X 0401
Quantity = Annotated[int, msgspec.Meta(ge=1, le=10_000)]


class CentreIn(msgspec.Struct, forbid_unknown_fields=True):
    mode: Literal["real", "drill"]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    lon: Lon
    lat: Lat
    opened_on: date | None = None


class CentreFigures(msgspec.Struct):
    """What a coordinator's list shows for a centre (a VC has no target households): counts only."""

    vc_day: date  # today in the council's time zone
    open_needs: int  # received and not closed (受付 … 継続)
    waiting_needs: int  # マッチ待ち or 継続: waiting for a team now
    volunteers_today: int  # people checked in today (a group counts its size)


class CentreOut(msgspec.Struct):
    operation_id: uuid.UUID
    name: str
    mode: str
    status: str
    opened_on: date
    lon: float
    lat: float
    label: str  # "【訓練】" for a drill centre
    figures: CentreFigures | None = None  # in the list of centres


class NeedIn(msgspec.Struct, forbid_unknown_fields=True):
    requester_name: Name
    address: Address
    people_needed: Count
    requester_kana: Kana = ""
    phone: Phone | None = None
    lon: Lon | None = None
    lat: Lat | None = None
    town: Annotated[str, msgspec.Meta(max_length=100)] | None = None  # geocoded when no pin
    damage_kinds: CodeList = []
    work_types: CodeList = []
    equipment: CodeList = []
    skills: CodeList = []
    flags: CodeList = []
    hours_estimated: Annotated[float, msgspec.Meta(ge=0, le=1000)] | None = None
    needs_truck: bool = False
    notes: Note | None = None
    household_id: uuid.UUID | None = None
    received_on: date | None = None  # for a need taken on paper earlier; default today


class DuplicateQuery(msgspec.Struct, forbid_unknown_fields=True):
    requester_kana: Kana = ""
    phone: Phone | None = None
    lon: Lon | None = None
    lat: Lat | None = None


class DuplicateOut(msgspec.Struct):
    need_id: uuid.UUID
    requester_name: str
    address: str
    state: str
    reasons: list[str]  # "phone", "near", "kana"
    distance_m: float | None


class NeedOut(msgspec.Struct):
    id: uuid.UUID
    operation_id: uuid.UUID
    requester_name: str
    requester_kana: str
    phone: str | None
    address: str
    lon: float
    lat: float
    location_approximate: bool
    district_id: uuid.UUID | None
    household_id: uuid.UUID | None
    damage_kinds: list[str]
    work_types: list[str]
    equipment: list[str]
    skills: list[str]
    flags: list[str]
    people_needed: int
    hours_estimated: float | None
    needs_truck: bool
    notes: str | None
    remaining: str | None
    state: str
    received_on: date
    closed_on: date | None
    label: str


class NeedStateIn(msgspec.Struct, forbid_unknown_fields=True):
    state: Literal["survey", "waiting"]


class SurveyIn(msgspec.Struct, forbid_unknown_fields=True):
    verdict: Code
    surveyor: Name
    risks: CodeList = []
    risk_notes: Note | None = None
    surveyed_at: datetime | None = None


class SurveyOut(msgspec.Struct):
    id: uuid.UUID
    need_id: uuid.UUID
    verdict: str
    risks: list[str]
    risk_notes: str | None
    surveyor: str
    surveyed_at: datetime
    need_state: str


class VolunteerIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    age_band: Code
    prefecture: Prefecture
    kind: Literal["individual", "group"] = "individual"
    kana: Kana = ""
    phone: Phone | None = None
    group_name: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    group_size: Annotated[int, msgspec.Meta(ge=1, le=200)] = 1
    birth_date: date | None = None
    skills: CodeList = []
    light_truck: bool = False
    insurance: Code = "none"
    insured_where: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    insured_on: date | None = None
    insurance_receipt: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    guardian_consent_by: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    guardian_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None  # a vc_volunteer login for the phone view
    check_in: bool = True  # a walk-in is checked in as they register
    vc_day: date | None = None


class PublicRegistrationIn(msgspec.Struct, forbid_unknown_fields=True):
    """The public page's form: no account, the privacy notice must be consented to."""

    name: Name
    age_band: Code
    prefecture: Prefecture
    privacy_consent: bool
    privacy_notice: Annotated[str, msgspec.Meta(max_length=20)]
    kind: Literal["individual", "group"] = "individual"
    kana: Kana = ""
    phone: Phone | None = None
    group_name: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    group_size: Annotated[int, msgspec.Meta(ge=1, le=200)] = 1
    birth_date: date | None = None
    skills: CodeList = []
    light_truck: bool = False
    insurance: Literal["enrolled", "none"] = "none"
    insured_where: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    insured_on: date | None = None
    guardian_consent_by: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class PublicRegistrationOut(msgspec.Struct):
    token: str  # opaque; the QR holds exactly this
    qr_svg: str
    label: str


class JoinLinkOut(msgspec.Struct):
    """The public pre-registration page of an open centre, as the desk publishes it."""

    url: str  # the page's full address (TONARI_PUBLIC_URL + path): what the QR and the poster hold
    path: str  # /vc/join/{municipality_code}/{operation_id}
    qr_svg: str  # the URL as a QR code (segno, SVG)
    centre: str
    label: str  # "【訓練】" for a drill centre: the poster says so


class PrivacyNoticeOut(msgspec.Struct):
    version: str
    ja: str
    en: str
    centre: str
    label: str


class CheckinIn(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    volunteer_id: uuid.UUID | None = None
    vc_day: date | None = None


class InsuranceIn(msgspec.Struct, forbid_unknown_fields=True):
    insurance: Code
    insured_where: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    insured_on: date | None = None
    insurance_receipt: Annotated[str, msgspec.Meta(max_length=40)] | None = None


class GuardianIn(msgspec.Struct, forbid_unknown_fields=True):
    guardian_consent_by: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    guardian_id: uuid.UUID | None = None  # the guardian, when volunteering here too


class VolunteerOut(msgspec.Struct):
    id: uuid.UUID
    operation_id: uuid.UUID
    kind: str
    name: str
    kana: str
    phone: str | None
    group_name: str | None
    group_size: int
    age_band: str
    prefecture: str
    skills: list[str]
    light_truck: bool
    insurance: str
    guardian_consent_by: str | None
    guardian_id: uuid.UUID | None
    registered_via: str
    checked_in_on: date | None
    label: str


class TeamIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    leader_id: uuid.UUID
    member_ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=100)]
    people: Count | None = None  # when given: must not exceed the members checked in
    vc_day: date | None = None


class TeamOut(msgspec.Struct):
    id: uuid.UUID
    operation_id: uuid.UUID
    vc_day: date
    name: str
    leader_id: uuid.UUID
    member_ids: list[uuid.UUID]
    people: int
    light_truck: bool
    skills: list[str]
    label: str


class Suggestion(msgspec.Struct):
    need_id: uuid.UUID
    score: float
    reasons: str  # "人数4/5, 軽トラあり, 1.2 km"
    people_needed: int
    distance_km: float


class TeamSuggestions(msgspec.Struct):
    team_id: uuid.UUID
    team_name: str
    people: int
    suggestions: list[Suggestion]


class EquipmentLine(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    quantity: Quantity


class DispatchIn(msgspec.Struct, forbid_unknown_fields=True):
    team_id: uuid.UUID
    need_id: uuid.UUID
    equipment: Annotated[list[EquipmentLine], msgspec.Meta(max_length=20)] = []


class DispatchOut(msgspec.Struct):
    id: uuid.UUID
    operation_id: uuid.UUID
    team_id: uuid.UUID
    need_id: uuid.UUID
    vc_day: date
    state: str
    equipment: dict[str, int]  # code → still out with the team
    label: str


class ReturnLine(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    returned: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 0
    lost: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 0


class ReturnsIn(msgspec.Struct, forbid_unknown_fields=True):
    items: Annotated[list[ReturnLine], msgspec.Meta(min_length=1, max_length=20)]


class ReportIn(msgspec.Struct, forbid_unknown_fields=True):
    client_id: uuid.UUID
    outcome: Literal["done", "continued"]
    people: Annotated[int, msgspec.Meta(ge=0, le=500)]
    hours: Annotated[float, msgspec.Meta(ge=0, le=24)]
    device_time: datetime
    work_done: Note | None = None
    remaining: Note | None = None
    injuries: Annotated[int, msgspec.Meta(ge=0, le=500)] = 0
    injury_notes: Note | None = None
    near_misses: Note | None = None
    returns: Annotated[list[ReturnLine], msgspec.Meta(max_length=20)] = []


class ReportOut(msgspec.Struct):
    id: uuid.UUID
    client_id: uuid.UUID
    dispatch_id: uuid.UUID
    outcome: str
    people: int
    hours: float
    injuries: int
    work_done: str | None
    remaining: str | None
    near_misses: str | None
    device_time: datetime
    server_time: datetime
    need_state: str


class EquipmentIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    quantity: Quantity


class EquipmentOut(msgspec.Struct):
    code: str
    stock: int
    out: int
    lost: int


class MyNeed(msgspec.Struct):
    id: uuid.UUID
    work_types: list[str]
    equipment: list[str]
    lon: float
    lat: float
    location_approximate: bool
    # The requester only while the dispatch is active (0025-vc-roles).
    requester_name: str | None
    address: str | None
    phone: str | None


class MyCentre(msgspec.Struct):
    """A centre the volunteer's login is registered at (each with its own 【訓練】 label)."""

    operation_id: uuid.UUID
    name: str
    status: str
    label: str


class MyDispatchOut(msgspec.Struct):
    volunteer_id: uuid.UUID
    team: TeamOut | None
    dispatch: DispatchOut | None
    need: MyNeed | None
    emergency: list[str]  # 110 / 119
    label: str  # the answer's centre: "【訓練】" for a drill
    operation_id: uuid.UUID | None = None  # the centre this answer is about
    centre: str = ""
    centres: list[MyCentre] = []  # all of the login's centres, in the order they are chosen


class DayStatistics(msgspec.Struct):
    vc_day: date
    volunteers: int
    individual: int
    group: int
    out_of_prefecture: int
    cumulative_volunteers: int
    activities: int
    needs_received: int
    needs_surveyed: int
    needs_closed: int
    needs_open: int


class StatisticsOut(msgspec.Struct):
    operation_id: uuid.UUID
    label: str
    days: list[DayStatistics]
    by_work_type: dict[str, int]  # needs received in the period per work type
    by_district: dict[str, int]  # needs received in the period per district id ("" = none)
