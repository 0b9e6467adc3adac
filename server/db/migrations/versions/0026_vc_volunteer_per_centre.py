"""A volunteer's login in several centres (#18): `vc_volunteer` was unique per (tenant, user), so
one login could be linked to a volunteer in one centre only; someone who helps at this week's
centre and a later one (or a drill and a real centre) needs one login for both. Unique per
(tenant, operation, user) instead: still one volunteer record per login and centre.

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint("uq_vc_volunteer_tenant_id_user_id", "vc_volunteer", type_="unique")
    op.create_unique_constraint(
        "uq_vc_volunteer_tenant_id_operation_id_user_id", "vc_volunteer", ["tenant_id", "operation_id", "user_id"]
    )


def downgrade() -> None:
    # Fails while a login is linked in two centres: unlink one first (the older rule cannot hold them).
    op.drop_constraint("uq_vc_volunteer_tenant_id_operation_id_user_id", "vc_volunteer", type_="unique")
    op.create_unique_constraint("uq_vc_volunteer_tenant_id_user_id", "vc_volunteer", ["tenant_id", "user_id"])
