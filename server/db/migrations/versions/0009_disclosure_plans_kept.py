"""tonari_today() and tonari_disaster_area() in PL/pgSQL: same expressions, plans kept per session.

Both bodies hold a sub-query, so PostgreSQL never inlines them as SQL functions and parsed and
planned each body again in every statement that called them (≈ 0.05 ms per call site; the
commissioner's z14 tile has six: two dates and one area per copy of the rule, plus the tile's own
area). PL/pgSQL caches the plan for the session (≈ 0.01 ms per call). Still STABLE, so they read
with the calling statement's snapshot: lifting a declaration ends wider disclosure in the next
statement, as before. The policies reference the functions by OID and need no change.

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from server.db.rls import execute_all
from server.db.migrations.frozen import disclosure_0010 as disclosure_sql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 0008's bodies (LANGUAGE sql), for the downgrade.
_SQL_BODIES = [
    """CREATE OR REPLACE FUNCTION tonari_today() RETURNS date
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT (now() AT TIME ZONE coalesce(
           (SELECT time_zone FROM tenant WHERE id = tonari_current_tenant()), 'Asia/Tokyo'))::date $$""",
    """CREATE OR REPLACE FUNCTION tonari_disaster_area() RETURNS geometry
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT ST_Union(area) FROM disaster_declaration
       WHERE tenant_id = tonari_current_tenant() AND mode = 'real' AND lifted_at IS NULL $$""",
]


def upgrade() -> None:
    execute_all(op, disclosure_sql.FUNCTIONS)  # CREATE OR REPLACE (keeps OIDs, policies untouched)


def downgrade() -> None:
    execute_all(op, _SQL_BODIES)
