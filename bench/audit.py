"""Audit log: what appending through tonari_audit_append() and chaining cost per row, and what a
per-tenant serialisation point (chaining inline, under a lock) would cost under concurrent writers.

    DATABASE_URL=postgresql+asyncpg://tonari:dev@127.0.0.1:55500/tonari_bench \\
    TONARI_MIGRATE_DATABASE_URL=postgresql+asyncpg://tonari_owner:dev@127.0.0.1:55500/tonari_bench \\
        .venv/bin/python bench/audit.py [--rows 20000] [--writers 8] [--seconds 5] [--hold-ms 0]

Your own database, migrated as the owner if needed; tenants 「ベンチ監査 n」 (codes 99900…) are
added once. Every row written looks like a z14 tile's read audit (50 household ids).

(1) Per row, server side: one statement appends --rows rows (no round trips), median of 3:
    a) the INSERT the app ran before migration 0013 (as the owner, with the txid index dropped
       inside the transaction, which is rolled back): the reference
    b) tonari_audit_append() as the app's role: the served path
    d) tonari_audit_seal() per row it chains (off the request path)
(2) Per request: connections each looping BEGIN; stamp; append; [--hold-ms of other work];
    COMMIT for --seconds, for b) and for
    c) b) with the chain inline (bench-only function: per-tenant advisory lock, previous hash
       FOR UPDATE, sha256, link row): the alternative decision 0004 weighs. (Not in (1): many
       appends in one transaction pile up versions of the chain head and say nothing of requests.)
    One writer; --writers all in one tenant; --writers each in its own tenant.
    Commits per second and latency p50/p95 (ms).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import common  # noqa: F401  (puts the repo root on sys.path)
from common import STAMP_SQL, asyncpg_dsn, database_url, owner_url, percentile, redact, write_result

TENANT_CODE_BASE = 99900
IDS = [str(uuid.UUID(int=i * 7919)) for i in range(1, 51)]
DETAILS = '{"via": "tile", "count": 50, "tile": "14/14570/6386"}'

# What the app wrote before migration 0013 (the tile SQL's audit CTE, one row per statement).
OLD_INSERT = """
    INSERT INTO audit_log (tenant_id, actor_user_id, actor_login, action, object_type, object_ids, mode,
                           request_id, client_addr, details)
    SELECT $1, NULL, 'bench', 'household.read', 'household', $2::text[], 'normal', 'bench-req',
           '10.0.0.1'::inet, $3::jsonb
    FROM generate_series(1, $4)"""
APPEND_ONE = (
    "SELECT tonari_audit_append(p_action => 'household.read', p_object_type => 'household',"
    " p_object_ids => $1::text[], p_request_id => 'bench-req', p_client_addr => '10.0.0.1',"
    " p_details => $2::jsonb, p_actor_login => 'bench')"
)
APPEND_MANY = (
    "SELECT count(tonari_audit_append(p_action => 'household.read', p_object_type => 'household',"
    " p_object_ids => $1::text[], p_request_id => 'bench-req', p_client_addr => '10.0.0.1',"
    " p_details => $2::jsonb, p_actor_login => 'bench')) FROM generate_series(1, $3)"
)
INLINE_ONE = "SELECT bench_alt.append_chained($1::text[], $2::jsonb)"

# The alternative: each append chains itself, under its tenant's lock until commit.
INLINE_SETUP = [
    "CREATE SCHEMA IF NOT EXISTS bench_alt",
    """CREATE TABLE IF NOT EXISTS bench_alt.chain_head (tenant_id uuid PRIMARY KEY, seq bigint NOT NULL,
                                                       hash bytea NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS bench_alt.chain (tenant_id uuid, seq bigint, audit_id bigint NOT NULL,
                                                  hash bytea NOT NULL, PRIMARY KEY (tenant_id, seq))""",
    """CREATE OR REPLACE FUNCTION bench_alt.append_chained(p_object_ids text[], p_details jsonb) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    DECLARE
        v_tenant uuid := nullif(current_setting('tonari.tenant_id', true), '')::uuid;
        v_id bigint; v_seq bigint; v_hash bytea; a public.audit_log;
    BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('bench.inline_chain'), hashtext(v_tenant::text));
        v_id := public.tonari_audit_append(p_action => 'household.read', p_object_type => 'household',
                    p_object_ids => p_object_ids, p_request_id => 'bench-req', p_client_addr => '10.0.0.1',
                    p_details => p_details, p_actor_login => 'bench');
        SELECT * INTO a FROM public.audit_log WHERE tenant_id = v_tenant AND id = v_id;
        SELECT seq, hash INTO v_seq, v_hash FROM bench_alt.chain_head WHERE tenant_id = v_tenant FOR UPDATE;
        IF NOT FOUND THEN
            v_seq := 0;
            v_hash := '\\x0000000000000000000000000000000000000000000000000000000000000000';
            INSERT INTO bench_alt.chain_head VALUES (v_tenant, 0, v_hash);
        END IF;
        v_hash := sha256(v_hash || public.tonari_audit_digest(a));
        INSERT INTO bench_alt.chain VALUES (v_tenant, v_seq + 1, v_id, v_hash);
        UPDATE bench_alt.chain_head SET seq = v_seq + 1, hash = v_hash WHERE tenant_id = v_tenant;
        RETURN v_id;
    END $$""",
    "GRANT USAGE ON SCHEMA bench_alt TO tonari_app",
    "GRANT EXECUTE ON FUNCTION bench_alt.append_chained(text[], jsonb) TO tonari_app",
]
INLINE_TEARDOWN = ["DROP SCHEMA IF EXISTS bench_alt CASCADE"]


async def _tenants(app: Any, n: int) -> list[uuid.UUID]:
    out = []
    for i in range(n):
        code = f"{TENANT_CODE_BASE + i:05d}"
        tid = await app.fetchval("SELECT id FROM tenant WHERE municipality_code = $1", code)
        if tid is None:
            tid = uuid.uuid4()
            await app.execute(
                "INSERT INTO tenant (id, name, municipality_code) VALUES ($1, $2, $3)", tid, f"ベンチ監査 {i}", code
            )
        out.append(tid)
    return out


async def _stamp(conn: Any, tenant: uuid.UUID) -> None:
    await conn.execute(STAMP_SQL, str(tenant), "", "system", "")


async def per_row(app: Any, owner: Any, tenant: uuid.UUID, rows: int) -> dict[str, float]:
    out: dict[str, list[float]] = {"a_old_insert": [], "b_append": [], "d_seal": []}
    for _ in range(3):
        tr = owner.transaction()
        await tr.start()
        try:
            await _stamp(owner, tenant)
            await owner.execute("DROP INDEX ix_audit_log_tenant_id_txid")
            t = time.perf_counter()
            await owner.execute(OLD_INSERT, tenant, IDS, DETAILS, rows)
            out["a_old_insert"].append(time.perf_counter() - t)
        finally:
            await tr.rollback()
        async with app.transaction():
            await _stamp(app, tenant)
            t = time.perf_counter()
            await app.fetchval(APPEND_MANY, IDS, DETAILS, rows)
            out["b_append"].append(time.perf_counter() - t)
        async with app.transaction():
            await _stamp(app, tenant)
            t = time.perf_counter()
            sealed = await app.fetchval("SELECT tonari_audit_seal($1)", rows * 10)
            out["d_seal"].append((time.perf_counter() - t) * rows / max(sealed, 1))
    return {k: round(statistics.median(v) * 1e6 / rows, 1) for k, v in out.items()}


async def writers(dsn: str, tenants: list[uuid.UUID], statement: str, seconds: float, hold_ms: float) -> dict[str, Any]:
    """len(tenants) connections, connection i appending in tenants[i], one request per transaction."""
    import asyncpg

    conns = [await asyncpg.connect(dsn) for _ in tenants]
    latencies: list[float] = []
    commits = 0
    start = asyncio.Event()
    deadline = 0.0

    async def loop(conn: Any, tenant: uuid.UUID) -> None:
        nonlocal commits
        await start.wait()
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            async with conn.transaction():
                await _stamp(conn, tenant)
                await conn.fetchval(statement, IDS, DETAILS)
                if hold_ms:
                    await conn.execute("SELECT pg_sleep($1)", hold_ms / 1000)
            latencies.append((time.perf_counter() - t) * 1000)
            commits += 1

    try:
        tasks = [asyncio.create_task(loop(c, t)) for c, t in zip(conns, tenants, strict=False)]
        deadline = time.perf_counter() + seconds
        began = time.perf_counter()
        start.set()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    finally:
        for c in conns:
            await c.close()
    return {
        "commits_per_s": round(commits / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "n": commits,
    }


async def main_async(args: argparse.Namespace) -> None:
    import asyncpg

    from server.db.migrate import upgrade

    url = database_url(args.database_url)
    owner_u = owner_url(url)
    await asyncio.to_thread(upgrade, owner_u)
    app_dsn, owner_dsn = asyncpg_dsn(url), asyncpg_dsn(owner_u)
    app = await asyncpg.connect(app_dsn)
    owner = await asyncpg.connect(owner_dsn)
    report: dict[str, Any] = {
        "database": redact(url),
        "rows": args.rows,
        "writers": args.writers,
        "seconds": args.seconds,
        "hold_ms": args.hold_ms,
        "load_before": os.getloadavg(),
    }
    try:
        for sql in INLINE_SETUP:
            await owner.execute(sql)
        tenants = await _tenants(app, args.writers)
        print(f"Per row, server side ({args.rows} rows per statement, median of 3) …", flush=True)
        report["per_row_us"] = await per_row(app, owner, tenants[0], args.rows)
        report["concurrent"] = {}
        for name, statement in (("b_append", APPEND_ONE), ("c_inline_chain", INLINE_ONE)):
            for layout, ts in (
                ("one_writer", [tenants[0]]),
                ("one_tenant", [tenants[0]] * args.writers),
                ("own_tenants", tenants),
            ):
                print(f"{args.writers} writers, {name}, {layout} …", flush=True)
                report["concurrent"][f"{name}/{layout}"] = await writers(
                    app_dsn, ts, statement, args.seconds, args.hold_ms
                )
        for tenant in tenants:  # leave nothing unsealed behind
            async with app.transaction():
                await _stamp(app, tenant)
                await app.fetchval("SELECT tonari_audit_seal(1000000)")
    finally:
        for sql in INLINE_TEARDOWN:
            await owner.execute(sql)
        await app.close()
        await owner.close()
    report["load_after"] = os.getloadavg()

    pr = report["per_row_us"]
    lines = [
        "| per row, server side | µs |",
        "|---|---|",
        f"| a) INSERT as before 0013 (reference) | {pr['a_old_insert']} |",
        f"| b) tonari_audit_append() (served) | {pr['b_append']} |",
        f"| d) tonari_audit_seal(), per row chained | {pr['d_seal']} |",
        "",
        f"| per request ({args.writers} writers where many), {args.seconds:g} s, hold {args.hold_ms:g} ms"
        " | commits/s | p50 ms | p95 ms |",
        "|---|---|---|---|",
    ]
    for key, r in report["concurrent"].items():
        lines.append(f"| {key} | {r['commits_per_s']} | {r['p50_ms']} | {r['p95_ms']} |")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    write_result("audit", stamp, report, "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: $DATABASE_URL")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--hold-ms", type=float, default=0.0, help="other work in each transaction after the append")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
