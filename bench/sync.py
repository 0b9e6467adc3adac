"""Batch sync: one `POST /api/sync/push` of 1,000 queued visits, beside raw SQL doing the same writes.

    DATABASE_URL=postgresql+asyncpg://tonari:dev@127.0.0.1:55500/tonari_bench_field \\
        .venv/bin/python bench/sync.py [--rounds 5] [--batch 1000]

Loads the bench prefecture if the database has none, starts its own server on 127.0.0.1:8797
(one worker, unless `--base-url`), signs in as the bench staff, creates and starts a drill safety
check over every household (100,000 targets), and per round times, end to end as the client sees
it (request bytes prepared beforehand; send → last response byte):

  fresh       1,000 visits to 1,000 distinct households not visited before, outcomes in the
              field mix (3 % 負傷 and 2 % 要救助: ~50 escalations, as a device back from a
              shelter area would send)
  fresh-safe  the same without escalating outcomes (all 無事): isolates the escalation cost
  duplicate   the `fresh` push again, byte for byte (a retry after a lost answer): 1,000 duplicates
  mixed       400 new, 300 duplicates, 100 conflicts (a known client_id with another outcome),
              100 invalid outcomes, 100 households not in the operation

and beside each, the raw database doing the same writes with asyncpg on one connection, in one
transaction: the stamp, a check that the households are targets of the operation, one
INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING RETURNING into `visit`, the read of the
client ids that already existed (duplicate/conflict), and the server's status recompute
(`visits.RECOMPUTE`) — `raw` — and the same plus the `event` rows and `pg_notify` the server
writes — `raw+events`. The raw runs use other fresh households, so they insert as much.

Every response is checked (per-item statuses must match what was sent). Prints a table (ms per
push, p50 and max over rounds, rows/s, HTTP ÷ raw) and the targets with PASS/FAIL; writes
bench/results/sync-<timestamp>.json. Localhost only; bounded rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import common  # noqa: F401  (puts the repo root on sys.path)
from common import (
    FIELD_PORT,
    BenchTenant,
    Households,
    Outcomes,
    asyncpg_dsn,
    bench_tenant,
    close_operation,
    code_line,
    cpu_report,
    destination,
    field_credentials,
    field_server,
    group_cpu_seconds,
    operation_households,
    percentile,
    recompute_sql,
    sample_cpu,
    serving,
    sign_in,
    stamp,
    start_operation,
    start_run,
    uuid7,
    visit_hash,
    write_result,
)

TARGET_MS = 1000.0  # one push of 1,000 queued visits end to end
KINDS = ("fresh", "fresh-safe", "duplicate", "mixed")


def _item(op_id: str, cid: uuid.UUID, hid: uuid.UUID, outcome: str, dt: datetime) -> dict[str, Any]:
    return {
        "type": "visit",
        "operation_id": op_id,
        "client_id": str(cid),
        "household_id": str(hid),
        "outcome": outcome,
        "device_time": dt.isoformat(),
        **destination(outcome),
    }


def make_batches(op_id: str, households: Households, outcomes: Outcomes, n: int, rng: random.Random) -> dict[str, Any]:
    """The four pushes of one round and the per-item statuses the server must answer."""
    base = datetime.now(UTC) - timedelta(minutes=30)  # queued while offline: a little in the past

    def fresh_items(count: int, safe: bool) -> list[dict[str, Any]]:
        return [
            _item(
                op_id, uuid7(), households.next(), "safe" if safe else outcomes.next(), base + timedelta(milliseconds=i)
            )
            for i in range(count)
        ]

    fresh = fresh_items(n, safe=False)
    fresh_safe = fresh_items(n, safe=True)
    n_new, n_dup, n_conf, n_bad = n * 4 // 10, n * 3 // 10, n // 10, n // 10
    n_out = n - n_new - n_dup - n_conf - n_bad
    mixed: list[tuple[dict[str, Any], str]] = []
    mixed += [(m, "accepted") for m in fresh_items(n_new, safe=False)]
    mixed += [(dict(m), "duplicate") for m in fresh[:n_dup]]
    mixed += [
        (
            {
                **{k: v for k, v in m.items() if k != "shelter_unknown"},
                **(
                    {"outcome": "evacuated", **destination("evacuated")}
                    if m["outcome"] != "evacuated"
                    else {"outcome": "safe"}
                ),
            },
            "conflict",
        )
        for m in fresh[n_dup : n_dup + n_conf]
    ]
    mixed += [
        (dict(m, outcome="ok"), "invalid") for m in fresh_items(n_bad, safe=True)
    ]  # 'ok' is a watch-round outcome
    mixed += [(_item(op_id, uuid7(), uuid.uuid4(), "safe", base), "invalid") for _ in range(n_out)]
    rng.shuffle(mixed)
    return {
        "fresh": ([*fresh], ["accepted"] * n),
        "fresh-safe": (fresh_safe, ["accepted"] * n),
        "duplicate": ([*fresh], ["duplicate"] * n),
        "mixed": ([m for m, _ in mixed], [s for _, s in mixed]),
    }


# --- raw SQL ----------------------------------------------------------------------------------

RAW_TARGETS = """
    SELECT household_id FROM operation_target
    WHERE tenant_id = $1 AND operation_id = $2 AND household_id = ANY($3::uuid[])
