"""The public pre-registration page's rate limit in PostgreSQL (#18): one row per attempt and
client (a hash of its address), counted in a sliding window, so every app server shares one limit
(a per-process counter let two workers allow twice as many). Not tenant-owned, like
`login_failure`: the limit is per client and is checked before the council is looked up.

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vc_public_hit",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vc_public_hit")),
    )
    op.create_index("ix_vc_public_hit_client_key_at", "vc_public_hit", ["client_key", "at"], unique=False)
    op.create_index("ix_vc_public_hit_at", "vc_public_hit", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_vc_public_hit_at", table_name="vc_public_hit")
    op.drop_index("ix_vc_public_hit_client_key_at", table_name="vc_public_hit")
    op.drop_table("vc_public_hit")
