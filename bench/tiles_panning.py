"""Map tiles while panning: 32 clients at once through the app, beside the raw database doing the
same work over as many connections. What a map user feels: tiles per second and the tail.

    DATABASE_URL=postgresql+asyncpg://tonari:dev@127.0.0.1:55500/tonari_bench \\
        .venv/bin/python bench/tiles_panning.py [--clients 32] [--tiles-per-client 150] [--rounds 3]

Loads the bench prefecture if the database has none (seed/prefecture.py). Half the clients
sign in as the bench staff (the whole prefecture), half as the bench commissioner (their area
only), each with a session of its own, and each pans a map the way MapLibre asks for tiles: a
viewport of 4 × 3 household tiles (a 1280 × 800 map at 512 px per tile, the partly visible ones
included), nearest the centre first; then pan after pan the row or column each pan exposes, at
one zoom for a few pans before zooming in or out within z12–z16. A tile is never asked twice by
one client (the map keeps it). Each client is one keep-alive connection with one request in
flight.

Two ways of panning, each measured in every round:
  saturated  every client asks for its next tiles as soon as the last arrived: the most tiles
             per second the machine gives. (With 32 requests always in flight, a tile's latency
             is 32 ÷ the throughput, for the raw database too: ~45 ms at 700 tiles/s.)
  paced      every client pans one step every `--pace-ms` (default 500: a steady drag of a tile
             column per half second, ~7 tiles/s per map, ~230 tiles/s for 32 maps): the
             latency a user feels while panning.

Each round takes the schedules slice by slice (`--slices`); within a slice these take turns, the
order turning each time, so a busy moment of this shared machine falls on all of them alike:
  servers    (`--variant`, `--server`, all running for the whole bench) through HTTP;
  raw        the same schedules on 32 asyncpg connections as the app's role, doing what the app
             asks of the database for each tile: BEGIN, the authentication call with that
             client's session, the statement the route runs with its parameters (`tile_query`:
             at z ≥ 13 the one that writes the read audit row), COMMIT when it wrote (or the
             session's deadline moved), else ROLLBACK.

Reports per server and way of panning tiles/s (saturated: while all clients were busy) and its
ratio to the raw database's (medians over the slices, each against the same slice's raw figure),
p50/p95/p99 per tile (wall time at the client), CPU ms per tile of the server's processes, of the
database's and of this client, and the machine's load average before the measurements. Writes
bench/results/tiles-panning-<stamp>.json. Localhost only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import median
from typing import Any

import common  # noqa: F401  (puts the repo root on sys.path)
from common import (
    REPO_ROOT,
    RESULTS_DIR,
    BenchServer,
    LiteClient,
    asyncpg_dsn,
    check_localhost,
    cpu_seconds,
    database_url,
    percentile,
    prepare_database,
    read_credentials,
    redact,
    tile_of,
    write_result,
)

from server.accounts.middleware import AUTHENTICATE
from server.accounts.sessions import COOKIE_NAME, TOUCH_INTERVAL, parse_cookie
from server.core.context import RequestContext
from server.db.driver import positional
from server.db.engine import session_settings
from server.maps.tiles.api import TileAddress, tile_query
from server.settings import Settings

DEFAULT_PORT = 8796
ZOOMS = (12, 13, 14, 15, 16)
VIEW_W, VIEW_H = 4, 3  # tiles of one viewport (see the docstring)
PANS_PER_ZOOM = 6
TURN_CHANCE = 0.3  # a pan changes direction
MODES = ("saturated", "paced")

# Targets (issue #15, "judged by what users feel").
THROUGHPUT_MIN = 0.5  # saturated: the app's tiles/s ≥ 50 % of the raw database's
P95_MAX_MS = 30.0  # paced: p95 per tile

Step = list[tuple[int, int, int]]
AUTH_SQL, AUTH_NAMES = positional(AUTHENTICATE)  # the very statement the app sends on the driver


def auth_args(c: Client, idle: timedelta) -> list[Any]:
    params = {"tenant": c.tenant_id, "session": c.token_hash, "idle": idle, "touch": TOUCH_INTERVAL}
    return [params[n] for n in AUTH_NAMES]


def git_revision() -> str:
    """The code under test (+ "-dirty" when tracked files differ)."""

    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10).stdout.strip()

    return (git("rev-parse", "--short", "HEAD") or "unknown") + (
        "-dirty" if git("status", "--porcelain", "--untracked-files=no") else ""
    )


# --- who pans where -------------------------------------------------------------------------------


@dataclass
class Client:
    """One map: a session of its own and the steps of tiles it will ask for, in order."""

    index: int
    viewer: str  # staff | commissioner
    cookie: str
    tenant_id: uuid.UUID
    token_hash: str
    steps: list[Step] = field(default_factory=list)


def pan_schedule(
    rng: random.Random,
    starts: list[tuple[float, float]],
    seen_by_zoom: dict[int, set[tuple[int, int]]],
    zoom: int,
    n: int,
) -> list[list[tuple[int, int, int]]]:
    """At least `n` distinct tiles as a panning map asks for them, step by step (a viewport, then
    the tiles each pan or zoom exposes), starting at one of `starts` at `zoom`. A pan only goes
    where the viewer sees households (`seen_by_zoom`); at a dead end the map jumps to another
    start, as a user looking for the next place would."""
    steps: list[list[tuple[int, int, int]]] = []
    asked: set[tuple[int, int, int]] = set()
    count = 0

    def viewport(z: int, cx: int, cy: int) -> None:
        nonlocal count
        cells = [
            (cx + dx, cy + dy)
            for dx in range(-(VIEW_W // 2), VIEW_W - VIEW_W // 2)
            for dy in range(-(VIEW_H // 2), VIEW_H - VIEW_H // 2)
        ]
        cells.sort(key=lambda c: (c[0] - cx) ** 2 + (c[1] - cy) ** 2)  # nearest the centre first
        step = [(z, x, y) for x, y in cells if 0 <= x < 2**z and 0 <= y < 2**z and (z, x, y) not in asked]
        asked.update(step)
        if step:
            steps.append(step)
            count += len(step)

    def jump(z: int) -> tuple[int, int]:
        lon, lat = starts[rng.randrange(len(starts))]
        return tile_of(lon, lat, z)

    z = zoom
    cx, cy = jump(z)
    direction = rng.choice(((1, 0), (-1, 0), (0, 1), (0, -1)))
    for _ in range(20 * n):  # bounded: every round adds tiles or moves on
        if count >= n:
            break
        viewport(z, cx, cy)
        for _pan in range(PANS_PER_ZOOM):
            if rng.random() < TURN_CHANCE:
                direction = rng.choice(((1, 0), (-1, 0), (0, 1), (0, -1)))
            ways = [
                d for d in (direction, (1, 0), (-1, 0), (0, 1), (0, -1)) if (cx + d[0], cy + d[1]) in seen_by_zoom[z]
            ]
            if not ways:
                cx, cy = jump(z)
            else:
                direction = ways[0]
                cx, cy = cx + direction[0], cy + direction[1]
            viewport(z, cx, cy)
        # Zoom in or out one level around the centre, within the zooms a household map uses.
        step = rng.choice((-1, 1)) if ZOOMS[0] < z < ZOOMS[-1] else (1 if z == ZOOMS[0] else -1)
        cx, cy = (cx * 2, cy * 2) if step > 0 else (cx // 2, cy // 2)
        z += step
    return steps


async def visible_points(conn: Any, client: Client) -> list[tuple[float, float]]:
    """Where this viewer sees households: the household table read in a transaction stamped by
    the viewer's own authentication call, so row-level security applies the disclosure rule."""
    idle = timedelta(minutes=Settings.session_idle_minutes)
    async with conn.transaction():
        who = await conn.fetchrow(AUTH_SQL, *auth_args(client, idle))
        if who is None:
            raise RuntimeError(f"client {client.index}: the session is not valid for the raw database")
        rows = await conn.fetch(
            "SELECT ST_X(location) AS lon, ST_Y(location) AS lat FROM household WHERE tenant_id = $1", client.tenant_id
        )
    points = [(r["lon"], r["lat"]) for r in rows]
    points.sort(key=lambda p: hashlib.sha1(f"{p[0]:.7f},{p[1]:.7f}".encode()).digest())  # fixed order
    return points