"""

RAW_INSERT_MANY = """
    INSERT INTO visit (tenant_id, id, client_id, operation_id, household_id, user_id, mode, outcome, shelter_unknown,
                       device_time, content_hash)
    SELECT $1, u.id, u.cid, $2, u.hid, $3, $4, u.outcome, u.outcome = 'evacuated', u.dt, u.h
    FROM unnest($5::uuid[], $6::uuid[], $7::uuid[], $8::text[], $9::timestamptz[], $10::text[])
         AS u(id, cid, hid, outcome, dt, h)
    ON CONFLICT (tenant_id, client_id) DO NOTHING
    RETURNING id, client_id, household_id, outcome, device_time
"""

RAW_EXISTING = "SELECT client_id, content_hash FROM visit WHERE tenant_id = $1 AND client_id = ANY($2::uuid[])"

RAW_EVENTS_MANY = """
    INSERT INTO event (tenant_id, kind, payload, operation_id, household_id, mode)
    SELECT $1, u.kind, u.payload::jsonb, $2, u.hid, $3
    FROM unnest($4::text[], $5::text[], $6::uuid[]) AS u(kind, payload, hid)
"""


async def raw_push(
    conn: Any, tenant: BenchTenant, op_id: str, mode: str, items: list[dict[str, Any]], with_events: bool
) -> tuple[float, dict[str, int]]:
    """The same writes as the server's ingest of `items`, straight to the database. Returns (ms, counts)."""
    from vocab import OUTCOMES

    recompute, names = recompute_sql()
    from server.operations.ingest import NEED_HELP

    op = uuid.UUID(op_id)
    t0 = time.perf_counter()
    counts: dict[str, int] = {}
    async with conn.transaction():
        await stamp(conn, tenant.tenant_id, "staff", tenant.staff_id)
        parsed = []
        for m in items:
            cid, hid = uuid.UUID(m["client_id"]), uuid.UUID(m["household_id"])
            dt = datetime.fromisoformat(m["device_time"])
            parsed.append((cid, hid, m["outcome"], dt, visit_hash(op, cid, hid, m["outcome"], dt)))
        targets = {r[0] for r in await conn.fetch(RAW_TARGETS, tenant.tenant_id, op, list({p[1] for p in parsed}))}
        valid = [p for p in parsed if p[1] in targets and p[2] in OUTCOMES["safety_check"]]
        counts["invalid"] = len(parsed) - len(valid)
        rows = await conn.fetch(
            RAW_INSERT_MANY,
            tenant.tenant_id,
            op,
            tenant.staff_id,
            mode,
            [uuid.uuid4() for _ in valid],
            [p[0] for p in valid],
            [p[1] for p in valid],
            [p[2] for p in valid],
            [p[3] for p in valid],
            [p[4] for p in valid],
        )
        inserted = {r["client_id"] for r in rows}
        counts["accepted"] = len(inserted)
        missing = [p for p in valid if p[0] not in inserted]
        if missing:
            known = {r[0]: r[1] for r in await conn.fetch(RAW_EXISTING, tenant.tenant_id, [p[0] for p in missing])}
            for p in missing:
                key = "duplicate" if known.get(p[0]) == p[4] else "conflict"
                counts[key] = counts.get(key, 0) + 1
        changed = []
        if rows:
            pairs = list({r["household_id"] for r in rows})
            args = {"tenant": tenant.tenant_id, "ops": [op] * len(pairs), "hhs": pairs, "need_help": NEED_HELP}
            changed = await conn.fetch(recompute, *[args[k] for k in names])
        if with_events and rows:
            kinds = ["visit.recorded"] * len(rows) + ["target.status"] * len(changed)
            payloads = [
                json.dumps(
                    {"visit_id": str(r["id"]), "outcome": r["outcome"], "device_time": r["device_time"].isoformat()}
                )
                for r in rows
            ]
            payloads += [json.dumps({"status": c["status"]}) for c in changed]
            hids = [r["household_id"] for r in rows] + [c["household_id"] for c in changed]
            await conn.execute(RAW_EVENTS_MANY, tenant.tenant_id, op, mode, kinds, payloads, hids)
            await conn.execute("SELECT pg_notify('tonari_events', $1)", str(tenant.tenant_id))
    return (time.perf_counter() - t0) * 1000.0, counts


