"""`GET /api/events`: Server-Sent Events from the durable event table, with Last-Event-ID resume.

Each event is filtered to what the viewer may see: household events by the disclosure rule,
addressed events (escalations) by their audience; drill events say so. A `vc_desk` helper (応援職員,
decision 0025) gets the volunteer centres' own events only (`vc.*` of a `vc` operation, which carry
ids, states and counts): never a registry, household, visit or operation event. A client that reconnects
with Last-Event-ID (or ?last_event_id=) receives every later event exactly once, in order.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.params import FromQuery, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from sqlalchemy import select, text

from server.core import context
from server.core.guards import roles
from server.core.problems import Problem
from server.core.types import INT64_MAX
from server.db.driver import AUTH_AUTOCOMMIT
from server.operations.access import operation_readable
from server.operations.models import Operation
from server.registry.disclosure import REGISTRY_READERS, Read, audit_reads
from server.services import services
from server.vc.models import VcCentre

# The roles that read the stream: the registry's readers (everything they may see), and the VC's
# desk helpers (the volunteer centres' events only).
VC_ONLY_READERS = frozenset({"vc_desk"})

POLL_SECONDS = 15.0
BATCH = 500
# A stream reads at most this often: the wake-ups of a busy ingest (one per commit, dozens a
# second) are merged, so N open consoles cost N reads per interval, not N per commit.
MIN_READ_INTERVAL = 0.25

_VISIBLE_EVENTS = text(
    """
    SELECT e.id, e.kind, e.mode, e.operation_id, e.household_id, e.payload, e.created_at,
           CASE WHEN e.household_id IS NOT NULL AND NOT tonari_sees_all()
                THEN tonari_household_disaster_applies(h.tenant_id, h.id, h.location) ELSE false END AS by_disaster
    FROM event e
    LEFT JOIN household h ON h.tenant_id = e.tenant_id AND h.id = e.household_id
    WHERE e.tenant_id = :t AND e.id > :after
      AND (CAST(:op AS uuid) IS NULL OR e.operation_id = :op)
      AND (e.household_id IS NULL OR tonari_sees_all()
           OR tonari_household_visible(h.tenant_id, h.id, h.district_id, h.location))
      AND (e.audience IS NULL OR tonari_sees_all() OR e.audience ? CAST(:user AS text))
      AND (NOT CAST(:vc_only AS boolean) OR (e.kind LIKE 'vc.%' AND e.household_id IS NULL AND e.audience IS NULL
           AND EXISTS (SELECT 1 FROM vc_centre c WHERE c.tenant_id = e.tenant_id AND c.operation_id = e.operation_id)))
    ORDER BY e.id LIMIT :limit
    """
)


_LATEST = text("SELECT coalesce(max(id), 0) FROM event WHERE tenant_id = :t")
_SESSION_ALIVE = text("SELECT 1 FROM user_session WHERE tenant_id = :t AND id = :s AND expires_at > now()")


EVENTS_PATH = "/api/events"


class EventController(Controller):
    path = EVENTS_PATH
    tags = ("events",)

    # AUTH_AUTOCOMMIT: signed in on the driver in autocommit, so the stream holds no request
    # connection at any time; its reads use the hub's own pool (hub.py).
    @get(
        "/",
        guards=[roles(*REGISTRY_READERS, *VC_ONLY_READERS)],
        summary="Live events (text/event-stream)",
        opt={AUTH_AUTOCOMMIT: True},
    )
    async def stream(
        self,
        request: Request[Any, Any, Any],
        operation_id: FromQuery[uuid.UUID | None] = None,
        last_event_id: Annotated[int | None, QueryParameter(ge=0, le=INT64_MAX)] = None,
    ) -> ServerSentEvent:
        header = request.headers.get("last-event-id")
        ctx = context.current()
        resume = int(header) if header and header.isdigit() and len(header) <= 18 else last_event_id
        hub = services(request.app).event_hub
        sessionmaker = hub.reads  # the live feed's own small pool, shared by every stream (hub.py)
        session_id = request.auth.session.id
        vc_only = (ctx.role or "") in VC_ONLY_READERS

        if operation_id is not None:  # one operation's feed: only for those who may read that operation
            async with sessionmaker() as db:
                readable = (
                    await db.execute(
                        select(Operation.id).where(
                            Operation.tenant_id == ctx.tenant_id,
                            Operation.id == operation_id,
                            Operation.id.in_(select(VcCentre.operation_id).where(VcCentre.tenant_id == ctx.tenant_id))
                            if vc_only
                            else await operation_readable(db),
                        )
                    )
                ).scalar()
            if readable is None:
                raise Problem("not_found")
        if resume is None:  # a fresh client loads the current state elsewhere: start from now
            async with sessionmaker() as db:
                resume = (await db.execute(_LATEST, {"t": ctx.tenant_id})).scalar_one()

        async def events() -> AsyncGenerator[ServerSentEventMessage, None]:
            context.set_context(ctx)  # the stream may run outside the request's context
            after = resume
            yield ServerSentEventMessage(data=None, comment="connected", retry=3000)
            loop = asyncio.get_running_loop()
            checked = read_at = loop.time()
            while True:
                read_at = loop.time()
                async with sessionmaker() as db:
                    rows = (
                        await db.execute(
                            _VISIBLE_EVENTS,
                            {
                                "t": ctx.tenant_id,
                                "after": after,
                                "op": operation_id,
                                "user": str(ctx.user_id),
                                "vc_only": vc_only,
                                "limit": BATCH,
                            },
                        )
                    ).all()
                    # What the stream tells of households (ids with outcomes) is a personal-data read:
                    # audited before it is sent, one row per (mode, operation) of the batch.
                    reads = [
                        Read(r.household_id, r.by_disaster, r.operation_id, r.mode == "drill")
                        for r in rows
                        if r.household_id is not None
                    ]
                    if reads:
                        await audit_reads(
                            db, "household", reads, via="events", details={"event_ids": [rows[0].id, rows[-1].id]}
                        )
                        await db.commit()
                for r in rows:
                    after = r.id
                    data = {
                        **r.payload,
                        "kind": r.kind,
                        "mode": r.mode,
                        "operation_id": str(r.operation_id) if r.operation_id else None,
                        "household_id": str(r.household_id) if r.household_id else None,
                        "at": r.created_at.isoformat(),
                        "drill": r.mode == "drill",
                    }
                    yield ServerSentEventMessage(data=msgspec.json.encode(data).decode(), event=r.kind, id=str(r.id))
                if len(rows) < BATCH:
                    assert ctx.tenant_id is not None  # a signed-in stream
                    await hub.wait(ctx.tenant_id, POLL_SECONDS)
                    if loop.time() - checked >= POLL_SECONDS:
                        checked = loop.time()
                        async with sessionmaker() as db:  # signing out (or expiry) ends the stream too
                            alive = (await db.execute(_SESSION_ALIVE, {"t": ctx.tenant_id, "s": session_id})).scalar()
                        if not alive:
                            return
                        yield ServerSentEventMessage(data=None, comment="keep-alive")
                    pause = read_at + MIN_READ_INTERVAL - loop.time()
                    if pause > 0:  # merge the wake-ups of a busy moment into one read
                        await asyncio.sleep(pause)

        # no-store: the stream names households and outcomes (personal data), like every /api answer.
        return ServerSentEvent(events(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
