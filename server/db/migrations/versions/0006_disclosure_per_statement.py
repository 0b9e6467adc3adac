"""Disclosure rule PostgreSQL can plan: tonari_household_visible() becomes inlinable (no sub-query
in its body), and the household RLS policy is the rule's per-statement form (viewer settings and
the disaster area as InitPlans, consent/assignment as inline EXISTS). Same rule, same results
(tests/test_disclosure.py); a responder's tile no longer runs three SQL functions per household.

Revision ID: 0006
Revises: 0005
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from server.db.rls import execute_all
from server.db.migrations.frozen import disclosure_0010 as disclosure_sql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHECK = "tenant_id = tonari_current_tenant() AND tonari_sees_all()"


def upgrade() -> None:
    execute_all(op, disclosure_sql.FUNCTIONS)  # CREATE OR REPLACE
    op.execute("DROP POLICY disclosure ON household")
    op.execute(f"CREATE POLICY disclosure ON household USING ({disclosure_sql.HOUSEHOLD_POLICY_PROBING}) WITH CHECK ({_CHECK})")


def downgrade() -> None:
    # Back to 0005's policy; the functions are whatever disclosure_sql holds (same results).
    op.execute("DROP POLICY disclosure ON household")
    op.execute(f"""CREATE POLICY disclosure ON household
        USING (tenant_id = tonari_current_tenant()
               AND (tonari_sees_all() OR tonari_household_visible(tenant_id, id, district_id, location)))
        WITH CHECK ({_CHECK})""")
