"""Account management and trusted devices (issue #14, items 4 and "Accounts").

- `app_user.must_change_password`: set by an admin's password reset; while it is set the API
  answers only me / change-password / logout (server/core/guards.py).
- `app_user.last_login_at`: shown in the admins' user list.
- `login_failure.device_key`: a failure made with a valid device cookie is counted against that
  device only, never against the account's or the client's budget for untrusted attempts
  (docs/decisions/0003, addendum).
- `tonari_authenticate()` also returns `must_change_password`. Its result type changes, so it is
  dropped and created again; the body is 0011's with that one column added
  (frozen/authenticate.py).

Revision ID: 0012
Revises: 0011
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.db.migrations.frozen import authenticate

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SIGNATURE = "tonari_authenticate(uuid, text, interval, interval)"

def upgrade() -> None:
    op.add_column("app_user", sa.Column("must_change_password", sa.Boolean(), server_default="false", nullable=False))
    op.add_column("app_user", sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("login_failure", sa.Column("device_key", sa.String(length=64), nullable=True))
    op.create_index("ix_login_failure_device_key_at", "login_failure", ["device_key", "at"], unique=False)
    op.execute(f"DROP FUNCTION {_SIGNATURE}")
    op.execute(authenticate.V0012)


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {_SIGNATURE}")
    op.execute(authenticate.V0011)
    op.drop_index("ix_login_failure_device_key_at", table_name="login_failure")
    op.drop_column("login_failure", "device_key")
    op.drop_column("app_user", "last_login_at")
    op.drop_column("app_user", "must_change_password")
