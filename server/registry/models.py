"""The registry: districts, households, people, consent, plans, watchers, shelters, hazard zones.

Everything is tenant-owned (tenant_id leads every key). Geometries are stored in SRID 4326; the
map layers also keep a generated EPSG:3857 copy so vector tiles need no per-request transform.
Who may read what is decided in `server.registry.disclosure` and enforced again by RLS.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, DATEMULTIRANGE, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, TenantOwned, Timestamps, tenant_fk, uuid7
from vocab import (
    CONSENT_DATASETS,
    DISTRICT_LEVELS,
    HAZARD_ZONE_KINDS,
    RECIPIENT_CLASSES,
    SEXES,
    SHELTER_KINDS,
)


def _in(column: str, values: dict[str, str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


_fk = tenant_fk


class District(TenantOwned, Timestamps, Base):
    """City area → council branch → neighbourhood unit."""

    __tablename__ = "district"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        _fk(["parent_id"], "district"),
        CheckConstraint(_in("level", DISTRICT_LEVELS), name="level_known"),
        CheckConstraint("walking_radius_m BETWEEN 50 AND 5000", name="walking_radius_range"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    level: Mapped[str] = mapped_column(String(16), nullable=False)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kana: Mapped[str | None] = mapped_column(String(200))
    walking_radius_m: Mapped[int] = mapped_column(Integer, nullable=False, server_default="300")
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", 4326, spatial_index=True), nullable=False)
    geom_3857: Mapped[Any] = mapped_column(
        Geometry("MULTIPOLYGON", 3857, spatial_index=True),
        Computed("ST_Transform(geom, 3857)", persisted=True),
    )


class Town(TenantOwned, Base):
    """Gazetteer of 大字・町丁目 with a representative point, for addresses without coordinates."""

    __tablename__ = "town"
    __table_args__ = (UniqueConstraint("tenant_id", "name", "koaza"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    koaza: Mapped[str] = mapped_column(String(100), nullable=False, server_default="")
    location: Mapped[Any] = mapped_column(Geometry("POINT", 4326), nullable=False)


class Household(TenantOwned, Timestamps, Base):
    __tablename__ = "household"
    __table_args__ = (
        _fk(["district_id"], "district", ondelete="SET NULL"),
        Index("ix_household_tenant_id_district_id", "tenant_id", "district_id"),
        Index("ix_household_search", "tenant_id", "address", postgresql_using="btree"),
        CheckConstraint("char_length(notes) <= 2000", name="notes_length"),  # size caps: migration 0014
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    district_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    address: Mapped[str] = mapped_column(String(300), nullable=False)
    town: Mapped[str | None] = mapped_column(String(100))
    location: Mapped[Any] = mapped_column(Geometry("POINT", 4326, spatial_index=True), nullable=False)
    location_3857: Mapped[Any] = mapped_column(
        Geometry("POINT", 3857, spatial_index=True),
        Computed("ST_Transform(location, 3857)", persisted=True),
    )
    # Placed at its town's representative point by an import; staff should correct it.
    location_approximate: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    notes: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    # The days someone here has a roster consent for the class (migration 0010; kept by triggers on
    # `consent`, read by the household RLS policy). Never written by the app, so not loaded by it.
    roster_consent_council: Mapped[Any] = mapped_column(
        DATEMULTIRANGE, nullable=False, server_default="{}", deferred=True
    )
    roster_consent_commissioner: Mapped[Any] = mapped_column(
        DATEMULTIRANGE, nullable=False, server_default="{}", deferred=True
    )
    roster_consent_watcher: Mapped[Any] = mapped_column(
        DATEMULTIRANGE, nullable=False, server_default="{}", deferred=True
    )

    __mapper_args__ = {"version_id_col": version}


class Person(TenantOwned, Timestamps, Base):
    """A 避難行動要支援者 (or a member of their household)."""

    __tablename__ = "person"
    __table_args__ = (
        _fk(["household_id"], "household", ondelete="CASCADE"),
        CheckConstraint(_in("sex", SEXES), name="sex_known"),
        CheckConstraint("kana ~ '^[ァ-ヶー・　 ]*$'", name="kana_katakana"),
        Index("ix_person_tenant_id_household_id", "tenant_id", "household_id"),
        Index("ix_person_support_reasons", "support_reasons", postgresql_using="gin"),
        CheckConstraint("char_length(notes) <= 2000", name="notes_length"),
        CheckConstraint("char_length(communication_needs) <= 500", name="communication_needs_length"),
        CheckConstraint(
            "jsonb_typeof(emergency_contacts) = 'array' AND jsonb_array_length(emergency_contacts) <= 10",
            name="emergency_contacts_count",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    household_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    kana: Mapped[str] = mapped_column(String(200), nullable=False, server_default="")
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(16), nullable=False, server_default="unknown")
    phone: Mapped[str | None] = mapped_column(String(32))
    # Sensitive (need-to-know) from here on.
    support_reasons: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    care_level: Mapped[str | None] = mapped_column(String(32))
    mobility: Mapped[str | None] = mapped_column(String(32))
    medical_devices: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    communication_needs: Mapped[str | None] = mapped_column(Text)
    emergency_contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, server_default="[]")
    notes: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class Consent(TenantOwned, Timestamps, Base):
    """One person's consent for one recipient class and one data set. Withdrawal keeps the row.

    `household_id` is copied from the person so the household's RLS policy can check consent
    without reading `person` (whose own policy reads `household`: that would be a cycle).
    """

    __tablename__ = "consent"
    __table_args__ = (
        UniqueConstraint("tenant_id", "person_id", "recipient_class", "dataset"),
        _fk(["person_id"], "person", ondelete="CASCADE"),
        _fk(["household_id"], "household", ondelete="CASCADE"),
        CheckConstraint(_in("recipient_class", RECIPIENT_CLASSES), name="recipient_class_known"),
        CheckConstraint(_in("dataset", CONSENT_DATASETS), name="dataset_known"),
        CheckConstraint("withdrawn_on IS NULL OR withdrawn_on >= consented_on", name="withdrawn_after_given"),
        Index("ix_consent_lookup", "tenant_id", "household_id", "recipient_class", "dataset"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    person_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    household_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    recipient_class: Mapped[str] = mapped_column(String(32), nullable=False)
    dataset: Mapped[str] = mapped_column(String(16), nullable=False)
    consented_on: Mapped[date] = mapped_column(Date, nullable=False)
    source: Mapped[str] = mapped_column(String(200), nullable=False)  # e.g. 同意書(2026-04 郵送)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)


class Shelter(TenantOwned, Timestamps, Base):
    __tablename__ = "shelter"
    __table_args__ = (
        UniqueConstraint("tenant_id", "source_id", "kind"),
        CheckConstraint(_in("kind", SHELTER_KINDS), name="kind_known"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_positive"),
        CheckConstraint("occupancy >= 0", name="occupancy_positive"),
        CheckConstraint("char_length(note) <= 2000", name="note_length"),
        CheckConstraint(
            "designations <@ ARRAY[" + ", ".join(f"'{k}'" for k in SHELTER_KINDS) + "]::text[]",
            name="designations_known",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    source_id: Mapped[str | None] = mapped_column(String(64))  # 共通ID of the national data
    kind: Mapped[str] = mapped_column(String(32), nullable=False)  # the main designation
    # Its other designations too (migration 0020): a school can be 指定避難所 and 指定緊急避難場所.
    # `kind` counts as one whether listed or not (`all_designations`).
    designations: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    # The 共通IDs it has under its other designations (the national data lists each layout apart).
    other_source_ids: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    address: Mapped[str | None] = mapped_column(String(300))
    location: Mapped[Any] = mapped_column(Geometry("POINT", 4326, spatial_index=True), nullable=False)
    location_3857: Mapped[Any] = mapped_column(
        Geometry("POINT", 3857, spatial_index=True),
        Computed("ST_Transform(location, 3857)", persisted=True),
    )
    hazards: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    capacity: Mapped[int | None] = mapped_column(Integer)
    is_open: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    occupancy: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    note: Mapped[str | None] = mapped_column(Text)

    @property
    def all_designations(self) -> list[str]:
        return [k for k in SHELTER_KINDS if k == self.kind or k in (self.designations or [])]


class EvacuationPlan(TenantOwned, Timestamps, Base):
    """個別避難計画 for one person."""

    __tablename__ = "evacuation_plan"
    __table_args__ = (
        UniqueConstraint("tenant_id", "person_id"),
        _fk(["person_id"], "person", ondelete="CASCADE"),
        _fk(["destination_shelter_id"], "shelter", ondelete="SET NULL"),
        CheckConstraint("char_length(route_notes) <= 2000", name="route_notes_length"),
        CheckConstraint(
            "jsonb_typeof(supporters) = 'array' AND jsonb_array_length(supporters) <= 20", name="supporters_count"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    person_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    destination_shelter_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    route_notes: Mapped[str | None] = mapped_column(Text)
    # [{name, phone, relationship, user_id, consented_on, withdrawn_on}] — supporters consent too.
    supporters: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, server_default="[]")
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class Watcher(TenantOwned, Timestamps, Base):
    """Someone who watches households: a 見守り協力員 or a 民生委員, optionally with a login."""

    __tablename__ = "watcher"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id"),
        _fk(["user_id"], "app_user", ondelete="SET NULL"),
        _fk(["district_id"], "district", ondelete="SET NULL"),
        _fk(["household_id"], "household", ondelete="SET NULL"),
        CheckConstraint("role IN ('watcher', 'commissioner')", name="role_known"),
        CheckConstraint("capacity >= 0", name="capacity_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # Set when the watcher also lives in a registered household: never suggested to watch it.
    household_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    kana: Mapped[str] = mapped_column(String(200), nullable=False, server_default="")
    phone: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16), nullable=False, server_default="watcher")
    home: Mapped[Any] = mapped_column(Geometry("POINT", 4326, spatial_index=True), nullable=False)
    district_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    capacity: Mapped[int] = mapped_column(Integer, nullable=False, server_default="5")
    available: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")


class WatchLink(TenantOwned, Timestamps, Base):
    """向こう三軒両隣: a watcher assigned to a household (the watch network issue manages these)."""

    __tablename__ = "watch_link"
    __table_args__ = (
        _fk(["household_id"], "household", ondelete="CASCADE"),
        _fk(["watcher_id"], "watcher", ondelete="CASCADE"),
        CheckConstraint("kind IN ('primary', 'backup')", name="kind_known"),
        Index(
            "uq_watch_link_active",
            "tenant_id",
            "household_id",
            "watcher_id",
            unique=True,
            postgresql_where="ended_at IS NULL",
        ),
        Index("ix_watch_link_watcher", "tenant_id", "watcher_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    household_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    watcher_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, server_default="primary")
    since: Mapped[date] = mapped_column(Date, nullable=False, server_default=func.current_date())
    distance_m: Mapped[int | None] = mapped_column(Integer)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class HazardZone(TenantOwned, Timestamps, Base):
    __tablename__ = "hazard_zone"
    __table_args__ = (CheckConstraint(_in("kind", HAZARD_ZONE_KINDS), name="kind_known"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    level: Mapped[str | None] = mapped_column(String(64))  # e.g. 0.5-3.0m, 特別警戒区域
    name: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(300))
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", 4326, spatial_index=True), nullable=False)
    geom_3857: Mapped[Any] = mapped_column(
        Geometry("MULTIPOLYGON", 3857, spatial_index=True),
        Computed("ST_Transform(geom, 3857)", persisted=True),
    )


class DisasterDeclaration(TenantOwned, Base):
    """Disaster mode for an area. Only `mode='real'` widens disclosure; a drill never does."""

    __tablename__ = "disaster_declaration"
    __table_args__ = (
        CheckConstraint("mode IN ('real', 'drill')", name="mode_known"),
        CheckConstraint("length(reason) >= 4", name="reason_given"),
        CheckConstraint("char_length(reason) <= 2000", name="reason_length"),
        CheckConstraint("char_length(lift_reason) <= 2000", name="lift_reason_length"),
        Index("ix_disaster_declaration_active", "tenant_id", postgresql_where="lifted_at IS NULL"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    mode: Mapped[str] = mapped_column(String(8), nullable=False, server_default="real")
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    area: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", 4326), nullable=False)
    district_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"
    )
    declared_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    declared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    lifted_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lift_reason: Mapped[str | None] = mapped_column(Text)
