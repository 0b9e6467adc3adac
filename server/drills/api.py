"""`/api/drills`: the scenario schema and checks, runs and their clock, the after-action report."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Response, delete, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.core import context
from server.core.context import current_tenant
from server.core.guards import STAFF, public, roles, signed_in
from server.core.openapi import CSV
from server.core.problems import FieldError, Problem
from server.db.deps import DbSession
from server.drills import report, runs, schedule
from server.drills import scenario as scenarios
from server.drills.clock import MAX
from server.drills.models import DrillRun

COORDINATION = roles("admin", "staff", "coordinator", "commissioner")

SCHEMA_MEDIA_TYPE = "application/schema+json"


class ScenarioIn(msgspec.Struct, forbid_unknown_fields=True):
    yaml: Annotated[str, msgspec.Meta(max_length=scenarios.MAX_BYTES)]


class ScenarioSummary(msgspec.Struct):
    title: str
    exercise: str
    hazard: str
    injects: int
    expectations: int
    duration: str
    name: str | None = None


class ScenarioSource(msgspec.Struct):
    name: str
    yaml: str
    summary: ScenarioSummary


def summary(loaded: scenarios.Loaded, name: str | None = None) -> ScenarioSummary:
    s = loaded.scenario
    return ScenarioSummary(
        title=s.title,
        exercise=s.exercise,
        hazard=s.hazard.kind,
        injects=len(s.injects),
        expectations=len(s.expectations),
        duration=s.duration,
        name=name,
    )


class DrillScenarioController(Controller):
    path = "/api/drills"
    tags = ("drills",)

    @get(
        "/scenario-schema",
        guards=[public],
        summary="The JSON Schema every drill scenario (YAML) is checked against",
        media_type=SCHEMA_MEDIA_TYPE,
    )
    async def scenario_schema(self) -> Response[dict[str, Any]]:
        return Response(scenarios.schema(), media_type=SCHEMA_MEDIA_TYPE)

    @post(
        "/scenarios/check",
        guards=[STAFF],
        status_code=200,
        summary="Check a scenario (errors name the line and field); nothing is stored",
    )
    async def check_scenario(self, data: JSONBody[ScenarioIn]) -> ScenarioSummary:
        return summary(scenarios.load(data.yaml))

    @get("/scenarios", guards=[STAFF], summary="The scenarios shipped with Tonari (seed/scenarios)")
    async def list_scenarios(self) -> list[ScenarioSummary]:
        return [summary(scenarios.load(text), name) for name, text in scenarios.seed_scenarios().items()]

    @get("/scenarios/{name:str}", guards=[STAFF], summary="One shipped scenario, as YAML")
    async def get_scenario(self, name: FromPath[str]) -> ScenarioSource:
        text = scenarios.seed_scenarios().get(name)
        if text is None:
            raise Problem("not_found")
        return ScenarioSource(name=name, yaml=text, summary=summary(scenarios.load(text), name))


SPEED_CODES: dict[str, int] = {"1x": 1, "10x": 10, "60x": 60, "max": MAX}
Speed = Literal["1x", "10x", "60x", "max"]


def speed_code(speed: int) -> str:
    return next(code for code, value in SPEED_CODES.items() if value == speed)


class RunIn(msgspec.Struct, forbid_unknown_fields=True):
    """A shipped scenario by name, or a scenario file's text."""

    scenario: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    yaml: Annotated[str, msgspec.Meta(max_length=scenarios.MAX_BYTES)] | None = None
    speed: Speed = "1x"
    coordinator_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=100)] = []


class ClockIn(msgspec.Struct, forbid_unknown_fields=True):
    action: Literal["pause", "resume", "speed", "skip", "stop"]
    speed: Speed | None = None


class CentreRef(msgspec.Struct):
    """The drill centre a VC run opened (its screens: desk, console map, daily sheet of `opened_on`)."""

    operation_id: uuid.UUID
    opened_on: date


class RunOut(msgspec.Struct):
    id: uuid.UUID
    title: str
    label: str
    scenario_name: str | None
    operation_id: uuid.UUID | None
    exercise: str  # safety_check | vc
    centre: CentreRef | None  # a VC run's drill centre
    status: str
    speed: str
    clock: str  # T+minutes:seconds now
    clock_s: float
    duration: str
    injects: int
    fired: int
    next_inject: str | None
    created_at: datetime
    ended_at: datetime | None
    archived_at: datetime | None


