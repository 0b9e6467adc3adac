"""Operations (watch rounds, safety checks; real or drill), their target households, visits
(append-only), escalations. Status per household is derived from visits and cached on the
target row, guarded so a late-arriving older visit never regresses it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, TenantOwned, Timestamps, tenant_fk, uuid7


def _fk(
    cols: list[str], table: str, refcols: list[str] | None = None, ondelete: str = "CASCADE"
) -> ForeignKeyConstraint:
    return tenant_fk(cols, table, refcols, ondelete)


class Operation(TenantOwned, Timestamps, Base):
    __tablename__ = "operation"
    __table_args__ = (
        CheckConstraint("kind IN ('watch_round', 'safety_check', 'vc')", name="kind_known"),
        CheckConstraint("mode IN ('real', 'drill')", name="mode_known"),
        CheckConstraint("status IN ('draft', 'active', 'closed')", name="status_known"),
        CheckConstraint("first_report_minutes > 0 AND completion_minutes >= first_report_minutes", name="targets_sane"),
        Index("ix_operation_tenant_id_status", "tenant_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    mode: Mapped[str] = mapped_column(String(8), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(8), nullable=False, server_default="draft")
    district_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"
    )
    area: Mapped[Any | None] = mapped_column(Geometry("MULTIPOLYGON", 4326, spatial_index=False))
    support_reasons: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    hazard_kinds: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    first_report_minutes: Mapped[int] = mapped_column(Integer, nullable=False, server_default="180")
    completion_minutes: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1440")
    coordinator_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"
    )
    declaration_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OperationTarget(TenantOwned, Base):
    """A household in an operation, the watchers assigned at start, and its derived status."""

    __tablename__ = "operation_target"
    __table_args__ = (
        _fk(["operation_id"], "operation"),
        _fk(["household_id"], "household"),
        Index("ix_operation_target_updated", "tenant_id", "updated_at"),
        Index("ix_operation_target_watchers", "watcher_ids", postgresql_using="gin"),
        Index("ix_operation_target_household", "tenant_id", "household_id"),
    )

    operation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    household_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    watcher_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}")
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="unreached")
    status_visit_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    status_device_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_server_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_visit_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class Visit(TenantOwned, Base):
    """One report from the field. Append-only (a trigger refuses UPDATE/DELETE).

    `client_id` is the device's UUIDv7; (tenant, client_id) is unique and `content_hash` lets a
    retry with the same content be told from a different write reusing the id.
    """

    __tablename__ = "visit"
    __table_args__ = (
        UniqueConstraint("tenant_id", "client_id"),
        # 避難済 names its shelter or says 避難先不明; NOT VALID in the database (migration 0015).
        CheckConstraint(
            "outcome <> 'evacuated' OR shelter_id IS NOT NULL OR shelter_unknown", name="evacuated_destination"
        ),
        CheckConstraint("NOT (shelter_unknown AND shelter_id IS NOT NULL)", name="shelter_or_unknown"),
        _fk(
            ["operation_id", "household_id"], "operation_target", ["operation_id", "household_id"], ondelete="RESTRICT"
        ),
        Index("ix_visit_target_time", "tenant_id", "operation_id", "household_id", "device_time"),
        CheckConstraint("char_length(note) <= 2000", name="note_length"),  # size caps: migration 0014
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    client_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    operation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    household_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    mode: Mapped[str] = mapped_column(String(8), nullable=False)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    shelter_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    shelter_unknown: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    note: Mapped[str | None] = mapped_column(Text)
    device_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    server_time: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()
    )
    location: Mapped[Any | None] = mapped_column(Geometry("POINT", 4326, spatial_index=False))
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)


class Escalation(TenantOwned, Base):
    __tablename__ = "escalation"
    __table_args__ = (
        _fk(["operation_id"], "operation"),
        CheckConstraint("level IN ('urgent', 'contact')", name="level_known"),
        CheckConstraint("status IN ('open', 'acknowledged', 'resolved')", name="status_known"),
        Index("ix_escalation_open", "tenant_id", "operation_id", "status"),
        Index("ix_escalation_recipients", "recipient_ids", postgresql_using="gin"),
        CheckConstraint("char_length(notes) <= 20000", name="notes_length"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    operation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    household_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    visit_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    mode: Mapped[str] = mapped_column(String(8), nullable=False)
    level: Mapped[str] = mapped_column(String(8), nullable=False)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="open")
    recipient_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"
    )
    raised_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    acknowledged_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notes: Mapped[str | None] = mapped_column(Text)


class DeviceUnsent(TenantOwned, Base):
    """What a user's field device last reported it still holds for an operation: records waiting to
    be sent and records the server refused (#17). Staff are warned about them when closing."""

    __tablename__ = "device_unsent"
    __table_args__ = (
        _fk(["operation_id"], "operation"),
        _fk(["user_id"], "app_user"),
        CheckConstraint("waiting >= 0 AND refused >= 0", name="counts_positive"),
    )

    operation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    waiting: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    refused: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
