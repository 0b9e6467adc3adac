"""`/api/drills`: the scenario schema and checks, runs and their clock, the after-action report."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody

from server.core.guards import STAFF, public
from server.core.problems import Problem
from server.drills import scenario as scenarios

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
    return ScenarioSummary(title=s.title, exercise=s.exercise, hazard=s.hazard.kind, injects=len(s.injects),
                           expectations=len(s.expectations), duration=s.duration, name=name)


class DrillScenarioController(Controller):
    path = "/api/drills"
    tags = ["drills"]

    @get("/scenario-schema", guards=[public], summary="The JSON Schema every drill scenario (YAML) is checked against",
         media_type=SCHEMA_MEDIA_TYPE)
    async def scenario_schema(self) -> Response[dict[str, Any]]:
        return Response(scenarios.schema(), media_type=SCHEMA_MEDIA_TYPE)

    @post("/scenarios/check", guards=[STAFF], status_code=200,
          summary="Check a scenario (errors name the line and field); nothing is stored")
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
