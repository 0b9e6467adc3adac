"""Drill VC bots: a bot step may be a look at the volunteer centre's board (`vc_desk`).

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The CHECK on the step's kind, whatever name 0021's naming convention gave it.
DROP_KIND_CHECK = """DO $$
    DECLARE c text;
    BEGIN
        SELECT conname INTO c FROM pg_constraint
        WHERE conrelid = 'drill_bot_step'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%acknowledge%';
        EXECUTE format('ALTER TABLE drill_bot_step DROP CONSTRAINT %I', c);
    END $$"""


def upgrade() -> None:
    op.execute(DROP_KIND_CHECK)
    op.execute(
        "ALTER TABLE drill_bot_step ADD CONSTRAINT ck_drill_bot_step_kind_known"
        " CHECK (kind IN ('visit', 'acknowledge', 'vc_desk'))"
    )


def downgrade() -> None:
    op.execute("DELETE FROM drill_bot_step WHERE kind = 'vc_desk'")
    op.execute(DROP_KIND_CHECK)
    op.execute(
        "ALTER TABLE drill_bot_step ADD CONSTRAINT ck_drill_bot_step_kind_known CHECK (kind IN ('visit', 'acknowledge'))"
    )
