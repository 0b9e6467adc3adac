"""A fully simulated city-wide drill: the drill engine (#19) with watcher bots on the bench prefecture.

    DATABASE_URL=postgresql+asyncpg://tonari:dev@127.0.0.1:55500/tonari_bench_field \\
        .venv/bin/python bench/drills.py [--households 100000] [--watchers 30000] [--max-seconds 1800]

Loads the bench prefecture if the database has none (`seed/prefecture.py`; `--households`, default
100,000; watchers 30 % of them), then makes `--watchers` (default 30,000) bot accounts: a
neighbourhood watcher of the prefecture each (an `app_user` with role watcher and no usable
password: bots never sign in, they record through the ingest as that user; whole-tenant scope, so
the drill rule — assigned and consented — decides what each sees), plus bench-only watchers living
at a household when the prefecture has too few. Every bot gets a household (rounds of "each bot
without one takes its nearest free household", KNN), then every household left goes to its
nearest watcher with an account (≈ 3.3 households a bot). This happens in the bench only, once per
database, so the demo's `make run` is untouched.
Starts its own server on 127.0.0.1:8797 (one worker: the drill job runs there) and, signed in as
the bench staff:

  max        A drill run at maximum speed (the clock jumps from event to event) of an earthquake
             safety check over the whole prefecture, watcher bots for every watcher, a few
             announcements. Measured from the rows: simulated hours per wall-clock second (the
             drill time of the last bot step done ÷ the wall time it took), bot steps a second,
             and the peak event rate (events of the drill's operation in the busiest wall second;
             mean beside it). Bounded by `--max-seconds` of wall time (then the run is stopped and
             the figures are over what was done).
  raw        Beside it, the raw database doing the same work per step: one transaction per step
             that inserts the visit row and marks the step done (temp tables, the app's role) —
             the floor under the engine's per-step cost (lock the run, find what is due, the road
             and power checks, the ingest with its events and audit, mark the step).
  60x        A second run at 60× with an announcement every 20 drill seconds for `--inject-minutes`
             drill minutes while its bots walk: the timing error of each inject, fired_at − due_at
             (wall), as p50/p99/max. Then the run is stopped.

Writes bench/results/drills-<timestamp>.json. Localhost only; every loop is bounded by time.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
import uuid
from typing import Any

from common import (
    FIELD_PORT,
    asyncpg_dsn,
    bench_tenant,
    cpu_report,
    field_credentials,
    field_server,
    group_cpu_seconds,
    owner_url,
    percentile,
    sample_cpu,
    serving,
    sign_in,
    stamp,
    start_run,
    write_result,
)

TARGET_INJECT_P99_S = 1.0  # injects fire within 1 s of their due time at any speed (#19)
BOT_LOGIN_PREFIX = "bench-bot-"

# Bench-only watchers when the prefecture has fewer neighbourhood watchers without an account
# than `--watchers`: each lives at a household of its own district (a neighbour).
EXTRA_WATCHERS = """
    INSERT INTO watcher (tenant_id, id, name, kana, role, home, district_id)
    SELECT $1, gen_random_uuid(), 'ベンチ 見守りボット（追加）' || n, 'ベンチ', 'watcher', location, district_id
    FROM (SELECT location, district_id, row_number() OVER (ORDER BY md5(id::text)) AS n FROM household
          WHERE tenant_id = $1 ORDER BY md5(id::text) LIMIT $2) h
"""

# Neighbourhood watchers without an account get a bot's account (no usable password), up to $3;
# logins number on from $4 (the bots already made).
BOT_ACCOUNTS = """
    WITH w AS (
        SELECT id, $4 + row_number() OVER (ORDER BY id) AS n FROM watcher
        WHERE tenant_id = $1 AND role = 'watcher' AND user_id IS NULL ORDER BY id LIMIT $3
    ),
    u AS (
        INSERT INTO app_user (tenant_id, id, login, display_name, role, password_hash, is_active, all_districts)
        SELECT $1, gen_random_uuid(), $2 || w.n, 'ベンチ 見守りボット ' || w.n, 'watcher', '!bench-bot', true, true
        FROM w
        RETURNING id, login
    )
    UPDATE watcher SET user_id = u.id, available = true
    FROM w JOIN u ON u.login = $2 || w.n
    WHERE watcher.tenant_id = $1 AND watcher.id = w.id