async def run_out(db: AsyncSession, run: DrillRun) -> RunOut:
    now = await runs.db_now(db)
    sim = runs.clock_of(run).sim_at(now)
    counts = (
        await db.execute(
            text(
                "SELECT count(*) AS injects, count(f.seq) AS fired FROM drill_inject i LEFT JOIN drill_inject_fired f"
                " ON f.tenant_id = i.tenant_id AND f.run_id = i.run_id AND f.seq = i.seq"
                " WHERE i.tenant_id = :t AND i.run_id = :r"
            ),
            {"t": run.tenant_id, "r": run.id},
        )
    ).one()
    nxt = await runs.next_inject_at(db, run, 0)
    exercise = str(run.scenario.get("exercise") or "safety_check")
    centre = None
    if exercise == "vc" and run.operation_id is not None:
        opened = (
            await db.execute(
                text("SELECT opened_on FROM vc_centre WHERE tenant_id = :t AND operation_id = :o"),
                {"t": run.tenant_id, "o": run.operation_id},
            )
        ).scalar_one_or_none()
        centre = CentreRef(run.operation_id, opened) if opened is not None else None
    return RunOut(
        id=run.id,
        title=run.title,
        label=runs.DRILL,
        scenario_name=run.scenario_name,
        operation_id=run.operation_id,
        exercise=exercise,
        centre=centre,
        status=run.status,
        speed=speed_code(run.speed),
        clock=scenarios.format_time(sim),
        clock_s=round(sim, 3),
        duration=scenarios.format_time(run.duration_s),
        injects=counts.injects,
        fired=counts.fired,
        next_inject=scenarios.format_time(nxt) if nxt is not None else None,
        created_at=run.created_at,
        ended_at=run.ended_at,
        archived_at=run.archived_at,
    )


class DrillRunController(Controller):
    path = "/api/drills/runs"
    tags = ("drills",)

    @post(
        "/",
        guards=[STAFF],
        status_code=HTTP_201_CREATED,
        summary="Start a drill run from a scenario: its drill operation starts and its clock runs",
    )
    async def start_run(self, db_session: DbSession, data: JSONBody[RunIn]) -> RunOut:
        if (data.scenario is None) == (data.yaml is None):
            raise Problem(
                "validation_failed",
                errors=[
                    FieldError(
                        "scenario",
                        "required",
                        "シナリオ名（scenario）かシナリオの本文（yaml）のどちらか一方を指定してください。",
                        "Give either a shipped scenario's name (scenario) or a scenario file's text (yaml).",
                    )
                ],
            )
        source = data.yaml
        if data.scenario is not None:
            source = scenarios.seed_scenarios().get(data.scenario)
            if source is None:
                raise Problem("invalid_reference", errors=[FieldError("scenario", "unknown_reference")])
        assert source is not None
        loaded = scenarios.load(source)
        run = await runs.start(
            db_session, loaded, speed=SPEED_CODES[data.speed], name=data.scenario, coordinator_ids=data.coordinator_ids
        )
        await schedule.schedule_now(db_session, run)
        await db_session.commit()
        return await run_out(db_session, run)

    @get("/", guards=[COORDINATION], summary="Drill runs, newest first (or the run of one drill operation or centre)")
    async def list_runs(
        self,
        db_session: DbSession,
        operation_id: Annotated[
            uuid.UUID | None,
            QueryParameter(description="Only the run whose drill operation (or drill centre) this is"),
        ] = None,
    ) -> list[RunOut]:
        query = select(DrillRun).where(DrillRun.tenant_id == current_tenant())
        if operation_id is not None:
            query = query.where(DrillRun.operation_id == operation_id)
        found = (await db_session.execute(query.order_by(DrillRun.created_at.desc()).limit(200))).scalars().all()
        return [await run_out(db_session, r) for r in found]

    @get("/{run_id:uuid}", guards=[COORDINATION], summary="One drill run and its clock")
    async def get_run(self, db_session: DbSession, run_id: FromPath[uuid.UUID]) -> RunOut:
        return await run_out(db_session, await runs.get(db_session, run_id))

    @post(
        "/{run_id:uuid}/clock",
        guards=[STAFF],
        status_code=200,
        summary="Pause, resume, change speed, skip to the next inject, or stop",
    )
    async def control_clock(
        self, db_session: DbSession, run_id: FromPath[uuid.UUID], data: JSONBody[ClockIn]
    ) -> RunOut:
        if data.action == "speed" and data.speed is None:
            raise Problem("validation_failed", errors=[FieldError("speed", "required")])
        run = await runs.control(
            db_session, run_id, data.action, SPEED_CODES[data.speed] if data.speed is not None else None
        )
        await schedule.schedule_now(db_session, run)
        await db_session.commit()
        return await run_out(db_session, run)

    @delete(
        "/{run_id:uuid}",
        guards=[STAFF],
        status_code=204,
        summary="Delete a drill and all its data (its report must be archived first)",
    )
    async def delete_run(self, db_session: DbSession, run_id: FromPath[uuid.UUID]) -> None:
        run = await runs.get(db_session, run_id, lock=True)
        await runs.delete(db_session, run)
        await db_session.commit()

    @get(
        "/{run_id:uuid}/conditions",
        guards=[signed_in],
        summary="The drill's situation now: closed roads, cut-off districts, power cuts, full shelters (GeoJSON)",
    )
    async def conditions(self, db_session: DbSession, run_id: FromPath[uuid.UUID]) -> dict[str, Any]:
        if (context.current().role or "") == "vc_volunteer":
            raise Problem("forbidden")
        run = await runs.get(db_session, run_id)
        sim = runs.clock_of(run).sim_at(await runs.db_now(db_session))
        rows = (
            await db_session.execute(
                text(
                    "SELECT c.id, c.kind, c.district_id, c.shelter_id, c.from_s, c.until_s, ST_AsGeoJSON(c.geom) AS geom"
                    " FROM drill_condition c WHERE c.tenant_id = :t AND c.run_id = :r AND c.from_s <= :sim"
                    "   AND (c.until_s IS NULL OR c.until_s > :sim) ORDER BY c.from_s, c.seq"
                ),
                {"t": run.tenant_id, "r": run.id, "sim": sim},
            )
        ).all()
        return {
            "type": "FeatureCollection",
            "drill": True,
            "label": runs.DRILL,
            "clock": scenarios.format_time(sim),
            "offline_district_ids": [str(r.district_id) for r in rows if r.kind == "power_cut" and r.district_id],
            "field_offline": any(r.kind == "power_cut" for r in rows),
            "features": [
                {
                    "type": "Feature",
                    "id": str(r.id),
                    "geometry": msgspec.json.decode(r.geom) if r.geom else None,
                    "properties": {
                        "kind": r.kind,
                        "district_id": str(r.district_id) if r.district_id else None,
                        "shelter_id": str(r.shelter_id) if r.shelter_id else None,
                        "from": scenarios.format_time(r.from_s),
                        "until": scenarios.format_time(r.until_s) if r.until_s else None,
                    },
                }
                for r in rows
            ],
        }


