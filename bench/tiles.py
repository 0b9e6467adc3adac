"""Household map tiles: the endpoint, its own SQL, and the unfiltered SQL, at zooms 10/12/14/16.

    DATABASE_URL=postgresql+asyncpg://tonari:dev@127.0.0.1:55500/tonari_bench \\
        .venv/bin/python bench/tiles.py --households 100000

Loads the bench prefecture if the database has none (seed/prefecture.py), starts its own
server on 127.0.0.1:8795 unless `--base-url` is given, signs in as the bench staff and the bench
commissioner, and measures per zoom, for N tiles that contain households:

  (a) endpoint     GET /api/tiles/households/{z}/{x}/{y}.mvt through HTTP (one lean keep-alive
                   connection, common.LiteClient, sequential), wall time seen by the client;
  (b) own SQL      the endpoint's database work done directly with asyncpg, wall time: BEGIN,
                   the same authentication call with the viewer's session (it stamps the
                   tenant, user, role and scope), the statement the endpoint runs (at z ≥ 13
                   the one that also writes the read audit row, with the same parameters),
                   COMMIT;
  (b0) statement   the served statement (`server.maps.tiles.sql.tile_sql`, no audit) alone, in a transaction
                   stamped for that viewer; statement time only (compared with (c));
  (c) unfiltered   the same statement with the disclosure filter taken out, everything else
                   alike (attributes, ids column; below z13 the same grid clusters):
                   `unfiltered_households_sql(z)`, built from the served statement's own
                   text. Run on `--raw-url` (a superuser or BYPASSRLS role: no RLS at all)
                   when given, else as the app role stamped 'system' (RLS still evaluated, on
                   its cheapest path). (b0) ÷ (c) is what the filter costs;
  (c0) bare        for reference, a bare ST_AsMVT of the same points (`bare_households_sql()`:
                   id, district, approximate; no disaster flag, no ids column, no clusters),
                   on the same connection as (c).

(b0), (c) and (c0) take turns, one pass over the tiles each per round; (a) and (b) take turns
tile by tile.

Prints one table (p50/p95 in ms, tile sizes, ratios) and the targets, PASS/FAIL, and writes
bench/results/tiles-<timestamp>.json. Localhost only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import common  # noqa: F401  (puts the repo root on sys.path)
from common import (
    REPO_ROOT,
    RESULTS_DIR,
    STAMP_SQL,
    BenchServer,
    LiteClient,
    Viewer,
    asyncpg_dsn,
    check_localhost,
    database_url,
    load_viewers,
    pick_tiles,
    prepare_database,
    read_credentials,
    redact,
    serving,
    summary,
    to_asyncpg,
    write_result,
)

from server.maps.tiles.sql import (
    CLUSTER_BELOW_ZOOM,
    bare_households_sql,
    tile_sql,
    unfiltered_households_sql,
)

DEFAULT_PORT = 8795
ZOOMS = (10, 12, 14, 16)

# Targets (the tile benchmark issue).
ENDPOINT_OVER_SQL_MAX = 1.5  # endpoint p50 ≤ 1.5 × its own SQL p50
Z14_P95_MAX_MS = 30.0  # z14 endpoint p95
FILTERED_OVER_UNFILTERED_MAX = 2.0  # filtered SQL p50 ≤ 2 × unfiltered p50


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0


# --- setup ------------------------------------------------------------------------------------


async def sign_in(base: str, login: str, password: str) -> Any:
    import httpx

    client = httpx.AsyncClient(base_url=base, timeout=30.0)
    await client.get("/api/auth/csrf")
    csrf = client.cookies.get("tonari_csrf")
    r = await client.post(
        "/api/auth/login", json={"login": login, "password": password}, headers={"X-CSRF-Token": csrf or ""}
    )
    if r.status_code != 200:
        await client.aclose()
        raise RuntimeError(f"sign-in as {login} failed: {r.status_code} {r.text[:200]}")
    return client


# --- measurement ------------------------------------------------------------------------------


class Budget:
    """Bounds one measurement: the warm-up pass stops after `warm` seconds, the timed rounds after
    `timed` seconds (once at least MIN_SAMPLES were taken). A slow implementation then yields fewer
    samples (recorded as `truncated`) instead of an endless run."""

    MIN_SAMPLES = 5

    def __init__(self, warm: float, timed: float) -> None:
        self.warm, self.timed = warm, timed

    def passes(self, tiles: list[tuple[int, int, int]], rounds: int) -> Any:
        """Yields (timed?, tile); stops early when over budget."""
        start = time.monotonic()
        for tile in tiles:
            if time.monotonic() - start > self.warm:
                break
            yield False, tile
        start, n = time.monotonic(), 0
        for _ in range(rounds):
            for tile in tiles:
                if n >= self.MIN_SAMPLES and time.monotonic() - start > self.timed:
                    return
                n += 1
                yield True, tile


class Statement:
    """One statement timed per tile (statement time only, at the client): `sql` from to_asyncpg,
    on `conn`, in a transaction stamped as `viewer` (None: no stamp, for a raw connection)."""

    def __init__(self, conn: Any, sql: tuple[str, tuple[str, ...]], viewer: Viewer | None) -> None:
        self.conn, self.sql, self.viewer = conn, sql, viewer
        self.stmt: Any = None
        self.times: list[float] = []
        self.sizes: dict[tuple[int, int], int] = {}
        self.ids: dict[tuple[int, int], int] = {}

    async def run(self, tenant_id: uuid.UUID, z: int, x: int, y: int, timed: bool) -> None:
        text_, names = self.sql
        if self.stmt is None:
            self.stmt = await self.conn.prepare(text_)
        params = {"tenant": tenant_id, "z": z, "x": x, "y": y}  # as the tile route passes them
        args = [params[n] for n in names]
        async with self.conn.transaction():
            if self.viewer is not None:
                await self.conn.execute(STAMP_SQL, *self.viewer.stamp_args())
            t0 = time.perf_counter()
            # fetch(), not fetchrow(): a row limit on the portal disables parallel plans, and the
            # server fetches everything.
            row = (await self.stmt.fetch(*args))[0]
            dt = _ms(t0)
        if timed:
            self.times.append(dt)
            self.sizes.setdefault((x, y), len(row[0] or b""))
            self.ids.setdefault((x, y), len(row[1] or []) if len(row) > 1 else 0)

    def result(self, expected: int) -> dict[str, Any]:
        return {
            "ms": self.times,
            "sizes": list(self.sizes.values()),
            "ids": list(self.ids.values()),
            "truncated": len(self.times) < expected,
        }


async def time_sql(
    statements: list[Statement],
    tenant_id: uuid.UUID,
    z: int,
    tiles: list[tuple[int, int, int]],
    rounds: int,
    budget: Budget,
) -> list[dict[str, Any]]:
    """The statements in turn, one pass over the tiles each, round after round: a slow moment of
    this shared machine weighs on each of them alike rather than on whichever ran during it, and
    which one goes first turns with each round. Not tile by tile: the second statement on a tile
    would find the first one's rows in the CPU caches, which a map's single read of a tile does
    not (it made the cheaper statement look cheaper still)."""
    start = time.monotonic()
    for st in statements:  # warm-up: one pass each
        for x, y, _ in tiles:
            if time.monotonic() - start > budget.warm:
                break
            await st.run(tenant_id, z, x, y, False)
    start = time.monotonic()
    for r in range(rounds):
        if r and time.monotonic() - start > budget.timed:
            break
        for k in range(len(statements)):
            st = statements[(r + k) % len(statements)]
            for x, y, _ in tiles:
                await st.run(tenant_id, z, x, y, True)
    return [s.result(len(tiles) * rounds) for s in statements]


class OwnSql:
    """(b): what the endpoint asks of the database for one tile, done directly (wall time at the
    client, like (a)): BEGIN, the authentication call for the viewer's session (it stamps the
    transaction), the statement the endpoint runs with the endpoint's parameters, COMMIT."""

    def __init__(
        self, conn: Any, z: int, tenant_id: uuid.UUID, session_hash: str, stmt: Any, auth: Any, names: tuple[str, ...]
    ) -> None:
        from datetime import timedelta

        from server.accounts.sessions import TOUCH_INTERVAL
        from server.settings import Settings

        self.conn, self.z, self.tenant_id, self.session_hash = conn, z, tenant_id, session_hash
        self.stmt, self.auth, self.names = stmt, auth, names
        self.idle, self.touch = timedelta(minutes=Settings.session_idle_minutes), TOUCH_INTERVAL

    @classmethod
    async def prepare(cls, conn: Any, z: int, tenant_id: uuid.UUID, session_hash: str) -> OwnSql:
        from server.accounts.middleware import AUTHENTICATE  # the very statement the endpoint sends
        from server.db.driver import positional
        from server.maps.tiles.sql import audited_tile_sql

        audited = audited_tile_sql("households", z)
        text_, names = positional(audited if audited is not None else tile_sql("households", z))
        return cls(
            conn,
            z,
            tenant_id,
            session_hash,
            await conn.prepare(text_),
            await conn.prepare(positional(AUTHENTICATE)[0]),
            names,
        )

    async def run(self, x: int, y: int) -> float:
        t0 = time.perf_counter()
        async with self.conn.transaction():
            who = await self.auth.fetchrow(self.tenant_id, self.session_hash, self.idle, self.touch)
            if who is None:
                raise RuntimeError("the bench session is not valid for the direct SQL")
            params = {
                "tenant": self.tenant_id,
                "z": self.z,
                "x": x,
                "y": y,
                "actor": who["user_id"],
                "login": who["login"],
                "request_id": "bench-tiles-sql",
                "client": "127.0.0.1",
                "tile": f"{self.z}/{x}/{y}",
            }
            await self.stmt.fetch(*[params[n] for n in self.names])
        return _ms(t0)