"""

_BOTS = """
    SELECT w.id, w.home FROM watcher w JOIN app_user u ON u.tenant_id = w.tenant_id AND u.id = w.user_id
    WHERE w.tenant_id = $1 AND w.role = 'watcher' AND u.login LIKE $2 || '%'
"""
_LINKED = "EXISTS (SELECT 1 FROM watch_link l WHERE l.tenant_id = $1 AND l.{col} = {ref} AND l.ended_at IS NULL)"

# One round of "every bot without a household takes one": each such bot's $3 nearest free
# households (KNN on the GiST index), each household to the nearest bot that wants it, each bot
# its nearest household won. Rounds repeat with a wider $3 until every bot has one.
BOT_ONE_EACH = f"""
    WITH needy AS MATERIALIZED (
        SELECT b.id, b.home FROM ({_BOTS}) b WHERE NOT {_LINKED.format(col="watcher_id", ref="b.id")}
    ),
    cand AS MATERIALIZED (
        SELECT h.id AS household_id, b.id AS watcher_id, h.d
        FROM needy b CROSS JOIN LATERAL (
            SELECT x.id, x.location <-> b.home AS d FROM household x
            WHERE x.tenant_id = $1 AND NOT {_LINKED.format(col="household_id", ref="x.id")}
            ORDER BY x.location <-> b.home LIMIT $3) h
    ),
    per_household AS (
        SELECT DISTINCT ON (household_id) household_id, watcher_id, d FROM cand ORDER BY household_id, d, watcher_id
    ),
    per_bot AS (
        SELECT DISTINCT ON (watcher_id) household_id, watcher_id FROM per_household ORDER BY watcher_id, d, household_id
    )
    INSERT INTO watch_link (tenant_id, id, household_id, watcher_id, kind, since, distance_m)
    SELECT $1, gen_random_uuid(), household_id, watcher_id, 'primary', DATE '2026-04-01', 0 FROM per_bot
"""

# Then every household still without a watcher goes to its nearest watcher with an account (KNN
# on the watchers' GiST index, no Python loop).
BOT_REST = f"""
    WITH rest AS MATERIALIZED (
        SELECT h.id AS household_id,
               (SELECT w.id FROM watcher w WHERE w.tenant_id = $1 AND w.role = 'watcher' AND w.user_id IS NOT NULL
                ORDER BY w.home <-> h.location LIMIT 1) AS watcher_id
        FROM household h WHERE h.tenant_id = $1 AND NOT {_LINKED.format(col="household_id", ref="h.id")}
    )
    INSERT INTO watch_link (tenant_id, id, household_id, watcher_id, kind, since, distance_m)
    SELECT $1, gen_random_uuid(), household_id, watcher_id, 'primary', DATE '2026-04-01', 0
    FROM rest WHERE watcher_id IS NOT NULL
"""
NEEDY = f"SELECT count(*) FROM ({_BOTS}) b WHERE NOT {_LINKED.format(col='watcher_id', ref='b.id')}"


async def _analyze(url: str, tables: tuple[str, ...]) -> None:
    """As the owner: the app's role may not ANALYZE."""
    import asyncpg

    owner = await asyncpg.connect(asyncpg_dsn(owner_url(url)))
    try:
        for table in tables:
            await owner.execute(f"ANALYZE {table}")
    finally:
        await owner.close()


