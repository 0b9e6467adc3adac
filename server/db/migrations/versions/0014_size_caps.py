"""Size caps on the free texts and JSON lists that had none (#14 item 9).

The API's body types cap them too (server/core/types.py NOTE_MAX and the registry schemas); these
checks hold every other writer (imports, scripts) to the same sizes. Rows written before this
migration may be longer: each check is added NOT VALID (enforced for every new or changed row from
now on) and then validated where the existing rows allow, so a database holding an older, longer
note still migrates, and nothing stored is cut. Decision 0016.

Revision ID: 0014
Revises: 0013
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, constraint, condition): the SQL as it was written for this revision.
CHECKS: list[tuple[str, str, str]] = [
    ("household", "ck_household_notes_length", "char_length(notes) <= 2000"),
    ("person", "ck_person_notes_length", "char_length(notes) <= 2000"),
    ("person", "ck_person_communication_needs_length", "char_length(communication_needs) <= 500"),
    ("person", "ck_person_emergency_contacts_count",
     "jsonb_typeof(emergency_contacts) = 'array' AND jsonb_array_length(emergency_contacts) <= 10"),
    ("evacuation_plan", "ck_evacuation_plan_route_notes_length", "char_length(route_notes) <= 2000"),
    ("evacuation_plan", "ck_evacuation_plan_supporters_count",
     "jsonb_typeof(supporters) = 'array' AND jsonb_array_length(supporters) <= 20"),
    ("shelter", "ck_shelter_note_length", "char_length(note) <= 2000"),
    ("visit", "ck_visit_note_length", "char_length(note) <= 2000"),
    ("escalation", "ck_escalation_notes_length", "char_length(notes) <= 20000"),
    ("disaster_declaration", "ck_disaster_declaration_reason_length", "char_length(reason) <= 2000"),
    ("disaster_declaration", "ck_disaster_declaration_lift_reason_length", "char_length(lift_reason) <= 2000"),
]


def upgrade() -> None:
    for table, name, condition in CHECKS:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({condition}) NOT VALID")
        op.execute(f"""DO $$
        BEGIN
            ALTER TABLE {table} VALIDATE CONSTRAINT {name};
        EXCEPTION WHEN check_violation THEN
            RAISE NOTICE '{table}: rows written before the cap exceed {name}; it holds for new writes only';
        END $$""")


def downgrade() -> None:
    for table, name, _ in reversed(CHECKS):
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")