async def time_endpoint_and_own_sql(
    client: Any,
    conn: Any,
    z: int,
    tenant_id: uuid.UUID,
    session_hash: str,
    tiles: list[tuple[int, int, int]],
    rounds: int,
    budget: Budget,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(a) and (b) interleaved tile by tile (the endpoint, then the same work directly, for the same
    tile), so that a slow moment of this shared machine weighs on both sides of the ratio alike."""
    own = await OwnSql.prepare(conn, z, tenant_id, session_hash)
    a: dict[str, Any] = {"ms": [], "sizes": [], "statuses": {}}
    b: dict[str, Any] = {"ms": []}
    sizes: dict[tuple[int, int], int] = {}
    for timed, (x, y, _) in budget.passes(tiles, rounds):
        path = f"/api/tiles/households/{z}/{x}/{y}.mvt"
        raw = client.build("GET", path) if isinstance(client, LiteClient) else None
        t0 = time.perf_counter()
        r = await (client.send(raw) if raw is not None else client.get(path))
        dt_a = _ms(t0)
        if r.status_code not in (200, 204):
            raise RuntimeError(f"tile {z}/{x}/{y}: {r.status_code} {r.content[:200]!r}")
        dt_b = await own.run(x, y)
        if timed:
            a["ms"].append(dt_a)
            b["ms"].append(dt_b)
            a["statuses"][r.status_code] = a["statuses"].get(r.status_code, 0) + 1
            sizes.setdefault((x, y), len(r.content))
    a["sizes"] = list(sizes.values())
    a["truncated"] = b["truncated"] = len(a["ms"]) < len(tiles) * rounds
    return a, b


def _size_summary(sizes: list[int]) -> dict[str, float]:
    s = summary([float(v) for v in sizes])
    return {"p50": s["p50"], "max": s["max"], "mean": s["mean"]}


async def run_bench(args: argparse.Namespace, url: str, base: str) -> dict[str, Any]:
    import asyncpg

    tenant_id, viewers = await load_viewers(url)
    creds = read_credentials()
    app = await asyncpg.connect(asyncpg_dsn(url))
    raw = await asyncpg.connect(asyncpg_dsn(args.raw_url)) if args.raw_url else None
    clients: dict[str, Any] = {}
    try:
        system = Viewer("system", tenant_id, None, "system", None)
        async with app.transaction():
            await app.execute(STAMP_SQL, *system.stamp_args())
            households = await app.fetchval("SELECT count(*) FROM household WHERE tenant_id = $1", tenant_id)
            tiles = {
                "staff": await pick_tiles(app, tenant_id, args.zooms, args.tiles, None),
                "commissioner": await pick_tiles(app, tenant_id, args.zooms, args.tiles, viewers["commissioner"].scope),
            }
        server_info = {
            "jit": await app.fetchval("SHOW jit"),
            "server_version": await app.fetchval("SHOW server_version"),
            "postgis": await app.fetchval("SELECT postgis_lib_version()"),
            "shared_buffers": await app.fetchval("SHOW shared_buffers"),
            "work_mem": await app.fetchval("SHOW work_mem"),
        }
        unfiltered_conn, unfiltered_as = (raw, None) if raw is not None else (app, system)
        if raw is not None:
            bypass = await raw.fetchval("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
            if not bypass:
                print(
                    "warning: --raw-url's role neither is a superuser nor has BYPASSRLS; RLS still applies", flush=True
                )
        from server.accounts.sessions import COOKIE_NAME, parse_cookie

        session_hashes: dict[str, str] = {}
        lean: dict[str, LiteClient] = {}
        for key in ("staff", "commissioner"):
            c = creds[key]
            clients[key] = await sign_in(base, c["login"], c["password"])
            parsed = parse_cookie(clients[key].cookies.get(COOKIE_NAME))
            assert parsed is not None
            session_hashes[key] = parsed.token_hash
            lean[key] = LiteClient.signed_in_as(base, clients[key])
        endpoint_clients = lean if args.client == "lite" else clients

        budget = Budget(args.warmup_seconds, args.budget_seconds)
        results: list[dict[str, Any]] = []
        for z in args.zooms:
            served = to_asyncpg(tile_sql("households", z))
            unfiltered = to_asyncpg(unfiltered_households_sql(z))
            bare = to_asyncpg(bare_households_sql())
            for key in ("staff", "commissioner"):
                ts = tiles[key][z]
                t0 = time.perf_counter()
                a, own = await time_endpoint_and_own_sql(
                    endpoint_clients[key], app, z, tenant_id, session_hashes[key], ts, args.rounds, budget
                )
                b, c_, p = await time_sql(
                    [
                        Statement(app, served, viewers[key]),
                        Statement(unfiltered_conn, unfiltered, unfiltered_as),
                        Statement(unfiltered_conn, bare, unfiltered_as),
                    ],
                    tenant_id,
                    z,
                    ts,
                    args.rounds,
                    budget,
                )
                row = {
                    "z": z,
                    "viewer": key,
                    "tiles": len(ts),
                    "samples": {
                        "endpoint": len(a["ms"]),
                        "own_sql": len(own["ms"]),
                        "sql": len(b["ms"]),
                        "unfiltered": len(c_["ms"]),
                    },
                    "truncated": any(m["truncated"] for m in (a, own, b, c_)),
                    "households_per_tile": summary([float(t[2]) for t in ts]),
                    "ids_per_tile": summary([float(v) for v in b["ids"]]) if z >= CLUSTER_BELOW_ZOOM else None,
                    "endpoint": summary(a["ms"]),
                    "endpoint_statuses": a["statuses"],
                    "own_sql": summary(own["ms"]),
                    "sql": summary(b["ms"]),
                    "unfiltered": summary(c_["ms"]),
                    "bare": summary(p["ms"]),
                    "size_served": _size_summary(a["sizes"]),
                    "size_sql": _size_summary(b["sizes"]),
                    "size_unfiltered": _size_summary(c_["sizes"]),
                    "size_bare": _size_summary(p["sizes"]),
                    "raw_ms": {
                        "endpoint": a["ms"],
                        "own_sql": own["ms"],
                        "sql": b["ms"],
                        "unfiltered": c_["ms"],
                        "bare": p["ms"],
                    },
                    "tile_list": [[z, x, y] for x, y, _ in ts],
                }
                row["endpoint_over_sql"] = row["endpoint"]["p50"] / row["own_sql"]["p50"]
                # Informative: what the endpoint adds in absolute terms. (a) and (b) are timed tile by
                # tile in turn, so their samples pair up; the median of the differences.
                row["endpoint_minus_sql_ms"] = summary([x - y for x, y in zip(a["ms"], own["ms"], strict=True)])["p50"]
                row["endpoint_over_statement"] = row["endpoint"]["p50"] / row["sql"]["p50"]  # informative
                row["filtered_over_unfiltered"] = row["sql"]["p50"] / row["unfiltered"]["p50"]
                row["filtered_over_bare"] = row["sql"]["p50"] / row["bare"]["p50"]  # informative
                results.append(row)
                print(
                    f"  z{z:<2} {key:<12} {len(ts):>3} tiles: endpoint p50 {row['endpoint']['p50']:.2f} ms,"
                    f" own SQL {row['own_sql']['p50']:.2f} ms, statement {row['sql']['p50']:.2f} ms,"
                    f" unfiltered {row['unfiltered']['p50']:.2f} ms"
                    f"  ({time.perf_counter() - t0:.0f} s)",
                    flush=True,
                )
        return {
            "households": households,
            "tenant_id": str(tenant_id),
            "server": server_info,
            "unfiltered_connection": "raw (no RLS)"
            if raw is not None
            else "app role as 'system' (RLS on its sees-all path)",
            "commissioner_scope_districts": len(viewers["commissioner"].scope or ()),
            "results": results,
        }
    finally:
        for c in clients.values():
            await c.aclose()
        for lc in locals().get("lean", {}).values():
            await lc.aclose()
        await app.close()
        if raw is not None:
            await raw.close()


# --- report -----------------------------------------------------------------------------------


def checks(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in results:
        where = f"z{r['z']} {r['viewer']}"
        out.append(
            {
                "target": f"endpoint p50 ≤ {ENDPOINT_OVER_SQL_MAX}× own SQL p50 (a ÷ b)",
                "where": where,
                "value": f"{r['endpoint_over_sql']:.2f}×",
                "pass": r["endpoint_over_sql"] <= ENDPOINT_OVER_SQL_MAX,
            }
        )
    for r in results:
        if r["z"] == 14:
            out.append(
                {
                    "target": f"z14 endpoint p95 < {Z14_P95_MAX_MS:.0f} ms",
                    "where": f"z14 {r['viewer']}",
                    "value": f"{r['endpoint']['p95']:.1f} ms",
                    "pass": r["endpoint"]["p95"] < Z14_P95_MAX_MS,
                }
            )
    for r in results:
        out.append(
            {
                "target": f"filtered SQL p50 ≤ {FILTERED_OVER_UNFILTERED_MAX}× unfiltered p50 (b0 ÷ c)",
                "where": f"z{r['z']} {r['viewer']}",
                "value": f"{r['filtered_over_unfiltered']:.2f}×",
                "pass": r["filtered_over_unfiltered"] <= FILTERED_OVER_UNFILTERED_MAX,
            }
        )
    return out


def render(report: dict[str, Any]) -> str:
    def kb(v: float) -> str:
        return f"{v / 1024:.1f}"

    lines = [
        f"Code {report['revision']}. Households: {report['households']:,}; {report['tiles_per_zoom']} tiles per zoom and viewer, {report['rounds']} timed rounds"
        f" after one warm-up round; PostgreSQL {report['server']['server_version']}, PostGIS {report['server']['postgis']},"
        f" jit={report['server']['jit']}; {report['machine']['cpus']} CPUs, load average {report['machine']['load_average'][0]:.1f}"
        f" at the end. Unfiltered SQL: {report['unfiltered_connection']}.",
        "",
        "| z | viewer | tiles | samples a/b/b0/c | households/tile p50 | ids/tile p50 | (a) endpoint p50 / p95 ms"
        " | (b) own SQL p50 / p95 ms | (b0) statement p50 / p95 ms | (c) unfiltered p50 / p95 ms | a ÷ b | a − b ms (paired p50)"
        " | a ÷ b0 | filtered ÷ unfiltered (b0 ÷ c) | (c0) bare points p50 ms | b0 ÷ c0 | tile KB p50 / max (served)"
        " | unfiltered KB p50 | bare KB p50 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        ids = f"{r['ids_per_tile']['p50']:.0f}" if r["ids_per_tile"] else "– (clusters)"
        sm = r["samples"]
        unf = f"{r['unfiltered']['p50']:.2f} / {r['unfiltered']['p95']:.2f}"
        unf_kb = kb(r["size_unfiltered"]["p50"])
        lines.append(
            f"| {r['z']} | {r['viewer']} | {r['tiles']} | {sm['endpoint']}/{sm['own_sql']}/{sm['sql']}/{sm['unfiltered']}"
            f"{'*' if r['truncated'] else ''} | {r['households_per_tile']['p50']:.0f} | {ids}"
            f" | {r['endpoint']['p50']:.2f} / {r['endpoint']['p95']:.2f} | {r['own_sql']['p50']:.2f} / {r['own_sql']['p95']:.2f}"
            f" | {r['sql']['p50']:.2f} / {r['sql']['p95']:.2f}"
            f" | {unf} | {r['endpoint_over_sql']:.2f}× | {r['endpoint_minus_sql_ms']:.2f}"
            f" | {r['endpoint_over_statement']:.2f}× | {r['filtered_over_unfiltered']:.2f}×"
            f" | {r['bare']['p50']:.2f} | {r['filtered_over_bare']:.2f}×"
            f" | {kb(r['size_served']['p50'])} / {kb(r['size_served']['max'])} | {unf_kb} | {kb(r['size_bare']['p50'])} |"
        )
    if any(r["truncated"] for r in report["results"]):
        lines += [
            "",
            f"\\* over the time budget ({report['budget_seconds']:.0f} s per measurement): fewer samples than"
            " tiles × rounds.",
        ]
    lines += ["", "| target | where | measured | result |", "|---|---|---|---|"]
    for c in report["checks"]:
        lines.append(f"| {c['target']} | {c['where']} | {c['value']} | {'PASS' if c['pass'] else 'FAIL'} |")
    return "\n".join(lines)


def git_revision() -> str:
    """Commit of the code under test (+ "-dirty" when tracked files differ), or "unknown"."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: $DATABASE_URL")
    parser.add_argument("--base-url", help=f"a running server (default: start one on 127.0.0.1:{DEFAULT_PORT})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument(
        "--client",
        choices=["lite", "httpx"],
        default="lite",
        help="the endpoint's client: lite = one lean keep-alive connection (common.LiteClient); httpx (~1 ms"
        " of client time per request on this machine, counted in the endpoint's wall time)",
    )
    parser.add_argument("--households", type=int, default=100_000, help="loaded first if the database has none")
    parser.add_argument("--tiles", type=int, default=50, help="tiles per zoom and viewer")
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over the tiles (after one warm-up)")
    parser.add_argument(
        "--budget-seconds",
        type=float,
        default=60.0,
        help="cap on the timed rounds of one measurement (zoom × viewer × (a, b) or (b0, c))",
    )
    parser.add_argument("--warmup-seconds", type=float, default=20.0, help="cap on one warm-up pass")
    parser.add_argument("--zooms", type=lambda s: tuple(int(v) for v in s.split(",")), default=ZOOMS)
    parser.add_argument(
        "--raw-url",
        default=os.environ.get("BENCH_RAW_DATABASE_URL"),
        help="superuser/BYPASSRLS URL of the same database for the unfiltered SQL"
        " (default: $BENCH_RAW_DATABASE_URL; else the app role stamped 'system')",
    )
    args = parser.parse_args()
    args.tiles = max(1, min(args.tiles, 1000))
    args.rounds = max(1, min(args.rounds, 20))
    url = database_url(args.database_url)
    check_localhost(args.base_url)

    load = prepare_database(url, args.households)
    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    server = None if args.base_url else BenchServer(url, args.port, RESULTS_DIR / f"server-{stamp}.log")
    base = args.base_url if server is None else server.base

    async def measure() -> dict[str, Any]:
        async with serving(args.base_url, server):
            print(f"Benchmarking {base} against {redact(url)} …", flush=True)
            return await run_bench(args, url, base)

    import uvloop  # the client's loop for (a), (b) and (c) alike: less client time in every figure

    report = uvloop.run(measure())
    report.update(
        {
            "started": started.isoformat(),
            "base_url": base,
            "database": redact(url),
            "tiles_per_zoom": args.tiles,
            "rounds": args.rounds,
            "load": load,
            "budget_seconds": args.budget_seconds,
            "warmup_seconds": args.warmup_seconds,
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "load_average": os.getloadavg()},
            "revision": git_revision(),
            "server_spawned": server is not None,
        }
    )
    report["checks"] = checks(report["results"])
    write_result("tiles", stamp, report, render(report))


if __name__ == "__main__":
    main()
