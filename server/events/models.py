"""The durable event log behind the live feed: written in the same transaction as the change.

Ids come from one identity sequence, so they only grow within a tenant; a client that
reconnects with Last-Event-ID gets every later row. NOTIFY only wakes listeners up.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, TenantOwned


class Event(TenantOwned, Base):
    __tablename__ = "event"
    __table_args__ = (Index("ix_event_operation", "tenant_id", "operation_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    kind: Mapped[str] = mapped_column(String(48), nullable=False)
    mode: Mapped[str | None] = mapped_column(String(8))
    operation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    household_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # Only these users see it (e.g. an escalation's recipients); empty = anyone who may see the household/operation.
    audience: Mapped[list[uuid.UUID] | None] = mapped_column(JSONB(none_as_null=True))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
