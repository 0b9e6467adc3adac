"""The drill engine: runs of a scenario, their injects, the fired-once proof, conditions, marks.

Revision ID: 0021
Revises: 0015
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

from server.db.rls import disable_tenant_rls, enable_tenant_rls, execute_all

TENANT_TABLES = ("drill_run", "drill_inject", "drill_inject_fired", "drill_condition", "drill_mark", "drill_clock_log",
                 "drill_bot_step")

# Drill time at a wall time, from the run's clock log (the report maps people's visits with it).
DRILL_SIM = [
    """CREATE FUNCTION tonari_drill_sim(p_tenant uuid, p_run uuid, p_wall timestamptz) RETURNS double precision
    LANGUAGE sql STABLE AS $$
        SELECT CASE WHEN l.status = 'running' AND l.speed > 0
                    THEN l.sim_s + extract(epoch FROM (p_wall - l.wall)) * l.speed ELSE l.sim_s END
        FROM drill_clock_log l
        WHERE l.tenant_id = p_tenant AND l.run_id = p_run AND l.wall <= p_wall
        ORDER BY l.wall DESC, l.n DESC LIMIT 1
    $$""",
]

# Visits stay append-only, except that a drill's go with the drill once its report is archived:
# the deleting transaction names the operation, and only its drill visits can go.
VISIT_APPEND_ONLY_BUT_ARCHIVED_DRILLS = """CREATE OR REPLACE FUNCTION visit_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND OLD.mode = 'drill'
           AND OLD.operation_id::text = current_setting('tonari.delete_drill_operation', true)
           AND EXISTS (SELECT 1 FROM drill_run r WHERE r.tenant_id = OLD.tenant_id
                       AND r.operation_id = OLD.operation_id AND r.archived_at IS NOT NULL) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'visit is append-only: % is not allowed', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END $$"""

VISIT_APPEND_ONLY = """CREATE OR REPLACE FUNCTION visit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'visit is append-only: % is not allowed', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END $$"""

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tenant(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=f"fk_{table}_tenant_id_tenant", ondelete="RESTRICT"),
    ]


def upgrade() -> None:
    op.create_table(
        "drill_run",
        *_tenant("drill_run"),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("scenario_name", sa.String(length=200), nullable=True),
        sa.Column("scenario_yaml", sa.Text(), nullable=False),
        sa.Column("scenario", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("operation_id", sa.UUID(), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="running", nullable=False),
        sa.Column("speed", sa.Integer(), server_default="1", nullable=False),
        sa.Column("sim_anchor_s", sa.Float(), server_default="0", nullable=False),
        sa.Column("wall_anchor", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("clock_version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("duration_s", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("started_by", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('running', 'paused', 'stopped', 'finished')", name="ck_drill_run_status_known"),
        sa.CheckConstraint("speed IN (0, 1, 10, 60)", name="ck_drill_run_speed_known"),
        sa.ForeignKeyConstraint(["tenant_id", "operation_id"], ["operation.tenant_id", "operation.id"],
                                name="fk_drill_run_tenant_id_operation_id_operation", ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_drill_run"),
    )
    op.create_index("ix_drill_run_tenant_id_status", "drill_run", ["tenant_id", "status"])
    op.create_table(
        "drill_inject",
        *_tenant("drill_inject"),
        sa.Column("run_id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at_s", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("spec", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "run_id"], ["drill_run.tenant_id", "drill_run.id"],
                                name="fk_drill_inject_tenant_id_run_id_drill_run", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "run_id", "seq", name="pk_drill_inject"),
    )
    op.create_index("ix_drill_inject_due", "drill_inject", ["tenant_id", "run_id", "at_s"])
    op.create_table(
        "drill_inject_fired",
        *_tenant("drill_inject_fired"),
        sa.Column("run_id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sim_s", sa.Float(), nullable=False),
        sa.Column("effect", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "run_id", "seq"],
                                ["drill_inject.tenant_id", "drill_inject.run_id", "drill_inject.seq"],
                                name="fk_drill_inject_fired_tenant_id_run_id_seq_drill_inject", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "run_id", "seq", name="pk_drill_inject_fired"),
    )
    op.create_table(
        "drill_condition",
        *_tenant("drill_condition"),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("run_id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("district_id", sa.UUID(), nullable=True),
        sa.Column("shelter_id", sa.UUID(), nullable=True),
        sa.Column("geom", Geometry(geometry_type="GEOMETRY", srid=4326, spatial_index=False), nullable=True),
        sa.Column("from_s", sa.Float(), nullable=False),
        sa.Column("until_s", sa.Float(), nullable=True),
        sa.CheckConstraint("kind IN ('road_closure', 'district_unreachable', 'power_cut', 'shelter_full')",
                           name="ck_drill_condition_kind_known"),
        sa.ForeignKeyConstraint(["tenant_id", "run_id"], ["drill_run.tenant_id", "drill_run.id"],
                                name="fk_drill_condition_tenant_id_run_id_drill_run", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_drill_condition"),
    )
    op.create_index("ix_drill_condition_run", "drill_condition", ["tenant_id", "run_id"])
    op.create_table(
        "drill_mark",
        *_tenant("drill_mark"),
        sa.Column("run_id", sa.UUID(), nullable=False),
        sa.Column("expectation", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("marked_by", sa.UUID(), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("char_length(comment) <= 2000", name="ck_drill_mark_comment_length"),
        sa.ForeignKeyConstraint(["tenant_id", "run_id"], ["drill_run.tenant_id", "drill_run.id"],
                                name="fk_drill_mark_tenant_id_run_id_drill_run", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "run_id", "expectation", name="pk_drill_mark"),
    )
    op.create_table(
        "drill_clock_log",
        *_tenant("drill_clock_log"),
        sa.Column("run_id", sa.UUID(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("wall", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sim_s", sa.Float(), nullable=False),
        sa.Column("speed", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "run_id"], ["drill_run.tenant_id", "drill_run.id"],
                                name="fk_drill_clock_log_tenant_id_run_id_drill_run", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "run_id", "n", name="pk_drill_clock_log"),
    )
    op.create_table(
        "drill_bot_step",
        *_tenant("drill_bot_step"),
        sa.Column("run_id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at_s", sa.Float(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("household_id", sa.UUID(), nullable=True),
        sa.Column("escalation_id", sa.UUID(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("from_lon", sa.Float(), nullable=True),
        sa.Column("from_lat", sa.Float(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.String(length=32), nullable=True),
        sa.CheckConstraint("kind IN ('visit', 'acknowledge')", name="ck_drill_bot_step_kind_known"),
        sa.ForeignKeyConstraint(["tenant_id", "run_id"], ["drill_run.tenant_id", "drill_run.id"],
                                name="fk_drill_bot_step_tenant_id_run_id_drill_run", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "run_id", "seq", name="pk_drill_bot_step"),
    )
    op.create_index("ix_drill_bot_step_due", "drill_bot_step", ["tenant_id", "run_id", "at_s"])
    for table in TENANT_TABLES:
        execute_all(op, enable_tenant_rls(table))
    execute_all(op, DRILL_SIM)
    op.execute(VISIT_APPEND_ONLY_BUT_ARCHIVED_DRILLS)


def downgrade() -> None:
    op.execute(VISIT_APPEND_ONLY)
    op.execute("DROP FUNCTION IF EXISTS tonari_drill_sim(uuid, uuid, timestamptz)")
    for table in reversed(TENANT_TABLES):
        execute_all(op, disable_tenant_rls(table))
        op.drop_table(table)
