"""`/api/watch`: suggestions, links, coverage and pockets of the watch network.

Staff and admins change links; coordinators and 民生委員 (commissioners) may read (suggestions,
links, coverage, pockets), always within what the disclosure rule lets them see. Watchers and
VC volunteers get 403. Responses carry ids, kinds, distances and counts, never names: the
names of watchers and households are behind `/api/watchers` and `/api/households`.

Audit: every write (`watch_link.create`, `watch_link.update`, `watch_link.end`,
`watch_suggestion.reject`) in its own transaction with the change; reads that return household
ids (suggestions, pockets) are recorded as `household.read` with `via`, link lists as
`watch_link.read`. Coverage returns counts only and is not audited.

Rejecting a suggestion records only the audit row: there is no table of rejections (the issue
allowed none), so the same pair may be suggested again in a later batch.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy import select

from server.audit.record import record as audit
from server.core.context import current_tenant
from server.core.guards import STAFF, roles
from server.core.openapi import GEOJSON, geojson_responses
from server.core.problems import Problem
from server.core.types import MAX_OFFSET
from server.db.deps import DbSession
from server.registry import disclosure
from server.registry.models import Household, WatchLink
from server.watch import coverage as cov
from server.watch import links as svc
from server.watch import suggest as sug
from server.watch.common import DEFAULT_RADIUS_M, ensure_district

READERS = roles("admin", "staff", "coordinator", "commissioner")
PRIVATE = {"Cache-Control": "private, no-store"}


class SuggestionOut(msgspec.Struct):
    household_id: uuid.UUID
    kind: str
    watcher_id: uuid.UUID
    distance_m: int


class RejectIn(msgspec.Struct, forbid_unknown_fields=True):
    household_id: uuid.UUID
    watcher_id: uuid.UUID
    reason: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class LinkIn(msgspec.Struct, forbid_unknown_fields=True):
    household_id: uuid.UUID
    watcher_id: uuid.UUID
    kind: Literal["primary", "backup"] = "primary"
    override: bool = False  # link even if the watcher is at capacity or unavailable
    via: Literal["manual", "suggestion"] = "manual"
    confirm_far: bool = False  # link even if the watcher lives beyond the walking radius (weak cover)


class LinkPatch(msgspec.Struct, forbid_unknown_fields=True):
    kind: Literal["primary", "backup"] | None = None
    watcher_id: uuid.UUID | None = None
    override: bool = False
    confirm_far: bool = False


async def _tell_watcher_of_new_assignment(db: DbSession, watcher_id: uuid.UUID, link_id: uuid.UUID) -> None:
    """Web Push, in the transaction that makes the link: 'you have a new household to watch'
    (who it is shows in the app)."""
    from server.push import Notification, PushMessage, enqueue_push
    from server.registry.models import Watcher

    user_id = (
        await db.execute(select(Watcher.user_id).where(Watcher.tenant_id == current_tenant(), Watcher.id == watcher_id))
    ).scalar_one_or_none()
    if user_id is not None:
        await enqueue_push(
            db,
            tenant_id=current_tenant(),
            notifications=[
                Notification(
                    user_ids=[user_id],
                    key=f"assign-{link_id}",
                    drill=False,
                    message=PushMessage(
                        title="見守り先が追加されました",
                        body="アプリで見守り先を確認してください。",
                        url="/",
                        tag=f"assign-{watcher_id}",
                        kind="assignment",
                    ),
                )
            ],
        )


class LinkOut(msgspec.Struct):
    id: uuid.UUID
    household_id: uuid.UUID
    watcher_id: uuid.UUID
    kind: str
    since: date | None
    distance_m: int | None  # measured when the link was made
    ended_at: datetime | None
    walking_radius_m: int | None = None  # of the household's district
    beyond_walking_radius: bool | None = None  # the watcher lives beyond it now: weak cover


def _link_out(link: WatchLink, reach: dict[uuid.UUID, tuple[int, int]]) -> LinkOut:
    distance, radius = reach.get(link.id, (None, None))
    return LinkOut(
        link.id,
        link.household_id,
        link.watcher_id,
        link.kind,
        link.since,
        link.distance_m,
        link.ended_at,
        radius,
        distance > radius if distance is not None and radius is not None else None,
    )


async def _links_out(db: DbSession, links: list[WatchLink]) -> list[LinkOut]:
    reach = await svc.reach_of(db, [link.id for link in links])
    return [_link_out(link, reach) for link in links]


class WatchController(Controller):
    path = "/api/watch"
    tags = ("watch",)

    # ---- suggestions ---------------------------------------------------------------------

    @get(
        "/suggestions", guards=[READERS], summary="Suggested primary/backup watchers for households with fewer than two"
    )
    async def suggestions(
        self,
        db_session: DbSession,
        household_id: FromQuery[uuid.UUID | None] = None,
        district_id: FromQuery[uuid.UUID | None] = None,
        limit: Annotated[
            int, QueryParameter(ge=1, le=sug.MAX_LIMIT, description="Households per batch")
        ] = sug.DEFAULT_LIMIT,
        k: Annotated[int, QueryParameter(ge=2, le=32, description="Candidates read per household")] = sug.DEFAULT_K,
    ) -> Response[list[SuggestionOut]]:
        if household_id and district_id:
            raise Problem(
                "bad_request",
                detail_ja="household_id と district_id は同時に指定できません。",
                detail_en="Give household_id or district_id, not both.",
            )
        if district_id:
            await ensure_district(db_session, district_id)
        batch = await sug.suggest(db_session, household_id=household_id, district_id=district_id, limit=limit, k=k)
        await disclosure.audit_read(
            db_session,
            "household",
            batch.household_ids,
            via="watch.suggestions",
            disaster_ids=await disclosure.disaster_decided(db_session, batch.household_ids),
        )
        await db_session.commit()
        headers = {
            **PRIVATE,
            "X-Households-Considered": str(batch.households_considered),
            "X-Households-Without-Candidates": str(batch.households_without_candidates),
            "X-Truncated": "true" if batch.truncated else "false",
        }
        return Response(
            [SuggestionOut(s.household_id, s.kind, s.watcher_id, s.distance_m) for s in batch.suggestions],
            headers=headers,
        )

    @post(
        "/suggestions/reject",
        guards=[STAFF],
        status_code=HTTP_204_NO_CONTENT,
        summary="Reject a suggestion (audited only)",
    )
    async def reject_suggestion(self, db_session: DbSession, data: JSONBody[RejectIn]) -> None:
        await svc.ensure_exists(db_session, data.household_id, data.watcher_id)
        await audit(
            db_session,
            "watch_suggestion.reject",
            object_type="household",
            object_ids=[data.household_id, data.watcher_id],
            details={"household_id": str(data.household_id), "watcher_id": str(data.watcher_id), "reason": data.reason},
        )
        await db_session.commit()

    # ---- links ---------------------------------------------------------------------------

    @get("/links", guards=[READERS], summary="Watch links of a household or a watcher")
    async def list_links(
        self,
        db_session: DbSession,
        household_id: FromQuery[uuid.UUID | None] = None,
        watcher_id: FromQuery[uuid.UUID | None] = None,
        include_ended: FromQuery[bool] = False,
        offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 200,
    ) -> Response[list[LinkOut]]:
        q = (
            select(WatchLink)
            .join(Household, (Household.tenant_id == WatchLink.tenant_id) & (Household.id == WatchLink.household_id))
            .where(WatchLink.tenant_id == current_tenant(), disclosure.household_visible())
        )
        if household_id:
            q = q.where(WatchLink.household_id == household_id)
        if watcher_id:
            q = q.where(WatchLink.watcher_id == watcher_id)
        if not include_ended:
            q = q.where(WatchLink.ended_at.is_(None))
        q = q.order_by(
            WatchLink.household_id, WatchLink.ended_at.desc().nulls_first(), WatchLink.kind.desc(), WatchLink.id
        )
        rows = (await db_session.execute(q.offset(offset).limit(limit))).scalars().all()
        out = await _links_out(db_session, list(rows))
        decided = await disclosure.disaster_decided(db_session, {r.household_id for r in rows})
        await disclosure.audit_read(
            db_session,
            "watch_link",
            [r.id for r in rows],
            via="watch.links",
            disaster_ids=[r.id for r in rows if r.household_id in decided],
        )
        await db_session.commit()
        return Response(out, headers=PRIVATE)

    @post("/links", guards=[STAFF], status_code=HTTP_201_CREATED, summary="Link a watcher to a household")
    async def create_link(
        self, request: Request[Any, Any, Any], db_session: DbSession, data: JSONBody[LinkIn]
    ) -> LinkOut:
        link = await svc.create_link(
            db_session,
            data.household_id,
            data.watcher_id,
            data.kind,
            override=data.override,
            via=data.via,
            confirm_far=data.confirm_far,
        )
        (out,) = await _links_out(db_session, [link])
        await _tell_watcher_of_new_assignment(db_session, out.watcher_id, out.id)
        await db_session.commit()
        return out

    @patch(
        "/links/{link_id:uuid}",
        guards=[STAFF],
        summary="Change a link's kind, or its watcher (ends it and returns the new link)",
    )
    async def update_link(
        self, db_session: DbSession, link_id: FromPath[uuid.UUID], data: JSONBody[LinkPatch]
    ) -> LinkOut:
        if data.kind is None and data.watcher_id is None:
            raise Problem(
                "bad_request", detail_ja="kind か watcher_id を指定してください。", detail_en="Give kind or watcher_id."
            )
        link = await svc.change_link(
            db_session, link_id, data.kind, data.watcher_id, override=data.override, confirm_far=data.confirm_far
        )
        (out,) = await _links_out(db_session, [link])
        await db_session.commit()
        return out

    @delete(
        "/links/{link_id:uuid}",
        guards=[STAFF],
        status_code=HTTP_204_NO_CONTENT,
        summary="End a link (kept as history; ending an ended link is a no-op)",
    )
    async def end_link(self, db_session: DbSession, link_id: FromPath[uuid.UUID]) -> None:
        await svc.end_link(db_session, link_id)
        await db_session.commit()

    # ---- coverage ------------------------------------------------------------------------

    @get("/coverage", guards=[READERS], summary="Coverage numbers per district (each district with its subtree)")
    async def coverage(self, db_session: DbSession, district_id: FromQuery[uuid.UUID | None] = None) -> cov.Coverage:
        if district_id:
            await ensure_district(db_session, district_id)
        result = await cov.coverage(db_session, district_id)
        await db_session.commit()
        return result

    @get(
        "/coverage/pockets.geojson",
        guards=[READERS],
        media_type=GEOJSON,
        responses=geojson_responses(),
        summary="Watcher-less pockets: clusters of households with no available watcher within walking radius",
    )
    async def pockets(
        self,
        db_session: DbSession,
        district_id: FromQuery[uuid.UUID | None] = None,
        eps_m: Annotated[
            int, QueryParameter(ge=50, le=5000, description="Cluster distance in metres")
        ] = DEFAULT_RADIUS_M,
    ) -> Response[dict[str, Any]]:
        if district_id:
            await ensure_district(db_session, district_id)
        result = await cov.pockets(db_session, district_id, eps_m)
        await disclosure.audit_read(
            db_session,
            "household",
            result.household_ids,
            via="watch.pockets",
            disaster_ids=await disclosure.disaster_decided(db_session, result.household_ids),
            details={"pockets": len(result.features)},
        )
        await db_session.commit()
        return Response(
            {"type": "FeatureCollection", "features": result.features},
            media_type="application/geo+json",
            headers=PRIVATE,
        )
