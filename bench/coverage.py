"""Coverage analysis of the watch network for a whole prefecture, beside the same SQL run directly.

    DATABASE_URL=postgresql+asyncpg://tonari:dev@127.0.0.1:55500/tonari_bench_field \\
        .venv/bin/python bench/coverage.py [--rounds 3] [--raw-url postgresql://postgres@/db?host=/tmp/devpg&port=55500]

Loads the bench prefecture if the database has none (100,000 households, 30,000 neighbourhood
watchers + ~5,900 commissioners). The loader creates no watch links and no hazard zones, so
unless `--no-augment` this script first adds, idempotently and only in the bench tenant:

  links    each available neighbourhood watcher takes its 2–5 nearest households (a fixed
           pseudo-random number per watcher, never above its capacity of 5) within the
           district's walking radius (300 m); each household keeps the nearest two as primary
           and backup, and a third candidate becomes an *ended* link (history, 30 days ago).
           Gives ~92,000 active links: ~29 % of households with two watchers, ~34 % with one,
           ~37 % with none — a network still being built, which is when coverage is looked at.
  hazards  ~42 synthetic hazard zones (flood corridors along meandering "rivers" through
           populated places, and small landslide zones), ~300 vertices each, so that the
           hazard tests cost what real 浸水想定区域 would.

Then it starts its own server on 127.0.0.1:8797 (unless `--base-url`), signs in as the bench staff
and commissioner, and for each view times, after one warm-up call, `--rounds` calls of

  (a) HTTP   GET /api/watch/coverage and GET /api/watch/coverage/pockets.geojson, end to end
  (b) SQL    the statements those endpoints run (`server.watch.coverage`: household numbers,
             watcher numbers, over-capacity list and district tree; the pockets statement), run
             directly with asyncpg in one transaction stamped like the server's (same GUCs, jit
             off, work_mem as `analysis_transaction` sets)
  (c) raw    the staff statements on `--raw-url` (a superuser/BYPASSRLS role: no row-level
             security at all), when given: the database's floor for the same analysis.

Views: `staff` (the whole prefecture: the target), `commissioner-area` (a 民生委員 on their own
area, `district_id` = the area they are scoped to) and, with `--commissioner-whole`, a
commissioner asking for the whole prefecture (informative: every row goes through the
disclosure function). Prints one table and the targets with PASS/FAIL; `--explain` also writes
EXPLAIN (ANALYZE, BUFFERS) of each statement to bench/results/coverage-explain-<timestamp>.txt.
Writes bench/results/coverage-<timestamp>.json. Localhost only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import os
import random
import secrets
import time
import uuid
from typing import Any

import common  # noqa: F401  (puts the repo root on sys.path)
from common import (
    FIELD_PORT,
    STAMP_SQL,
    Session,
    Viewer,
    asyncpg_dsn,
    bench_tenant,
    code_line,
    field_credentials,
    field_server,
    load_viewers,
    owner_url,
    percentile,
    serving,
    sign_in,
    stamp,
    start_run,
    to_asyncpg,
    write_result,
)

TARGET_S = 5.0  # coverage analysis of the whole prefecture
LINKS_PRESENT = 10_000  # more active links than this: the network is already there
SQL_NAMES = ("tenant", "district", "eps")


# --- the network: links and hazard zones --------------------------------------------------------

CANDIDATES = """
    CREATE TEMP TABLE bench_link_candidates ON COMMIT DROP AS
    SELECT w.id AS watcher_id, h.id AS household_id,
           ST_Distance(h.location::geography, w.home::geography) AS d,
           coalesce(dd.walking_radius_m, 300) AS r
    FROM watcher w
    CROSS JOIN LATERAL (
        SELECT id, location, district_id FROM household
        WHERE tenant_id = w.tenant_id AND id IS DISTINCT FROM w.household_id
        ORDER BY location <-> w.home
        LIMIT least(w.capacity, 2 + abs(hashtext(w.id::text)) % 4)) h
    LEFT JOIN district dd ON dd.tenant_id = w.tenant_id AND dd.id = h.district_id
    WHERE w.tenant_id = $1 AND w.role = 'watcher' AND w.available
