"""The tile fast lane (server/maps/tiles/lane.py) against the full route it short-cuts.

The same signed-in requests go to this app (lane on) and to a second app over the same database
with TONARI_TILE_FAST_LANE off: bodies, status codes, ETags, caching headers and the read audit
must be the same, and the lane must really have answered them. What the lane does not answer
(no or dead session, a layer the role may not read, a bad address, an unknown query) must reach
the route and get its problem document.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import httpx
import pytest

from server.services import services
from tests.conftest import ApiClient, IsolatedApp, running
from tests.helpers.world import HOUSEHOLD_SPOTS, World, new_world, signed_in
from tests.helpers.disclosure import tile_of
from tests.helpers.db import age_sessions, fetch_rows, last_seen
from tests.helpers.operations import start_operation

_COMPARED = ("etag", "cache-control", "vary", "content-type", "content-length",
             # the security headers (server/core/headers.py) reach the lane's raw messages too
             "content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options")


@pytest.fixture(scope="module")
async def world(sessionmaker) -> World:
    return await new_world(sessionmaker)


@pytest.fixture(scope="module")
async def framework_app(settings):
    """The same server with the lane switched off: every tile through the full route."""
    from server.app import create_app

    async with running(create_app(dataclasses.replace(settings, tile_fast_lane=False))) as application:
        yield application


def _served(app) -> int:
    """Tiles the app's lane answered (0 when it has none)."""
    return app.tile_lane.served if app.tile_lane is not None else 0


def _twin(app, signed: ApiClient) -> ApiClient:
    """A client of `app` carrying `signed`'s session."""
    c = ApiClient(transport=httpx.ASGITransport(app=IsolatedApp(app), client=("10.250.0.1", 40000)),
                  base_url="http://127.0.0.1:8000")
    c.cookies = signed.cookies
    return c


def _paths(world: World, operation_id: str) -> list[str]:
    x14, y14 = tile_of(*HOUSEHOLD_SPOTS["H1"], 14)
    x3, y3 = tile_of(*HOUSEHOLD_SPOTS["H3"], 14)
    return [
        f"/api/tiles/households/14/{x14}/{y14}.mvt",   # points, audited
        f"/api/tiles/households/14/{x3}/{y3}.mvt",
        f"/api/tiles/households/10/{x14 // 16}/{y14 // 16}.mvt",  # clusters, not audited
        "/api/tiles/households/14/0/0.mvt",  # empty: 204
        f"/api/tiles/districts/12/{x14 // 4}/{y14 // 4}.mvt",
        f"/api/tiles/households/14/{x14}/{y14}.mvt?operation_id={operation_id}",  # the live map
    ]


@pytest.mark.parametrize("role", ["staff", "commissioner", "watcher"])
async def test_the_lane_answers_as_the_route_would(role: str, world: World, app, framework_app, client_factory,
                                                   sessionmaker) -> None:
    op = await start_operation(client_factory, world, name="一括コミット")
    lane = await signed_in(client_factory, world, role)
    route = _twin(framework_app, lane)
    try:
        before = _served(app)
        for n, path in enumerate(_paths(world, op["id"])):
            a = await lane.get(path, headers={"X-Request-ID": f"lane-{role}-{n:04d}"})
            b = await route.get(path, headers={"X-Request-ID": f"route-{role}-{n:04d}"})
            assert (a.status_code, a.content) == (b.status_code, b.content), path
            assert a.status_code in (200, 204), a.text
            assert {h: a.headers.get(h) for h in _COMPARED} == {h: b.headers.get(h) for h in _COMPARED}, path
            assert a.headers["x-content-type-options"] == "nosniff", path
            assert a.headers["x-request-id"] == f"lane-{role}-{n:04d}"
            # Revalidation: the ETag of one is honoured by the other.
            again = await lane.get(path, headers={"If-None-Match": b.headers["etag"]})
            assert again.status_code == 304 and again.headers["etag"] == b.headers["etag"]
            # The read audit: one row per tile with households, the same in both ways.
            audit = await fetch_rows(sessionmaker, world, "SELECT request_id, object_ids, details->>'via' FROM audit_log"
                                " WHERE request_id IN (:a, :b) ORDER BY request_id",
                                a=f"lane-{role}-{n:04d}", b=f"route-{role}-{n:04d}")
            assert len(audit) in (0, 2) and (len(audit) == 0 or sorted(audit[0][1]) == sorted(audit[1][1])), path
            assert len(audit) == 2 or "/10/" in path or "districts" in path or a.status_code == 204, path
        assert _served(app) - before == 2 * len(_paths(world, op["id"]))  # each tile and its 304
        assert _served(framework_app) == 0
    finally:
        await route.aclose()
    assert services(app).driver_pool.in_use() == 0
    idle = await fetch_rows(sessionmaker, world, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                       " AND application_name = 'tonari' AND state LIKE 'idle in transaction%'")
    assert idle[0][0] == 0