async def sign_in_clients(base: str, n: int) -> list[Client]:
    import httpx

    creds = read_credentials()
    clients: list[Client] = []
    for i in range(n):
        viewer = ("staff", "commissioner")[i % 2]
        async with httpx.AsyncClient(base_url=base, timeout=60.0) as http:
            await http.get("/api/auth/csrf")
            r = await http.post(
                "/api/auth/login",
                json={"login": creds[viewer]["login"], "password": creds[viewer]["password"]},
                headers={"X-CSRF-Token": http.cookies.get("tonari_csrf") or ""},
            )
            if r.status_code != 200:
                raise RuntimeError(f"sign-in as {viewer} failed: {r.status_code} {r.text[:200]}")
            cookie = http.cookies.get(COOKIE_NAME)
        parsed = parse_cookie(cookie)
        assert cookie is not None and parsed is not None
        clients.append(Client(i, viewer, cookie, parsed.tenant_id, parsed.token_hash))
    return clients


async def plan(conn: Any, clients: list[Client], per_client: int, seed: int) -> None:
    """Each client's steps (deterministic for a given seed and data); clients start at zooms in turn."""
    by_viewer: dict[str, tuple[list[tuple[float, float]], dict[int, set[tuple[int, int]]]]] = {}
    for c in clients:
        if c.viewer not in by_viewer:
            points = await visible_points(conn, c)
            by_viewer[c.viewer] = (points, {z: {tile_of(lon, lat, z) for lon, lat in points} for z in ZOOMS})
        points, seen = by_viewer[c.viewer]
        c.steps = pan_schedule(
            random.Random(seed * 1000 + c.index), points, seen, ZOOMS[c.index % len(ZOOMS)], per_client
        )