"""

INSERT_LINKS = """
    INSERT INTO watch_link (tenant_id, id, household_id, watcher_id, kind, since, distance_m, ended_at)
    SELECT $1, gen_random_uuid(), household_id, watcher_id,
           CASE WHEN rk = 1 THEN 'primary' ELSE 'backup' END,
           DATE '2025-04-01' + (abs(hashtext(household_id::text)) % 400),
           round(d)::int,
           CASE WHEN rk = 3 THEN now() - interval '30 days' END
    FROM (SELECT c.*, row_number() OVER (PARTITION BY household_id ORDER BY d, watcher_id) AS rk
          FROM bench_link_candidates c WHERE d <= r) x
    WHERE rk <= 3
    ON CONFLICT DO NOTHING
"""


def hazard_zones(anchors: list[tuple[float, float]], seed: int) -> list[tuple[str, str, str, str]]:
    """(kind, level, name, WKT) of synthetic flood corridors and landslide zones around `anchors`
    (lon/lat of households: populated places), deterministic for a seed."""
    from shapely.geometry import LineString, MultiPolygon, Polygon

    from seed.kasama.facts import LocalMetric

    rng = random.Random(f"{seed}/hazards")
    lat0 = sum(a[1] for a in anchors) / len(anchors)
    lon0 = sum(a[0] for a in anchors) / len(anchors)
    m = LocalMetric(lat0, lon0)
    pts = [m.to_xy(*a) for a in anchors]
    zones: list[tuple[str, str, str, str]] = []

    def wkt(g: Any) -> str:
        g = m.unproject(g)
        return (g if isinstance(g, MultiPolygon) else MultiPolygon([g])).wkt

    # Rivers: through 3 anchors (north to south), meandering, extended 5 km past the ends;
    # each cut into 3 reaches, each reach a flood zone (buffer 250–700 m).
    n_rivers = 10
    for i in range(n_rivers):
        through = sorted(rng.sample(pts, 3), key=lambda p: -p[1])
        (x0, y0), (x1, y1) = through[0], through[-1]
        length = math.hypot(x1 - x0, y1 - y0) or 1.0
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        course = [(x0 - ux * 5000, y0 - uy * 5000), *through, (x1 + ux * 5000, y1 + uy * 5000)]
        amp, wave = rng.uniform(300, 800), rng.uniform(2000, 4000)
        dense: list[tuple[float, float]] = []
        walked = 0.0
        for (ax, ay), (bx, by) in itertools.pairwise(course):
            seg = math.hypot(bx - ax, by - ay)
            steps = max(1, int(seg // 100))
            nx, ny = (-(by - ay) / seg, (bx - ax) / seg) if seg else (0.0, 0.0)
            for s in range(steps):
                f = s / steps
                off = amp * math.sin(2 * math.pi * (walked + f * seg) / wave)
                dense.append((ax + (bx - ax) * f + nx * off, ay + (by - ay) * f + ny * off))
            walked += seg
        dense.append(course[-1])
        width = rng.uniform(250, 700)
        third = len(dense) // 3
        for r, (a, b) in enumerate(((0, third + 1), (third, 2 * third + 1), (2 * third, len(dense)))):
            reach = LineString(dense[a:b])
            zones.append(
                (
                    "flood",
                    rng.choice(["0.5m未満", "0.5-3.0m", "3.0-5.0m"]),
                    f"ベンチ川{i + 1} 第{r + 1}区間",
                    wkt(reach.buffer(width, quad_segs=4).simplify(20)),
                )
            )
    # Landslide zones: irregular blobs near anchors.
    for i in range(12):
        cx, cy = rng.choice(pts)
        cx, cy = cx + rng.uniform(-1500, 1500), cy + rng.uniform(-1500, 1500)
        n = rng.randint(48, 96)
        radius = rng.uniform(150, 400)
        ring = [
            (
                cx + radius * (1 + 0.3 * math.sin(3 * t + i)) * math.cos(t),
                cy + radius * (1 + 0.3 * math.sin(3 * t + i)) * math.sin(t),
            )
            for t in (2 * math.pi * k / n for k in range(n))
        ]
        zones.append(("landslide", "警戒区域", f"ベンチ土砂{i + 1}", wkt(Polygon(ring).buffer(0))))
    return zones


async def ensure_network(url: str, tenant_id: uuid.UUID, seed: int) -> dict[str, Any]:
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url))
    out: dict[str, Any] = {}
    try:
        async with conn.transaction():
            await stamp(conn, tenant_id)
            await conn.execute("SET LOCAL jit = off")
            active = await conn.fetchval(
                "SELECT count(*) FROM watch_link WHERE tenant_id = $1 AND ended_at IS NULL", tenant_id
            )
            if active <= LINKS_PRESENT:
                t = time.perf_counter()
                await conn.execute(CANDIDATES, tenant_id)
                status = await conn.execute(INSERT_LINKS, tenant_id)
                out["links_added"] = int(status.split()[-1])
                out["links_seconds"] = round(time.perf_counter() - t, 1)
                print(
                    f"  added {out['links_added']:,} watch links (active and ended) in {out['links_seconds']} s",
                    flush=True,
                )
            zones = await conn.fetchval("SELECT count(*) FROM hazard_zone WHERE tenant_id = $1", tenant_id)
            if zones == 0:
                t = time.perf_counter()
                anchors = [
                    (r[0], r[1])
                    for r in await conn.fetch(
                        "SELECT ST_X(location), ST_Y(location) FROM household WHERE tenant_id = $1"
                        " ORDER BY md5(id::text) LIMIT 60",
                        tenant_id,
                    )
                ]
                rows = hazard_zones(anchors, seed)
                await conn.executemany(
                    "INSERT INTO hazard_zone (tenant_id, id, kind, level, name, source, geom)"
                    " VALUES ($1, gen_random_uuid(), $2, $3, $4, 'bench/coverage.py (synthetic)',"
                    " ST_Multi(ST_MakeValid(ST_GeomFromText($5, 4326))))",
                    [(tenant_id, *z) for z in rows],
                )
                out["hazard_zones_added"] = len(rows)
                print(f"  added {len(rows)} hazard zones in {time.perf_counter() - t:.1f} s", flush=True)
        if out:  # as the owner: the app's role may not ANALYZE
            owner = await asyncpg.connect(asyncpg_dsn(owner_url(url)))
            try:
                for table in ("watch_link", "hazard_zone"):
                    await owner.execute(f"ANALYZE {table}")
            finally:
                await owner.close()
        async with conn.transaction():
            await stamp(conn, tenant_id)
            await conn.execute("SET LOCAL jit = off")
            out["network"] = dict(
                await conn.fetchrow(  # type: ignore[arg-type]  # the counts always make one row
                    """WITH l AS (SELECT household_id, count(*) AS n FROM watch_link
                              WHERE tenant_id = $1 AND ended_at IS NULL GROUP BY household_id),
                        z AS MATERIALIZED (SELECT ST_Union(geom) AS g FROM hazard_zone WHERE tenant_id = $1)
                   SELECT (SELECT count(*) FROM household WHERE tenant_id = $1) AS households,
                          (SELECT count(*) FROM watcher WHERE tenant_id = $1 AND role = 'watcher') AS watchers,
                          (SELECT count(*) FROM watcher WHERE tenant_id = $1 AND role = 'commissioner') AS commissioners,
                          (SELECT count(*) FROM watch_link WHERE tenant_id = $1 AND ended_at IS NULL) AS active_links,
                          (SELECT count(*) FROM watch_link WHERE tenant_id = $1 AND ended_at IS NOT NULL) AS ended_links,
                          (SELECT count(*) FROM l WHERE n >= 2) AS households_2plus,
                          (SELECT count(*) FROM l WHERE n = 1) AS households_1,
                          (SELECT count(*) FROM hazard_zone WHERE tenant_id = $1) AS hazard_zones,
                          (SELECT sum(ST_NPoints(geom)) FROM hazard_zone WHERE tenant_id = $1) AS hazard_vertices,
                          (SELECT count(*) FROM household h WHERE h.tenant_id = $1
                             AND ST_Intersects((SELECT g FROM z), h.location)) AS households_in_hazard
                """,
                    tenant_id,
                )
            )
    finally:
        await conn.close()
    return out


# --- viewers and the statements -------------------------------------------------------------------


async def commissioner_area(url: str, viewer: Viewer) -> uuid.UUID | None:
    """The area district the commissioner's scope lies in (None for a viewer without a scope)."""
    import asyncpg

    if viewer.scope is None:
        return None
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        async with conn.transaction():
            await stamp(conn, viewer.tenant_id)
            parent: uuid.UUID | None = await conn.fetchval(
                "SELECT d.parent_id FROM user_district_scope s JOIN district d ON d.tenant_id = s.tenant_id"
                " AND d.id = s.district_id WHERE s.tenant_id = $1 AND s.user_id = $2 LIMIT 1",
                viewer.tenant_id,
                viewer.user_id,
            )
            return parent
    finally:
        await conn.close()


