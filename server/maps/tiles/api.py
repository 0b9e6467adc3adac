"""`/api/tiles/{layer}/{z}/{x}/{y}.mvt`: vector tiles for the map, behind the disclosure policy.

Tiles differ per viewer, so they are `private` (no shared cache may keep them), revalidated on
every use (`no-cache`), and their ETag mixes in the user and the declaration state: one user's
tile can never satisfy another user's If-None-Match.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, QueryParameter
from litestar.response.base import ASGIResponse
from sqlalchemy import TextClause

from server.core import context
from server.core.context import RequestContext
from server.core.guards import signed_in
from server.core.problems import FieldError, Problem
from server.db.driver import AUTH_ON_DRIVER, DriverTransaction, driver_transaction
from server.maps.tiles import vc_needs
from server.maps.tiles.sql import LAYERS, PERSONAL_LAYERS, audited_tile_sql, tile_sql
from server.registry import disclosure
from server.vc.common import DESK_ROLES

MVT = "application/vnd.mapbox-vector-tile"
# The registry's layers, and the needs map of one volunteer centre (server/maps/tiles/vc_needs.py).
SERVED_LAYERS = (*LAYERS, vc_needs.LAYER)
TILES_PATH = "/api/tiles"


@dataclass(frozen=True)
class TileAddress:
    layer: str
    z: int
    x: int
    y: int

    @classmethod
    def parse(cls, layer: str, z: int, x: int, y: str) -> TileAddress | None:
        """None for anything that is not a tile we serve (unknown layer, not .mvt, out of range)."""
        if layer not in SERVED_LAYERS or not y.endswith(".mvt") or not y[:-4].isdigit():
            return None
        yi = int(y[:-4])
        if not (0 <= z <= 22 and 0 <= x < 2**z and 0 <= yi < 2**z):
            return None
        return cls(layer, z, x, yi)


def may_read(layer: str, role: str | None) -> bool:
    """Household tiles carry personal data (ids): registry readers only. The needs map is the
    VC's: the roles that run it (decision 0025), `vc_desk` included, and nobody else."""
    if layer == vc_needs.LAYER:
        return (role or "") in DESK_ROLES
    return layer not in PERSONAL_LAYERS or (role or "") in disclosure.REGISTRY_READERS


@dataclass(frozen=True, slots=True)
class TileReply:
    """A rendered tile: 200 with the tile, 204 when empty, 304 when the client's copy is current."""

    status: int
    body: bytes
    etag: str

    def response(self) -> ASGIResponse:
        """One user's tile never serves another: private, varies by cookie, revalidated each use."""
        headers = [("cache-control", "private, no-cache"), ("vary", "Cookie"), ("etag", self.etag)]
        if self.status == 200:
            return ASGIResponse(body=self.body, media_type=MVT, headers=headers)
        return ASGIResponse(status_code=self.status, headers=headers)


def tile_query(
    ctx: RequestContext, tile: TileAddress, operation_id: uuid.UUID | None
) -> tuple[TextClause, dict[str, Any], bool]:
    """The statement that renders `tile` for the viewer in `ctx`, its parameters, and whether it
    writes the read audit row itself (household ids: one round trip, not three). bench/ runs the
    very same query as the raw database's share of a tile."""
    operation = operation_id is not None
    params: dict[str, Any] = {"tenant": ctx.tenant_id, "z": tile.z, "x": tile.x, "y": tile.y, "op": operation_id}
    audited = (
        vc_needs.NEEDS_TILE
        if tile.layer == vc_needs.LAYER
        else audited_tile_sql(tile.layer, tile.z, operation=operation)
    )
    if audited is None:
        return tile_sql(tile.layer, tile.z, operation=operation), params, False
    params.update(
        actor=ctx.user_id,
        login=ctx.user_login,
        request_id=ctx.request_id or None,
        client=ctx.client_addr,
        tile=f"{tile.z}/{tile.x}/{tile.y}",
    )
    return audited, params, True


