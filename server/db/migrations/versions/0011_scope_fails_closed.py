"""District scope fails closed; disaster mode discloses only to the extent evacuation support needs.

- `app_user.all_districts`: whole-tenant access is an explicit property of the user. No scope rows
  without it means no district at all (before, it meant the whole tenant, so deleting a user's
  only district made them tenant-wide). Users who had no scope rows keep what they had.
- `user_district_scope` no longer cascades when a district is deleted (RESTRICT): the API refuses
  such a delete with a 409 naming what depends on the district.
- A district can never become its own ancestor (a trigger checks every parent change).
- The disclosure rule (frozen text in frozen/disclosure_0011.py): under a real declaration
  watchers see unconsented households only where they are assigned in an active real operation of
  that declaration (49条の11③; PRODUCT.md §3, docs/decisions/0005-disclosure.md).
- `tonari_authenticate()` reads `all_districts`.

Revision ID: 0011
Revises: 0010
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from server.db.migrations.frozen import authenticate, disclosure_0010, disclosure_0011
from server.db.rls import execute_all

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHECK = "tenant_id = tonari_current_tenant() AND tonari_sees_all()"
_SCOPE_FK = "fk_user_district_scope_tenant_id_district_id_district"

_NO_CYCLE = [
    """CREATE OR REPLACE FUNCTION tonari_district_no_cycle() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.parent_id IS NOT NULL AND EXISTS (
            WITH RECURSIVE up AS (
                SELECT id, parent_id FROM district WHERE tenant_id = NEW.tenant_id AND id = NEW.parent_id
                UNION
                SELECT d.id, d.parent_id FROM district d JOIN up ON d.id = up.parent_id
                WHERE d.tenant_id = NEW.tenant_id
            ) SELECT 1 FROM up WHERE id = NEW.id) THEN
            RAISE EXCEPTION 'district % would become its own ancestor', NEW.id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'district_no_cycle';
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER district_no_cycle BEFORE INSERT OR UPDATE OF parent_id ON district
        FOR EACH ROW EXECUTE FUNCTION tonari_district_no_cycle()""",
]


def upgrade() -> None:
    op.execute("ALTER TABLE app_user ADD COLUMN all_districts boolean NOT NULL DEFAULT false")
    # Users with no scope rows had the whole tenant: say so explicitly. Tenant by tenant, since the
    # migration role is under FORCE RLS and sees no user unstamped.
    op.execute("""DO $$
    DECLARE t uuid;
    BEGIN
        FOR t IN SELECT id FROM tenant LOOP
            PERFORM set_config('tonari.tenant_id', t::text, true);
            UPDATE app_user u SET all_districts = true
             WHERE u.tenant_id = t AND NOT EXISTS (
                   SELECT 1 FROM user_district_scope s WHERE s.tenant_id = u.tenant_id AND s.user_id = u.id);
        END LOOP;
        PERFORM set_config('tonari.tenant_id', '', true);
    END $$""")
    op.drop_constraint(_SCOPE_FK, "user_district_scope", type_="foreignkey")
    op.create_foreign_key(_SCOPE_FK, "user_district_scope", "district", ["tenant_id", "district_id"],
                          ["tenant_id", "id"], ondelete="RESTRICT")
    execute_all(op, _NO_CYCLE)
    op.execute(authenticate.V0011)
    # Where a watcher is assigned in an operation, by household (the disaster rule's probe).
    op.create_index("ix_operation_target_household", "operation_target", ["tenant_id", "household_id"])
    execute_all(op, disclosure_0011.FUNCTIONS)
    op.execute("DROP POLICY disclosure ON household")
    op.execute(f"CREATE POLICY disclosure ON household USING ({disclosure_0011.HOUSEHOLD_POLICY}) WITH CHECK ({_CHECK})")


def downgrade() -> None:
    op.execute("DROP POLICY disclosure ON household")
    op.execute(f"CREATE POLICY disclosure ON household USING ({disclosure_0010.HOUSEHOLD_POLICY}) WITH CHECK ({_CHECK})")
    execute_all(op, disclosure_0010.FUNCTIONS)  # person_visible back on under_disaster first
    for drop in ("tonari_household_disaster_applies(uuid, uuid, geometry)",
                 "tonari_household_op_assigned(uuid, uuid, geometry)", "tonari_my_watcher_ids()"):
        op.execute(f"DROP FUNCTION IF EXISTS {drop}")
    op.drop_index("ix_operation_target_household", "operation_target")
    op.execute(authenticate.V0008)
    op.execute("DROP TRIGGER IF EXISTS district_no_cycle ON district")
    op.execute("DROP FUNCTION IF EXISTS tonari_district_no_cycle()")
    op.drop_constraint(_SCOPE_FK, "user_district_scope", type_="foreignkey")
    op.create_foreign_key(_SCOPE_FK, "user_district_scope", "district", ["tenant_id", "district_id"],
                          ["tenant_id", "id"], ondelete="CASCADE")
    op.execute("ALTER TABLE app_user DROP COLUMN all_districts")
