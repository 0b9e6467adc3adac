"""Each household carries a summary of its roster consents; the household policy reads it.

The responders' rule probed `consent` once per household row (≈ 6 µs each, most of a
commissioner's z14 tile). Now `household` has one date multirange per recipient class a role reads
with (社協 → council, 民生委員 → commissioner, 見守り協力員 → watcher): the days on which someone
in the household has a roster consent for that class. The rule tests "today" against the viewer's
column, so consent still starts and ends by the calendar without any nightly job. Statement-level
triggers on `consent` keep the summary (server/registry/disclosure_sql.py, CONSENT_SUMMARY);
`consent` stays the record of what was given and withdrawn, and the per-row rendering of the rule
(tonari_household_visible) still probes it, so a stale summary could only hide, never show.

Revision ID: 0010
Revises: 0009
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from server.db.rls import execute_all
from server.db.migrations.frozen import disclosure_0010 as disclosure_sql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHECK = "tenant_id = tonari_current_tenant() AND tonari_sees_all()"
_COLUMNS = [f"roster_consent_{cls}" for cls in disclosure_sql.SUMMARISED_CLASSES]


def upgrade() -> None:
    for column in _COLUMNS:
        op.execute(f"ALTER TABLE household ADD COLUMN {column} datemultirange NOT NULL DEFAULT '{{}}'")
    execute_all(op, disclosure_sql.CONSENT_SUMMARY)
    # Backfill tenant by tenant, stamped as the internal 'system' role: the migration runs as the
    # app role, which owns the tables under FORCE RLS and sees no household unstamped.
    op.execute("""DO $$
    DECLARE t uuid; v_tenants uuid[]; v_households uuid[];
    BEGIN
        FOR t IN SELECT id FROM tenant LOOP
            PERFORM set_config('tonari.tenant_id', t::text, true);
            PERFORM set_config('tonari.role', 'system', true);
            SELECT array_agg(tenant_id), array_agg(id) INTO v_tenants, v_households
            FROM household WHERE tenant_id = t;
            IF v_households IS NOT NULL THEN
                PERFORM tonari_summarise_consent(v_tenants, v_households);
            END IF;
        END LOOP;
        PERFORM set_config('tonari.tenant_id', '', true);
        PERFORM set_config('tonari.role', '', true);
    END $$""")
    op.execute("DROP POLICY disclosure ON household")
    op.execute(f"CREATE POLICY disclosure ON household USING ({disclosure_sql.HOUSEHOLD_POLICY}) WITH CHECK ({_CHECK})")


def downgrade() -> None:
    op.execute("DROP POLICY disclosure ON household")
    op.execute(f"CREATE POLICY disclosure ON household USING ({disclosure_sql.HOUSEHOLD_POLICY_PROBING}) WITH CHECK ({_CHECK})")
    execute_all(op, disclosure_sql.DROP_CONSENT_SUMMARY)
    for column in _COLUMNS:
        op.execute(f"ALTER TABLE household DROP COLUMN {column}")