async def render_tile(
    db: DriverTransaction,
    ctx: RequestContext,
    tile: TileAddress,
    operation_id: uuid.UUID | None,
    if_none_match: str | None,
) -> TileReply:
    """The tile for the signed-in viewer in `ctx`, on the request's driver transaction (stamped by
    the authentication call, so RLS applies)."""
    stmt, params, audited = tile_query(ctx, tile, operation_id)
    row = await db.fetchrow(stmt, params)
    assert row is not None  # the statements always return one row
    if tile.layer == vc_needs.LAYER and not row[3]:
        raise Problem("not_found")  # no volunteer centre of this council by that id
    data: bytes = bytes(row[0] or b"")
    if audited and row[2]:
        await db.commit()  # the audit row is part of serving the tile: committed before it is sent
    etag = '"' + hashlib.sha256(f"{ctx.user_id}:{ctx.role}:{operation_id}:".encode() + data).hexdigest()[:32] + '"'
    if if_none_match == etag:
        return TileReply(304, b"", etag)
    return TileReply(200 if data else 204, data, etag)


class TileController(Controller):
    path = TILES_PATH
    tags = ("maps",)

    # The request's transaction is held on the driver (server/db/driver.py): a map pans through
    # dozens of these, each a single short statement, so the ORM's per-request cost would be most
    # of the time (decision 0011). A GET changes nothing, so the CSRF middleware is left out of
    # its stack.
    @get(
        "/{layer:str}/{z:int}/{x:int}/{y:str}",
        guards=[signed_in],
        summary="A Mapbox Vector Tile (y ends in .mvt)",
        description=(
            "Layers: households (registry readers only), districts, shelters, hazard-zones. A household feature"
            " carries `id` and `district_id`, never a name, and two flags present only where they hold (absent"
            " means false): `disaster` (inside the area of a real disaster declaration) and `approximate`"
            " (placed at its town's representative point). With `operation_id`, every feature also carries"
            " `status`. Below zoom 13 households are grid clusters with a `count` only. vc-needs (the roles"
            " that run a volunteer centre; `operation_id` of the centre required): the centre's needs with `id`,"
            " `state`, `people`, `work_types`, `flags`, and `approximate`/`truck` where they hold; `household_id`"
            " only where the viewer may see that registry household."
        ),
        opt={AUTH_ON_DRIVER: True, "exclude_from_csrf": True},
        media_type=MVT,
        responses={
            200: ResponseSpec(data_container=bytes, media_type=MVT, description="The tile", generate_examples=False),
            204: ResponseSpec(data_container=None, description="The tile is empty"),
            304: ResponseSpec(data_container=None, description="The client's copy (If-None-Match) is current"),
        },
    )
    async def tile(
        self,
        request: Request[Any, Any, Any],
        layer: FromPath[str],
        z: FromPath[int],
        x: FromPath[int],
        y: FromPath[str],
        operation_id: Annotated[
            uuid.UUID | None,
            QueryParameter(
                description=(
                    "households: that operation's targets with their status (unreached, late, safe, …, overdue);"
                    " vc-needs (required): the volunteer centre whose needs are drawn"
                )
            ),
        ] = None,
    ) -> ASGIResponse:
        if layer not in SERVED_LAYERS or not y.endswith(".mvt") or not y[:-4].isdigit():
            raise Problem("not_found")
        tile = TileAddress.parse(layer, z, x, y)
        if tile is None:
            raise Problem("not_found", detail_ja="タイル座標が範囲外です。", detail_en="Tile coordinates out of range.")
        ctx = context.current()
        if not may_read(layer, ctx.role):
            raise Problem("forbidden")
        if layer == vc_needs.LAYER and operation_id is None:
            raise Problem(
                "validation_failed",
                errors=[
                    FieldError(
                        "operation_id",
                        "required",
                        "ボランティアセンターの operation_id を指定してください。",
                        "Give the volunteer centre's operation_id.",
                    )
                ],
            )
        reply = await render_tile(
            driver_transaction(request), ctx, tile, operation_id, request.headers.get("if-none-match")
        )
        return reply.response()
