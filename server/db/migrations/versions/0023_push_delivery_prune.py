"""An index for pruning finished push deliveries (server/push/prune.py): each hourly batch reads
the oldest delivered/failed rows of one tenant from it instead of scanning the whole table.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_push_delivery_finished ON push_delivery (tenant_id, created_at) WHERE status <> 'pending'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_push_delivery_finished")