def statements(role: str, district: bool) -> dict[str, str]:
    """The SQL the endpoints run for a viewer of `role` (the disclosure filter depends on it)."""
    from server.core import context
    from server.watch import coverage as cov
    from server.watch.common import SUBTREE_CTE

    context.update(role=role)
    try:
        tree = (
            f"WITH RECURSIVE {SUBTREE_CTE} SELECT d.id, d.parent_id, d.code, d.name, d.level, d.walking_radius_m"
            " FROM district d WHERE d.tenant_id = :tenant AND d.id IN (SELECT id FROM subtree) ORDER BY d.code"
            if district
            else "SELECT d.id, d.parent_id, d.code, d.name, d.level, d.walking_radius_m"
            " FROM district d WHERE d.tenant_id = :tenant ORDER BY d.code"
        )
        return {
            "households": cov.household_numbers_sql(district),
            "watchers": cov.watcher_numbers_sql(district),
            "over_capacity": cov.over_capacity_sql(district),
            "tree": tree,
            "pockets": cov.pockets_sql(district),
        }
    finally:
        context.update(role=None)


async def run_sql(
    conn: Any,
    viewer: Viewer | None,
    sqls: dict[str, str],
    names: tuple[str, ...],
    params: dict[str, Any],
    work_mem_mb: int | None,
) -> tuple[float, dict[str, float], list[Any]]:
    """One transaction stamped as `viewer` (None: no stamp, a raw connection); returns
    (total ms, ms per statement, the rows of the last statement)."""
    per: dict[str, float] = {}
    rows: list[Any] = []
    t0 = time.perf_counter()
    async with conn.transaction():
        if viewer is not None:
            await conn.execute(STAMP_SQL, *viewer.stamp_args())
        await conn.execute("SET LOCAL jit = off")
        if work_mem_mb:
            await conn.execute(f"SET LOCAL work_mem = '{int(work_mem_mb)}MB'")
        for key, sql in sqls.items():
            text_, used = to_asyncpg(sql, names)
            t = time.perf_counter()
            rows = await conn.fetch(text_, *[params[n] for n in used])
            per[key] = (time.perf_counter() - t) * 1000.0
    return (time.perf_counter() - t0) * 1000.0, per, rows


