"""The coordinators' console at 100,000 households: its endpoints beside their own SQL.

    DATABASE_URL=postgresql+asyncpg://tonari:dev@127.0.0.1:55500/tonari_bench \\
        .venv/bin/python bench/console.py [--households 100000] [--visits 5000] [--samples 30]

Loads the bench prefecture if the database has none (seed/prefecture.py), starts its own
server on 127.0.0.1:8798 unless `--base-url` is given, and as bench-staff creates and starts a
drill safety check over every household (100,000 targets), then records `--visits` visits
through `POST /api/sync/push` (batches of 1,000, the field's outcome mix). Then, for bench-staff
and bench-commissioner (the disclosure filter's worst case: 3,397 households in scope, consent
checked per household), it measures:

  endpoint  GET /api/console/operations/{id}/summary | history | timeline, and the operation's
            household tile GET /api/tiles/households/{z}/{x}/{y}.mvt?operation_id= at z10 and
            z14, through HTTP (httpx, one signed-in client, sequential), wall time at the client;
  own SQL   the statements those endpoints run (imported from server/operations/api_console.py
            and server/maps/tiles/sql.py, so a change there is measured here), with asyncpg on a connection
            with the server's settings (jit off, as server.db.engine), in a transaction stamped
            with the GUCs the server sets for that viewer; statement time only. summary =
            latest event id + the per-district status counts; tiles = `tile_sql(..., operation=True)`
            (the served statement minus its audit CTE).

Prints one table (p50/p95 in ms, endpoint ÷ SQL) and writes bench/results/console-<stamp>.json.
The operation is closed at the end (drill data stays in the bench database). Localhost only;
every loop is bounded (samples and a time budget per measurement).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import common  # noqa: F401  (puts the repo root on sys.path)
from common import (
    RESULTS_DIR,
    STAMP_SQL,
    BenchServer,
    Households,
    Outcomes,
    Session,
    Viewer,
    asyncpg_dsn,
    bench_tenant,
    check_localhost,
    close_operation,
    code_line,
    code_version,
    database_url,
    destination,
    field_credentials,
    field_credentials_path,
    load_viewers,
    operation_households,
    pick_tiles,
    prepare_database,
    redact,
    serving,
    sign_in,
    start_operation,
    summary,
    to_asyncpg,
    uuid7,
    write_result,
)

from server.db.engine import session_settings

DEFAULT_PORT = 8798
PUSH_BATCH = 1000
TILE_ZOOMS = (10, 14)
SUMMARY_TARGET_MS = 300.0  # the console refreshes the summary: p50 at 100,000 targets
SERVER_SETTINGS = session_settings("tonari-bench-console")  # as the server's own connections
SQL_NAMES = ("t", "o", "not_confirmed", "before", "kinds", "user", "limit", "scope", "tenant", "z", "x", "y", "op")


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0


# --- setup: the operation and its visits ---------------------------------------------------------


async def record_visits(
    staff: Session, op_id: str, households: Households, outcomes: Outcomes, n: int
) -> dict[str, Any]:
    """`n` visits through /api/sync/push in batches of 1,000 (distinct households, a little in the
    past as if queued offline); returns the per-status counts and the push times."""
    counts: dict[str, int] = {}
    times: list[float] = []
    base = datetime.now(UTC) - timedelta(minutes=20)
    done = 0
    while done < n:
        size = min(PUSH_BATCH, n - done)
        items = [
            {
                "type": "visit",
                "operation_id": op_id,
                "client_id": str(uuid7()),
                "household_id": str(households.next()),
                "outcome": o,
                "device_time": (base + timedelta(milliseconds=done + i)).isoformat(),
                **destination(o),
            }
            for i, o in ((i, outcomes.next()) for i in range(size))
        ]
        t0 = time.perf_counter()
        r = await staff.post("/api/sync/push", json={"mutations": items}, timeout=300.0)
        times.append(_ms(t0))
        if r.status_code != 200:
            raise RuntimeError(f"sync push failed: {r.status_code} {r.text[:300]}")
        for k, v in r.json()["counts"].items():
            counts[k] = counts.get(k, 0) + v
        done += size
    return {"counts": counts, "push_ms": times}


# --- measurement ------------------------------------------------------------------------------


class Budget:
    """At most `samples` timed requests after `warmup` untimed ones, and at most `seconds` of
    timed work once 5 samples were taken: a slow implementation gives fewer samples, not a hang."""

    def __init__(self, samples: int, warmup: int, seconds: float) -> None:
        self.samples, self.warmup, self.seconds = samples, warmup, seconds

    def passes(self, items: list[Any]) -> Any:
        for i in range(min(self.warmup, len(items) * 2)):
            yield False, items[i % len(items)]
        start = time.monotonic()
        for i in range(self.samples):
            if i >= 5 and time.monotonic() - start > self.seconds:
                return
            yield True, items[i % len(items)]


async def time_http(client: Session, paths: list[str], budget: Budget) -> dict[str, Any]:
    times: list[float] = []
    sizes: list[int] = []
    for timed, path in budget.passes(paths):
        t0 = time.perf_counter()
        r = await client.get(path, timeout=120.0)
        dt = _ms(t0)
        if r.status_code not in (200, 204):
            raise RuntimeError(f"GET {path}: {r.status_code} {r.text[:200]}")
        if timed:
            times.append(dt)
            sizes.append(len(r.content))
    return {"ms": times, "bytes": sizes}


async def time_sql(
    conn: Any,
    statements: list[tuple[str, tuple[str, ...]]],
    viewer: Viewer,
    params: list[dict[str, Any]],
    budget: Budget,
) -> dict[str, Any]:
    """Total time of `statements` (to_asyncpg form), each fetched in full, per parameter set,
    in one transaction stamped as `viewer` (the stamp is not timed)."""
    prepared = [(await conn.prepare(s), names) for s, names in statements]
    times: list[float] = []
    rows: list[int] = []
    for timed, p in budget.passes(params):
        async with conn.transaction():
            await conn.execute(STAMP_SQL, *viewer.stamp_args())
            t0 = time.perf_counter()
            n = 0
            for stmt, names in prepared:
                # fetch(), not fetchrow(): a row limit on the portal disables parallel plans.
                n += len(await stmt.fetch(*[p[k] for k in names]))
            dt = _ms(t0)
        if timed:
            times.append(dt)
            rows.append(n)
    return {"ms": times, "rows": rows}


def statements(viewer: Viewer) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """The SQL of each endpoint for this viewer, from the modules that serve it (so it follows
    their changes): summary = latest event id, the operation's target count (operation_out) and
    the per-district counts."""
    from server.maps.tiles.sql import tile_sql
    from server.operations import api_console as c

    latest = to_asyncpg("SELECT coalesce(max(id), 0) FROM event WHERE tenant_id = :t", SQL_NAMES)
    count = to_asyncpg("SELECT count(*) FROM operation_target WHERE tenant_id = :t AND operation_id = :o", SQL_NAMES)
    return {
        "summary": [latest, count, to_asyncpg(c.summary_statement(viewer.role, viewer.scope)[0], SQL_NAMES)],
        "history": [to_asyncpg(c.HISTORY, SQL_NAMES)],
        "timeline": [to_asyncpg(c.TIMELINE, SQL_NAMES)],
        **{f"tile z{z}": [to_asyncpg(tile_sql("households", z, operation=True), SQL_NAMES)] for z in TILE_ZOOMS},
    }


async def run_bench(args: argparse.Namespace, url: str, base: str) -> dict[str, Any]:
    import asyncpg

    from server.operations.api_console import NOT_CONFIRMED

    tenant = await bench_tenant(url)
    tenant_id, viewers = await load_viewers(url)
    creds = field_credentials()
    clients: dict[str, Session] = {}
    # The server's connection settings (server.db.engine.make_engine: jit off, UTC).
    conn = await asyncpg.connect(asyncpg_dsn(url), server_settings=SERVER_SETTINGS)
    op: dict[str, Any] | None = None
    try:
        for key in ("staff", "commissioner"):
            clients[key] = await sign_in(base, creds[key]["login"], creds[key]["password"], timeout=300.0)
        t0 = time.perf_counter()
        op = await start_operation(clients["staff"], tenant, f"ベンチ 安否確認 {datetime.now(UTC):%H:%M:%S}")
        op_id = op["id"]
        print(f"  operation {op_id} started in {_ms(t0) / 1000:.1f} s", flush=True)
        hh = await operation_households(url, tenant_id, op_id, seed=8216)
        t0 = time.perf_counter()
        visits = await record_visits(clients["staff"], op_id, Households(hh), Outcomes(8216), args.visits)
        print(f"  {args.visits} visits pushed in {_ms(t0) / 1000:.1f} s: {visits['counts']}", flush=True)

        system = Viewer("system", tenant_id, None, "system", None)
        async with conn.transaction():
            await conn.execute(STAMP_SQL, *system.stamp_args())
            targets = await conn.fetchval(
                "SELECT count(*) FROM operation_target WHERE tenant_id = $1 AND operation_id = $2",
                tenant_id,
                uuid.UUID(op_id),
            )
            events = await conn.fetchval(
                "SELECT count(*) FROM event WHERE tenant_id = $1 AND operation_id = $2", tenant_id, uuid.UUID(op_id)
            )
            tiles = {
                key: await pick_tiles(
                    conn, tenant_id, TILE_ZOOMS, args.tiles, None if key == "staff" else viewers["commissioner"].scope
                )
                for key in ("staff", "commissioner")
            }
        server_info = {
            "server_version": await conn.fetchval("SHOW server_version"),
            "jit": await conn.fetchval("SHOW jit"),
        }

        opu = uuid.UUID(op_id)
        budget = Budget(args.samples, args.warmup, args.budget_seconds)
        results: list[dict[str, Any]] = []
        for key in ("staff", "commissioner"):
            viewer = viewers[key]
            sql = statements(viewer)
            common_params = {
                "t": tenant_id,
                "o": opu,
                "not_confirmed": list(NOT_CONFIRMED),
                "before": None,
                "kinds": None,
                "user": str(viewer.user_id),
                "limit": 100,
                "scope": sorted(viewer.scope) if viewer.scope is not None else None,
            }
            cases: dict[str, tuple[list[str], list[dict[str, Any]]]] = {
                "summary": ([f"/api/console/operations/{op_id}/summary"], [common_params]),
                "history": ([f"/api/console/operations/{op_id}/history"], [common_params]),
                "timeline": ([f"/api/console/operations/{op_id}/timeline"], [common_params]),
            }
            for z in TILE_ZOOMS:
                ts = tiles[key][z]
                cases[f"tile z{z}"] = (
                    [f"/api/tiles/households/{z}/{x}/{y}.mvt?operation_id={op_id}" for x, y, _ in ts],
                    [{"tenant": tenant_id, "z": z, "x": x, "y": y, "op": opu} for x, y, _ in ts],
                )
            for name, (paths, params) in cases.items():
                t0 = time.perf_counter()
                a = await time_http(clients[key], paths, budget)
                b = await time_sql(conn, sql[name], viewer, params, budget)
                row: dict[str, Any] = {
                    "endpoint_name": name,
                    "viewer": key,
                    "requests": len(paths),
                    "endpoint": summary(a["ms"]),
                    "sql": summary(b["ms"]),
                    "bytes": summary([float(v) for v in a["bytes"]]),
                    "sql_rows": summary([float(v) for v in b["rows"]]),
                    "raw_ms": {"endpoint": a["ms"], "sql": b["ms"]},
                }
                row["endpoint_over_sql"] = (
                    row["endpoint"]["p50"] / row["sql"]["p50"] if row["sql"]["p50"] else float("nan")
                )
                results.append(row)
                print(
                    f"  {name:<9} {key:<12} endpoint p50 {row['endpoint']['p50']:.1f} ms, SQL p50 {row['sql']['p50']:.1f} ms"
                    f"  ({time.perf_counter() - t0:.0f} s)",
                    flush=True,
                )
        return {
            "tenant_id": str(tenant_id),
            "operation_id": op_id,
            "targets": targets,
            "operation_events": events,
            "create_ms": op.get("_create_ms"),
            "visits": visits,
            "server": server_info,
            "commissioner_scope_districts": len(viewers["commissioner"].scope or ()),
            "results": results,
        }
    finally:
        if op is not None and "staff" in clients:
            await close_operation(clients["staff"], op["id"])
        for c in clients.values():
            await c.aclose()
        await conn.close()


# --- report -----------------------------------------------------------------------------------


def render(report: dict[str, Any]) -> str:
    v = report["visits"]["counts"]
    lines = [
        code_line(report["code"]),
        f"{report['targets']:,} targets (drill safety check), {sum(v.values()):,} visits pushed ({v}),"
        f" {report['operation_events']:,} operation events; PostgreSQL {report['server']['server_version']},"
        f" jit={report['server']['jit']}; {report['machine']['cpus']} CPUs, load average"
        f" {report['machine']['load_before'][0]:.1f} → {report['machine']['load_after'][0]:.1f}.",
        "",
        "| endpoint | viewer | samples | endpoint p50 / p95 ms | own SQL p50 / p95 ms | endpoint ÷ SQL | response KB p50 | SQL rows p50 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        lines.append(
            f"| {r['endpoint_name']} | {r['viewer']} | {r['endpoint']['n']}/{r['sql']['n']}"
            f" | {r['endpoint']['p50']:.1f} / {r['endpoint']['p95']:.1f} | {r['sql']['p50']:.1f} / {r['sql']['p95']:.1f}"
            f" | {r['endpoint_over_sql']:.2f}× | {r['bytes']['p50'] / 1024:.1f} | {r['sql_rows']['p50']:.0f} |"
        )
    lines += ["", "| target | viewer | measured | result |", "|---|---|---|---|"]
    for r in report["results"]:
        if r["endpoint_name"] == "summary":
            ok = r["endpoint"]["p50"] <= SUMMARY_TARGET_MS
            lines.append(
                f"| summary endpoint p50 ≤ {SUMMARY_TARGET_MS:.0f} ms | {r['viewer']} | {r['endpoint']['p50']:.1f} ms"
                f" | {'PASS' if ok else 'FAIL'} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: $DATABASE_URL")
    parser.add_argument("--base-url", help=f"a running server (default: start one on 127.0.0.1:{DEFAULT_PORT})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--households", type=int, default=100_000, help="loaded first if the database has none")
    parser.add_argument("--visits", type=int, default=5000, help="visits pushed before measuring")
    parser.add_argument("--samples", type=int, default=30, help="timed requests per endpoint and viewer")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests first")
    parser.add_argument("--tiles", type=int, default=10, help="distinct tiles per zoom and viewer")
    parser.add_argument("--budget-seconds", type=float, default=60.0, help="cap on one measurement's timed part")
    args = parser.parse_args()
    args.visits = max(0, min(args.visits, 50_000))
    args.samples = max(5, min(args.samples, 500))
    args.warmup = max(0, min(args.warmup, 50))
    args.tiles = max(1, min(args.tiles, 200))
    url = database_url(args.database_url)
    check_localhost(args.base_url)

    load = prepare_database(url, args.households, field_credentials_path())
    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    server = (
        None
        if args.base_url
        else BenchServer(
            url, args.port, RESULTS_DIR / f"console-server-{stamp}.log", var_dir=RESULTS_DIR / "console-var"
        )
    )
    base = args.base_url if server is None else server.base
    load_before = os.getloadavg()

    async def measure() -> dict[str, Any]:
        async with serving(args.base_url, server):
            print(f"Benchmarking {base} against {redact(url)} …", flush=True)
            return await run_bench(args, url, base)

    report = asyncio.run(measure())
    report.update(
        {
            "started": started.isoformat(),
            "base_url": base,
            "database": redact(url),
            "load": load,
            "samples": args.samples,
            "warmup": args.warmup,
            "tiles_per_zoom": args.tiles,
            "budget_seconds": args.budget_seconds,
            "server_spawned": server is not None,
            "code": code_version(url),
            "machine": {
                "cpus": os.cpu_count(),
                "python": sys.version.split()[0],
                "load_before": load_before,
                "load_after": os.getloadavg(),
            },
        }
    )
    write_result("console", stamp, report, render(report))


if __name__ == "__main__":
    main()