# --- one measurement ------------------------------------------------------------------------------


@dataclass
class Phase:
    """One measurement: one slice of every client's steps, all clients at once."""

    name: str
    mode: str
    load_before: float
    started: float = 0.0
    ms: list[float] = field(default_factory=list)
    zooms: list[int] = field(default_factory=list)
    done_at: list[float] = field(default_factory=list)  # completion times (perf_counter)
    client_ends: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds: server, database, client

    def tiles_per_s(self) -> float:
        """Saturated: counted only while every client was busy (the start to the first client
        done), so the ragged end with fewer requests in flight does not count. Paced: the
        offered rate."""
        if self.mode != "saturated":
            return len(self.ms) / (max(self.client_ends) - self.started)
        busy_until = min(self.client_ends)
        return sum(1 for t in self.done_at if t <= busy_until) / (busy_until - self.started)


TileCall = Callable[[int, int, int, int, int], Awaitable[int]]  # (client, n, z, x, y) → status


def part_of(steps: list[Step], part: tuple[int, int]) -> list[Step]:
    """Slice k of n of a client's steps."""
    k, n = part
    return steps[len(steps) * k // n : len(steps) * (k + 1) // n]


async def drive(
    phase: Phase,
    clients: list[Client],
    call: TileCall,
    pace: float | None,
    part: tuple[int, int],
    meter: Callable[[], dict[str, float]],
) -> Phase:
    """One slice of every client's steps at once: back to back (pace None) or one step every
    `pace` seconds, the clients' steps spread evenly over the pace (no two maps pan in lockstep)."""
    go = asyncio.Event()

    async def one(c: Client) -> None:
        await go.wait()
        first = phase.started + (pace * c.index / len(clients) if pace else 0.0)
        n = 0
        for k, step in enumerate(part_of(c.steps, part)):
            if pace:
                delay = first + k * pace - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            for z, x, y in step:
                t0 = time.perf_counter()
                status = await call(c.index, n, z, x, y)
                now = time.perf_counter()
                phase.ms.append((now - t0) * 1000.0)
                phase.zooms.append(z)
                phase.done_at.append(now)
                phase.statuses[status] = phase.statuses.get(status, 0) + 1
                n += 1
        phase.client_ends.append(time.perf_counter())

    tasks = [asyncio.create_task(one(c)) for c in clients]
    await asyncio.sleep(0)
    before = meter()
    phase.started = time.perf_counter()
    go.set()
    try:
        await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
    after = meter()
    phase.cpu = {k: after[k] - before[k] for k in before}
    return phase


async def run_app(
    target: Target, clients: list[Client], mode: str, pace: float | None, meter: Any, part: tuple[int, int]
) -> Phase:
    lites = target.lites

    async def call(i: int, n: int, z: int, x: int, y: int) -> int:
        r = await lites[i].send(lites[i].build("GET", f"/api/tiles/households/{z}/{x}/{y}.mvt"))
        if r.status_code not in (200, 204):
            raise RuntimeError(f"{target.name}: {r.status_code} {r.content[:200]!r}")
        return r.status_code

    return await drive(
        Phase(target.name, mode, os.getloadavg()[0]), clients, call, pace, part, lambda: meter(target.group)
    )


async def run_raw(
    conns: list[Any], clients: list[Client], mode: str, pace: float | None, meter: Any, part: tuple[int, int]
) -> Phase:
    """The app's database work for every tile, one connection per client, with the statements and
    parameters the route uses (tile_query), on asyncpg's statement cache as the app's driver
    connections use it."""
    idle = timedelta(minutes=Settings.session_idle_minutes)

    async def call(i: int, n: int, z: int, x: int, y: int) -> int:
        c, conn = clients[i], conns[i]
        tx = conn.transaction()
        await tx.start()
        try:
            who = await conn.fetchrow(AUTH_SQL, *auth_args(c, idle))
            ctx = RequestContext(
                request_id=f"bench-pan-{i}-{n}",
                client_addr="127.0.0.1",
                tenant_id=c.tenant_id,
                user_id=who["user_id"],
                user_login=who["login"],
                role=who["role"],
            )
            stmt, params, audited = tile_query(ctx, TileAddress("households", z, x, y), None)
            sql, names = positional(stmt)
            row = (await conn.fetch(sql, *[params[k] for k in names]))[0]
        except BaseException:
            await tx.rollback()
            raise
        if (audited and row[2]) or who["touched"]:
            await tx.commit()
        else:
            await tx.rollback()
        return 200 if row[0] else 204

    return await drive(Phase("raw", mode, os.getloadavg()[0]), clients, call, pace, part, lambda: meter(None))


# --- servers --------------------------------------------------------------------------------------


class Target:
    """A server to measure: one this bench starts (and stops) with extra environment, or a running
    one named by URL (and, to count its CPU, its process group). `lites`: one keep-alive
    connection per client while it is measured."""

    def __init__(
        self,
        name: str,
        base: str | None = None,
        env: dict[str, str] | None = None,
        server: BenchServer | None = None,
        group: int | None = None,
    ) -> None:
        self.name, self._base, self.env, self.server, self._group = name, base, env or {}, server, group
        self.lites: list[LiteClient] = []

    @property
    def base(self) -> str:
        if self._base:
            return self._base
        assert self.server is not None  # a target has a base URL or a server of its own
        return self.server.base

    @property
    def group(self) -> int | None:
        return self.server.pgid if self.server is not None else self._group

    async def start(self) -> None:
        if self.server is None:
            return
        saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)  # BenchServer passes its own environment on
        try:
            self.server.start()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        await self.server.wait_ready()

    def connect(self, clients: list[Client]) -> None:
        self.lites = [LiteClient(self.base, headers={"Cookie": f"{COOKIE_NAME}={c.cookie}"}) for c in clients]

    async def stop(self) -> None:
        for lite in self.lites:
            await lite.aclose()
        self.lites = []
        if self.server is not None:
            self.server.stop()