async def ensure_bots(url: str, tenant_id: uuid.UUID, watchers: int) -> dict[str, Any]:
    """`watchers` bot accounts, each with at least one household, every household with a watcher;
    tops up what an earlier run made (a bot left without a household is reported, not fixed)."""
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url))
    out: dict[str, Any] = {}
    try:
        t = time.perf_counter()
        async with conn.transaction():
            await stamp(conn, tenant_id)
            made = await conn.fetchval(
                "SELECT count(*) FROM app_user WHERE tenant_id = $1 AND login LIKE $2 || '%'",
                tenant_id,
                BOT_LOGIN_PREFIX,
            )
            if made < watchers:
                free = await conn.fetchval(
                    "SELECT count(*) FROM watcher WHERE tenant_id = $1 AND role = 'watcher' AND user_id IS NULL",
                    tenant_id,
                )
                if free < watchers - made:
                    status = await conn.execute(EXTRA_WATCHERS, tenant_id, watchers - made - free)
                    out["bench_watchers_added"] = int(status.split()[-1])
                status = await conn.execute(BOT_ACCOUNTS, tenant_id, BOT_LOGIN_PREFIX, watchers - made, made)
                out["bot_accounts_added"] = int(status.split()[-1])
        if out:  # fresh statistics first: the links' KNN must see that every watcher has an account now
            await _analyze(url, ("app_user", "watcher"))
        async with conn.transaction():
            await stamp(conn, tenant_id)
            await conn.execute("SET LOCAL jit = off")
            added, k = 0, 4
            for _ in range(12):  # each round halves (at least) the bots still without a household
                if not await conn.fetchval(NEEDY, tenant_id, BOT_LOGIN_PREFIX):
                    break
                status = await conn.execute(BOT_ONE_EACH, tenant_id, BOT_LOGIN_PREFIX, k)
                added += int(status.split()[-1])
                k *= 2
            status = await conn.execute(BOT_REST, tenant_id)
            added += int(status.split()[-1])
            if added:
                out["bot_links_added"] = added
        if "bot_links_added" in out:
            await _analyze(url, ("watch_link",))
        if out:
            out["bots_seconds"] = round(time.perf_counter() - t, 1)
            print(f"  bot accounts and links added: {out}", flush=True)
        async with conn.transaction():
            await stamp(conn, tenant_id)
            row = await conn.fetchrow(
                """SELECT (SELECT count(*) FROM household WHERE tenant_id = $1) AS households,
                          (SELECT count(*) FROM watcher w JOIN app_user u ON u.tenant_id = w.tenant_id AND u.id = w.user_id
                           WHERE w.tenant_id = $1 AND u.role = 'watcher' AND u.is_active
                             AND EXISTS (SELECT 1 FROM watch_link l WHERE l.tenant_id = $1 AND l.watcher_id = w.id
                                         AND l.ended_at IS NULL)) AS bots,
                          (SELECT count(*) FROM app_user WHERE tenant_id = $1 AND login LIKE $2 || '%') AS bot_accounts,
                          (SELECT count(*) FROM watch_link WHERE tenant_id = $1 AND ended_at IS NULL) AS links,
                          (SELECT count(*) FROM household h WHERE h.tenant_id = $1 AND NOT EXISTS (
                              SELECT 1 FROM watch_link l WHERE l.tenant_id = $1 AND l.household_id = h.id
                              AND l.ended_at IS NULL)) AS households_unwatched""",
                tenant_id,
                BOT_LOGIN_PREFIX,
            )
            assert row is not None
            out.update(dict(row))
            out["bot_accounts_without_household"] = await conn.fetchval(NEEDY, tenant_id, BOT_LOGIN_PREFIX)
    finally:
        await conn.close()
    return out


def scenario_yaml(districts: list[str], title: str, injects: list[int], duration_min: int) -> str:
    lines = [
        f'title: "【訓練】{title}"',
        "exercise: safety_check",
        "hazard: {kind: earthquake, magnitude: 6.8}",
        f"area: {{districts: [{', '.join(districts)}]}}",
        'start: "2027-01-15T10:00:00+09:00"',
        f'duration: "T+{duration_min}:00"',
        "roles:",
        "  - role: watcher",
        "    played_by: bots",
        "    bots: {outcomes: {safe: 0.90, evacuated: 0.05, unknown: 0.05}}",
        "injects:",
    ]
    for i, at in enumerate(injects):
        lines += [
            f'  - at: "T+{at // 60}:{at % 60:02d}"',
            "    kind: announcement",
            "    audience: all",
            f'    message: {{ja: "ベンチの状況付与 {i + 1}", en: "Bench announcement {i + 1}"}}',
        ]
    return "\n".join(lines) + "\n"


