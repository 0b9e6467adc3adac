"""A browser's Web Push subscription, owned by the signed-in user who registered it.

The endpoint URL is a bearer capability (anyone holding it and the keys can address that device
through its push service), so it is never logged nor written to the audit log.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, TenantOwned, uuid7

ENDPOINT_MAX = 1024


class PushSubscription(TenantOwned, Base):
    __tablename__ = "push_subscription"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["app_user.tenant_id", "app_user.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("tenant_id", "endpoint"),
        Index("ix_push_subscription_tenant_id_user_id", "tenant_id", "user_id"),
        CheckConstraint("failure_count >= 0", name="failure_count_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    endpoint: Mapped[str] = mapped_column(String(ENDPOINT_MAX), nullable=False)
    # Stored as unpadded base64url, exactly what `PushSubscription.toJSON().keys` gives.
    p256dh: Mapped[str] = mapped_column(String(100), nullable=False)
    auth: Mapped[str] = mapped_column(String(50), nullable=False)
    user_agent: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failure_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
