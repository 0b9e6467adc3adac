"""What each field device last said it still holds unsent for an operation (#17).

`device_unsent` is one row per (user, operation): the counts of records waiting and records the
server refused, as the user's device reported them the last time it was online, and when. Staff
closing an operation are warned about users whose devices still hold records for it
(docs/decisions/0006-visits-sync-events.md, addendum #17).

Revision ID: 0018
Revises: 0015
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.db.rls import disable_tenant_rls, enable_tenant_rls, execute_all

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "device_unsent",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("operation_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("waiting", sa.Integer(), server_default="0", nullable=False),
        sa.Column("refused", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("waiting >= 0 AND refused >= 0", name=op.f("ck_device_unsent_counts_positive")),
        sa.ForeignKeyConstraint(["tenant_id", "operation_id"], ["operation.tenant_id", "operation.id"],
                                name=op.f("fk_device_unsent_tenant_id_operation_id_operation"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id", "user_id"], ["app_user.tenant_id", "app_user.id"],
                                name=op.f("fk_device_unsent_tenant_id_user_id_app_user"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_device_unsent_tenant_id_tenant"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("tenant_id", "operation_id", "user_id", name=op.f("pk_device_unsent")),
    )
    execute_all(op, enable_tenant_rls("device_unsent"))


def downgrade() -> None:
    execute_all(op, disable_tenant_rls("device_unsent"))
    op.drop_table("device_unsent")
