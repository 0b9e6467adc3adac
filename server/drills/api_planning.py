"""`/api/drills/planning`: the planning tool on the coverage screen (`planning`).

Staff, admins and coordinators may run it; it returns counts and times per district, never a
household or a watcher, and runs over the households the viewer may see (the disclosure rule, as
coverage does), so it is not audited. Nothing is written.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get
from litestar.params import QueryParameter

from server.core.guards import roles
from server.core.problems import Problem
from server.db.deps import DbSession
from server.drills import planning
from vocab import DRILL_HAZARDS

PLANNERS = roles("admin", "staff", "coordinator")


class PlanningController(Controller):
    path = "/api/drills/planning"
    tags = ("drills",)

    @get(
        "/",
        guards=[PLANNERS],
        summary="If a disaster struck now: simulated time to first report and to 50 %/100 % confirmation per district,"
        " today and with added watchers",
    )
    async def plan(
        self,
        db_session: DbSession,
        added: Annotated[
            int, QueryParameter(ge=0, le=planning.MAX_ADDED, description="Watchers to add where they help most")
        ] = 0,
        hazard: Annotated[str, QueryParameter(max_length=32, description="A drill hazard code")] = "earthquake",
    ) -> Response[planning.Plan]:
        if hazard not in DRILL_HAZARDS:
            raise Problem(
                "bad_request",
                detail_ja=f"災害の種類 '{hazard}' は使えません（{'、'.join(DRILL_HAZARDS)}）。",
                detail_en=f"Unknown hazard '{hazard}' (use one of {', '.join(DRILL_HAZARDS)}).",
            )
        result = await planning.plan(db_session, added=added, hazard=hazard)
        await db_session.rollback()  # the simulation's scratch table goes with the transaction
        return Response(result, headers={"Cache-Control": "private, no-store"})
