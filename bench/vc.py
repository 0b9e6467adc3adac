"""The 災害VC at the scale of the biggest recent ones, through the API beside the raw SQL doing the same work.

    DATABASE_URL=postgresql+asyncpg://tonari:dev@127.0.0.1:55500/tonari_bench_field \\
        .venv/bin/python bench/vc.py [--desks 8] [--seconds 15] [--rate 60]

Loads the bench prefecture if the database has none (`--households`, small by default: the VC
needs only its tenant and boundary), starts its own server on 127.0.0.1:8797, signs in as the
bench staff and opens a drill centre that opened 59 days ago. Raw SQL (as the app's role, RLS on)
then writes a 60-day history: 5,000 needs, ~60,000 check-ins (peaking at 3,000 on day 3), surveys,
dispatches and reports; and for today 300 teams of checked-in volunteers and 2,000 open needs.

  checkin    `--desks` desks scan pre-registration QR tokens (`POST …/checkins {token}`): closed
             loop for `--seconds` (the maximum rate), then paced at `--rate`/s (open loop, latency
             from the scheduled time). Beside it, raw: the same token-hash lookup and INSERT … ON
             CONFLICT DO NOTHING into vc_checkin, one transaction per scan, on one connection.
  matching   `GET …/matching`: suggestions for all 300 teams against the 2,000 open needs; raw:
             the same statement (server.vc.teams._MATCH) run directly.
  statistics `GET …/statistics` over the 60 days; raw: server.vc.statistics._DAYS directly.
  tiles      `GET /api/tiles/vc-needs/{z}/{x}/{y}.mvt?operation_id=…` (the needs map) at z10, z12 and
             z14 over the centre; raw: a bare ST_AsMVT of the same points (server.maps.tiles.vc_needs
             `bare_needs_sql`) and the served statement without its audit rows, on the same
             connection; and the households tile at the same address through the API for reference.

Targets (#18): check-ins ≥ 50/s with p99 < 200 ms; matching < 1 s; statistics < 500 ms; the
needs tiles as fast as the household layers. Writes
bench/results/vc-<timestamp>.json. Localhost only; every loop is bounded by time and count.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import time
import uuid
from datetime import date, timedelta
from typing import Any

from common import (
    FIELD_PORT,
    TILE_PARAMS,
    asyncpg_dsn,
    bench_tenant,
    field_credentials,
    field_server,
    ms_since,
    percentile,
    serving,
    sign_in,
    stamp,
    start_run,
    tile_of,
    to_asyncpg,
    write_result,
)

from server.maps.tiles.vc_needs import bare_needs_sql, unaudited_needs_sql
from server.vc.reception import new_token, token_hash
from server.vc.statistics import _DAYS
from server.vc.teams import _MATCH

TARGET_CHECKIN_RATE = 50.0
TARGET_CHECKIN_P99_MS = 200.0
TARGET_MATCHING_MS = 1000.0
TARGET_STATISTICS_MS = 500.0
TILE_ZOOMS = (10, 12, 14)
DAYS = 60
NEEDS = 5000
TEAMS = 300
OPEN_NEEDS = 2000

# The history, written by the database itself (generate_series), as the app's role.
HISTORY = [
    # volunteers: one row per check-in day (a volunteer who came back is a new row here: the same
    # count of check-ins; the desk's lookup is by token hash either way); peaks of 3,000 on day 3
    # and today (today's make the 300 teams).
    """INSERT INTO vc_volunteer (tenant_id, id, operation_id, kind, name, age_band, prefecture, insurance,
                                 group_size, registered_via, skills, light_truck)
       SELECT $1, gen_random_uuid(), $2, 'individual', 'ベンチ ' || d || '-' || i, 'age_30_49',
              CASE WHEN i % 5 = 0 THEN '13' ELSE '99' END, 'enrolled', 1, 'desk',
              CASE WHEN i % 7 = 0 THEN ARRAY['heavy_machinery'] ELSE '{}' END, i % 9 = 0
       FROM generate_series(0, $3 - 1) d,
            generate_series(1, CASE WHEN d IN (2, $3 - 1) THEN 3000 ELSE 300 + (d * 37) % 1200 END) i""",
    """INSERT INTO vc_checkin (tenant_id, id, operation_id, volunteer_id, vc_day, people, checked_in_at)
       SELECT v.tenant_id, gen_random_uuid(), v.operation_id, v.id,
              $3::date + CAST(split_part(split_part(v.name, ' ', 2), '-', 1) AS int), 1, now()
       FROM vc_volunteer v WHERE v.tenant_id = $1 AND v.operation_id = $2""",
    """INSERT INTO vc_need (tenant_id, id, operation_id, requester_name, requester_kana_normalised, address, location,
                            people_needed, work_types, state, received_on, closed_on, created_by)
       SELECT $1, gen_random_uuid(), $2, '依頼 ' || i, 'イライ' || i, 'ベンチ ' || i,
              ST_SetSRID(ST_MakePoint($5 + (random() - 0.5) * 0.2, $6 + (random() - 0.5) * 0.15), 4326),
              2 + i % 6, ARRAY[(ARRAY['mud_out','carry_out','cleaning','tidying'])[1 + i % 4]],
              CASE WHEN i <= $7 THEN 'waiting' ELSE 'done' END,
              $4::date + CASE WHEN i <= $7 THEN (i % $3) ELSE (i % ($3 - 5)) END,
              CASE WHEN i <= $7 THEN NULL ELSE $4::date + (i % ($3 - 5)) + 3 END, $8
       FROM generate_series(1, $9) i""",
    """INSERT INTO vc_survey (tenant_id, id, need_id, verdict, surveyor, surveyed_at, vc_day)
       SELECT tenant_id, gen_random_uuid(), id, 'needed', 'ベンチ', now(), received_on
       FROM vc_need WHERE tenant_id = $1 AND operation_id = $2 AND random() < 0.6""",
]

# Today: 300 teams of five checked-in volunteers each (one statement: number today's volunteers).
TODAY_TEAMS = """
    WITH today AS MATERIALIZED (
        SELECT v.id, row_number() OVER (ORDER BY v.id) AS rn
        FROM vc_volunteer v JOIN vc_checkin c ON c.tenant_id = v.tenant_id AND c.volunteer_id = v.id
        WHERE v.tenant_id = $1 AND v.operation_id = $2 AND c.vc_day = $3
    ), teams AS (
        INSERT INTO vc_team (tenant_id, id, operation_id, vc_day, name, leader_id, people)
        SELECT $1, gen_random_uuid(), $2, $3, 'T' || lpad(g::text, 3, '0'), today.id, 5
        FROM generate_series(1, $4) g JOIN today ON today.rn = (g - 1) * 5 + 1
        RETURNING id, name
    )
    INSERT INTO vc_team_member (tenant_id, team_id, volunteer_id, vc_day)
    SELECT $1, t.id, today.id, $3
    FROM teams t JOIN today ON (today.rn - 1) / 5 + 1 = CAST(substr(t.name, 2) AS int)
