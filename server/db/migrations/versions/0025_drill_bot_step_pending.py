"""The drill engine (#19, batched bot steps): an index of the bot steps not yet done, by drill
time. Finding the next due step walked the whole run's index past every step already done (16 ms
at 42,572 of 100,000 done, twice per transaction); the partial index starts at the first undone.

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_drill_bot_step_pending",
        "drill_bot_step",
        ["tenant_id", "run_id", "at_s"],
        postgresql_where=sa.text("done_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_drill_bot_step_pending", table_name="drill_bot_step")