async def start_drill(staff: Any, yaml: str, speed: str) -> dict[str, Any]:
    r = await staff.post("/api/drills/runs/", json={"yaml": yaml, "speed": speed}, timeout=600.0)
    if r.status_code != 201:
        raise RuntimeError(f"starting the drill failed: {r.status_code} {r.text[:500]}")
    run: dict[str, Any] = r.json()
    return run


async def stop_drill(staff: Any, run_id: str) -> None:
    r = await staff.post(f"/api/drills/runs/{run_id}/clock", json={"action": "stop"}, timeout=60.0)
    if r.status_code != 200:
        print(f"warning: stopping drill {run_id}: {r.status_code} {r.text[:200]}", flush=True)


async def wait_run(staff: Any, run_id: str, max_seconds: float, until_fired: int | None = None) -> dict[str, Any]:
    """Poll the run (1 s) until it ends, `until_fired` injects fired, or `max_seconds` pass."""
    deadline = time.monotonic() + max_seconds
    while True:
        run: dict[str, Any] = (await staff.get(f"/api/drills/runs/{run_id}", timeout=60.0)).json()
        if run["status"] not in ("running", "paused") or (until_fired is not None and run["fired"] >= until_fired):
            return run
        if time.monotonic() > deadline:
            run["_timed_out"] = True
            return run
        print(f"    {run['clock']}  fired {run['fired']}/{run['injects']}", flush=True)
        await asyncio.sleep(1.0)


async def run_figures(url: str, tenant_id: uuid.UUID, run_id: str) -> dict[str, Any]:
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        async with conn.transaction():
            await stamp(conn, tenant_id)
            rid = uuid.UUID(run_id)
            steps = await conn.fetchrow(
                """SELECT count(*) AS planned, count(done_at) AS done, max(at_s) FILTER (WHERE done_at IS NOT NULL) AS sim_s,
                          extract(epoch FROM max(done_at) - (SELECT created_at FROM drill_run WHERE tenant_id = $1 AND id = $2)) AS wall_s,
                          count(*) FILTER (WHERE result = 'accepted') AS accepted, max(at_s) AS planned_sim_s
                   FROM drill_bot_step WHERE tenant_id = $1 AND run_id = $2 AND kind = 'visit'""",
                tenant_id,
                rid,
            )
            op = await conn.fetchval(
                "SELECT operation_id FROM drill_run WHERE tenant_id = $1 AND id = $2", tenant_id, rid
            )
            events = await conn.fetchrow(
                """WITH s AS (SELECT date_trunc('second', created_at) AS s, count(*) AS n FROM event
                              WHERE operation_id = $1 GROUP BY 1)
                   SELECT coalesce(max(n), 0) AS peak, coalesce(sum(n), 0) AS total,
                          greatest(extract(epoch FROM max(s) - min(s)) + 1, 1) AS span_s FROM s""",
                op,
            )
            steps_peak = await conn.fetchval(
                """SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM drill_bot_step
                   WHERE tenant_id = $1 AND run_id = $2 AND done_at IS NOT NULL GROUP BY date_trunc('second', done_at)) x""",
                tenant_id,
                rid,
            )
            injects = [
                float(r[0])
                for r in await conn.fetch(
                    "SELECT extract(epoch FROM fired_at - due_at) FROM drill_inject_fired"
                    " WHERE tenant_id = $1 AND run_id = $2 ORDER BY seq",
                    tenant_id,
                    rid,
                )
            ]
    finally:
        await conn.close()
    assert steps is not None and events is not None
    wall = float(steps["wall_s"] or 0.0)
    sim = float(steps["sim_s"] or 0.0)
    return {
        "steps_planned": steps["planned"],
        "steps_done": steps["done"],
        "visits_accepted": steps["accepted"],
        "sim_s": round(sim, 1),
        "wall_s": round(wall, 2),
        "sim_hours_per_wall_s": round(sim / 3600 / wall, 4) if wall > 0 else None,
        # The whole drill at the measured step rate (when the run was stopped at --max-seconds):
        # the planned walks' end in drill time ÷ the wall time all planned steps would take.
        "planned_sim_s": round(float(steps["planned_sim_s"] or 0.0), 1),
        "projected_sim_hours_per_wall_s": (
            round(float(steps["planned_sim_s"] or 0.0) / 3600 / (steps["planned"] * wall / steps["done"]), 4)
            if wall > 0 and steps["done"]
            else None
        ),
        "steps_per_s": round(steps["done"] / wall, 1) if wall > 0 else None,
        "steps_peak_per_s": steps_peak,
        "events_total": events["total"],
        "events_peak_per_s": events["peak"],
        "events_mean_per_s": round(float(events["total"]) / float(events["span_s"]), 1),
        "inject_errors_s": injects,
    }