async def test_what_the_lane_does_not_answer_reaches_the_route(world: World, app, client_factory,
                                                               sessionmaker) -> None:
    x, y = tile_of(*HOUSEHOLD_SPOTS["H1"], 14)
    tile = f"/api/tiles/households/14/{x}/{y}.mvt"
    anonymous = client_factory()
    volunteer = await signed_in(client_factory, world, "vc_volunteer")
    staff = await signed_in(client_factory, world, "staff")
    before = _served(app)
    answers = {
        "no cookie": await anonymous.get(tile),
        "forbidden layer": await volunteer.get(tile),
        "out of range": await staff.get(f"/api/tiles/households/14/{2**14}/0.mvt"),
        "not a tile": await staff.get("/api/tiles/rivers/14/0/0.mvt"),
        "bad operation id": await staff.get(tile + "?operation_id=nope"),
    }
    assert {k: (r.status_code, r.json()["code"]) for k, r in answers.items()} == {
        "no cookie": (401, "not_authenticated"),
        "forbidden layer": (403, "forbidden"),
        "out of range": (404, "not_found"),
        "not a tile": (404, "not_found"),
        "bad operation id": (400, "validation_failed"),
    }
    assert all(r.headers["content-type"].startswith("application/problem+json") for r in answers.values())
    # A volunteer may read the districts layer: that one the lane answers.
    districts = await volunteer.get(f"/api/tiles/districts/12/{x // 4}/{y // 4}.mvt")
    assert districts.status_code == 200
    assert _served(app) - before == 1
    assert services(app).driver_pool.in_use() == 0


async def test_a_dead_session_reaches_the_route_and_a_due_touch_is_kept(world: World, app, client_factory,
                                                                          sessionmaker) -> None:
    x, y = tile_of(*HOUSEHOLD_SPOTS["H1"], 14)
    tile = f"/api/tiles/households/14/{x}/{y}.mvt"
    staff = await signed_in(client_factory, world, "staff")
    long_ago = await age_sessions(sessionmaker, world, "staff")
    r = await staff.get(tile)
    assert r.status_code == 200
    assert await last_seen(sessionmaker, world, "staff") > long_ago + timedelta(minutes=30)  # the lane kept the touch
    cookies = dict(staff.cookies)
    await staff.send_json("POST", "/api/auth/logout")
    stale = client_factory()
    for name, value in cookies.items():
        stale.cookies.set(name, value)
    before = _served(app)
    r = await stale.get(tile)
    assert (r.status_code, r.json()["code"]) == (401, "session_expired")
    assert _served(app) == before
    assert services(app).driver_pool.in_use() == 0


def test_the_lane_reads_the_session_cookie_only_where_the_framework_could_not_read_it_otherwise() -> None:
    from litestar._parsers import parse_cookie_string

    from server.accounts.sessions import plain_session_cookie

    value = "0190a2b4-0000-7000-8000-000000000001.Ab_c-9" + "x" * 30
    plain = [f"tonari_session={value}", f"tonari_csrf=abc; tonari_session={value}",
             f" tonari_session = {value} ;tonari_csrf=z", f"a=1;tonari_session={value};b=2"]
    for header in plain:
        assert plain_session_cookie(header.encode()) == value == parse_cookie_string(header)["tonari_session"], header
    # Left to the route: the name twice, a quoted or escaped value, only a longer name, none.
    for header in (f"tonari_session={value}; tonari_session=other{value}", f'tonari_session="{value}"',
                   f"tonari_session={value}%41", f"xtonari_session={value}", "tonari_csrf=abc", ""):
        assert plain_session_cookie(header.encode()) is None, header