def expected_counts(statuses: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in statuses:
        out[s] = out.get(s, 0) + 1
    return out


async def run_bench(args: argparse.Namespace, url: str, stamp_: str) -> dict[str, Any]:
    import asyncpg

    tenant = await bench_tenant(url)
    creds = field_credentials()
    server = (
        None
        if args.base_url
        else field_server(url, args.port, args.workers, stamp_, secrets.token_urlsafe(48), args.pool_size)
    )
    samples: dict[str, dict[str, list[float]]] = {k: {"http": [], "raw": [], "raw+events": []} for k in KINDS}
    checks_failed: list[str] = []
    cpu: dict[str, Any] = {}
    conn = None
    staff = None
    op: dict[str, Any] | None = None
    try:
        async with serving(args.base_url, server) as base:
            staff = await sign_in(base, creds["staff"]["login"], creds["staff"]["password"], timeout=120.0)
            op = await start_operation(staff, tenant, f"ベンチ 同期 {stamp_}")
            print(
                f"  operation {op['id']}: {op['targets']} targets, created and started in {op['_create_ms'] / 1000:.1f} s",
                flush=True,
            )
            households = Households(await operation_households(url, tenant.tenant_id, op["id"], args.seed))
            outcomes = Outcomes(args.seed)
            rng = random.Random(args.seed)
            conn = await asyncpg.connect(asyncpg_dsn(url))
            # Warm-up: one small push through each path (connections, prepared statements, caches).
            warm = make_batches(op["id"], households, outcomes, 50, rng)
            await staff.post("/api/sync/push", json={"mutations": warm["fresh"][0]})
            await raw_push(
                conn,
                tenant,
                op["id"],
                op["mode"],
                make_batches(op["id"], households, outcomes, 50, rng)["fresh"][0],
                True,
            )
            before, s_before = sample_cpu(), group_cpu_seconds(server.pgid if server else None)
            for rnd in range(args.rounds):
                batches = make_batches(op["id"], households, outcomes, args.batch, rng)
                line = []
                for kind in KINDS:
                    items, want = batches[kind]
                    body = json.dumps({"mutations": items}).encode()
                    t0 = time.perf_counter()
                    r = await staff.post("/api/sync/push", content=body, headers={"Content-Type": "application/json"})
                    ms = (time.perf_counter() - t0) * 1000.0
                    if r.status_code != 200:
                        raise RuntimeError(f"{kind}: {r.status_code} {r.text[:300]}")
                    got = [x["status"] for x in r.json()["results"]]
                    if got != want:
                        diff = sum(1 for a, b in zip(got, want, strict=True) if a != b)
                        checks_failed.append(
                            f"round {rnd + 1} {kind}: {diff} item statuses differ"
                            f" (got {expected_counts(got)}, want {expected_counts(want)})"
                        )
                    samples[kind]["http"].append(ms)
                    line.append(f"{kind} {ms:.0f}")
                # The raw database on other fresh households, same shapes.
                raw_batches = {
                    e: make_batches(op["id"], households, outcomes, args.batch, rng) for e in ("raw", "raw+events")
                }
                for name, b in raw_batches.items():
                    for kind in ("fresh", "fresh-safe", "duplicate", "mixed"):
                        items, want = b[kind]
                        ms, counts = await raw_push(conn, tenant, op["id"], op["mode"], items, name == "raw+events")
                        if counts.get("accepted", 0) != want.count("accepted"):
                            checks_failed.append(f"round {rnd + 1} {name} {kind}: {counts} vs {expected_counts(want)}")
                        samples[kind][name].append(ms)
                print(
                    f"  round {rnd + 1}: HTTP "
                    + ", ".join(line)
                    + " ms;  raw "
                    + ", ".join(f"{k} {samples[k]['raw'][-1]:.0f}" for k in KINDS)
                    + f" ms (load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
            cpu = cpu_report(before, sample_cpu(), s_before, group_cpu_seconds(server.pgid if server else None))
            await close_operation(staff, op["id"])
    finally:
        if conn is not None:
            await conn.close()
        if staff is not None:
            await staff.aclose()
    rows = []
    for kind in KINDS:
        s = samples[kind]
        row: dict[str, Any] = {
            "kind": kind,
            **{k: {"p50": percentile(v, 50), "max": max(v) if v else float("nan"), "all": v} for k, v in s.items()},
        }
        row["http_over_raw"] = row["http"]["p50"] / row["raw"]["p50"]
        row["http_over_raw_events"] = row["http"]["p50"] / row["raw+events"]["p50"]
        rows.append(row)
    return {
        "tenant_id": str(tenant.tenant_id),
        "operation_id": op["id"] if op else None,
        "targets": op["targets"] if op else None,
        "rows": rows,
        "checks_failed": checks_failed,
        "cpu": cpu,
    }


def checks(report: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for r in report["rows"]:
        if r["kind"] in ("fresh", "duplicate", "mixed"):
            out.append(
                {
                    "target": f"push of {report['batch']:,} < {TARGET_MS:.0f} ms (median of {report['rounds']})",
                    "where": r["kind"],
                    "value": f"{r['http']['p50']:.0f} ms (max {r['http']['max']:.0f})",
                    "pass": r["http"]["p50"] < TARGET_MS,
                }
            )
    out.append(
        {
            "target": "every item answered as expected",
            "where": "all pushes",
            "value": "yes" if not report["checks_failed"] else f"{len(report['checks_failed'])} mismatches",
            "pass": not report["checks_failed"],
        }
    )
    return out


def render(report: dict[str, Any]) -> str:
    b = report["batch"]
    c = report["cpu"]
    lines = [
        code_line(report["code"])
        + " "
        + f"One push of {b:,} visits per kind and round, {report['rounds']} rounds (after a warm-up push); operation with"
        f" {report['targets']:,} targets; server: {report['server']}. Load average (1 min) {c.get('load1_before')} →"
        f" {c.get('load1_after')}, machine busy {c.get('machine_busy_pct')} % over the rounds; {c.get('cpus')} CPUs.",
        "",
        "| push | HTTP p50 / max ms | items/s (p50) | raw p50 / max ms | raw+events p50 / max ms | HTTP ÷ raw | HTTP ÷ raw+events |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["rows"]:
        lines.append(
            f"| {r['kind']} | {r['http']['p50']:.0f} / {r['http']['max']:.0f} | {b / r['http']['p50'] * 1000:,.0f}"
            f" | {r['raw']['p50']:.0f} / {r['raw']['max']:.0f} | {r['raw+events']['p50']:.0f} / {r['raw+events']['max']:.0f}"
            f" | {r['http_over_raw']:.1f}× | {r['http_over_raw_events']:.1f}× |"
        )
    lines += ["", "| target | where | measured | result |", "|---|---|---|---|"]
    for ch in report["checks"]:
        lines.append(f"| {ch['target']} | {ch['where']} | {ch['value']} | {'PASS' if ch['pass'] else 'FAIL'} |")
    for f in report["checks_failed"][:10]:
        lines.append(f"\n- {f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: $DATABASE_URL")
    parser.add_argument("--base-url", help=f"a running server (default: start our own on 127.0.0.1:{FIELD_PORT})")
    parser.add_argument("--port", type=int, default=FIELD_PORT)
    parser.add_argument("--workers", type=int, default=1, help="1 = server.cli serve; n = uvicorn --workers n")
    parser.add_argument("--pool-size", type=int)
    parser.add_argument("--households", type=int, default=100_000, help="loaded first if the database has none")
    parser.add_argument("--batch", type=int, default=1000, help="visits per push (the API takes at most 1,000)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=8216)
    args = parser.parse_args()
    args.batch = max(10, min(args.batch, 1000))
    args.rounds = max(1, min(args.rounds, 20))
    args.workers = max(1, min(args.workers, 8))
    url, stamp_, header = start_run(args, "sync push")
    report = asyncio.run(run_bench(args, url, stamp_))
    report.update(
        {
            **header,
            "batch": args.batch,
            "rounds": args.rounds,
            "server": args.base_url or (f"{args.workers} worker(s) on 127.0.0.1:{args.port}"),
        }
    )
    report["checks"] = checks(report)
    write_result("sync", stamp_, report, render(report))


if __name__ == "__main__":
    main()