async def explain(conn: Any, viewer: Viewer, sqls: dict[str, str], params: dict[str, Any]) -> str:
    out = []
    for key, sql in sqls.items():
        text_, used = to_asyncpg(sql, SQL_NAMES)
        async with conn.transaction():
            await conn.execute(STAMP_SQL, *viewer.stamp_args())
            await conn.execute("SET LOCAL jit = off")
            if key == "pockets":
                await conn.execute("SET LOCAL work_mem = '32MB'")
            plan = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + text_, *[params[n] for n in used])
        out.append(f"=== {viewer.name}: {key} ===\n" + "\n".join(r[0] for r in plan))
    return "\n\n".join(out)


# --- the benchmark ----------------------------------------------------------------------------------


async def time_http(
    session: Session, path: str, params: dict[str, str], rounds: int, warm: bool = True
) -> tuple[list[float], int, Any]:
    if warm:
        r = await session.get(path, params=params)
        if r.status_code != 200:
            raise RuntimeError(f"{path}: {r.status_code} {r.text[:300]}")
    times: list[float] = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        r = await session.get(path, params=params)
        times.append((time.perf_counter() - t0) * 1000.0)
        if r.status_code != 200:
            raise RuntimeError(f"{path}: {r.status_code} {r.text[:300]}")
    return times, len(r.content), r.json()


