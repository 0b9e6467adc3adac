"""Disclosure fast path: registry keepers short-circuit the per-row visibility function, and the
bounding-box operator is marked LEAKPROOF when we may, so spatial indexes work under RLS.

Without LEAKPROOF, PostgreSQL evaluates the RLS policy before any non-leakproof qual, so
`location && tile` cannot be an index condition and a tile scans every household. Marking a
PostGIS C function needs a superuser: `scripts/pg.sh` and the Docker init script do it in the
template and app databases; here we try and carry on without it (slower, still correct).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 13:50:00
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHECK = "tenant_id = tonari_current_tenant() AND tonari_sees_all()"

FAST = [
    "DROP POLICY disclosure ON household",
    f"""CREATE POLICY disclosure ON household
        USING (tenant_id = tonari_current_tenant()
               AND (tonari_sees_all() OR tonari_household_visible(tenant_id, id, district_id, location)))
        WITH CHECK ({_CHECK})""",
    "DROP POLICY disclosure ON person",
    f"""CREATE POLICY disclosure ON person
        USING (tenant_id = tonari_current_tenant()
               AND (tonari_sees_all() OR tonari_person_visible(tenant_id, id, household_id)))
        WITH CHECK ({_CHECK})""",
    """DO $$
    BEGIN
        ALTER FUNCTION geometry_overlaps(geometry, geometry) LEAKPROOF;
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE NOTICE 'geometry_overlaps is not LEAKPROOF: tiles will not use the spatial index under RLS';
    END $$""",
]

SLOW = [
    "DROP POLICY disclosure ON household",
    f"""CREATE POLICY disclosure ON household
        USING (tonari_household_visible(tenant_id, id, district_id, location)) WITH CHECK ({_CHECK})""",
    "DROP POLICY disclosure ON person",
    f"""CREATE POLICY disclosure ON person
        USING (tonari_person_visible(tenant_id, id, household_id)) WITH CHECK ({_CHECK})""",
]


def upgrade() -> None:
    for statement in FAST:
        op.execute(statement)


def downgrade() -> None:
    for statement in SLOW:
        op.execute(statement)
