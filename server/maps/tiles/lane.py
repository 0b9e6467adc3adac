"""The tile fast lane: a signed-in viewer's tile, answered before the framework's per-request work.

A panning map asks for tiles many at a time, and the full request pipeline (routing, middleware,
guards, parameter parsing, response conversion) costs a tile more server CPU than its own
database work leaves room for; answering the common case before routing is what keeps a map's
tiles per second and its tail close to the raw database's (figures: decisions 0011 and 0018).

The application (`server.app.TonariApp`) asks the lane first, before routing, for a GET under the
tile route's path. It answers the one common case itself: a live session for a tile the viewer
may read, with the same pieces as the route:
- the authentication call on the driver (`authenticate_on_driver`, which stamps RLS);
- the same reading rule (`may_read`);
- the same renderer (`render_tile`: statement, read audit, ETag, headers).

Anything else goes on to the framework unchanged, having written nothing: no cookie or a dead
session (401), a layer the role may not read or a password change that is due (403), a bad
address (404), other query parameters, a path in any but the canonical form. The route stays
the one documented in OpenAPI, and it is the one that writes the errors (problem+json).
TONARI_TILE_FAST_LANE=0 switches the lane off.

What the route or the application gains later does not reach the lane by itself: a hook, an
app-level middleware (CORS, compression, allowed hosts), a rate limit or another guard on the
tile route must be added here too (or the lane must hand such requests on). The security
headers do reach it: the application wraps `send` before it asks the lane (server/core/headers.py).
tests/maps/test_tile_lane.py compares the two ways and fails if they drift apart.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import structlog
from litestar.enums import ScopeType
from litestar.types import Scope, Send

from server.accounts.middleware import authenticate_on_driver, enter_signed_in
from server.accounts.sessions import parse_cookie, plain_session_cookie
from server.core.request_context import client_address, log_request, request_id_for
from server.db.driver import DriverPool
from server.maps.tiles.api import TILES_PATH, TileAddress, TileReply, may_read, render_tile

TILES_PREFIX = TILES_PATH + "/"
log = structlog.get_logger("tonari.tiles")


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


def _tile_path(path: str) -> tuple[str, int, int, str] | None:
    """(layer, z, x, y) of `/api/tiles/{layer}/{z}/{x}/{y}` in its canonical form (digits for z
    and x, nothing empty), else None: any other spelling is left to the router."""
    parts = path[len(TILES_PREFIX):].split("/")
    if len(parts) != 4:
        return None
    layer, z, x, y = parts
    if not (layer and y and z.isascii() and z.isdigit() and x.isascii() and x.isdigit()):
        return None
    return layer, int(z), int(x), y


class TileLane:
    """The lane of one application: the driver pool its requests authenticate on and the
    session idle timeout (as the auth middleware uses them). `served` counts the tiles it
    answered (tests, ops)."""

    def __init__(self, pool: DriverPool, session_idle: timedelta) -> None:
        self.pool, self.session_idle = pool, session_idle
        self.served = 0

    async def answer(self, scope: Scope, send: Send) -> bool:
        """Called by the application for every request before routing: True when the lane
        answered it; False (having done nothing) when the framework should."""
        if scope["type"] != ScopeType.HTTP or scope.get("method") != "GET" or scope.get("root_path"):
            return False
        path: str = scope["path"]
        if not path.startswith(TILES_PREFIX):
            return False
        address = _tile_path(path)
        if address is None:
            return False
        return await self._answer(address, scope, send)

    async def _answer(self, address: tuple[str, int, int, str], scope: Scope, send: Send) -> bool:
        started = time.perf_counter()
        tile = TileAddress.parse(*address)
        understood, operation_id = _operation_id(scope.get("query_string", b""))
        if tile is None or not understood:
            return False
        # One pass over the headers. The route reads cookies with the framework's parser; the lane
        # takes the session cookie only where that parser could not read it differently (one
        # Cookie header, the name once, a plain value) and hands anything else on.
        cookies = 0
        cookie_header = if_none_match = request_id_header = None
        for name, value in scope["headers"]:
            if name == b"cookie":
                cookies += 1
                cookie_header = value
            elif name == b"if-none-match" and if_none_match is None:
                if_none_match = value.decode("latin-1")
            elif name == b"x-request-id" and request_id_header is None:
                request_id_header = value
        if cookies != 1 or cookie_header is None:
            return False
        cookie = parse_cookie(plain_session_cookie(cookie_header))
        if cookie is None:
            return False
        # One request context, built once: the lane binds nothing to the log context; its lines
        # name the request id themselves.
        request_id = request_id_for(request_id_header or b"")
        try:
            row, held = await authenticate_on_driver(self.pool, cookie, self.session_idle, hold=True)
        except Exception:
            log.warning("tile_lane_handed_on_after_error", request_id=request_id, exc_info=True)
            return False  # see below: the route answers or reports it
        if row is None or held is None:
            return False  # the route answers: session_expired / not_authenticated
        reply: TileReply | None = None
        try:
            if row.must_change_password or not may_read(tile.layer, row.role):
                return False  # the route answers 403 (after its own authentication)
            ctx = enter_signed_in(cookie.tenant_id, row, request_id=request_id, client_addr=client_address(scope))
            reply = await render_tile(held, ctx, tile, operation_id, if_none_match)
        except Exception:
            # The lane runs outside the framework's error handling. Nothing has been sent, so the
            # route gets the request: it answers, or reports the failure as a problem document and
            # logs it like any other. (At worst the read audit was committed and the route writes
            # a second row: a duplicate, never a missing one.)
            log.warning("tile_lane_handed_on_after_error", request_id=request_id, exc_info=True)
            return False
        finally:
            if reply is None:
                await held.release()
        try:
            await reply.send(send, request_id)  # X-Request-ID as the request-context middleware adds it
        finally:
            await held.release()  # after the response: rollback unless committed (or a touch to keep)
        self.served += 1
        log_request(scope, reply.status, started, request_id)
        return True
