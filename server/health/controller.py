"""Liveness (the process answers) and readiness (the database answers and is migrated)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get
from sqlalchemy import text

from server.audit.chain import app_role_owns_tables
from server.core.guards import public
from server.core.problems import Problem
from server.services import services


class Health(msgspec.Struct):
    status: str
    database: str | None = None
    schema_revision: str | None = None
    # "degraded": PostGIS's && is not LEAKPROOF here, so map tiles cannot use the spatial index
    # under row-level security (see README, docs/decisions/0005-disclosure.md). Still ready.
    spatial_index: str | None = None
    # "owner": the app signs in as the role that owns the tables, so it could switch off the audit
    # log's protections and row-level security (README, "Production notes"). "dml": as it should.
    database_role: str | None = None


class HealthController(Controller):
    path = "/health"
    tags = ("health",)
    guards = (public,)

    @get("/live", summary="Liveness")
    async def live(self) -> Health:
        return Health(status="ok")

    @get("/ready", summary="Readiness: database reachable and migrated")
    async def ready(self, request: Request[Any, Any, Any]) -> Health:
        engine = services(request.app).engine
        try:
            async with engine.connect() as conn:
                revision = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
                leakproof = (
                    await conn.execute(
                        text("SELECT proleakproof FROM pg_proc WHERE proname = 'geometry_overlaps' AND pronargs = 2")
                    )
                ).scalar()
                owner = await app_role_owns_tables(conn)
        except Exception as exc:  # any failure means "not ready"; the reason goes to the log only
            raise Problem(
                "service_unavailable",
                detail_ja="データベースに接続できません。",
                detail_en="The database is not reachable or not migrated.",
            ) from exc
        return Health(
            status="ok",
            database="ok",
            schema_revision=revision,
            spatial_index="ok" if leakproof else "degraded",
            database_role="owner" if owner else "dml",
        )