def parse_targets(args: argparse.Namespace, url: str, stamp: str) -> list[Target]:
    targets: list[Target] = []
    for n, spec in enumerate(args.variant or []):
        name, _, envs = spec.partition(":")
        env = dict(kv.split("=", 1) for kv in envs.split(",") if kv)
        server = BenchServer(url, args.port + n, RESULTS_DIR / f"server-panning-{name}-{stamp}.log")
        targets.append(Target(name, env=env, server=server))
    for spec in args.server or []:
        name, _, rest = spec.partition("=")
        base, _, group = rest.partition("#")
        check_localhost(base)
        targets.append(Target(name, base=base, group=int(group) if group else None))
    if not targets:
        targets.append(Target("app", server=BenchServer(url, args.port, RESULTS_DIR / f"server-panning-{stamp}.log")))
    return targets


# --- the run --------------------------------------------------------------------------------------


async def run_bench(args: argparse.Namespace, url: str, stamp: str) -> dict[str, Any]:
    """Every server runs for the whole bench; each round takes the schedule slice by slice, and
    within a slice the raw database and the servers take turns (the order turning each time), so
    a busy moment of this shared machine falls on all of them alike rather than on one."""
    import asyncpg

    targets = parse_targets(args, url, stamp)
    dsn = asyncpg_dsn(url)
    conns = [
        await asyncpg.connect(dsn, server_settings=session_settings("tonari-bench-raw")) for _ in range(args.clients)
    ]
    pace = args.pace_ms / 1000.0
    phases: list[Phase] = []
    keys: list[tuple[int, int]] = []  # (round, slice) of each phase
    try:
        # The database's processes are the postmaster's children (this is a localhost database).
        backend = await conns[0].fetchval("SELECT pg_backend_pid()")
        with open(f"/proc/{backend}/stat", encoding="ascii") as fh:  # noqa: ASYNC230 - /proc, in memory
            postmaster = int(fh.read().rsplit(")", 1)[1].split()[1])

        def meter(group: int | None) -> dict[str, float]:
            return {
                "server": cpu_seconds(group=group) if group else float("nan"),
                "database": cpu_seconds(parent=postmaster),
                "client": time.process_time(),
            }

        for t in targets:
            await t.start()
        print(f"Signing in {args.clients} clients at {targets[0].base} …", flush=True)
        clients = await sign_in_clients(targets[0].base, args.clients)
        await plan(conns[0], clients, args.tiles_per_client, args.seed)
        print("Warming up: the database (one raw pass), each server (one slice) …", flush=True)
        await run_raw(conns, clients, "saturated", None, meter, (0, 1))
        for t in targets:
            t.connect(clients)
            await run_app(t, clients, "saturated", None, meter, (0, args.slices))
        turn = 0
        for r in range(args.rounds):
            for mode in MODES:
                for k in range(args.slices):
                    order: list[Target | None] = [None, *targets]  # None: the raw database
                    order = order[turn % len(order) :] + order[: turn % len(order)]
                    turn += 1
                    for turn_of in order:
                        p = pace if mode == "paced" else None
                        phases.append(
                            await run_raw(conns, clients, mode, p, meter, (k, args.slices))
                            if turn_of is None
                            else await run_app(turn_of, clients, mode, p, meter, (k, args.slices))
                        )
                        keys.append((r, k))
                done = [(ph, key) for ph, key in zip(phases, keys, strict=True) if key[0] == r and ph.mode == mode]
                for name in ["raw"] + [t.name for t in targets]:
                    mine = [ph for ph, _ in done if ph.name == name]
                    ms = [m for ph in mine for m in ph.ms]
                    print(
                        f"  round {r + 1} {mode:<9} {name:<20} {median(ph.tiles_per_s() for ph in mine):6.0f} tiles/s"
                        f"  p50 {percentile(ms, 50):6.1f}  p95 {percentile(ms, 95):6.1f} ms"
                        f"  (load {mine[0].load_before:.2f})",
                        flush=True,
                    )
        server_info = {
            "server_version": await conns[0].fetchval("SHOW server_version"),
            "postgis": await conns[0].fetchval("SELECT postgis_lib_version()"),
            "jit": await conns[0].fetchval("SHOW jit"),
        }
    finally:
        for t in targets:
            await t.stop()
        for c in conns:
            await c.close()
    tiles = [t for c in clients for s in c.steps for t in s]
    return {
        "targets": [{"name": t.name, "base": t.base, "env": t.env, "spawned": t.server is not None} for t in targets],
        "summary": aggregate(phases, keys, ["raw"] + [t.name for t in targets]),
        "server": server_info,
        "pace_ms": args.pace_ms,
        "slices": args.slices,
        "schedule": {
            "clients": args.clients,
            "tiles": len(tiles),
            "steps": sum(len(c.steps) for c in clients),
            "by_zoom": {z: sum(1 for t in tiles if t[0] == z) for z in ZOOMS},
            "viewers": {v: sum(1 for c in clients if c.viewer == v) for v in ("staff", "commissioner")},
        },
    }


