"""A drill survives its server: kill the process (SIGKILL) mid-run, start another, and every
inject fires exactly once, in order, none skipped — the clock and the queue of due injects live
in the database, not in the process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ThrowawayDatabases, as_tenant
from tests.helpers.world import World, build_world

REPO = Path(__file__).resolve().parents[2]
N = 12
SCENARIO = f"""
title: "【訓練】再起動の試験"
hazard: {{kind: earthquake}}
area: {{districts: [第一支部, 第二支部]}}
start: "2027-01-15T10:00:00+09:00"
duration: "T+{N + 1}:00"
injects:
""" + "".join(f'  - {{at: "T+{i}:00", kind: announcement, message: {{ja: "状況{i}"}}}}\n' for i in range(N))


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, url: str, tmp: Path, name: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tmp / f"{name}.log"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "TONARI_VAR_DIR": str(tmp / "var"),
            "TONARI_PUBLIC_URL": self.base,
            "TONARI_LOG_LEVEL": "WARNING",
        }
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:  # the server's own readiness signal
            assert self.proc.poll() is None, f"the server exited: {self.log.read_text()[-3000:]}"
            try:
                if httpx.get(f"{self.base}/health/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, self.log.read_text()[-3000:]
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _client(base: str, login: str, password: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=10)
    c.get("/api/auth/csrf")
    c.headers["X-CSRF-Token"] = c.cookies["tonari_csrf"]
    assert c.post("/api/auth/login", json={"login": login, "password": password}).status_code == 200
    return c


def _wait(c: httpx.Client, path: str, ok: Any, what: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = c.get(path).json()
        if ok(body):
            return body
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {body}"
        time.sleep(0.05)


async def _rows(url: str, world: World, run_id: str) -> tuple[list[Any], list[Any]]:
    from sqlalchemy import text

    from server.db.engine import make_engine, make_sessionmaker

    engine = make_engine(url, pool_size=1)
    try:
        with as_tenant(world.tenant_id):
            async with make_sessionmaker(engine)() as db:
                fired = (
                    await db.execute(
                        text(
                            "SELECT seq, fired_at, due_at FROM drill_inject_fired WHERE tenant_id = :t AND run_id = :r"
                            " ORDER BY fired_at, seq"
                        ),
                        {"t": world.tenant_id, "r": run_id},
                    )
                ).all()
                events = (
                    await db.execute(
                        text(
                            "SELECT (payload->>'seq')::int AS seq FROM event WHERE tenant_id = :t AND kind = 'drill.inject'"
                            " AND payload->>'run_id' = :r ORDER BY id"
                        ),
                        {"t": world.tenant_id, "r": run_id},
                    )
                ).all()
        return list(fired), list(events)
    finally:
        await engine.dispose()


async def _seed(url: str) -> World:
    from server.db.engine import make_engine, make_sessionmaker

    engine = make_engine(url, pool_size=2)
    try:
        return await build_world(make_sessionmaker(engine), "99021")
    finally:
        await engine.dispose()


def test_a_killed_server_resumes_the_drill_and_fires_each_inject_once(
    databases: ThrowawayDatabases, tmp_path: Path
) -> None:
    from server.db.migrate import upgrade

    url = databases.make("drill_restart")
    upgrade(url)
    world = asyncio.run(_seed(url))
    staff = world.accounts["staff"]
    first = Server(url, tmp_path, "first")
    second: Server | None = None
    try:
        with contextlib.closing(_client(first.base, staff.login, staff.password)) as c:
            run = c.post("/api/drills/runs", json={"yaml": SCENARIO, "speed": "60x"}).json()
            assert run["injects"] == N, run
            _wait(c, f"/api/drills/runs/{run['id']}", lambda b: b["fired"] >= 4, "four injects")
        first.proc.kill()  # SIGKILL: no shutdown hook runs
        first.proc.wait(timeout=20)
        second = Server(url, tmp_path, "second")
        with contextlib.closing(_client(second.base, staff.login, staff.password)) as c:
            done = _wait(c, f"/api/drills/runs/{run['id']}", lambda b: b["status"] == "finished", "the run to finish")
        assert done["fired"] == N
    finally:
        first.stop()
        if second is not None:
            second.stop()
    fired, events = asyncio.run(_rows(url, world, run["id"]))
    assert [r.seq for r in fired] == list(range(N))  # every inject once, in order, none skipped
    assert [e.seq for e in events] == list(range(N))  # and its effect (the feed line) once
    late = [r.seq for r in fired if (r.fired_at - r.due_at).total_seconds() >= 1]
    # Only injects that fell due while no server ran may be late; those before the kill were on time.
    assert all(seq >= 4 for seq in late), late