async def test_cookies_the_lane_cannot_read_plainly_go_to_the_route(world: World, app, client_factory) -> None:
    x, y = tile_of(*HOUSEHOLD_SPOTS["H1"], 14)
    tile = f"/api/tiles/households/14/{x}/{y}.mvt"
    staff = await signed_in(client_factory, world, "staff")
    session = staff.cookies.get("tonari_session")
    expected = await staff.get(tile)
    assert expected.status_code == 200
    before = _served(app)
    for cookie in (f'tonari_session="{session}"', f"tonari_session=nope; tonari_session={session}"):
        bare = client_factory()
        r = await bare.get(tile, headers={"Cookie": cookie})
        # The framework's parser unquotes, and keeps the last of a repeated name: the route signs in.
        assert (r.status_code, r.content, r.headers["etag"]) == (200, expected.content, expected.headers["etag"]), cookie
    assert _served(app) == before
    assert services(app).driver_pool.in_use() == 0


async def test_a_failure_inside_the_lane_goes_to_the_route(world: World, app, client_factory, monkeypatch) -> None:
    """The lane runs before the framework's error handling: when it fails before sending anything,
    the route gets the request (and answers it, or reports the failure as a problem document)."""
    import server.maps.tiles.lane as lane_module

    x, y = tile_of(*HOUSEHOLD_SPOTS["H1"], 14)
    tile = f"/api/tiles/households/14/{x}/{y}.mvt"
    staff = await signed_in(client_factory, world, "staff")
    expected = await staff.get(tile)
    before = _served(app)

    async def broken(*args, **kwargs):
        raise ConnectionResetError("the database went away mid-tile")

    for name in ("render_tile", "authenticate_on_driver"):
        with monkeypatch.context() as m:
            m.setattr(lane_module, name, broken)
            r = await staff.get(tile)
        assert (r.status_code, r.content, r.headers["etag"]) == (200, expected.content, expected.headers["etag"]), name
        assert _served(app) == before, name
        assert services(app).driver_pool.in_use() == 0, name


async def test_the_lanes_access_log_line_names_the_request_and_the_reader(world: World, app, client_factory,
                                                                          monkeypatch) -> None:
    """The lane binds nothing to the log context (one request context, built once): its one line
    must still carry the request id, who read and the status, like the route's."""
    from server.core import request_context

    lines: list[tuple[str, dict]] = []

    class Recorder:
        def info(self, event: str, **kw: object) -> None:
            lines.append((event, kw))

    x, y = tile_of(*HOUSEHOLD_SPOTS["H1"], 14)
    staff = await signed_in(client_factory, world, "staff")
    monkeypatch.setattr(request_context, "log", Recorder())
    before = _served(app)
    given = await staff.get(f"/api/tiles/households/14/{x}/{y}.mvt", headers={"X-Request-ID": "lane-log-0001"})
    fresh = await staff.get(f"/api/tiles/households/14/{x}/{y}.mvt")
    assert _served(app) - before == 2  # both answered by the lane
    assert given.status_code == fresh.status_code == 200
    account = world.accounts["staff"]
    assert [(e, kw["request_id"], kw["status"], kw["user"], kw["tenant"], kw["path"]) for e, kw in lines] == [
        ("request", "lane-log-0001", 200, str(account.user_id), str(world.tenant_id), f"/api/tiles/households/14/{x}/{y}.mvt"),
        ("request", fresh.headers["x-request-id"], 200, str(account.user_id), str(world.tenant_id),
         f"/api/tiles/households/14/{x}/{y}.mvt"),
    ]
    assert len(fresh.headers["x-request-id"]) == 32  # a new id where the client sent none
