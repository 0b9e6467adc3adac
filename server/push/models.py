"""A browser's Web Push subscription, owned by the signed-in user who registered it, and one
delivery row per subscription and notification (what the push queue did, and its dedupe key).

The endpoint URL is a bearer capability (anyone holding it and the keys can address that device
through its push service), so it is never logged nor written to the audit log.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
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
        ForeignKeyConstraint(["tenant_id", "user_id"], ["app_user.tenant_id", "app_user.id"], ondelete="CASCADE"),
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
    # The sign-in session that registered it: signing out there (or everywhere) removes it
    # (server/accounts/sessions.py), so a device nobody is signed in on is told nothing.
    session_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failure_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    # What staff see of a device that keeps failing (GET /api/staff/push/devices): the push
    # service's last answer, when the current run of failures began and when it last failed.
    last_error: Mapped[str | None] = mapped_column(String(200))
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_failure_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


DELIVERY_STATUSES = ("pending", "delivered", "failed")


class PushDelivery(TenantOwned, Base):
    """One notification to one subscription. Unique per (subscription, notification key), so a
    cause written twice, or a job run twice, sends once. Drill deliveries are marked."""

    __tablename__ = "push_delivery"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "subscription_id"],
            ["push_subscription.tenant_id", "push_subscription.id"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("tenant_id", "subscription_id", "notification_key"),
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status_known"),
        # Pruning reads the oldest finished rows of a tenant (server/push/prune.py).
        Index("ix_push_delivery_finished", "tenant_id", "created_at", postgresql_where="status <> 'pending'"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    subscription_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    notification_key: Mapped[str] = mapped_column(String(100), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    drill: Mapped[bool] = mapped_column(Boolean, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    last_status: Mapped[int | None] = mapped_column(Integer)  # HTTP status of the last attempt (0 = no answer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
