"""A 避難済 (evacuated) visit names its shelter, or says explicitly that the destination is unknown.

`visit.shelter_unknown` records 「避難先がわからない」 as a fact of its own, so an evacuated visit
without a shelter is a statement, never a gap. The check holds for every visit written from now on;
it is NOT VALID because visits are append-only records and older ones are kept exactly as they were
reported (docs/decisions/0017-small-trust-fixes.md).

Revision ID: 0015
Revises: 0014
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE visit ADD COLUMN shelter_unknown boolean NOT NULL DEFAULT false")
    op.execute("ALTER TABLE visit ADD CONSTRAINT ck_visit_evacuated_destination"
               " CHECK (outcome <> 'evacuated' OR shelter_id IS NOT NULL OR shelter_unknown) NOT VALID")
    op.execute("ALTER TABLE visit ADD CONSTRAINT ck_visit_shelter_or_unknown"
               " CHECK (NOT (shelter_unknown AND shelter_id IS NOT NULL))")


def downgrade() -> None:
    op.execute("ALTER TABLE visit DROP CONSTRAINT IF EXISTS ck_visit_shelter_or_unknown")
    op.execute("ALTER TABLE visit DROP CONSTRAINT IF EXISTS ck_visit_evacuated_destination")
    op.execute("ALTER TABLE visit DROP COLUMN IF EXISTS shelter_unknown")
