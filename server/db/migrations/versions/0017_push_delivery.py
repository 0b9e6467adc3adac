"""Push on the job queue: one `push_delivery` row per subscription and notification, and what
staff see of a device that keeps failing (`push_subscription.last_error`, `failing_since`,
`last_failure_at`), and the sign-in session that registered a device (`session_id`: signing out
removes the device's subscription). docs/decisions/0006-visits-sync-events.md (Addendum #16) says what the push
queue is now.

Revision ID: 0017
Revises: 0016
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from server.db.rls import disable_tenant_rls, enable_tenant_rls, execute_all

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("push_subscription", sa.Column("session_id", sa.String(length=64), nullable=True))
    op.add_column("push_subscription", sa.Column("last_error", sa.String(length=200), nullable=True))
    op.add_column("push_subscription", sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True))
    op.add_column("push_subscription", sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "push_delivery",
        sa.Column("tenant_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("subscription_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("notification_key", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("drill", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')", name=op.f("ck_push_delivery_status_known")),
        sa.ForeignKeyConstraint(["tenant_id", "subscription_id"],
                                ["push_subscription.tenant_id", "push_subscription.id"],
                                name=op.f("fk_push_delivery_tenant_id_subscription_id_push_subscription"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_push_delivery_tenant_id_tenant"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_push_delivery")),
        sa.UniqueConstraint("tenant_id", "subscription_id", "notification_key",
                            name=op.f("uq_push_delivery_tenant_id_subscription_id_notification_key")),
    )
    execute_all(op, enable_tenant_rls("push_delivery"))


def downgrade() -> None:
    execute_all(op, disable_tenant_rls("push_delivery"))
    op.drop_table("push_delivery")
    op.drop_column("push_subscription", "last_failure_at")
    op.drop_column("push_subscription", "failing_since")
    op.drop_column("push_subscription", "last_error")
    op.drop_column("push_subscription", "session_id")