async def raw_steps(url: str, tenant_id: uuid.UUID, n: int) -> dict[str, Any]:
    """The raw database doing each step's writes: one transaction per step, a visit row inserted
    and the step marked done (temp tables as the app's role: nothing touches the real tables)."""
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute(
            "CREATE TEMP TABLE raw_visit (id uuid PRIMARY KEY, client_id uuid UNIQUE, household_id uuid, outcome text,"
            " note text, server_time timestamptz DEFAULT clock_timestamp())"
        )
        await conn.execute(
            "CREATE TEMP TABLE raw_step AS SELECT g AS seq, NULL::timestamptz AS done_at FROM generate_series(0, $1 - 1) g",
            n,
        )
        await conn.execute("ALTER TABLE raw_step ADD PRIMARY KEY (seq)")
        t = time.perf_counter()
        for seq in range(n):
            async with conn.transaction():
                await stamp(conn, tenant_id)
                await conn.execute(
                    "INSERT INTO raw_visit (id, client_id, household_id, outcome, note) VALUES ($1, $2, $3, 'safe', 'raw')",
                    uuid.uuid4(),
                    uuid.uuid4(),
                    uuid.uuid4(),
                )
                await conn.execute("UPDATE raw_step SET done_at = clock_timestamp() WHERE seq = $1", seq)
        wall = time.perf_counter() - t
    finally:
        await conn.close()
    return {"steps": n, "wall_s": round(wall, 2), "steps_per_s": round(n / wall, 1)}


