"""The planning tool (`GET /api/drills/planning`) on the whole prefecture, beside its raw statement.

    DATABASE_URL=postgresql+asyncpg://tonari:dev@127.0.0.1:55500/tonari_bench_field \\
        .venv/bin/python bench/planning.py [--rounds 3] [--added 0,5,50,200] [--hazard earthquake] [--explain]

Needs the bench prefecture (loaded if the database has none) *with a watch network*: the loader makes
no watch links and no hazard zones, so run `bench/coverage.py` once first (it adds ~92,000 active
links — ~37 % of households without a watcher, a network still being built — and 42 synthetic hazard
zones), or `bench/drills.py` (whose bots link every household). This script refuses to run on a
tenant with fewer than 10,000 active links rather than time an empty round.

Then, as the bench staff (the whole prefecture), for each `--added` after one warm-up call, `--rounds`
times:

  (a) HTTP   GET /api/drills/planning/?added=N&hazard=…, end to end, on our own server
             (127.0.0.1:8797, one worker, unless `--base-url`)
  (b) plan   `server.drills.planning.plan()` on the app's engine and session, stamped as the route's
             request is: every statement the route runs without HTTP, timed per statement (today's
             round; the placements' statements summed; the figures with the added watchers)
  (c) raw    today's round alone (`planning.round_sql()`: who walks where, every walk timed, the
             figures per district; nothing kept) on asyncpg in one transaction stamped the same way:
             the database's floor for the question without added watchers.

All three must agree (the same 100 % time and placements). `--explain` writes EXPLAIN (ANALYZE, BUFFERS)
of each distinct statement of one plan with the largest `--added` to
bench/results/planning-explain-<timestamp>.txt. Writes bench/results/planning-<timestamp>.json.
Localhost only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import time
from typing import Any

import common  # noqa: F401  (puts the repo root on sys.path)
from common import (
    FIELD_PORT,
    STAMP_SQL,
    asyncpg_dsn,
    bench_tenant,
    code_line,
    field_credentials,
    field_server,
    serving,
    sign_in,
    stamp_args,
    start_run,
    summary,
    to_asyncpg,
    write_result,
)
from sqlalchemy import event, text

from server.core import context
from server.db.engine import make_engine, make_sessionmaker
from server.drills import planning
from server.drills.scenario import Bots
from server.drills.walking import SLOWING_ZONES, walk_params

TARGET_S = 3.0  # the panel's answer on the whole prefecture (#19), with the panel's default of 5 added
LINKS_NEEDED = 10_000
ROUND_NAMES = ("tenant", "zones", "delay", "detour", "kmh", "slowdown", "dwell")


def statement_kind(sql: str) -> str:
    """A short name for one of plan()'s statements (the first words that tell them apart)."""
    s = " ".join(sql.split())
    for marker, name in (
        ("WITH RECURSIVE zones", "round (today)"),
        ("WITH RECURSIVE up(", "figures (with added)"),
        ("FROM plan_district WHERE NOT", "weakest district"),
        ("WITH r AS", "anchor"),
        ("WITH home AS", "take"),
        ("UPDATE plan_hh", "re-time walks"),
        ("UPDATE plan_district", "district summary"),
        ("CREATE", "scratch tables and indexes"),
    ):
        if marker in s:
            return name
    return "other"


async def network(url: str, tenant_id: Any, staff_id: Any) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        async with conn.transaction():
            await conn.execute(STAMP_SQL, *stamp_args(tenant_id, "staff", staff_id))
            row = await conn.fetchrow(
                """SELECT (SELECT count(*) FROM household WHERE tenant_id = $1) AS households,
                          (SELECT count(*) FROM watch_link WHERE tenant_id = $1 AND ended_at IS NULL) AS active_links,
                          (SELECT count(DISTINCT household_id) FROM watch_link
                            WHERE tenant_id = $1 AND ended_at IS NULL) AS households_linked,
                          (SELECT count(*) FROM hazard_zone WHERE tenant_id = $1) AS hazard_zones""",
                tenant_id,
            )
    finally:
        await conn.close()
    assert row is not None
    return {k: int(v) for k, v in dict(row).items()}


async def time_plan(
    sessionmaker: Any, engine: Any, ctx: context.RequestContext, added: int, hazard: str
) -> tuple[float, dict[str, float], planning.Plan]:
    """One plan() as the route runs it; the wall time and the time per statement kind (ms)."""
    per: dict[str, float] = {}
    started: dict[int, float] = {}

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        started[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        kind = statement_kind(statement)
        per[kind] = per.get(kind, 0.0) + (time.perf_counter() - started.pop(id(cursor), time.perf_counter())) * 1000

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)
    token = context.set_context(ctx)
    try:
        t0 = time.perf_counter()
        async with sessionmaker() as db:
            result = await planning.plan(db, added=added, hazard=hazard)
            await db.rollback()
        return (time.perf_counter() - t0) * 1000, per, result
    finally:
        context.reset(token)
        event.remove(engine.sync_engine, "before_cursor_execute", before)
        event.remove(engine.sync_engine, "after_cursor_execute", after)


