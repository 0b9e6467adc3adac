"""Consent validity by the tenant's local date (tonari_today()), not the UTC session's current_date.

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from server.db.rls import execute_all
from server.db.migrations.frozen import disclosure_0010 as disclosure_sql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHECK = "tenant_id = tonari_current_tenant() AND tonari_sees_all()"


def upgrade() -> None:
    execute_all(op, disclosure_sql.FUNCTIONS)  # CREATE OR REPLACE, now comparing with tonari_today()
    op.execute("DROP POLICY disclosure ON household")
    op.execute(f"CREATE POLICY disclosure ON household USING ({disclosure_sql.HOUSEHOLD_POLICY_PROBING}) WITH CHECK ({_CHECK})")


def downgrade() -> None:
    pass  # the functions and policy stay in their (equivalent) local-date form