class MarkIn(msgspec.Struct, forbid_unknown_fields=True):
    passed: bool
    comment: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class DrillReportController(Controller):
    path = "/api/drills/runs/{run_id:uuid}"
    tags = ("drills",)

    @get("/report", guards=[COORDINATION], summary="The after-action report (振り返り): timeline, ○/×, curves")
    async def get_report(self, db_session: DbSession, run_id: FromPath[uuid.UUID]) -> dict[str, Any]:
        run = await runs.get(db_session, run_id)
        return run.report if run.report is not None else await report.build(db_session, run)

    @get(
        "/compare/{other_id:uuid}",
        guards=[COORDINATION],
        summary="Two runs' reports side by side (this year's drill against last year's), with their VC parts",
    )
    async def compare(
        self, db_session: DbSession, run_id: FromPath[uuid.UUID], other_id: FromPath[uuid.UUID]
    ) -> dict[str, Any]:
        reports = []
        for rid in (run_id, other_id):
            run = await runs.get(db_session, rid)
            reports.append(run.report if run.report is not None else await report.build(db_session, run))
        return report.compare(reports[0], reports[1])

    @get(
        "/report.csv",
        guards=[COORDINATION],
        media_type=CSV,
        summary="The raw timeline of a drill as CSV",
        responses={
            200: ResponseSpec(bytes, description="CSV (UTF-8 with BOM)", media_type=CSV, generate_examples=False)
        },
    )
    async def report_csv(self, db_session: DbSession, run_id: FromPath[uuid.UUID]) -> Response[bytes]:
        run = await runs.get(db_session, run_id)
        built = run.report if run.report is not None else await report.build(db_session, run)
        return Response(
            report.timeline_csv(built),
            media_type=CSV,
            encoding="utf-8",
            headers={"Content-Disposition": f'attachment; filename="drill-{run.id}-timeline.csv"'},
        )

    @post(
        "/marks/{expectation:int}",
        guards=[STAFF],
        status_code=200,
        summary="An evaluator's ○/× and comment for one expectation",
    )
    async def mark(
        self, db_session: DbSession, run_id: FromPath[uuid.UUID], expectation: FromPath[int], data: JSONBody[MarkIn]
    ) -> dict[str, Any]:
        run = await runs.get(db_session, run_id, lock=True)
        await runs.mark(db_session, run, expectation, data.passed, data.comment)
        await db_session.commit()
        return {"expectation": expectation, "passed": data.passed, "comment": data.comment}

    @post(
        "/archive",
        guards=[STAFF],
        status_code=200,
        summary="Keep the report as it is now (the run must have ended); then the drill can be deleted",
    )
    async def archive(self, db_session: DbSession, run_id: FromPath[uuid.UUID]) -> RunOut:
        run = await runs.get(db_session, run_id, lock=True)
        await runs.archive(db_session, run, await report.build(db_session, run))
        await db_session.commit()
        return await run_out(db_session, run)