async def time_raw(conn: Any, ctx: context.RequestContext, hazard: str) -> tuple[float, float | None]:
    """Today's round as one raw statement; (ms, the total 100 % time)."""
    sql, names = to_asyncpg(planning.round_sql(keep=False), ROUND_NAMES)
    bots = Bots()
    values = {
        "tenant": ctx.tenant_id,
        "zones": SLOWING_ZONES[hazard],
        "delay": float(60 * bots.start_delay_minutes),
        **{k: float(v) for k, v in walk_params(bots).items()},
    }
    assert ctx.tenant_id is not None
    t0 = time.perf_counter()
    async with conn.transaction():
        await conn.execute(STAMP_SQL, *stamp_args(ctx.tenant_id, ctx.role or "staff", ctx.user_id))
        await conn.execute("SET LOCAL jit = off")
        await conn.execute("SET LOCAL work_mem = '32MB'")
        rows = await conn.fetch(sql, *(values[n] for n in names))
    ms = (time.perf_counter() - t0) * 1000
    total = next(r for r in rows if r[1])
    return ms, (None if total[7] is None or total[7] == float("inf") else round(float(total[7]), 1))


async def explain(sessionmaker: Any, ctx: context.RequestContext, added: int, hazard: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of each distinct statement of one plan (each in a savepoint that is
    rolled back, then run for real, so the plan goes on as it would)."""
    out: list[str] = []
    seen: set[str] = set()
    token = context.set_context(ctx)
    try:
        async with sessionmaker() as db:
            real = db.execute

            async def explaining(stmt: Any, *a: Any, **k: Any) -> Any:
                sql = str(stmt).strip()
                kind = statement_kind(sql)
                if kind not in seen and not sql.upper().startswith(("CREATE", "SET")):
                    seen.add(kind)
                    await real(text("SAVEPOINT bench_explain"))
                    plan_rows = await real(text("EXPLAIN (ANALYZE, BUFFERS) " + sql), *a, **k)
                    out.append(f"== {kind}\n{sql}\n\n" + "\n".join(r[0] for r in plan_rows) + "\n")
                    await real(text("ROLLBACK TO SAVEPOINT bench_explain"))
                return await real(stmt, *a, **k)

            db.execute = explaining  # an EXPLAIN shim on this one session
            await planning.plan(db, added=added, hazard=hazard)
            await db.rollback()
    finally:
        context.reset(token)
    return "\n".join(out)


async def run_bench(args: argparse.Namespace, url: str, stamp_: str) -> dict[str, Any]:
    import asyncpg

    tenant = await bench_tenant(url)
    net = await network(url, tenant.tenant_id, tenant.staff_id)
    if net["active_links"] < LINKS_NEEDED:
        raise SystemExit(
            f"The bench tenant has {net['active_links']:,} active watch links: run bench/coverage.py once first"
            " (it adds the watch network and hazard zones), or bench/drills.py."
        )
    ctx = context.RequestContext(
        request_id="bench-planning", tenant_id=tenant.tenant_id, user_id=tenant.staff_id, role="staff"
    )
    engine = make_engine(url, pool_size=2, application_name="bench-planning")
    sessionmaker = make_sessionmaker(engine)
    raw = await asyncpg.connect(asyncpg_dsn(url))
    server = None if args.base_url else field_server(url, args.port, 1, stamp_, secrets.token_urlsafe(48))
    creds = field_credentials()
    rows: list[dict[str, Any]] = []
    explain_text = ""
    closing: list[Any] = []
    try:
        async with serving(args.base_url, server) as base:
            staff = await sign_in(base, creds["staff"]["login"], creds["staff"]["password"], timeout=300.0)
            closing.append(staff)
            raw_ms: list[float] = []
            raw_full: float | None = None
            await time_raw(raw, ctx, args.hazard)  # warm-up
            for _ in range(args.rounds):
                ms, raw_full = await time_raw(raw, ctx, args.hazard)
                raw_ms.append(ms)
            for added in args.added:
                load_before = os.getloadavg()[0]
                path = "/api/drills/planning/"
                q = {"added": str(added), "hazard": args.hazard}
                r = await staff.get(path, params=q, timeout=600.0)  # warm-up
                if r.status_code != 200:
                    raise RuntimeError(f"{path}: {r.status_code} {r.text[:300]}")
                http_ms: list[float] = []
                for _ in range(args.rounds):
                    t0 = time.perf_counter()
                    r = await staff.get(path, params=q, timeout=600.0)
                    http_ms.append((time.perf_counter() - t0) * 1000)
                body = r.json()
                await time_plan(sessionmaker, engine, ctx, added, args.hazard)  # warm-up
                plan_ms: list[float] = []
                per_kind: dict[str, list[float]] = {}
                result: planning.Plan | None = None
                for _ in range(args.rounds):
                    ms, per, result = await time_plan(sessionmaker, engine, ctx, added, args.hazard)
                    plan_ms.append(ms)
                    for k, v in per.items():
                        per_kind.setdefault(k, []).append(v)
                assert result is not None
                agree = (
                    body["added_placed"] == result.added_placed
                    and body["totals_with_added"]["confirmed_100_s"] == result.totals_with_added.confirmed_100_s
                    and body["totals_today"]["confirmed_100_s"] == result.totals_today.confirmed_100_s == raw_full
                )
                rows.append(
                    {
                        "added": added,
                        "placed": result.added_placed,
                        "http_ms": summary(http_ms),
                        "plan_ms": summary(plan_ms),
                        "per_statement_ms": {k: summary(v) for k, v in sorted(per_kind.items())},
                        "today": msgspec_dict(result.totals_today),
                        "with_added": msgspec_dict(result.totals_with_added),
                        "agree": agree,
                        "load_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                    }
                )
                print(
                    f"  added={added}: HTTP p50 {summary(http_ms)['p50']:.0f} ms, plan() p50 {summary(plan_ms)['p50']:.0f} ms"
                    f" (placed {result.added_placed}; agree={agree})",
                    flush=True,
                )
            if args.explain:
                explain_text = await explain(sessionmaker, ctx, max(args.added), args.hazard)
    finally:
        for session in closing:
            await session.aclose()
        await raw.close()
        await engine.dispose()
    return {
        "network": net,
        "hazard": args.hazard,
        "rounds": args.rounds,
        "raw_round_ms": summary(raw_ms),
        "raw_round_confirmed_100_s": raw_full,
        "rows": rows,
        "explain": explain_text,
    }


def msgspec_dict(figures: planning.Figures) -> dict[str, Any]:
    return {f: getattr(figures, f) for f in figures.__struct_fields__}


def render(report: dict[str, Any]) -> str:
    n = report["network"]
    lines = [
        f"Planning tool, {n['households']:,} households ({n['households_linked']:,} with a linked watcher,"
        f" {n['active_links']:,} active links, {n['hazard_zones']} hazard zones), hazard {report['hazard']},"
        f" as bench-staff; {report['rounds']} rounds after a warm-up. {code_line(report['code'])}",
        "",
        "| added (placed) | HTTP p50 / max | plan() p50 / max | today's round | placements | figures with added | agree | load 1 min |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report["rows"]:
        per = r["per_statement_ms"]
        placing = sum(
            v["p50"]
            for k, v in per.items()
            if k in ("weakest district", "anchor", "take", "re-time walks", "district summary")
        )
        lines.append(
            f"| {r['added']} ({r['placed']}) | {r['http_ms']['p50']:.0f} / {r['http_ms']['max']:.0f} ms"
            f" | {r['plan_ms']['p50']:.0f} / {r['plan_ms']['max']:.0f} ms"
            f" | {per.get('round (today)', {}).get('p50', 0):.0f} ms | {placing:.0f} ms"
            f" | {per.get('figures (with added)', {}).get('p50', 0):.0f} ms | {r['agree']}"
            f" | {r['load_1min'][0]}–{r['load_1min'][1]} |"
        )
    raw = report["raw_round_ms"]
    lines += [
        "",
        f"raw: today's round as one statement on asyncpg: p50 {raw['p50']:.0f} ms, max {raw['max']:.0f} ms"
        f" (100 % time {report['raw_round_confirmed_100_s']})",
    ]
    default = next((r for r in report["rows"] if r["added"] == 5), None)
    if default is not None:
        ok = default["http_ms"]["p50"] / 1000 < TARGET_S
        lines.append(
            f"target: the panel's default (5 added) answers in < {TARGET_S:.0f} s through HTTP:"
            f" {'PASS' if ok else 'FAIL'} ({default['http_ms']['p50'] / 1000:.2f} s)"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: $DATABASE_URL (the app's role; see bench/README.md)")
    parser.add_argument("--households", type=int, default=100_000, help="loaded if the database has no prefecture")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--added",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[0, 5, 50, 200],
        help=f"comma-separated watchers to add (0–{planning.MAX_ADDED})",
    )
    parser.add_argument("--hazard", default="earthquake", choices=sorted(SLOWING_ZONES))
    parser.add_argument(
        "--explain", action="store_true", help="also write EXPLAIN (ANALYZE, BUFFERS) of each statement"
    )
    parser.add_argument("--base-url", help="an already running server (localhost) instead of our own")
    parser.add_argument("--port", type=int, default=FIELD_PORT)
    args = parser.parse_args()
    if any(not 0 <= a <= planning.MAX_ADDED for a in args.added) or args.rounds < 1:
        parser.error(f"--added values must be 0–{planning.MAX_ADDED} and --rounds at least 1")
    url, stamp_, header = start_run(args, "the planning tool")
    report = {**header, **asyncio.run(run_bench(args, url, stamp_))}
    explain_text = report.pop("explain")
    write_result("planning", stamp_, report, render(report), {"explain": explain_text} if explain_text else None)


if __name__ == "__main__":
    main()
