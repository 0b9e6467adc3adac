"""The job queue the product shares (pgqueuer): its tables in a schema of their own, `jobs`.

pgqueuer 1.6's tables, enum, indexes and change trigger, frozen in
`server/db/migrations/frozen/pgqueuer_0016.py`. A schema of their own keeps the library's
machinery apart from the product's tables (the model drift check compares `public` only) and lets
the grants below be exact: the app's role reads and writes job rows and nothing more. The product
keeps what it knows about a job that belongs to a tenant in its own tenant-owned tables (for
push: `push_delivery`); a job row carries only an entrypoint name and a payload.
See docs/decisions/0023-job-queue.md.

Revision ID: 0016
Revises: 0015
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from server.db.migrations.frozen import pgqueuer_0016

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_GROUP = "tonari_app"

_GRANTS = [
    f"GRANT USAGE ON SCHEMA jobs TO {APP_GROUP}",
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA jobs TO {APP_GROUP}",
    f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA jobs TO {APP_GROUP}",
]


def upgrade() -> None:
    op.execute("CREATE SCHEMA jobs")
    for statement in pgqueuer_0016.INSTALL:
        op.execute(statement)
    for statement in _GRANTS:
        op.execute(statement)


def downgrade() -> None:
    for statement in pgqueuer_0016.UNINSTALL:
        op.execute(statement)
    op.execute("DROP SCHEMA IF EXISTS jobs CASCADE")
