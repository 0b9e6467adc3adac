"""The tile fast lane: a signed-in viewer's tile, answered without the framework's per-request work.

A map pans through dozens of tiles at a time, and each tile's database work is about a
millisecond. Through the full request pipeline (request context, authentication middleware,
route guards, parameter parsing, response conversion, the send wrappers) the framework added
0.4–0.6 ms to each, as much as half of the tile (bench/README.md, decision 0011). This middleware
runs first on the tile route only. It answers the one common case itself: a GET with a live
session for a tile the viewer may read. It uses the same pieces as the route:
- the authentication call on the driver (`authenticate_on_driver`, which stamps RLS);
- the same reading rule (`may_read`);
- the same renderer (`render_tile`: statement, read audit, ETag, headers).

Anything else goes on to the route unchanged: no cookie or a dead session (401), a layer the role
may not read (403), a bad address (404), other query parameters. The route stays the one
documented in OpenAPI, and it is the one that writes the errors (problem+json). The lane can be
switched off with TONARI_TILE_FAST_LANE=0.

What the route gains later does not reach the lane by itself: a hook, a middleware after this
one, a rate limit or another guard on the tile route must be added here too (or the lane must
hand such requests on). tests/test_tile_lane.py compares the two ways and fails if they drift
apart.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server.accounts.middleware import authenticate_on_driver, enter_signed_in
from server.accounts.sessions import COOKIE_NAME, parse_cookie
from server.core.request_context import log_request, start_request
from server.db.driver import POOL_KEY
from server.registry.api_tiles import TILE_LANE, TileAddress, may_read, render_tile

LANE_STATS_KEY = "tonari_tile_lane_served"  # app state: tiles the lane answered (tests, ops)


def _operation_id(query: bytes) -> tuple[bool, uuid.UUID | None]:
    """(understood, operation id): only an empty query or a single operation_id=<uuid>."""
    if not query:
        return True, None
    name, _, value = query.partition(b"=")
    if name != b"operation_id":
        return False, None
    try:
        return True, uuid.UUID(value.decode("ascii"))
    except ValueError:
        return False, None


def tile_lane_middleware(app: ASGIApp) -> ASGIApp:
    async def lane(scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        if (scope["type"] != "http" or handler is None or not handler.opt.get(TILE_LANE)
                or scope.get("method") != "GET" or not await _answer(scope, receive, send)):
            await app(scope, receive, send)

    return lane


async def _answer(scope: Scope, receive: Receive, send: Send) -> bool:
    """True when the tile was answered here; False (having done nothing) to hand it to the route."""
    started = time.perf_counter()
    params = scope["path_params"]
    tile = TileAddress.parse(params["layer"], params["z"], params["x"], params["y"])
    understood, operation_id = _operation_id(scope.get("query_string", b""))
    if tile is None or not understood:
        return False
    # The cookie exactly as the route's authentication middleware reads it.
    cookie = parse_cookie(ASGIConnection(scope).cookies.get(COOKIE_NAME))
    if cookie is None:
        return False
    state: Any = scope["app"].state
    idle = timedelta(minutes=state["tonari_settings"].session_idle_minutes)
    row, held = await authenticate_on_driver(state[POOL_KEY], cookie, idle, hold=True)
    if row is None or held is None:
        return False  # the route answers: session_expired / not_authenticated
    status: int | None = None
    try:
        if not may_read(tile.layer, row.role):
            return False  # the route answers 403 (after its own authentication)
        request_id = start_request(scope)
        ctx = enter_signed_in(cookie.tenant_id, row)
        if_none_match = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"if-none-match"), None)
        response = await render_tile(held, ctx, tile, operation_id, if_none_match)
        response.headers["X-Request-ID"] = request_id  # as the request-context middleware adds it

        async def sent(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await response(scope, receive, sent)
    finally:
        await held.release()  # after the response: rollback unless committed (or a touch to keep)
    state[LANE_STATS_KEY] = state.get(LANE_STATS_KEY, 0) + 1
    log_request(scope, status, started)
    return True
