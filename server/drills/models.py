"""Drill runs: the scenario a run plays, its clock, its injects and what each one did.

The clock is stored, never held in memory: while running, the drill's elapsed time is
`sim_anchor_s + (now - wall_anchor) × speed`; pause, resume, a speed change or a skip re-anchor
it. An inject fires once: its `drill_inject_fired` row (primary key: run and inject) is written in
the same transaction as its effect, so a restart, a second worker or a retry can neither fire it
twice nor lose it (decision record 0026-drill-engine).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import CheckConstraint, DateTime, Float, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, TenantOwned, tenant_fk, uuid7

# Speeds a clock runs at; 0 is "as fast as possible" (the clock jumps to the next due event).
SPEEDS = (1, 10, 60, 0)
RUN_STATUSES = ("running", "paused", "stopped", "finished")


class DrillRun(TenantOwned, Base):
    __tablename__ = "drill_run"
    __table_args__ = (
        tenant_fk(["operation_id"], "operation", ondelete="RESTRICT"),
        CheckConstraint("status IN ('running', 'paused', 'stopped', 'finished')", name="status_known"),
        CheckConstraint("speed IN (0, 1, 10, 60)", name="speed_known"),
        Index("ix_drill_run_tenant_id_status", "tenant_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    scenario_name: Mapped[str | None] = mapped_column(String(200))  # a seed scenario's file stem
    scenario_yaml: Mapped[str] = mapped_column(Text, nullable=False)
    scenario: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    operation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="running")
    speed: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    sim_anchor_s: Mapped[float] = mapped_column(Float, nullable=False, server_default="0")
    wall_anchor: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    # Bumped by every change of the clock; a scheduled job of an older version queues no successor.
    clock_version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    duration_s: Mapped[int] = mapped_column(Integer, nullable=False)
    seed: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    started_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    report: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # the archived after-action report
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DrillInject(TenantOwned, Base):
    """One inject of a run's scenario, in firing order (`seq`): due at `at_s` of the drill's clock."""

    __tablename__ = "drill_inject"
    __table_args__ = (
        tenant_fk(["run_id"], "drill_run", ondelete="CASCADE"),
        Index("ix_drill_inject_due", "tenant_id", "run_id", "at_s"),
    )

    run_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at_s: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    audience: Mapped[str] = mapped_column(String(16), nullable=False)
    spec: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)  # the scenario's inject as written


class DrillInjectFired(TenantOwned, Base):
    """The proof an inject fired, written with its effect (one row per run and inject, ever)."""

    __tablename__ = "drill_inject_fired"
    __table_args__ = (tenant_fk(["run_id", "seq"], "drill_inject", ["run_id", "seq"], ondelete="CASCADE"),)

    run_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    fired_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()
    )
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)  # wall time it was due
    sim_s: Mapped[float] = mapped_column(Float, nullable=False)  # the drill's clock when it fired
    effect: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")


class DrillCondition(TenantOwned, Base):
    """A situation an inject put in place: a closed road (drawn on the map), a district cut off,
    a power cut that takes the field offline, a full shelter. From `from_s` until `until_s` of the
    drill's clock (open-ended when null)."""

    __tablename__ = "drill_condition"
    __table_args__ = (
        tenant_fk(["run_id"], "drill_run", ondelete="CASCADE"),
        CheckConstraint(
            "kind IN ('road_closure', 'district_unreachable', 'power_cut', 'shelter_full')", name="kind_known"
        ),
        Index("ix_drill_condition_run", "tenant_id", "run_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    run_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    district_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    shelter_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    geom: Mapped[Any | None] = mapped_column(Geometry("GEOMETRY", 4326, spatial_index=False))
    from_s: Mapped[float] = mapped_column(Float, nullable=False)
    until_s: Mapped[float | None] = mapped_column(Float)


class DrillMark(TenantOwned, Base):
    """An evaluator's ○/× for one expectation of a run, with a comment."""

    __tablename__ = "drill_mark"
    __table_args__ = (
        tenant_fk(["run_id"], "drill_run", ondelete="CASCADE"),
        CheckConstraint("char_length(comment) <= 2000", name="comment_length"),
    )

    run_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    expectation: Mapped[int] = mapped_column(Integer, primary_key=True)
    passed: Mapped[bool] = mapped_column(nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    marked_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    marked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class DrillClockLog(TenantOwned, Base):
    """Every setting of a run's clock, in order: maps any wall time of the run to drill time
    (for visits and acknowledgements made by people, which carry only wall times)."""

    __tablename__ = "drill_clock_log"
    __table_args__ = (tenant_fk(["run_id"], "drill_run", ondelete="CASCADE"),)

    run_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, primary_key=True)
    wall: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    sim_s: Mapped[float] = mapped_column(Float, nullable=False)
    speed: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)


class DrillBotStep(TenantOwned, Base):
    """One planned action of a simulated actor: a watcher bot reaching a household and recording
    what it found, or a coordinator bot acknowledging an escalation. Done at most once (`done_at`
    set in the transaction that records it; the visit's client id is derived from the step)."""

    __tablename__ = "drill_bot_step"
    __table_args__ = (
        tenant_fk(["run_id"], "drill_run", ondelete="CASCADE"),
        CheckConstraint("kind IN ('visit', 'acknowledge', 'vc_desk')", name="kind_known"),
        Index("ix_drill_bot_step_due", "tenant_id", "run_id", "at_s"),
        # the next due step: a walk from the first step not yet done, not past all the done ones
        Index("ix_drill_bot_step_pending", "tenant_id", "run_id", "at_s", postgresql_where="done_at IS NULL"),
    )

    run_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at_s: Mapped[float] = mapped_column(Float, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    household_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    escalation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    outcome: Mapped[str | None] = mapped_column(String(16))
    from_lon: Mapped[float | None] = mapped_column(Float)  # where the bot walks from (its home or last household)
    from_lat: Mapped[float | None] = mapped_column(Float)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    result: Mapped[str | None] = mapped_column(String(32))  # accepted | refused:<code> | blocked | acknowledged
