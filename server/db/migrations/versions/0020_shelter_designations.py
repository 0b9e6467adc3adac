"""One facility, every designation: a shelter row carries the list of its designations.

The national data lists a school that is both a 指定避難所 and a 指定緊急避難場所 twice (one row
per layout, the same facility number in the 共通ID and the same name); imported as two shelters it
showed twice on every map and list with nothing to tell them apart. `designations` names all of
them (`kind` stays the main one, designated when it is one, and counts as listed), the
emergency site's hazard flags go onto the facility, and its 共通ID into `other_source_ids` so a
later national file finds the facility again even if one layout renames it. Existing pairs are
merged here; an emergency-site row a visit names is left as it is (visits are append-only and
keep the shelter they reported).

Revision ID: 0020
Revises: 0015
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tenant by tenant: the migration role is under FORCE RLS and sees no row unstamped (as in 0011).
_MERGE = """DO $$
DECLARE t uuid;
BEGIN
    FOR t IN SELECT id FROM tenant LOOP
        PERFORM set_config('tonari.tenant_id', t::text, true);
        PERFORM set_config('tonari.role', 'system', true);
        UPDATE shelter SET designations = ARRAY[kind] WHERE tenant_id = t;
        WITH pairs AS MATERIALIZED (
            SELECT e.id AS emergency_id, d.id AS designated_id, e.hazards, e.source_id
            FROM shelter e
            JOIN shelter d ON d.tenant_id = e.tenant_id AND d.kind = 'designated' AND d.name = e.name
             AND left(d.source_id, 11) = left(e.source_id, 11)
            WHERE e.tenant_id = t AND e.kind = 'emergency_site' AND e.source_id ~ '^E[0-9]{10}'
              AND NOT EXISTS (SELECT 1 FROM visit v WHERE v.tenant_id = e.tenant_id AND v.shelter_id = e.id)
        ),
        merged AS (
            UPDATE shelter d SET designations = ARRAY['designated', 'emergency_site'],
                   other_source_ids = d.other_source_ids || p.source_id,
                   hazards = ARRAY(SELECT DISTINCT unnest(d.hazards || p.hazards) ORDER BY 1)
            FROM pairs p WHERE d.tenant_id = t AND d.id = p.designated_id
            RETURNING d.id
        ),
        plans AS (
            UPDATE evacuation_plan x SET destination_shelter_id = p.designated_id
            FROM pairs p WHERE x.tenant_id = t AND x.destination_shelter_id = p.emergency_id
            RETURNING x.id
        )
        DELETE FROM shelter s USING pairs p WHERE s.tenant_id = t AND s.id = p.emergency_id;
    END LOOP;
    PERFORM set_config('tonari.tenant_id', '', true);
    PERFORM set_config('tonari.role', '', true);
END $$"""


def upgrade() -> None:
    op.execute("ALTER TABLE shelter ADD COLUMN designations text[] NOT NULL DEFAULT '{}'")
    op.execute("ALTER TABLE shelter ADD COLUMN other_source_ids text[] NOT NULL DEFAULT '{}'")
    op.execute(_MERGE)
    op.execute("ALTER TABLE shelter ADD CONSTRAINT ck_shelter_designations_known CHECK ("
               "designations <@ ARRAY['designated', 'welfare', 'emergency_site']::text[])")


def downgrade() -> None:
    # Merged facilities stay one row (as the designated shelter): the pairs are not split again.
    op.execute("ALTER TABLE shelter DROP CONSTRAINT IF EXISTS ck_shelter_designations_known")
    op.execute("ALTER TABLE shelter DROP COLUMN IF EXISTS other_source_ids")
    op.execute("ALTER TABLE shelter DROP COLUMN IF EXISTS designations")