async def run_bench(args: argparse.Namespace, url: str, stamp_: str) -> dict[str, Any]:
    import asyncpg

    tenant = await bench_tenant(url)
    network = {} if args.no_augment else await ensure_network(url, tenant.tenant_id, args.seed)
    if "network" not in network:
        network["network"] = None
    _, viewers = await load_viewers(url)
    area = await commissioner_area(url, viewers["commissioner"])
    creds = field_credentials()
    # (name, viewer, district filter, timed rounds, warm-up first?)
    views: list[tuple[str, Viewer, uuid.UUID | None, int, bool]] = [
        ("staff", viewers["staff"], None, args.rounds, True)
    ]
    if area is not None:
        views.append(("commissioner-area", viewers["commissioner"], area, args.rounds, True))
    if args.commissioner_whole:  # ~100,000 disclosure checks per statement: one cold-ish call of each
        views.append(("commissioner-whole", viewers["commissioner"], None, 1, False))

    server = None if args.base_url else field_server(url, args.port, 1, stamp_, secrets.token_urlsafe(48))
    sessions: dict[str, Session] = {}
    app = await asyncpg.connect(asyncpg_dsn(url))
    raw = await asyncpg.connect(asyncpg_dsn(args.raw_url)) if args.raw_url else None
    results: list[dict[str, Any]] = []
    explain_text: list[str] = []
    try:
        if raw is not None and not await raw.fetchval(
            "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
        ):
            print("warning: --raw-url's role neither is a superuser nor has BYPASSRLS; RLS still applies", flush=True)
        async with serving(args.base_url, server) as base:
            for key in ("staff", "commissioner"):
                sessions[key] = await sign_in(base, creds[key]["login"], creds[key]["password"], timeout=300.0)
            for name, viewer, district, rounds, warm in views:
                q = {"district_id": str(district)} if district else {}
                params = {"tenant": tenant.tenant_id, "district": district, "eps": 300.0}
                sqls = statements(viewer.role, district is not None)
                cov_sqls = {k: v for k, v in sqls.items() if k != "pockets"}
                load_before = os.getloadavg()[0]
                t = time.perf_counter()
                http_cov, size_cov, body_cov = await time_http(
                    sessions[viewer.name], "/api/watch/coverage", q, rounds, warm
                )
                http_poc, size_poc, body_poc = await time_http(
                    sessions[viewer.name], "/api/watch/coverage/pockets.geojson", q, rounds, warm
                )
                if warm:
                    await run_sql(app, viewer, cov_sqls, SQL_NAMES, params, None)
                    await run_sql(app, viewer, {"pockets": sqls["pockets"]}, SQL_NAMES, params, 32)
                sql_cov, sql_poc, per_cov = [], [], []
                pocket_rows: list[Any] = []
                for _ in range(rounds):
                    ms, per, _ = await run_sql(app, viewer, cov_sqls, SQL_NAMES, params, None)
                    sql_cov.append(ms)
                    per_cov.append(per)
                    ms, _, pocket_rows = await run_sql(app, viewer, {"pockets": sqls["pockets"]}, SQL_NAMES, params, 32)
                    sql_poc.append(ms)
                raw_cov: list[float] = []
                raw_poc: list[float] = []
                if raw is not None and viewer.name == "staff":
                    staff_sqls = statements("staff", district is not None)
                    raw_cov_sqls = {k: v for k, v in staff_sqls.items() if k != "pockets"}
                    await run_sql(raw, None, raw_cov_sqls, SQL_NAMES, params, None)
                    await run_sql(raw, None, {"pockets": staff_sqls["pockets"]}, SQL_NAMES, params, 32)
                    for _ in range(rounds):
                        raw_cov.append((await run_sql(raw, None, raw_cov_sqls, SQL_NAMES, params, None))[0])
                        raw_poc.append(
                            (await run_sql(raw, None, {"pockets": staff_sqls["pockets"]}, SQL_NAMES, params, 32))[0]
                        )
                if args.explain and warm:
                    explain_text.append(await explain(app, viewer, sqls, params))
                agree = {
                    "coverage_households": body_cov["totals"]["households"],
                    "pockets_http": len(body_poc["features"]),
                    "pockets_sql": len(pocket_rows),
                    "pocket_households": sum(f["properties"]["households"] for f in body_poc["features"]),
                }
                row = {
                    "view": name,
                    "rounds": rounds,
                    "district_id": str(district) if district else None,
                    "coverage": {
                        "http": http_cov,
                        "sql": sql_cov,
                        "raw": raw_cov,
                        "size": size_cov,
                        "sql_per_statement_p50": {k: percentile([p[k] for p in per_cov], 50) for k in per_cov[0]},
                    },
                    "pockets": {"http": http_poc, "sql": sql_poc, "raw": raw_poc, "size": size_poc},
                    "agree": agree,
                    "load1_before": round(load_before, 2),
                    "load1_after": round(os.getloadavg()[0], 2),
                    "seconds": round(time.perf_counter() - t, 1),
                }
                results.append(row)
                print(
                    f"  {name}: coverage HTTP p50 {percentile(http_cov, 50):.0f} ms / SQL {percentile(sql_cov, 50):.0f} ms;"
                    f" pockets HTTP p50 {percentile(http_poc, 50):.0f} ms / SQL {percentile(sql_poc, 50):.0f} ms"
                    f" ({agree['pockets_http']} pockets, {agree['pocket_households']} households; load {row['load1_after']})",
                    flush=True,
                )
    finally:
        for s in sessions.values():
            await s.aclose()
        await app.close()
        if raw is not None:
            await raw.close()
    return {
        "tenant_id": str(tenant.tenant_id),
        "network": network,
        "results": results,
        "raw_connection": "superuser/BYPASSRLS (no RLS)" if raw is not None else None,
        "explain": "\n\n".join(explain_text) if explain_text else None,
    }