def aggregate(phases: list[Phase], keys: list[tuple[int, int]], names: list[str]) -> list[dict[str, Any]]:
    """Per server and way of panning: tiles/s and its ratio to the raw database's as medians over
    the slices (each against the raw figure of the same slice); latencies over all tiles; CPU per
    tile over all tiles."""
    raw = {(key, ph.mode): ph for ph, key in zip(phases, keys, strict=True) if ph.name == "raw"}
    rows = []
    for mode in MODES:
        for name in names:
            mine = [(ph, key) for ph, key in zip(phases, keys, strict=True) if ph.name == name and ph.mode == mode]
            ms = [m for ph, _ in mine for m in ph.ms]
            ratios = [ph.tiles_per_s() / raw[(key, mode)].tiles_per_s() for ph, key in mine]
            p95_ratios = [percentile(ph.ms, 95) / percentile(raw[(key, mode)].ms, 95) for ph, key in mine]
            n = len(ms)
            cpu = {k: 1000.0 * sum(ph.cpu[k] for ph, _ in mine) / n for k in ("server", "database", "client")}
            per_round: dict[int, list[float]] = {}
            for ph, key in mine:
                per_round.setdefault(key[0], []).append(ph.tiles_per_s())
            per_zoom = {}
            for z in ZOOMS:
                v = [m for ph, _ in mine for m, zz in zip(ph.ms, ph.zooms, strict=True) if zz == z]
                if v:
                    per_zoom[z] = {"n": len(v), "p50": percentile(v, 50), "p95": percentile(v, 95)}
            statuses: dict[int, int] = {}
            for ph, _ in mine:
                for st, c in ph.statuses.items():
                    statuses[st] = statuses.get(st, 0) + c
            rows.append(
                {
                    "name": name,
                    "mode": mode,
                    "phases": len(mine),
                    "tiles": n,
                    "tiles_per_s": median(ph.tiles_per_s() for ph, _ in mine),
                    "tiles_per_s_by_round": [round(median(v)) for _, v in sorted(per_round.items())],
                    "ratio": median(ratios),
                    "ratio_iqr": (percentile(ratios, 25), percentile(ratios, 75)),
                    "p50": percentile(ms, 50),
                    "p95": percentile(ms, 95),
                    "p99": percentile(ms, 99),
                    "p95_over_raw": median(p95_ratios),
                    "cpu_ms_per_tile": cpu,
                    "per_zoom": per_zoom,
                    "statuses": statuses,
                    "load": (min(ph.load_before for ph, _ in mine), max(ph.load_before for ph, _ in mine)),
                }
            )
    return rows


