"""The 災害VC day's tables (#18, docs/decisions/0025-vc-roles.md). Every row belongs to an
operation of kind `vc` (real or drill) through (tenant_id, operation_id); `tenant_id` leads every key.

Rules that must hold under concurrency live in the database: stock never below zero (CHECK, and
loans decrement under the row lock), one report per client id (UNIQUE), one check-in per volunteer
and day, one team per volunteer and day.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, TenantOwned, tenant_fk, uuid7
from vocab import VC_AGE_BANDS, VC_INSURANCE, VC_NEED_STATES, VC_SURVEY_VERDICTS


def _in(column: str, codes: dict[str, str]) -> str:
    return f"{column} IN ({', '.join(repr(c) for c in codes)})"


def _op() -> ForeignKeyConstraint:
    return tenant_fk(["operation_id"], "vc_centre", ["operation_id"], ondelete="RESTRICT")


class VcSettings(TenantOwned, Base):
    """Per-council VC rules. Without a row the defaults apply."""

    __tablename__ = "vc_settings"
    __table_args__ = (CheckConstraint("guardian_in_team_below BETWEEN 0 AND 18", name="guardian_age_sane"),)

    # Volunteers younger than this work only in a team that holds their guardian.
    guardian_in_team_below: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="16")


class VcCentre(TenantOwned, Base):
    """The centre of a `vc` operation: its base (distances are measured from here) and its first day."""

    __tablename__ = "vc_centre"
    __table_args__ = (tenant_fk(["operation_id"], "operation", ondelete="RESTRICT"),)

    operation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8), nullable=False)  # the operation's, kept for filters
    base: Mapped[Any] = mapped_column(Geometry("POINT", 4326, spatial_index=False), nullable=False)
    opened_on: Mapped[date] = mapped_column(Date, nullable=False)


class VcNeed(TenantOwned, Base):
    __tablename__ = "vc_need"
    __table_args__ = (
        _op(),
        tenant_fk(["household_id"], "household", ondelete="SET NULL"),
        CheckConstraint(_in("state", VC_NEED_STATES), name="state_known"),
        CheckConstraint("people_needed BETWEEN 1 AND 500", name="people_sane"),
        CheckConstraint("hours_estimated IS NULL OR hours_estimated BETWEEN 0 AND 1000", name="hours_sane"),
        CheckConstraint("closed_on IS NULL OR closed_on >= received_on", name="closed_after_received"),
        Index("ix_vc_need_board", "tenant_id", "operation_id", "state"),
        Index("ix_vc_need_phone", "tenant_id", "operation_id", "phone_normalised"),
        Index("ix_vc_need_location", "location", postgresql_using="gist"),
        Index(
            "ix_vc_need_kana_trgm",
            "requester_kana_normalised",
            postgresql_using="gin",
            postgresql_ops={"requester_kana_normalised": "gin_trgm_ops"},
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    operation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    requester_name: Mapped[str] = mapped_column(String(100), nullable=False)
    requester_kana: Mapped[str] = mapped_column(String(100), nullable=False, server_default="")
    requester_kana_normalised: Mapped[str] = mapped_column(String(100), nullable=False, server_default="")
    phone: Mapped[str | None] = mapped_column(String(20))
    phone_normalised: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(300), nullable=False)
    location: Mapped[Any] = mapped_column(Geometry("POINT", 4326, spatial_index=False), nullable=False)
    # The needs map's tiles read this (migration 0024); computed by the database, never written.
    location_3857: Mapped[Any] = mapped_column(
        Geometry("POINT", 3857, spatial_index=False), Computed("ST_Transform(location, 3857)", persisted=True)
    )
    location_approximate: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    district_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    household_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    damage_kinds: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    work_types: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    equipment: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    skills: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    flags: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    people_needed: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    hours_estimated: Mapped[float | None] = mapped_column(Numeric(6, 1))
    needs_truck: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    notes: Mapped[str | None] = mapped_column(Text)
    remaining: Mapped[str | None] = mapped_column(Text)  # what a 継続 report left for the next team
    state: Mapped[str] = mapped_column(String(16), nullable=False, server_default="received")
    received_on: Mapped[date] = mapped_column(Date, nullable=False)
    closed_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class VcSurvey(TenantOwned, Base):
    __tablename__ = "vc_survey"
    __table_args__ = (
        tenant_fk(["need_id"], "vc_need", ondelete="RESTRICT"),
        CheckConstraint(_in("verdict", VC_SURVEY_VERDICTS), name="verdict_known"),
        Index("ix_vc_survey_need", "tenant_id", "need_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    need_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    verdict: Mapped[str] = mapped_column(String(16), nullable=False)
    risks: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    risk_notes: Mapped[str | None] = mapped_column(Text)
    surveyor: Mapped[str] = mapped_column(String(100), nullable=False)
    surveyed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    vc_day: Mapped[date] = mapped_column(Date, nullable=False)


class VcVolunteer(TenantOwned, Base):
    """A person or a group (one row, `group_size` people) who came, or pre-registered, to help.

    `token_hash` is the SHA-256 of a pre-registration's QR token (the token itself is never stored).
    """

    __tablename__ = "vc_volunteer"
    __table_args__ = (
        _op(),
        UniqueConstraint("tenant_id", "token_hash"),
        UniqueConstraint("tenant_id", "operation_id", "user_id"),  # a login: one volunteer per centre (migration 0026)
        tenant_fk(["user_id"], "app_user", ondelete="SET NULL"),
        tenant_fk(["guardian_id"], "vc_volunteer", ondelete="SET NULL"),
        CheckConstraint("kind IN ('individual', 'group')", name="kind_known"),
        CheckConstraint("registered_via IN ('desk', 'preregistration')", name="via_known"),
        CheckConstraint(_in("age_band", VC_AGE_BANDS), name="age_band_known"),
        CheckConstraint(_in("insurance", VC_INSURANCE), name="insurance_known"),
        CheckConstraint("group_size BETWEEN 1 AND 200 AND (kind = 'group' OR group_size = 1)", name="group_size_sane"),
        CheckConstraint(
            "insurance <> 'enrolled_here' OR insurance_receipt IS NOT NULL", name="receipt_for_enrolled_here"
        ),
        CheckConstraint(
            "registered_via <> 'preregistration' OR privacy_consented_at IS NOT NULL",
            name="preregistration_consented",
        ),
        Index("ix_vc_volunteer_operation", "tenant_id", "operation_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    operation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, server_default="individual")
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    kana: Mapped[str] = mapped_column(String(100), nullable=False, server_default="")
    phone: Mapped[str | None] = mapped_column(String(20))
    group_name: Mapped[str | None] = mapped_column(String(100))
    group_size: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="1")
    age_band: Mapped[str] = mapped_column(String(16), nullable=False)
    birth_date: Mapped[date | None] = mapped_column(Date)
    prefecture: Mapped[str] = mapped_column(String(2), nullable=False)  # JIS X 0401 code, "08" = 茨城県
    skills: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    light_truck: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    insurance: Mapped[str] = mapped_column(String(16), nullable=False, server_default="none")
    insured_where: Mapped[str | None] = mapped_column(String(100))
    insured_on: Mapped[date | None] = mapped_column(Date)
    insurance_receipt: Mapped[str | None] = mapped_column(String(40))
    guardian_consent_by: Mapped[str | None] = mapped_column(String(100))  # the guardian who consented
    guardian_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))  # guardian volunteering too
    registered_via: Mapped[str] = mapped_column(String(16), nullable=False, server_default="desk")
    token_hash: Mapped[str | None] = mapped_column(String(64))
    privacy_notice: Mapped[str | None] = mapped_column(String(20))  # version of the notice consented to
    privacy_consented_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))  # a vc_volunteer login
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class VcCheckin(TenantOwned, Base):
    """A volunteer (or group) present on one VC day."""

    __tablename__ = "vc_checkin"
    __table_args__ = (
        _op(),
        tenant_fk(["volunteer_id"], "vc_volunteer", ondelete="RESTRICT"),
        UniqueConstraint("tenant_id", "volunteer_id", "vc_day"),
        Index("ix_vc_checkin_day", "tenant_id", "operation_id", "vc_day"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    operation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    volunteer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    vc_day: Mapped[date] = mapped_column(Date, nullable=False)
    people: Mapped[int] = mapped_column(SmallInteger, nullable=False)  # the group's size that day
    checked_in_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class VcTeam(TenantOwned, Base):
    """A 班 formed on one VC day around a leader."""

    __tablename__ = "vc_team"
    __table_args__ = (
        _op(),
        tenant_fk(["leader_id"], "vc_volunteer", ondelete="RESTRICT"),
        UniqueConstraint("tenant_id", "operation_id", "vc_day", "name"),
        Index("ix_vc_team_day", "tenant_id", "operation_id", "vc_day"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    operation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    vc_day: Mapped[date] = mapped_column(Date, nullable=False)
    name: Mapped[str] = mapped_column(String(40), nullable=False)
    leader_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    people: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class VcTeamMember(TenantOwned, Base):
    __tablename__ = "vc_team_member"
    __table_args__ = (
        tenant_fk(["team_id"], "vc_team", ondelete="CASCADE"),
        tenant_fk(["volunteer_id"], "vc_volunteer", ondelete="RESTRICT"),
        UniqueConstraint("tenant_id", "volunteer_id", "vc_day"),  # one team per volunteer and day
    )

    team_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    volunteer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    vc_day: Mapped[date] = mapped_column(Date, nullable=False)


class VcDispatch(TenantOwned, Base):
    """A team sent to a need. `active` until its report; at most one active dispatch per team."""

    __tablename__ = "vc_dispatch"
    __table_args__ = (
        _op(),
        tenant_fk(["team_id"], "vc_team", ondelete="RESTRICT"),
        tenant_fk(["need_id"], "vc_need", ondelete="RESTRICT"),
        CheckConstraint("state IN ('active', 'reported')", name="state_known"),
        Index(
            "uq_vc_dispatch_team_active",
            "tenant_id",
            "team_id",
            unique=True,
            postgresql_where="state = 'active'",
        ),
        Index("ix_vc_dispatch_need", "tenant_id", "need_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    operation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    team_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    need_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    vc_day: Mapped[date] = mapped_column(Date, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, server_default="active")
    dispatched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    dispatched_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)


class VcEquipment(TenantOwned, Base):
    """One kind of equipment in a centre's ledger; `stock` is what is on the shelf now."""

    __tablename__ = "vc_equipment"
    __table_args__ = (
        _op(),
        UniqueConstraint("tenant_id", "operation_id", "code"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    operation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    stock: Mapped[int] = mapped_column(Integer, nullable=False)


class VcEquipmentMove(TenantOwned, Base):
    """Loans, returns and losses, per dispatch: append-only ledger lines."""

    __tablename__ = "vc_equipment_move"
    __table_args__ = (
        tenant_fk(["equipment_id"], "vc_equipment", ondelete="RESTRICT"),
        tenant_fk(["dispatch_id"], "vc_dispatch", ondelete="RESTRICT"),
        CheckConstraint("kind IN ('stock', 'loan', 'return', 'loss')", name="kind_known"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("(kind = 'stock') = (dispatch_id IS NULL)", name="dispatch_unless_stock"),
        Index("ix_vc_equipment_move_dispatch", "tenant_id", "dispatch_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    equipment_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    dispatch_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    by_user: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)


class VcReport(TenantOwned, Base):
    """An activity report (活動報告). Idempotent by the device's `client_id` like visits."""

    __tablename__ = "vc_report"
    __table_args__ = (
        tenant_fk(["dispatch_id"], "vc_dispatch", ondelete="RESTRICT"),
        UniqueConstraint("tenant_id", "client_id"),
        UniqueConstraint("tenant_id", "dispatch_id"),
        CheckConstraint("outcome IN ('done', 'continued')", name="outcome_known"),
        CheckConstraint("people BETWEEN 0 AND 500 AND hours BETWEEN 0 AND 24 AND injuries >= 0", name="figures_sane"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    client_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    dispatch_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    work_done: Mapped[str | None] = mapped_column(Text)
    remaining: Mapped[str | None] = mapped_column(Text)
    people: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    hours: Mapped[float] = mapped_column(Numeric(4, 1), nullable=False)
    injuries: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="0")
    injury_notes: Mapped[str | None] = mapped_column(Text)
    near_misses: Mapped[str | None] = mapped_column(Text)  # ヒヤリハット
    device_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    server_time: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()
    )
    reported_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)


class VcPublicHit(Base):
    """One pre-registration attempt on the public page, per client, for its rate limit (shared by
    every app server, unlike a per-process counter). Not tenant-owned: the limit is per client
    across councils and is checked before the council is looked up. Holds a hash of the client's
    address, never the address; rows older than the window are pruned on write."""

    __tablename__ = "vc_public_hit"
    __table_args__ = (
        Index("ix_vc_public_hit_client_key_at", "client_key", "at"),
        Index("ix_vc_public_hit_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    client_key: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