"""

RAW_CHECKIN = """
    INSERT INTO vc_checkin (tenant_id, id, operation_id, volunteer_id, vc_day, people)
    SELECT v.tenant_id, gen_random_uuid(), v.operation_id, v.id, $3, v.group_size
    FROM vc_volunteer v WHERE v.tenant_id = $1 AND v.operation_id = $2 AND v.token_hash = $4
    ON CONFLICT (tenant_id, volunteer_id, vc_day) DO NOTHING
"""
PREREGISTER = """
    INSERT INTO vc_volunteer (tenant_id, id, operation_id, kind, name, age_band, prefecture, insurance, group_size,
                              registered_via, token_hash, privacy_notice, privacy_consented_at)
    SELECT $1, gen_random_uuid(), $2, 'individual', 'QR ' || h, 'age_30_49', '99', 'enrolled', 1, 'preregistration',
           h, '2026-12', now()
    FROM unnest($3::text[]) h
"""


def pct(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values) if values else float("nan"),
    }


async def build_history(
    conn: Any,
    tenant_id: uuid.UUID,
    op: uuid.UUID,
    staff_id: uuid.UUID,
    opened: date,
    base: tuple[float, float],
) -> dict[str, float]:
    timings: dict[str, float] = {}
    async with conn.transaction():
        await stamp(conn, tenant_id, "staff", staff_id)
        t0 = time.perf_counter()
        await conn.execute(HISTORY[0], tenant_id, op, DAYS)
        await conn.execute(HISTORY[1], tenant_id, op, opened)
        await conn.execute(HISTORY[2], tenant_id, op, DAYS, opened, base[0], base[1], OPEN_NEEDS, staff_id, NEEDS)
        await conn.execute(HISTORY[3], tenant_id, op)
        today = opened + timedelta(days=DAYS - 1)
        await conn.execute(TODAY_TEAMS, tenant_id, op, today, TEAMS)
        timings["history_s"] = ms_since(t0) / 1000
    await conn.execute("ANALYZE vc_volunteer, vc_checkin, vc_need, vc_survey, vc_team, vc_team_member")
    return timings


async def checkin_phase(
    base_url: str,
    creds: dict[str, Any],
    op: str,
    tokens: list[str],
    desks: int,
    seconds: float,
    rate: float | None,
) -> dict[str, Any]:
    """Closed loop (rate None) or paced; each scan a token not used before."""
    sessions = [
        await sign_in(base_url, creds["staff"]["login"], creds["staff"]["password"], timeout=60.0) for _ in range(desks)
    ]
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    deadline = start + seconds
    it = iter(tokens)

    async def desk(i: int) -> None:
        nonlocal errors
        n = 0
        while True:
            scheduled = start + (n * desks + i) / rate if rate else time.perf_counter()
            if scheduled >= deadline:
                return
            if rate:
                await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            token = next(it, None)
            if token is None:
                return
            r = await sessions[i].post(f"/api/vc/centres/{op}/checkins", json={"token": token})
            latencies.append((time.perf_counter() - scheduled) * 1000.0)
            errors += r.status_code != 200
            n += 1

    try:
        await asyncio.gather(*[desk(i) for i in range(desks)])
    finally:
        for s in sessions:
            await s.aclose()
    elapsed = time.perf_counter() - start
    return {"rate": len(latencies) / elapsed, "errors": errors, **pct(latencies)}


async def raw_checkins(
    conn: Any, tenant_id: uuid.UUID, staff_id: uuid.UUID, op: uuid.UUID, day: date, tokens: list[str]
) -> dict[str, Any]:
    latencies = []
    t0 = time.perf_counter()
    for token in tokens:
        t = time.perf_counter()
        async with conn.transaction():
            await stamp(conn, tenant_id, "staff", staff_id)
            await conn.execute(RAW_CHECKIN, tenant_id, op, day, token_hash(token))
        latencies.append(ms_since(t))
    return {"rate": len(tokens) / (time.perf_counter() - t0), **pct(latencies)}


async def timed_get(session: Any, path: str, rounds: int, ok: tuple[int, ...] = (200,)) -> list[float]:
    """`rounds` timed GETs of `path`; any answer but `ok` stops the bench (tiles: 204 is an empty tile)."""
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        r = await session.get(path, timeout=60.0)
        out.append(ms_since(t0))
        if r.status_code not in ok:
            raise RuntimeError(f"{path}: {r.status_code} {r.text[:200]}")
    return out


async def timed_raw(
    conn: Any, tenant_id: uuid.UUID, staff_id: uuid.UUID, sql: str, args: tuple[Any, ...], rounds: int
) -> tuple[list[float], int]:
    out, n = [], 0
    for _ in range(rounds):
        t0 = time.perf_counter()
        async with conn.transaction():
            await stamp(conn, tenant_id, "staff", staff_id)
            n = len(await conn.fetch(sql, *args))
        out.append(ms_since(t0))
    return out, n


async def tile_phase(
    conn: Any,
    staff: Any,
    tenant_id: uuid.UUID,
    staff_id: uuid.UUID,
    op: uuid.UUID,
    base: tuple[float, float],
    rounds: int,
) -> dict[str, Any]:
    """The needs map's tiles over the centre: through the API (audited, as served), the served
    statement without its audit rows, and a bare ST_AsMVT of the same points, in one run; and the
    households tile at the same address through the API for reference."""
    params = (*TILE_PARAMS, "op")
    served_sql, served_names = to_asyncpg(unaudited_needs_sql(), params)
    bare_sql, bare_names = to_asyncpg(bare_needs_sql(), params)
    out: dict[str, Any] = {}
    for z in TILE_ZOOMS:
        x, y = tile_of(base[0], base[1], z)
        values = {"tenant": tenant_id, "op": op, "z": z, "x": x, "y": y}
        path = f"/api/tiles/vc-needs/{z}/{x}/{y}.mvt?operation_id={op}"
        await timed_get(staff, path, 1)  # warm
        http = await timed_get(staff, path, rounds)
        size = len((await staff.get(path, timeout=60.0)).content)
        served, _ = await timed_raw(
            conn, tenant_id, staff_id, served_sql, tuple(values[n] for n in served_names), rounds
        )
        bare, _ = await timed_raw(conn, tenant_id, staff_id, bare_sql, tuple(values[n] for n in bare_names), rounds)
        async with conn.transaction():
            await stamp(conn, tenant_id, "staff", staff_id)
            features = await conn.fetchval(
                "SELECT count(*) FROM vc_need WHERE tenant_id = $1 AND operation_id = $2"
                " AND location_3857 && ST_TileEnvelope($3, $4, $5)",
                tenant_id,
                op,
                z,
                x,
                y,
            )
        households_path = f"/api/tiles/households/{z}/{x}/{y}.mvt"
        await timed_get(staff, households_path, 1, ok=(200, 204))
        households = await timed_get(staff, households_path, rounds, ok=(200, 204))
        out[str(z)] = {
            "tile": f"{z}/{x}/{y}",
            "features": features,
            "bytes": size,
            "http": pct(http),
            "served_sql": pct(served),
            "bare_sql": pct(bare),
            "households_http": pct(households),
        }
    return out


async def run_bench(args: argparse.Namespace, url: str, stamp_: str) -> dict[str, Any]:
    import asyncpg

    tenant = await bench_tenant(url)
    creds = field_credentials()
    secret = secrets.token_urlsafe(48)
    server = field_server(url, args.port, 1, stamp_, secret)
    report: dict[str, Any] = {}
    # The server's connection settings (server.db.engine: jit off), so raw and HTTP run the same plans.
    conn = await asyncpg.connect(asyncpg_dsn(url), server_settings={"jit": "off"})
    try:
        async with serving(None, server) as base_url:
            staff = await sign_in(base_url, creds["staff"]["login"], creds["staff"]["password"], timeout=120.0)
            centre_point = await conn.fetchrow(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(boundary) AS p FROM tenant WHERE id = $1) s",
                tenant.tenant_id,
            )
            assert centre_point is not None  # every tenant has a boundary
            lon, lat = float(centre_point[0]), float(centre_point[1])
            r = await staff.post(
                "/api/vc/centres",
                json={"mode": "drill", "name": f"ベンチ VC {stamp_}", "lon": lon, "lat": lat},
            )
            if r.status_code != 201:
                raise RuntimeError(f"opening the centre: {r.status_code} {r.text[:300]}")
            today = date.fromisoformat(r.json()["opened_on"])
            op = uuid.UUID(r.json()["operation_id"])
            opened = today - timedelta(days=DAYS - 1)
            async with conn.transaction():
                await stamp(conn, tenant.tenant_id, "staff", tenant.staff_id)
                await conn.execute(
                    "UPDATE vc_centre SET opened_on = $3 WHERE tenant_id = $1 AND operation_id = $2",
                    tenant.tenant_id,
                    op,
                    opened,
                )
            report["build"] = await build_history(conn, tenant.tenant_id, op, tenant.staff_id, opened, (lon, lat))
            print(f"  centre {op}: 60-day history written in {report['build']['history_s']:.1f} s", flush=True)

            # Pre-registrations for the check-in phases (tokens signed with the server's secret).
            n_tokens = int(args.seconds * 400) + int(args.seconds * args.rate) + 2000
            tokens = [new_token(secret, tenant.tenant_id, op) for _ in range(n_tokens)]
            async with conn.transaction():
                await stamp(conn, tenant.tenant_id, "staff", tenant.staff_id)
                await conn.execute(PREREGISTER, tenant.tenant_id, op, [token_hash(t) for t in tokens])
            random.Random(args.seed).shuffle(tokens)
            rest = iter(tokens)

            def take(n: int) -> list[str]:
                return [t for _, t in zip(range(n), rest, strict=False)]

            await checkin_phase(base_url, creds, str(op), take(50), 2, 5.0, None)  # warm-up
            report["checkin_saturate"] = await checkin_phase(
                base_url, creds, str(op), take(int(args.seconds * 400)), args.desks, args.seconds, None
            )
            report["checkin_paced"] = await checkin_phase(
                base_url,
                creds,
                str(op),
                take(int(args.seconds * args.rate) + 50),
                args.desks,
                args.seconds,
                args.rate,
            )
            report["checkin_raw"] = await raw_checkins(conn, tenant.tenant_id, tenant.staff_id, op, today, take(1000))
            print(
                f"  check-ins: saturate {report['checkin_saturate']['rate']:.0f}/s,"
                f" paced p99 {report['checkin_paced']['p99']:.0f} ms",
                flush=True,
            )

            match_sql, match_names = to_asyncpg(_MATCH, ("t", "o", "d", "team", "k"))
            match_args = tuple(
                {"t": tenant.tenant_id, "o": op, "d": today, "team": None, "k": 3}[n] for n in match_names
            )
            await timed_get(staff, f"/api/vc/centres/{op}/matching", 1)
            report["matching_http"] = pct(await timed_get(staff, f"/api/vc/centres/{op}/matching", args.rounds))
            raw, rows = await timed_raw(conn, tenant.tenant_id, tenant.staff_id, match_sql, match_args, args.rounds)
            report["matching_raw"] = {**pct(raw), "rows": rows}

            stats_sql, stats_names = to_asyncpg(_DAYS, ("t", "o", "opened", "to", "pref"))
            stats_args = tuple(
                {"t": tenant.tenant_id, "o": op, "opened": opened, "to": today, "pref": "99"}[n] for n in stats_names
            )
            await timed_get(staff, f"/api/vc/centres/{op}/statistics", 1)
            report["statistics_http"] = pct(await timed_get(staff, f"/api/vc/centres/{op}/statistics", args.rounds))
            raw, rows = await timed_raw(conn, tenant.tenant_id, tenant.staff_id, stats_sql, stats_args, args.rounds)
            report["statistics_raw"] = {**pct(raw), "rows": rows}
            report["tiles"] = await tile_phase(
                conn, staff, tenant.tenant_id, tenant.staff_id, op, (lon, lat), args.rounds
            )
            close = await staff.post(f"/api/vc/centres/{op}/close")
            report["closed"] = close.status_code == 200
            await staff.aclose()
    finally:
        await conn.close()
    return report


def checks(report: dict[str, Any]) -> list[tuple[str, bool]]:
    return [
        (
            f"check-ins ≥ {TARGET_CHECKIN_RATE:.0f}/s (saturate)",
            report["checkin_saturate"]["rate"] >= TARGET_CHECKIN_RATE,
        ),
        (
            f"check-in p99 < {TARGET_CHECKIN_P99_MS:.0f} ms at the paced rate",
            report["checkin_paced"]["p99"] < TARGET_CHECKIN_P99_MS,
        ),
        (
            "no check-in errors",
            report["checkin_saturate"]["errors"] == 0 and report["checkin_paced"]["errors"] == 0,
        ),
        (
            f"matching 300 teams × 2,000 needs < {TARGET_MATCHING_MS:.0f} ms (p50)",
            report["matching_http"]["p50"] < TARGET_MATCHING_MS,
        ),
        (
            f"60-day statistics < {TARGET_STATISTICS_MS:.0f} ms (p50)",
            report["statistics_http"]["p50"] < TARGET_STATISTICS_MS,
        ),
    ]


def render(report: dict[str, Any]) -> str:
    s, p, raw = report["checkin_saturate"], report["checkin_paced"], report["checkin_raw"]
    lines = [
        "| what | through the API | raw SQL beside it |",
        "|---|---|---|",
        f"| check-ins, saturate ({report['desks']} desks) | {s['rate']:.0f}/s; p50/p99 {s['p50']:.1f}/{s['p99']:.1f} ms;"
        f" errors {s['errors']} | {raw['rate']:.0f}/s on one connection; p50/p99 {raw['p50']:.2f}/{raw['p99']:.2f} ms |",
        f"| check-ins, paced {report['rate']:.0f}/s | {p['rate']:.0f}/s; p50/p99 {p['p50']:.1f}/{p['p99']:.1f} ms;"
        f" errors {p['errors']} | — |",
    ]
    for name in ("matching", "statistics"):
        h, r = report[f"{name}_http"], report[f"{name}_raw"]
        lines.append(
            f"| {name} | p50/max {h['p50']:.0f}/{h['max']:.0f} ms | p50/max {r['p50']:.0f}/{r['max']:.0f} ms"
            f" ({r['rows']} rows) |"
        )
    for z, t in report.get("tiles", {}).items():
        h, served, bare, hh = t["http"], t["served_sql"], t["bare_sql"], t["households_http"]
        lines.append(
            f"| needs tile z{z} ({t['features']} needs, {t['bytes'] / 1024:.0f} kB) | p50/max {h['p50']:.1f}/{h['max']:.1f} ms"
            f" (households tile there: p50 {hh['p50']:.1f} ms) | bare ST_AsMVT p50 {bare['p50']:.1f} ms, served"
            f" statement without audit p50 {served['p50']:.1f} ms; API/bare {h['p50'] / max(bare['p50'], 0.01):.1f}× |"
        )
    lines.append("")
    lines += [f"- {'PASS' if ok else 'FAIL'} {name}" for name, ok in report["checks"]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: $DATABASE_URL")
    parser.add_argument("--base-url", help=argparse.SUPPRESS)  # start_run's check; this bench runs its own server
    parser.add_argument("--port", type=int, default=FIELD_PORT)
    parser.add_argument("--households", type=int, default=2000, help="loaded first if the database has none")
    parser.add_argument("--desks", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rate", type=float, default=60.0, help="paced check-ins per second")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=8216)
    args = parser.parse_args()
    args.desks = max(1, min(args.desks, 64))
    args.seconds = max(2.0, min(args.seconds, 120.0))
    args.rounds = max(1, min(args.rounds, 20))
    url, stamp_, header = start_run(args, "the 災害VC")
    report = asyncio.run(run_bench(args, url, stamp_))
    report.update({**header, "desks": args.desks, "rate": args.rate, "seconds": args.seconds})
    report["checks"] = checks(report)
    write_result("vc", stamp_, report, render(report))


if __name__ == "__main__":
    main()
