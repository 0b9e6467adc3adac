"""Schemathesis over `/schema/openapi.json`: no 5xx, and every response as the schema says.

The app runs as its own process (`python -m server.cli serve`, as in production) on a throwaway
database holding a small registry world and a running safety check; schemathesis signs in as
that tenant's admin (the role that reaches every route) and echoes the CSRF cookie on every
write. The profile is fixed (seed, examples per operation, time budget) in
`tests/core/schemathesis.toml`; decision 0016 says why it looks the way it does.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ThrowawayDatabases
from tests.helpers.world import World, build_world

CONFIG = Path(__file__).with_name("schemathesis.toml")
REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _seed(url: str) -> World:
    from server.db.engine import make_engine, make_sessionmaker

    engine = make_engine(url, pool_size=2)
    try:
        return await build_world(make_sessionmaker(engine), "99001")
    finally:
        await engine.dispose()


def _wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)  # polling the server's own readiness signal
    raise AssertionError(f"the server did not become ready: {log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def fuzz_target(databases: ThrowawayDatabases, tmp_path_factory: pytest.TempPathFactory):
    from server.db.migrate import upgrade

    url = databases.make("fuzz")
    upgrade(url)
    world = asyncio.run(_seed(url))
    tmp = tmp_path_factory.mktemp("fuzz")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp / "server.log"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TONARI_VAR_DIR": str(tmp / "var"),
        "TONARI_PUBLIC_URL": base,
        "TONARI_LOG_LEVEL": "WARNING",
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(base, proc, log)
        yield base, world, tmp, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _sign_in(base: str, login: str, password: str) -> dict[str, str]:
    with httpx.Client(base_url=base) as c:
        c.get("/api/auth/csrf")
        token = c.cookies["tonari_csrf"]
        r = c.post("/api/auth/login", json={"login": login, "password": password}, headers={"X-CSRF-Token": token})
        assert r.status_code == 200, r.text
        return {"tonari_csrf": token, "tonari_session": c.cookies["tonari_session"]}


def _populate(base: str, cookies: dict[str, str], world: World) -> dict[str, str]:
    """What the registry world lacks, made through the API as the admin: a shelter, a hazard zone,
    a running drill safety check with an escalation, a drill declaration. Returns an id of each kind
    of path parameter, so the fuzzing reaches rows that exist, not only 404s."""
    ring = [[140.21, 36.36], [140.24, 36.36], [140.24, 36.39], [140.21, 36.36]]
    with httpx.Client(base_url=base, cookies=cookies, headers={"X-CSRF-Token": cookies["tonari_csrf"]}) as c:

        def made(r: httpx.Response) -> Any:
            assert r.status_code in (200, 201), r.text
            return r.json()

        shelter = made(
            c.post("/api/shelters", json={"kind": "designated", "name": "第一公民館", "lon": 140.22, "lat": 36.37})
        )
        zone = made(
            c.post("/api/hazard-zones", json={"kind": "flood", "geometry": {"type": "Polygon", "coordinates": [ring]}})
        )
        op = made(
            c.post(
                "/api/operations",
                json={
                    "kind": "safety_check",
                    "mode": "drill",
                    "name": "訓練",
                    "district_ids": [str(world.districts["D1"])],
                    "start": True,
                },
            )
        )
        made(
            c.post(
                f"/api/operations/{op['id']}/visits",
                json={
                    "client_id": str(uuid.uuid4()),
                    "household_id": str(world.households["H1"]),
                    "outcome": "rescue",
                    "device_time": datetime.now(UTC).isoformat(),
                },
            )
        )
        escalation = made(c.get("/api/escalations"))[0]
        declaration = made(
            c.post(
                "/api/disaster-declarations",
                json={"reason": "訓練のための宣言", "mode": "drill", "district_ids": [str(world.districts["D2"])]},
            )
        )
        link = made(c.get("/api/watch/links"))[0]
        watcher = made(c.get("/api/watchers"))[0]
    return {
        "household_id": str(world.households["H2"]),
        "person_id": str(world.persons["P2"]),
        "district_id": str(world.districts["D1"]),
        "operation_id": str(op["id"]),
        "shelter_id": str(shelter["id"]),
        "zone_id": str(zone["id"]),
        "escalation_id": str(escalation["id"]),
        "declaration_id": str(declaration["id"]),
        "link_id": str(link["id"]),
        "watcher_id": str(watcher["id"]),
    }


def _profile(tmp: Path, ids: dict[str, str]) -> Path:
    """The committed profile, plus this run's ids for the path parameters of every operation that
    does not delete (a delete would remove the row the other operations are to reach)."""
    pinned = ", ".join(f'{name} = "{value}"' for name, value in ids.items())
    path = tmp / "schemathesis.toml"
    path.write_text(
        CONFIG.read_text() + "\n# This run's rows (tests/core/test_schemathesis.py)\n[[operations]]\n"
        f'include-method = ["GET", "POST", "PUT", "PATCH"]\nparameters = {{ {pinned} }}\n'
    )
    return path


def test_schemathesis_finds_no_server_error_and_no_schema_violation(fuzz_target) -> None:
    base, world, tmp, log = fuzz_target
    admin = world.accounts["admin"]
    cookies = _sign_in(base, admin.login, admin.password)
    profile = _profile(tmp, _populate(base, cookies, world))
    cookie_header = "; ".join(f"{k}={v}" for k, v in cookies.items())
    cmd = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(profile),
        "--no-color",
        "run",
        f"{base}/schema/openapi.json",
        "-H",
        f"Cookie: {cookie_header}",
        "-H",
        f"X-CSRF-Token: {cookies['tonari_csrf']}",
    ]
    started = time.monotonic()
    result = subprocess.run(
        cmd,
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"},
    )
    took = time.monotonic() - started
    (tmp / "schemathesis.out").write_text(result.stdout + result.stderr)
    print(f"schemathesis: {took:.0f} s; output in {tmp / 'schemathesis.out'}\n{result.stdout[-1500:]}")
    report = result.stdout[-20000:] + result.stderr[-5000:]
    assert result.returncode == 0, (
        f"schemathesis failed after {took:.0f} s:\n{report}\n--- server log ---\n{log.read_text()[-5000:]}"
    )
    assert " passed" in result.stdout and "Server error" not in result.stdout


async def test_the_schema_documents_problem_documents_and_real_media_types(client) -> None:
    """What schemathesis holds the app to: every error a problem document, each route's real content type."""
    schema = (await client.get("/schema/openapi.json")).json()
    assert "Problem" in schema["components"]["schemas"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation["responses"]
            for status in ("400", "default"):
                assert responses[status]["content"] == {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }, (method, path, status)
            public = path in (
                "/api/auth/login",
                "/api/auth/csrf",
                "/api/map/config",
                "/api/drills/scenario-schema",
            ) or path.startswith("/api/public/")
            if path.startswith("/api/") and not public:  # /api/public/…: the VC pre-registration page
                assert "401" in responses, (method, path)
            if "204" in responses:  # no body, so no media type (the sign-out routes are not fuzzed)
                assert "content" not in responses["204"], (method, path)
    media = {
        path: next(iter(item["get"]["responses"]["200"]["content"]))
        for path, item in schema["paths"].items()
        if "get" in item and "content" in item["get"]["responses"].get("200", {})
    }
    assert media["/api/exports/households.csv"] == media["/api/exports/visits.csv"] == "text/csv"
    assert (
        media["/api/exports/households.geojson"]
        == media["/api/watch/coverage/pockets.geojson"]
        == "application/geo+json"
    )
    assert not [p for p in schema["paths"] if p.startswith("/schema")]