def checks(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for a in rows:
        if a["name"] == "raw":
            continue
        if a["mode"] == "saturated":
            out.append(
                {
                    "target": f"saturated tiles/s ≥ {THROUGHPUT_MIN:.0%} of the raw database's",
                    "where": a["name"],
                    "value": f"{a['ratio']:.0%}",
                    "pass": a["ratio"] >= THROUGHPUT_MIN,
                }
            )
        else:
            out.append(
                {
                    "target": f"paced p95 < {P95_MAX_MS:.0f} ms",
                    "where": a["name"],
                    "value": f"{a['p95']:.1f} ms",
                    "pass": a["p95"] < P95_MAX_MS,
                }
            )
    return out


def render(report: dict[str, Any]) -> str:
    sch = report["schedule"]
    lines = [
        f"Code {report['revision']}. {sch['clients']} clients ({sch['viewers']['staff']} staff, {sch['viewers']['commissioner']}"
        f" commissioner), {sch['tiles']} distinct household tiles in {sch['steps']} steps (by zoom: "
        + ", ".join(f"z{z} {n}" for z, n in sch["by_zoom"].items())
        + f"), {report['rounds']} rounds of {report['slices']} slices, paced = a step every {report['pace_ms']} ms;"
        f" PostgreSQL {report['server']['server_version'].split()[0]}, PostGIS {report['server']['postgis']},"
        f" jit={report['server']['jit']}; {report['machine']['cpus']} CPUs; load average"
        f" {report['machine']['load_start'][0]:.2f} at the start, {report['machine']['load_end'][0]:.2f} at the end.",
        "",
        "| | mode | tiles/s (median; by round) | ÷ raw (median; IQR) | p50 / p95 / p99 ms | p95 ÷ raw"
        " | CPU ms/tile: server / database / client | z12 … z16 p95 ms | load |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for a in report["summary"]:
        cpu = a["cpu_ms_per_tile"]
        server_cpu = "–" if cpu["server"] != cpu["server"] else f"{cpu['server']:.2f}"  # NaN: not ours to count
        zoom_p95 = " · ".join(f"{v['p95']:.0f}" for v in a["per_zoom"].values())
        lines.append(
            f"| {a['name']} | {a['mode']} | {a['tiles_per_s']:.0f} ({', '.join(map(str, a['tiles_per_s_by_round']))})"
            f" | {a['ratio']:.2f} ({a['ratio_iqr'][0]:.2f}–{a['ratio_iqr'][1]:.2f})"
            f" | {a['p50']:.1f} / {a['p95']:.1f} / {a['p99']:.1f} | {a['p95_over_raw']:.2f}"
            f" | {server_cpu} / {cpu['database']:.2f} / {cpu['client']:.2f}"
            f" | {zoom_p95}"
            f" | {a['load'][0]:.1f}–{a['load'][1]:.1f} |"
        )
    lines += ["", "| target | where | measured | result |", "|---|---|---|---|"]
    for c in report["checks"]:
        lines.append(f"| {c['target']} | {c['where']} | {c['value']} | {'PASS' if c['pass'] else 'FAIL'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: $DATABASE_URL")
    parser.add_argument("--households", type=int, default=100_000, help="loaded first if the database has none")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--tiles-per-client", type=int, default=150)
    parser.add_argument("--pace-ms", type=int, default=500, help="paced: one pan step per client every this many ms")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--slices", type=int, default=6, help="each round takes the schedule in this many slices")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="the first spawned server's port (then +1, …)")
    parser.add_argument(
        "--variant",
        action="append",
        metavar="NAME:VAR=VALUE,…",
        help="a server this bench starts with extra environment, e.g. pool-32:TONARI_DB_POOL_SIZE=32"
        " (repeatable; default: one server with the current settings)",
    )
    parser.add_argument(
        "--server",
        action="append",
        metavar="NAME=URL[#PGID]",
        help="a running server to measure, and its process group to count its CPU (repeatable)",
    )
    args = parser.parse_args()
    args.clients = max(2, min(args.clients, 64))
    args.tiles_per_client = max(10, min(args.tiles_per_client, 2000))
    args.rounds = max(1, min(args.rounds, 10))
    args.slices = max(1, min(args.slices, 20))
    args.pace_ms = max(50, min(args.pace_ms, 5000))
    url = database_url(args.database_url)

    load = prepare_database(url, args.households)
    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    load_start = os.getloadavg()

    import uvloop  # the client's loop for the servers and the raw database alike

    report = uvloop.run(run_bench(args, url, stamp))
    report.update(
        {
            "started": started.isoformat(),
            "database": redact(url),
            "load": load,
            "rounds": args.rounds,
            "machine": {
                "cpus": os.cpu_count(),
                "python": sys.version.split()[0],
                "load_start": load_start,
                "load_end": os.getloadavg(),
            },
            "revision": git_revision(),
        }
    )
    report["checks"] = checks(report["summary"])
    write_result("tiles-panning", stamp, report, render(report))


if __name__ == "__main__":
    main()