def _p(v: list[float]) -> str:
    return f"{percentile(v, 50):,.0f} / {max(v):,.0f}" if v else "–"


def checks(report: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for r in report["results"]:
        informative = r["view"] == "commissioner-whole"
        for what in ("coverage", "pockets"):
            p50 = percentile(r[what]["http"], 50)
            out.append(
                {
                    "target": f"{what} < {TARGET_S:.0f} s (HTTP, median)" + (" — informative" if informative else ""),
                    "where": r["view"],
                    "value": f"{p50 / 1000:.2f} s",
                    "pass": p50 < TARGET_S * 1000,
                }
            )
        ok = r["agree"]["pockets_http"] == r["agree"]["pockets_sql"]
        out.append(
            {
                "target": "HTTP and SQL agree (pocket count)",
                "where": r["view"],
                "value": f"{r['agree']['pockets_http']} / {r['agree']['pockets_sql']}",
                "pass": ok,
            }
        )
    return out


def render(report: dict[str, Any]) -> str:
    n = report["network"].get("network") or {}
    lines = [
        code_line(report["code"]),
        (
            f"Network: {n.get('households', 0):,} households, {n.get('watchers', 0):,} neighbourhood watchers +"
            f" {n.get('commissioners', 0):,} commissioners, {n.get('active_links', 0):,} active links"
            f" ({n.get('ended_links', 0):,} ended); households with ≥2 / 1 watcher: {n.get('households_2plus', 0):,} /"
            f" {n.get('households_1', 0):,}; {n.get('hazard_zones', 0)} hazard zones ({n.get('hazard_vertices', 0):,} vertices),"
            f" {n.get('households_in_hazard', 0):,} households in them."
            if n
            else "Network: not augmented (--no-augment)."
        ),
        f"Times in ms, median / max of the timed calls after one warm-up; SQL = the endpoint's statements run directly"
        f" (stamped as the viewer){'; raw = ' + report['raw_connection'] if report['raw_connection'] else ''}.",
        "",
        "| view | rounds | coverage HTTP | coverage SQL | coverage raw | HTTP ÷ SQL | pockets HTTP | pockets SQL | pockets raw"
        " | HTTP ÷ SQL | pockets (households) | response KB cov / pockets | load1 before→after |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        c, p, a = r["coverage"], r["pockets"], r["agree"]
        lines.append(
            f"| {r['view']} | {r['rounds']} | {_p(c['http'])} | {_p(c['sql'])} | {_p(c['raw'])}"
            f" | {percentile(c['http'], 50) / percentile(c['sql'], 50):.2f}× | {_p(p['http'])} | {_p(p['sql'])} | {_p(p['raw'])}"
            f" | {percentile(p['http'], 50) / percentile(p['sql'], 50):.2f}× | {a['pockets_http']:,} ({a['pocket_households']:,})"
            f" | {c['size'] / 1024:.0f} / {p['size'] / 1024:.0f} | {r['load1_before']} → {r['load1_after']} |"
        )
    lines += [
        "",
        "Coverage SQL per statement (median ms): "
        + "; ".join(
            f"{r['view']}: " + ", ".join(f"{k} {v:,.0f}" for k, v in r["coverage"]["sql_per_statement_p50"].items())
            for r in report["results"]
        ),
    ]
    lines += ["", "| target | where | measured | result |", "|---|---|---|---|"]
    for ch in report["checks"]:
        lines.append(f"| {ch['target']} | {ch['where']} | {ch['value']} | {'PASS' if ch['pass'] else 'FAIL'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: $DATABASE_URL")
    parser.add_argument("--base-url", help=f"a running server (default: start our own on 127.0.0.1:{FIELD_PORT})")
    parser.add_argument("--port", type=int, default=FIELD_PORT)
    parser.add_argument("--households", type=int, default=100_000, help="loaded first if the database has none")
    parser.add_argument("--rounds", type=int, default=3, help="timed calls per view after one warm-up")
    parser.add_argument(
        "--raw-url",
        default=os.environ.get("BENCH_RAW_DATABASE_URL"),
        help="superuser/BYPASSRLS URL of the same database (default: $BENCH_RAW_DATABASE_URL)",
    )
    parser.add_argument(
        "--commissioner-whole",
        action="store_true",
        help="also time a commissioner asking for the whole prefecture (slow: informative)",
    )
    parser.add_argument("--no-augment", action="store_true", help="do not add watch links / hazard zones")
    parser.add_argument("--explain", action="store_true", help="write EXPLAIN (ANALYZE, BUFFERS) of each statement")
    parser.add_argument("--seed", type=int, default=8216)
    args = parser.parse_args()
    args.rounds = max(1, min(args.rounds, 20))
    url, stamp_, header = start_run(args, "coverage")
    report = asyncio.run(run_bench(args, url, stamp_))
    report.update({**header, "rounds": args.rounds})
    report["checks"] = checks(report)
    explained = report.pop("explain")
    write_result("coverage", stamp_, report, render(report), {"explain": explained} if explained else None)


if __name__ == "__main__":
    main()
