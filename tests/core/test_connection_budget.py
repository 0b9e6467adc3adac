"""The connection budget (issue #16 item 5): a slow upload holds no pooled connection, an
exhausted pool answers a fast 503 with Retry-After, a connection the database dropped costs at
most one 503 (never a 500), and the live feed reads on a pool of its own.

World: tests/helpers/world.py."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import cast

import asyncpg
import httpx
import pytest
from litestar import Litestar
from sqlalchemy.pool import QueuePool

from server.db.base import uuid7
from server.services import services
from tests.conftest import ApiClient, IsolatedApp, drop_dead_connections, running
from tests.helpers.wait import until
from tests.helpers.world import World, new_world


@pytest.fixture
async def world(sessionmaker) -> World:
    return await new_world(sessionmaker)


@contextlib.asynccontextmanager
async def small_app(settings, **changes: object) -> AsyncIterator[Litestar]:
    """An app of its own with a small request pool (the budget is easy to exhaust on purpose)."""
    from server.app import create_app

    async with running(create_app(dataclasses.replace(settings, **changes))) as application:
        yield application


def client_of(application) -> ApiClient:
    transport = httpx.ASGITransport(app=IsolatedApp(application), client=(f"10.99.{uuid.uuid4().int % 250}.7", 40000))
    return ApiClient(transport=transport, base_url="http://127.0.0.1:8000")


async def _login(c: ApiClient, world: World, role: str) -> ApiClient:
    acct = world.accounts[role]
    r = await c.login(acct.login, acct.password)
    assert r.status_code == 200, r.text
    return c


async def test_an_exhausted_pool_answers_a_fast_503_with_retry_after(world: World, settings) -> None:
    async with small_app(settings, db_pool_size=2, db_pool_timeout_seconds=0.5) as application:
        staff = await _login(client_of(application), world, "staff")
        engine = services(application).engine
        held = [await engine.connect() for _ in range(2)]  # every request connection is taken
        try:
            for c in held:
                await c.begin()
            started = time.monotonic()
            r = await staff.get("/api/auth/me")
            assert r.status_code == 503, r.text
            assert r.json()["code"] == "database_busy"
            assert r.headers["Retry-After"].isdigit()
            assert r.json()["message"]["ja"] and r.json()["message"]["en"]
            assert time.monotonic() - started < 10  # the pool's timeout, not 30 s
        finally:
            for c in held:
                await c.close()
        assert (await staff.get("/api/auth/me")).status_code == 200  # and the retry gets through
        await staff.aclose()


async def test_a_slow_upload_holds_no_pooled_connection(world: World, settings) -> None:
    """The body is read before the authentication takes a connection: uploads that trickle in
    (on an ORM route and on the sync push) hold none, and other requests go through meanwhile."""
    async with small_app(settings, db_pool_size=2, db_pool_timeout_seconds=0.5) as application:
        staff = await _login(client_of(application), world, "staff")
        engine, driver = services(application).engine, services(application).driver_pool
        token = await staff.ensure_csrf()
        asked: list[int] = []
        go = asyncio.Event()

        def trickle(body: bytes, n: int) -> AsyncIterator[bytes]:
            async def chunks() -> AsyncIterator[bytes]:
                yield body[:5]
                asked.append(n)  # the server asked for more: it is reading the body
                await go.wait()
                yield body[5:]

            return chunks()

        visit = {
            "type": "visit",
            "operation_id": str(uuid.uuid4()),
            "client_id": str(uuid7()),
            "household_id": str(world.households["H1"]),
            "outcome": "safe",
            "device_time": datetime.now(UTC).isoformat(),
        }
        import json

        uploads = [
            asyncio.ensure_future(
                staff.post(
                    path,
                    content=trickle(json.dumps(body).encode(), i),
                    headers={"Content-Type": "application/json", "X-CSRF-Token": token},
                )
            )
            for i, (path, body) in enumerate(
                [
                    ("/api/households", {"address": "茨城県笠間市テスト町9", "lon": 140.21, "lat": 36.36}),
                    ("/api/households", {"address": "茨城県笠間市テスト町8", "lon": 140.21, "lat": 36.36}),
                    ("/api/sync/push", {"mutations": [visit]}),
                ]
            )
        ]
        try:
            await until(lambda: len(asked) == 3)
            assert (
                cast(QueuePool, engine.pool).checkedout() == 0 and driver.in_use() == 0
            )  # nothing held while they trickle
            assert (await staff.get("/api/auth/me")).status_code == 200  # a pool of 2, and it is free
        finally:
            go.set()
        answers = await asyncio.gather(*uploads)
        assert [a.status_code for a in answers][:2] == [201, 201], [a.text[:200] for a in answers]
        assert answers[2].status_code == 200 and answers[2].json()["results"][0]["code"] == "not_in_operation"
        await staff.aclose()


async def test_a_dropped_connection_on_a_public_route_costs_at_most_a_503(
    world: World, client_factory, app, database_url
) -> None:
    """The first request on a route without the authentication call's retry (sign-in) after the
    database ended every pooled connection: 503 database_unavailable with Retry-After, never a 500;
    the next attempt signs in."""
    c = client_factory()
    await c.ensure_csrf()
    acct = world.accounts["staff"]
    assert (await c.login(acct.login, acct.password)).status_code == 200  # the pool holds live connections
    dbname = database_url.rsplit("/", 1)[1].split("?")[0]
    admin = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1"
            " AND application_name = 'tonari' AND pid <> pg_backend_pid()",
            dbname,
        )
        assert killed >= 1
        try:
            fresh = client_factory()
            r = await fresh.login(acct.login, acct.password)
            assert r.status_code == 503, r.text
            assert r.json()["code"] == "database_unavailable" and r.headers["Retry-After"].isdigit()
            r = await fresh.login(acct.login, acct.password)
            assert r.status_code == 200, r.text
        finally:
            await drop_dead_connections(app)
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def serving(application) -> AsyncIterator[str]:
    """The app on a real socket (uvicorn in this event loop): streams must really stream."""
    import socket

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            application, host="127.0.0.1", port=port, log_level="warning", lifespan="off", timeout_keep_alive=60
        )
    )
    task = asyncio.get_running_loop().create_task(server.serve())
    await until(lambda: server.started)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_streams_and_slow_uploads_leave_ingest_and_sign_in_alone(world: World, settings, sessionmaker) -> None:
    """300 live-feed streams and 25 slow uploads stay open while 200 phones push their queues
    (the batch mix: mostly 1 visit, some 5–50): every push is acknowledged at once (no 5xx, no
    503), signing in works meanwhile, no stream is cut, and every stream receives the new visits."""
    import json
    import random

    from tests.helpers.operations import many_households

    households = await many_households(sessionmaker, world, 600)
    async with small_app(settings) as application, serving(application) as base:
        limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
        async with (
            ApiClient(base_url=base, timeout=60, limits=limits) as staff,
            ApiClient(base_url=base, timeout=60, limits=limits) as viewer,
        ):
            await _login(staff, world, "staff")
            await _login(viewer, world, "staff")
            r = await staff.send_json(
                "POST",
                "/api/operations",
                {
                    "kind": "safety_check",
                    "mode": "real",
                    "name": "接続予算の試験",
                    "start": True,
                    "district_ids": [str(world.districts["D1"])],
                },
            )
            assert r.status_code == 201, r.text
            op = r.json()["id"]
            token = await staff.ensure_csrf()
            # 300 streams of the console (one shared session: signing 300 in would only time Argon2).
            connected: list[int] = [0]
            seen: list[int] = [0] * 300
            stop = asyncio.Event()

            async def stream(i: int) -> None:
                async with viewer.stream("GET", "/api/events") as resp:
                    assert resp.status_code == 200
                    async for line in resp.aiter_lines():
                        if line == ": connected":
                            connected[0] += 1
                        elif line.startswith("event: visit.recorded"):
                            seen[i] += 1
                            if stop.is_set():
                                return

            streams = [asyncio.ensure_future(stream(i)) for i in range(300)]
            await until(lambda: connected[0] == 300, limit=180)
            # 25 uploads that trickle in and stay unfinished while the phones push.
            go, asked = asyncio.Event(), [0]

            def trickle(body: bytes) -> AsyncIterator[bytes]:
                async def chunks() -> AsyncIterator[bytes]:
                    yield body[:5]
                    asked[0] += 1
                    await go.wait()
                    yield body[5:]

                return chunks()

            body = json.dumps({"address": "茨城県笠間市テスト町7", "lon": 140.21, "lat": 36.36}).encode()
            uploads = [
                asyncio.ensure_future(
                    staff.post(
                        "/api/households",
                        content=trickle(body),
                        headers={"Content-Type": "application/json", "X-CSRF-Token": token},
                    )
                )
                for _ in range(25)
            ]
            await until(lambda: asked[0] == 25)
            # 300 open streams and 25 open uploads hold no request connection (ORM or driver).
            assert cast(QueuePool, services(application).engine.pool).checkedout() == 0
            assert services(application).driver_pool.in_use() == 0
            rng = random.Random(5)
            queue = list(households)
            pushes = []
            for phone in range(200):
                size = 1 if phone % 10 < 8 else rng.randint(5, 50) if phone % 10 == 8 else 1
                size = min(size, len(queue))
                if not size:
                    break
                mutations = [
                    {
                        "type": "visit",
                        "operation_id": op,
                        "client_id": str(uuid7()),
                        "household_id": str(h),
                        "outcome": "safe",
                        "device_time": datetime.now(UTC).isoformat(),
                    }
                    for h in (queue.pop() for _ in range(size))
                ]
                pushes.append(mutations)
            answers = await asyncio.gather(
                *[staff.send_json("POST", "/api/sync/push", {"mutations": m}) for m in pushes]
            )
            assert sorted({a.status_code for a in answers}) == [200], [
                a.text[:200] for a in answers if a.status_code != 200
            ]
            assert all(x["status"] == "accepted" for a in answers for x in a.json()["results"])
            signing_in = ApiClient(base_url=base, timeout=30)
            watcher = world.accounts["watcher"]
            assert (await signing_in.login(watcher.login, watcher.password)).status_code == 200
            await signing_in.aclose()
            go.set()
            # Released all at once, 25 creations queue for 20 connections: any that waited past the
            # pool's timeout was answered 503 database_busy with Retry-After, and its retry succeeds.
            for u in await asyncio.gather(*uploads):
                if u.status_code == 503:
                    assert u.json()["code"] == "database_busy" and u.headers["Retry-After"].isdigit()
                    u = await staff.send_json("POST", "/api/households", json.loads(body))
                assert u.status_code == 201, u.text
            stop.set()
            await until(lambda: all(seen), limit=180)  # every stream still open and fed
            assert not any(s.done() and s.exception() for s in streams)
            for s in streams:
                s.cancel()
            await asyncio.gather(*streams, return_exceptions=True)