async def main_async(args: argparse.Namespace, url: str, stamp_: str, header: dict[str, Any]) -> None:
    tenant = await bench_tenant(url)
    network = await ensure_bots(url, tenant.tenant_id, args.watchers)
    print(
        f"  {network['households']:,} households, {network['bots']:,} watcher bots"
        f" ({network['bot_accounts']:,} bot accounts, {network['bot_accounts_without_household']} without a household),"
        f" {network['links']:,} links",
        flush=True,
    )
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        async with conn.transaction():
            await stamp(conn, tenant.tenant_id)
            districts = [
                r[0]
                for r in await conn.fetch(
                    "SELECT code FROM district WHERE tenant_id = $1 AND parent_id IS NULL ORDER BY code",
                    tenant.tenant_id,
                )
            ]
    finally:
        await conn.close()
    creds = field_credentials()["staff"]
    server = (
        None
        if args.base_url
        else field_server(url, args.port, 1, stamp_, secrets.token_urlsafe(32), pool_size=args.pool_size)
    )
    report: dict[str, Any] = {**header, "network": network}
    async with serving(args.base_url, server) as base:
        staff = await sign_in(base, creds["login"], creds["password"], timeout=600.0)
        # 1. Maximum speed.
        print("max: a drill at maximum speed …", flush=True)
        pgid = server.pgid if server else None
        cpu0, server0 = sample_cpu(), group_cpu_seconds(pgid)
        t0 = time.perf_counter()
        run = await start_drill(
            staff,
            scenario_yaml(districts, "ベンチ 全域地震（最大速度）", [0, 600, 1800, 3600], args.duration_minutes),
            "max",
        )
        report["max_start_s"] = round(time.perf_counter() - t0, 1)
        done = await wait_run(staff, run["id"], args.max_seconds)
        if done.get("_timed_out"):
            await stop_drill(staff, run["id"])
        report["max"] = {
            **await run_figures(url, tenant.tenant_id, run["id"]),
            "finished": done["status"] == "finished",
            "cpu": cpu_report(cpu0, sample_cpu(), server0, group_cpu_seconds(pgid)),
        }
        # 2. The raw database doing the same per-step writes.
        report["raw"] = await raw_steps(url, tenant.tenant_id, min(args.raw_steps, max(1, report["max"]["steps_done"])))
        # 3. Inject timing at 60×.
        print("60x: injects every 20 drill seconds …", flush=True)
        injects = list(range(20, 60 * args.inject_minutes + 1, 20))
        run60 = await start_drill(
            staff,
            scenario_yaml(districts, "ベンチ 全域地震（60倍速）", injects, args.inject_minutes + 1),
            "60x",
        )
        done60 = await wait_run(staff, run60["id"], args.inject_minutes + 120, until_fired=len(injects))
        if done60["status"] in ("running", "paused"):
            await stop_drill(staff, run60["id"])
        f60 = await run_figures(url, tenant.tenant_id, run60["id"])
        errors = f60.pop("inject_errors_s")
        report["x60"] = {
            **f60,
            "injects": len(injects),
            "fired": len(errors),
            "inject_error_p50_s": round(percentile(errors, 50), 3) if errors else None,
            "inject_error_p99_s": round(percentile(errors, 99), 3) if errors else None,
            "inject_error_max_s": round(max(errors), 3) if errors else None,
        }
        report["max"].pop("inject_errors_s", None)
    m, r, x = report["max"], report["raw"], report["x60"]
    ratio = (r["steps_per_s"] / m["steps_per_s"]) if m["steps_per_s"] else None
    table = "\n".join(
        [
            f"City-wide drill: {network['households']:,} households, {network['bots']:,} watcher bots"
            f" ({network['links']:,} links), one server worker",
            f"  max speed   {m['steps_done']:,}/{m['steps_planned']:,} bot steps in {m['wall_s']} s"
            f" ({'finished' if m['finished'] else 'stopped at --max-seconds'}); start {report['max_start_s']} s",
            f"              simulated hours per wall second {m['sim_hours_per_wall_s']}"
            f"  (drill time {m['sim_s'] / 3600:.2f} h); whole drill ({m['planned_sim_s'] / 3600:.2f} h)"
            f" at this step rate: {m['projected_sim_hours_per_wall_s']}",
            f"              bot steps/s {m['steps_per_s']} (peak {m['steps_peak_per_s']});"
            f" events/s peak {m['events_peak_per_s']}, mean {m['events_mean_per_s']}",
            f"  raw         {r['steps']:,} steps' writes, one transaction each: {r['steps_per_s']} steps/s"
            f"  → the engine costs {ratio:.1f}× the raw writes"
            if ratio
            else "  raw         —",
            f"  60×         {x['fired']}/{x['injects']} injects; timing error p50 {x['inject_error_p50_s']} s,"
            f" p99 {x['inject_error_p99_s']} s, max {x['inject_error_max_s']} s"
            f" (target p99 ≤ {TARGET_INJECT_P99_S} s); bot steps/s {x['steps_per_s']}",
            f"  load        server CPU {m['cpu']}",
        ]
    )
    write_result("drills", stamp_, report, table)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", help="the bench database (default: DATABASE_URL)")
    p.add_argument("--base-url", help="measure a server someone else runs (localhost only)")
    p.add_argument("--port", type=int, default=FIELD_PORT)
    p.add_argument("--pool-size", type=int, default=None)
    p.add_argument("--households", type=int, default=100_000, help="bench prefecture size if none is loaded")
    p.add_argument("--watchers", type=int, default=30_000, help="watcher bots (accounts), each with a household")
    p.add_argument("--max-seconds", type=float, default=1800.0, help="wall-time bound of the max-speed run")
    p.add_argument("--duration-minutes", type=int, default=480, help="drill time of the max-speed scenario")
    p.add_argument("--inject-minutes", type=int, default=10, help="drill minutes of injects at 60× (one per 20 s)")
    p.add_argument("--raw-steps", type=int, default=5000, help="steps the raw comparison writes")
    args = p.parse_args()
    # start_run loads the prefecture with its own event loop: before ours.
    url, stamp_, header = start_run(args, f"a city-wide drill ({args.households:,} households)")
    asyncio.run(main_async(args, url, stamp_, header))


if __name__ == "__main__":
    main()
