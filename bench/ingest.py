"""Field check-in ingest: 200 phones pushing their outboxes over HTTP, beside raw asyncpg doing the same writes.

    DATABASE_URL=postgresql+asyncpg://tonari:dev@127.0.0.1:55500/tonari_bench_field \\
        .venv/bin/python bench/ingest.py [--devices 200] [--seconds 20] [--workers 1] [--batch mix,1]

`--batch mix` (the default, and the targets' row) is what the PWA does: every request is a
`POST /api/sync/push` of the phone's outbox, its size drawn from common.PUSH_MIX (mostly 1 visit,
some 5–50 after a reconnect, a few 1,000); paced latency is per push, from its scheduled time, the
schedule giving each device its share of `--rate` visits/s whatever its push sizes. Its raw
row (`raw mix`) is the database doing the same inserts: the same push sizes, one transaction per
push with the server's statements (stamp, one INSERT … SELECT FROM unnest … ON CONFLICT DO
NOTHING for the push, the status recompute, the two event rows per visit and the NOTIFY), over
`--raw-connections` connections. `--batch 1` adds the single-visit route `POST …/visits`
(informative since #16), and `--batch k` k visits per push (informative).

Loads the bench prefecture if the database has none (seed/prefecture.py), then for each
server configuration in `--workers` (1 = `python -m server.cli serve`, n > 1 = uvicorn
`--workers n --factory`) starts its own server on 127.0.0.1:8797 (unless `--base-url`), creates
and starts a drill safety check over every household of the bench tenant (100,000 targets), and:

  saturate  `--devices` simulated devices (asyncio tasks, one httpx client and one signed-in
            session each; `--sessions` < devices shares sessions round-robin) post visits
            back to back (closed loop) for `--seconds` after `--warmup-seconds`: the maximum
            rate. Latency = send → response.
  paced     the same devices, each on a fixed schedule so that together they offer `--rate`
            visits/s (open loop; 1,000/s by default = one visit per device every 200 ms).
            Latency is measured from the *scheduled* send time, so a server that falls behind
            is charged for the queue it builds (no coordinated omission); visits still due when
            the phase ends are reported as "not sent". A device sends one visit at a time.
  half      (informative) paced again at half the saturate rate: the latency of a server that
            is not overloaded, to tell a slow request from a queue.
  raw       the database's own limit for the same writes: as many visits as the saturate run
            measured, by `--raw-connections` asyncpg connections, one transaction each: the
            transaction stamp (the GUCs RLS reads), the server's INSERT … ON CONFLICT DO
            NOTHING RETURNING into `visit`, and the server's status recompute (`ingest.RECOMPUTE`).
            Run three times: `raw` (just that; the ratio target uses it), `raw+events` (plus the
            two `event` rows and the `pg_notify` the server's ingest also writes: the same rows
            the server commits) and `raw+events-notify` (the events without the NOTIFY).

The targets are checked on the `mix` rows: the app's own path.

Every visit goes to a household of the operation not visited before in this run (households
are reused only when all 100,000 are used up). Outcomes follow a field mix (mostly 無事; 3 %
負傷 and 2 % 要救助, which raise escalations, as in the field). A visit counts as an error
unless the answer is 201. Signing 200 sessions in takes ~25–55 s (Argon2 on the server) before
anything is timed; the sessions are reused for every configuration (they live in the database).

Prints one table per configuration (visits/s, p50/p95/p99 ms, errors, the raw rates and the
ratio, load average and CPU use) and the targets with PASS/FAIL; writes
bench/results/ingest-<timestamp>.json. Localhost only; every loop is bounded by time and count.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncpg

import common  # noqa: F401  (puts the repo root on sys.path)
from common import (
    FIELD_PORT,
    BenchTenant,
    Households,
    LiteClient,
    Outcomes,
    Session,
    asyncpg_dsn,
    bench_tenant,
    close_operation,
    code_line,
    cpu_report,
    destination,
    field_credentials,
    field_server,
    group_cpu_seconds,
    ms_since,
    operation_households,
    percentile,
    push_size,
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

# Targets (the field ingest issue).
TARGET_RATE = 1000.0  # visits/s
TARGET_P99_MS = 150.0
TARGET_RAW_SHARE = 0.25  # HTTP rate ≥ 25 % of the raw rate


def pct(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values) if values else float("nan"),
        "mean": sum(values) / len(values) if values else float("nan"),
    }


async def sign_in_many(base: str, login: str, password: str, n: int, concurrency: int = 4) -> list[Session]:
    """n sessions of one account (each login verifies the Argon2 hash: ~0.1 s of server CPU)."""
    sem = asyncio.Semaphore(concurrency)
    out: list[Session] = []

    async def one() -> None:
        async with sem:
            out.append(await sign_in(base, login, password))

    try:
        await asyncio.gather(*[one() for _ in range(n)])
    except BaseException:
        for s in out:
            await s.aclose()
        raise
    return out


def size_bucket(n: int) -> str:
    return "1" if n == 1 else "2–50" if n <= 50 else "51–999" if n < 1000 else "1000"


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


# --- raw SQL: the server's own statements, for asyncpg ------------------------------------------

RAW_INSERT = """
    INSERT INTO visit (tenant_id, id, client_id, operation_id, household_id, user_id, mode, outcome,
                       shelter_id, shelter_unknown, note, device_time, content_hash, location)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $8::varchar = 'evacuated', NULL, $9, $10, NULL)
    ON CONFLICT (tenant_id, client_id) DO NOTHING
    RETURNING id, client_id, operation_id, household_id, outcome, note, shelter_id, device_time, server_time, mode
"""

RAW_EVENTS = """
    INSERT INTO event (tenant_id, kind, payload, operation_id, household_id, mode, audience)
    VALUES ($1, 'visit.recorded', $2::jsonb, $3, $4, $5, NULL), ($1, 'target.status', $6::jsonb, $3, $4, $5, NULL)
"""


# The same for a whole push: one INSERT of all its visits, then the events of all of them.
RAW_INSERT_MANY = """
    INSERT INTO visit (tenant_id, id, client_id, operation_id, household_id, user_id, mode, outcome,
                       shelter_id, shelter_unknown, note, device_time, content_hash, location)
    SELECT $1, v.id, v.client_id, $2, v.household_id, $3, $4, v.outcome, NULL, v.outcome = 'evacuated', NULL,
           v.device_time, v.content_hash, NULL
    FROM unnest($5::uuid[], $6::uuid[], $7::uuid[], $8::text[], $9::timestamptz[], $10::text[])
         AS v(id, client_id, household_id, outcome, device_time, content_hash)
    ON CONFLICT (tenant_id, client_id) DO NOTHING
    RETURNING id, household_id, outcome, device_time
"""

RAW_EVENTS_MANY = """
    INSERT INTO event (tenant_id, kind, payload, operation_id, household_id, mode, audience)
    SELECT $1, e.kind, e.payload, $2, e.household_id, $3, NULL
    FROM unnest($4::text[], $5::jsonb[], $6::uuid[]) AS e(kind, payload, household_id)
"""


# --- the benchmark -------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    offered_rate: float | None  # None = closed loop
    latencies: list[float] = field(default_factory=list)  # ms, requests started in the window
    statuses: dict[str, int] = field(default_factory=dict)
    ok: int = 0
    window_s: float = 0.0
    started: int = 0
    unsent: int = 0  # paced: visits still due when the phase ended (the server fell behind)
    retries: int = 0  # requests sent again after a keep-alive race (see Session)
    sizes: dict[str, int] = field(default_factory=dict)  # acknowledged requests by visits carried
    cpu: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.ok / self.window_s if self.window_s > 0 else 0.0

    @property
    def errors(self) -> int:
        return sum(v for k, v in self.statuses.items() if k != "201")


async def run_http_phase(
    name: str,
    sessions: list[Session],
    devices: int,
    op_id: str,
    households: Households,
    outcomes: Outcomes,
    seconds: float,
    warmup: float,
    max_visits: int | None,
    rate: float | None,
    server_pgid: int | None,
    batch: int | str = "mix",
    clients: list[LiteClient] | None = None,
    seed: int = 0,
) -> Phase:
    """batch "mix": each request a `POST /api/sync/push` of common.PUSH_MIX's size (success = every
    item accepted). batch == 1: one visit per `POST /api/operations/{id}/visits` (201 = success).
    batch k > 1: k visits per push. `rate` is in visits/s. With `clients` (one lean keep-alive
    connection per device, common.LiteClient) the requests go through those instead of the
    sessions' httpx clients."""
    import random

    phase = Phase(name, rate)
    path = f"/api/operations/{op_id}/visits" if batch == 1 else "/api/sync/push"
    t0 = time.perf_counter()
    warm_end = t0 + warmup
    end = warm_end + seconds
    last_finish = warm_end
    cpu_before: dict[str, float] = {}
    server_before = 0.0

    # Paced: one schedule for all devices, so the visits offered are exactly `rate` per second
    # whatever the push sizes: push j starts when the visits before it are due, and the devices
    # take the pushes in turn (a 1,000-item push is 1 s of the rate, as a day offline arriving).
    plan: list[tuple[float, int]] = []
    if rate:
        rng_plan, due = random.Random(seed), 0.0
        while due < warmup + seconds:
            size = push_size(rng_plan) if batch == "mix" else int(batch)
            plan.append((due, size))
            due += size / rate

    async def device(i: int) -> None:
        nonlocal last_finish
        session = sessions[i % len(sessions)]
        rng = random.Random(seed * 100_003 + i)
        mine = iter(plan[i::devices])
        while True:
            if rate:
                nxt = next(mine, None)
                if nxt is None:
                    return
                scheduled, size = t0 + nxt[0], nxt[1]
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                start = time.perf_counter()
                if start >= end:  # behind schedule at the end: the rest is never sent (bounded run)
                    phase.unsent += size + sum(s for _, s in mine)
                    return
            else:
                size = push_size(rng) if batch == "mix" else int(batch)
                start = scheduled = time.perf_counter()
                if start >= end:
                    return
            # Measured: requests *sent* in the window. Paced latency still counts from the scheduled
            # time, so a server that fell behind during the warm-up is charged for it.
            measured = start >= warm_end
            if measured:
                if max_visits is not None and phase.started >= max_visits:
                    return
                phase.started += size
            visits = [
                {
                    "client_id": str(uuid7()),
                    "household_id": str(households.next()),
                    "outcome": o,
                    "device_time": now_iso(),
                    **destination(o),
                }
                for o in (outcomes.next() for _ in range(size))
            ]
            body: dict[str, Any] = (
                visits[0]
                if batch == 1
                else {"mutations": [{"type": "visit", "operation_id": op_id, **v} for v in visits]}
            )
            try:
                if clients is not None:  # the client's timeout (30 s) bounds it
                    r = await clients[i].request("POST", path, json.dumps(body).encode())
                else:
                    r = await session.post(path, json=body)
                status = str(r.status_code)
                if batch != 1 and status == "200":
                    counts = json.loads(r.content).get("counts", {})
                    status = "201" if counts.get("accepted") == size else f"200 {json.dumps(counts)}"
            except Exception as exc:  # noqa: BLE001  (counted as an error, by kind)
                status = type(exc).__name__
            finish = time.perf_counter()
            if measured:
                phase.latencies.append((finish - scheduled) * 1000.0)
                phase.statuses[status] = phase.statuses.get(status, 0) + 1
                if status == "201":
                    phase.ok += size
                    phase.sizes[size_bucket(size)] = phase.sizes.get(size_bucket(size), 0) + 1
                last_finish = max(last_finish, finish)

    async def sampler() -> None:
        nonlocal cpu_before, server_before
        await asyncio.sleep(max(0.0, warm_end - time.perf_counter()))
        cpu_before, server_before = sample_cpu(), group_cpu_seconds(server_pgid)

    s = asyncio.create_task(sampler())
    retries = Session.retries + sum(c.reconnects for c in clients or [])
    await asyncio.gather(*[device(i) for i in range(devices)])
    await s
    phase.retries = Session.retries + sum(c.reconnects for c in clients or []) - retries
    cpu_after, server_after = sample_cpu(), group_cpu_seconds(server_pgid)
    phase.window_s = max(1e-9, last_finish - warm_end)
    phase.cpu = cpu_report(cpu_before, cpu_after, server_before, server_after)
    return phase


@dataclass
class RawResult:
    name: str
    n: int
    connections: int
    seconds: float
    latencies: list[float]
    cpu: dict[str, Any]

    @property
    def rate(self) -> float:
        return self.n / self.seconds if self.seconds > 0 else 0.0


async def _timed_raw(
    conns: list[asyncpg.Connection], worker: Callable[[asyncpg.Connection], Awaitable[None]]
) -> tuple[float, dict[str, Any]]:
    """Run one worker per raw connection; the wall time and the machine's CPU (no server to count), then close."""
    try:
        before = sample_cpu()
        t0 = time.perf_counter()
        await asyncio.gather(*[worker(c) for c in conns])
        seconds = time.perf_counter() - t0
        cpu = cpu_report(before, sample_cpu(), 0.0, 0.0)
        cpu.pop("server_cpu_pct", None)
        return seconds, cpu
    finally:
        for c in conns:
            await c.close()


async def run_raw(
    url: str,
    tenant: BenchTenant,
    op_id: str,
    mode: str,
    households: Households,
    outcomes: Outcomes,
    n: int,
    connections: int,
    with_events: bool,
    time_cap: float,
    notify: bool = True,
) -> RawResult:
    """n visits, one transaction each, over `connections` asyncpg connections (stamped as the
    bench staff, like the server's request transaction)."""
    import asyncpg

    recompute, names = recompute_sql()
    from server.operations.ingest import NEED_HELP

    op = uuid.UUID(op_id)
    conns = [await asyncpg.connect(asyncpg_dsn(url)) for _ in range(connections)]
    # Everything the transactions need is made up front: the timed loop is the database's work.
    jobs = []
    for _ in range(n):
        cid, hid, outcome, dt = uuid7(), households.next(), outcomes.next(), datetime.now(UTC)
        jobs.append((cid, hid, outcome, dt, visit_hash(op, cid, hid, outcome, dt)))
    it = iter(jobs)
    latencies: list[float] = []
    done = 0
    deadline = time.perf_counter() + time_cap

    async def worker(conn: Any) -> None:
        nonlocal done
        for cid, hid, outcome, dt, digest in it:
            if time.perf_counter() > deadline:
                return
            t = time.perf_counter()
            async with conn.transaction():
                await stamp(conn, tenant.tenant_id, "staff", tenant.staff_id)
                row = await conn.fetchrow(
                    RAW_INSERT, tenant.tenant_id, uuid.uuid4(), cid, op, hid, tenant.staff_id, mode, outcome, dt, digest
                )
                args = {"tenant": tenant.tenant_id, "ops": [op], "hhs": [hid], "need_help": NEED_HELP}
                changed = await conn.fetch(recompute, *[args[k] for k in names])
                if with_events and row is not None:
                    await conn.execute(
                        RAW_EVENTS,
                        tenant.tenant_id,
                        json.dumps({"visit_id": str(row["id"]), "outcome": outcome, "device_time": dt.isoformat()}),
                        op,
                        hid,
                        mode,
                        json.dumps({"status": changed[0]["status"] if changed else outcome}),
                    )
                    if notify:
                        await conn.execute("SELECT pg_notify('tonari_events', $1)", str(tenant.tenant_id))
            latencies.append(ms_since(t))
            done += 1

    seconds, cpu = await _timed_raw(conns, worker)
    name = ("raw+events" if notify else "raw+events-notify") if with_events else "raw"
    return RawResult(name, done, connections, seconds, latencies, cpu)


async def run_raw_mix(
    url: str,
    tenant: BenchTenant,
    op_id: str,
    mode: str,
    households: Households,
    outcomes: Outcomes,
    n: int,
    connections: int,
    time_cap: float,
    seed: int,
) -> RawResult:
    """The mix's raw row: pushes of common.PUSH_MIX's sizes (≥ n visits in all), one transaction per
    push over `connections` asyncpg connections, with the server's statements: the stamp, one
    INSERT of the push's visits, the status recompute of its households, the events of every
    visit and changed status, and the NOTIFY."""
    import random

    import asyncpg

    recompute, names = recompute_sql()
    from server.operations.ingest import NEED_HELP

    op = uuid.UUID(op_id)
    rng = random.Random(seed)
    jobs: list[list[tuple[uuid.UUID, uuid.UUID, str, datetime, str]]] = []
    total = 0
    while total < n:
        push = []
        for _ in range(push_size(rng)):
            cid, hid, outcome, dt = uuid7(), households.next(), outcomes.next(), datetime.now(UTC)
            push.append((cid, hid, outcome, dt, visit_hash(op, cid, hid, outcome, dt)))
        jobs.append(push)
        total += len(push)
    conns = [await asyncpg.connect(asyncpg_dsn(url)) for _ in range(connections)]
    it = iter(jobs)
    latencies: list[float] = []
    done = 0
    deadline = time.perf_counter() + time_cap

    async def worker(conn: Any) -> None:
        nonlocal done
        for push in it:
            if time.perf_counter() > deadline:
                return
            t = time.perf_counter()
            async with conn.transaction():
                await stamp(conn, tenant.tenant_id, "staff", tenant.staff_id)
                rows = await conn.fetch(
                    RAW_INSERT_MANY,
                    tenant.tenant_id,
                    op,
                    tenant.staff_id,
                    mode,
                    [uuid7() for _ in push],
                    [p[0] for p in push],
                    [p[1] for p in push],
                    [p[2] for p in push],
                    [p[3] for p in push],
                    [p[4] for p in push],
                )
                hhs = sorted({p[1] for p in push})
                args = {"tenant": tenant.tenant_id, "ops": [op] * len(hhs), "hhs": hhs, "need_help": NEED_HELP}
                changed = await conn.fetch(recompute, *[args[k] for k in names])
                kinds = ["visit.recorded"] * len(rows) + ["target.status"] * len(changed)
                payloads = [
                    json.dumps(
                        {"visit_id": str(r["id"]), "outcome": r["outcome"], "device_time": r["device_time"].isoformat()}
                    )
                    for r in rows
                ]
                payloads += [json.dumps({"status": c["status"]}) for c in changed]
                await conn.execute(
                    RAW_EVENTS_MANY,
                    tenant.tenant_id,
                    op,
                    mode,
                    kinds,
                    payloads,
                    [r["household_id"] for r in rows] + [c["household_id"] for c in changed],
                )
                await conn.execute("SELECT pg_notify('tonari_events', $1)", str(tenant.tenant_id))
            latencies.append(ms_since(t))
            done += len(push)

    seconds, cpu = await _timed_raw(conns, worker)
    return RawResult("raw mix", done, connections, seconds, latencies, cpu)


def phase_row(config: str, p: Phase) -> dict[str, Any]:
    s = pct(p.latencies)
    return {
        "config": config,
        "phase": p.name,
        "offered": p.offered_rate,
        "visits": p.ok,
        "window_s": round(p.window_s, 2),
        "rate": p.rate,
        "latency": s,
        "errors": p.errors,
        "statuses": p.statuses,
        "unsent": p.unsent,
        "retries": p.retries,
        "cpu": p.cpu,
        "sizes": p.sizes,
    }


def raw_row(r: RawResult) -> dict[str, Any]:
    return {
        "name": r.name,
        "visits": r.n,
        "connections": r.connections,
        "seconds": round(r.seconds, 2),
        "rate": r.rate,
        "latency": pct(r.latencies),
        "cpu": r.cpu,
    }


async def bench_config(
    args: argparse.Namespace,
    url: str,
    workers: int,
    secret: str,
    stamp_: str,
    tenant: BenchTenant,
    creds: dict[str, dict[str, str]],
    sessions: list[Session] | None,
    households: Households | None,
    op: dict[str, Any] | None,
    outcomes: Outcomes,
) -> tuple[list[dict[str, Any]], list[Session], Households, dict[str, Any], dict[str, Any]]:
    server = None if args.base_url else field_server(url, args.port, workers, stamp_, secret, args.pool_size)
    rows: list[dict[str, Any]] = []
    info: dict[str, Any] = {"workers": workers if server else "external"}
    async with serving(args.base_url, server) as base:
        staff = creds["staff"]
        if sessions is None:
            t = time.perf_counter()
            sessions = await sign_in_many(base, staff["login"], staff["password"], min(args.sessions, args.devices))
            info["sign_in_s"] = round(time.perf_counter() - t, 1)
            print(f"  signed in {len(sessions)} sessions of {staff['login']} in {info['sign_in_s']} s", flush=True)
        else:
            for s in sessions:  # same cookies, new server process (sessions live in the database)
                s.client.base_url = base
        if op is None:
            op = await start_operation(sessions[0], tenant, f"ベンチ 取込 {stamp_}")
            print(
                f"  operation {op['id']}: {op['targets']} targets, created and started in {op['_create_ms'] / 1000:.1f} s",
                flush=True,
            )
            households = Households(await operation_households(url, tenant.tenant_id, op["id"], args.seed))
        assert households is not None
        # Open every keep-alive connection before timing.
        await asyncio.gather(*[s.get("/api/auth/me") for s in sessions])
        clients = None
        if args.client == "lite":
            clients = [
                LiteClient.signed_in_as(base, sessions[i % len(sessions)].client, sessions[i % len(sessions)].csrf)
                for i in range(args.devices)
            ]
            answers = await asyncio.gather(*[c.request("GET", "/api/auth/me") for c in clients])
            if any(a.status_code != 200 for a in answers):
                raise RuntimeError(f"lean clients not signed in: {sorted({a.status_code for a in answers})}")
        pgid = server.pgid if server else None
        for batch in args.batch:
            label = f"{workers} worker{'s' if workers != 1 else ''}" if server else "external"
            label += ", push mix" if batch == "mix" else ", single visits" if batch == 1 else f", push ×{batch}"
            saturated: float | None = None
            for phase in ("saturate", "paced", "half"):
                if phase not in args.phases:
                    continue
                rate: float | None = {"saturate": None, "paced": args.rate}.get(phase)
                if phase == "half":
                    if not saturated:
                        continue
                    rate = max(1.0, round(saturated / 2))
                await asyncio.sleep(2.0)  # let the previous phase's tail drain
                p = await run_http_phase(
                    phase,
                    sessions,
                    args.devices,
                    op["id"],
                    households,
                    outcomes,
                    args.seconds,
                    args.warmup_seconds,
                    args.visits,
                    rate,
                    pgid,
                    batch,
                    clients,
                    args.seed,
                )
                if phase == "saturate":
                    saturated = p.rate
                row = phase_row(label, p)
                row["batch"] = batch
                rows.append(row)
                print(
                    f"  {label} {phase}{f' at {rate:.0f}/s' if rate else ''}: {p.rate:.0f} visits/s,"
                    f" p99 {percentile(p.latencies, 99):.0f} ms, errors {p.errors}"
                    f"{f', {p.unsent} not sent' if p.unsent else ''} (load {p.cpu['load1_after']})",
                    flush=True,
                )
        for c in clients or []:
            await c.aclose()
    return rows, sessions, households, op, info


async def run_bench(args: argparse.Namespace, url: str, stamp_: str) -> dict[str, Any]:
    import httpx

    tenant = await bench_tenant(url)
    creds = field_credentials()
    secret = secrets.token_urlsafe(48)
    outcomes = Outcomes(args.seed)
    sessions: list[Session] | None = None
    households: Households | None = None
    op: dict[str, Any] | None = None
    rows: list[dict[str, Any]] = []
    configs: list[dict[str, Any]] = []
    try:
        for workers in args.workers if not args.base_url else [0]:
            print(f"Configuration: {workers} worker(s)" if workers else f"Server: {args.base_url}", flush=True)
            r, sessions, households, op, info = await bench_config(
                args, url, workers, secret, stamp_, tenant, creds, sessions, households, op, outcomes
            )
            rows += r
            configs.append(info)
        assert households is not None and op is not None and sessions is not None
        raw: list[dict[str, Any]] = []
        saturated = [r["visits"] for r in rows if r["phase"] == "saturate"]
        n_raw = args.raw_visits or (max(saturated) if saturated else 5000)
        n_raw = max(100, min(n_raw, 200_000))
        if args.raw_connections > 0 and "mix" in args.batch:
            await asyncio.sleep(2.0)
            res = await run_raw_mix(
                url,
                tenant,
                op["id"],
                op["mode"],
                households,
                outcomes,
                n_raw,
                args.raw_connections,
                time_cap=max(60.0, args.seconds * 6),
                seed=args.seed,
            )
            raw.append(raw_row(res))
            print(
                f"  {res.name}: {res.n} visits in {res.seconds:.1f} s = {res.rate:.0f}/s over {res.connections}"
                f" connections, p99 {percentile(res.latencies, 99):.1f} ms",
                flush=True,
            )
        if args.raw_connections > 0 and 1 in args.batch:
            for with_events, notify in ((False, False), (True, True), (True, False)):
                await asyncio.sleep(2.0)
                res = await run_raw(
                    url,
                    tenant,
                    op["id"],
                    op["mode"],
                    households,
                    outcomes,
                    n_raw,
                    args.raw_connections,
                    with_events,
                    time_cap=max(60.0, args.seconds * 6),
                    notify=notify,
                )
                raw.append(raw_row(res))
                print(
                    f"  {res.name}: {res.n} visits in {res.seconds:.1f} s = {res.rate:.0f}/s over {res.connections}"
                    f" connections, p99 {percentile(res.latencies, 99):.1f} ms",
                    flush=True,
                )
        # Close the operation (through a short-lived server when we started our own).
        if not args.no_close:
            server = None if args.base_url else field_server(url, args.port, 1, stamp_, secret)
            async with serving(args.base_url, server) as base:
                sessions[0].client.base_url = httpx.URL(base)
                await close_operation(sessions[0], op["id"])
    finally:
        for s in sessions or []:
            await s.aclose()
    return {
        "tenant_id": str(tenant.tenant_id),
        "operation_id": op["id"] if op else None,
        "targets": op["targets"] if op else None,
        "operation_create_ms": op.get("_create_ms") if op else None,
        "households_wrapped": households.wrapped,
        "rows": rows,
        "raw": raw,
        "configs": configs,
    }


def checks(report: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    raw = next((r for r in report["raw"] if r["name"] == "raw mix"), None)
    for r in report["rows"]:
        where = f"{r['config']}, {r['phase']}"
        if r.get("batch") != "mix":  # the single route and fixed batches are informative (#16)
            continue
        if r["phase"] == "saturate":
            out.append(
                {
                    "target": f"≥ {TARGET_RATE:,.0f} visits/s",
                    "where": where,
                    "value": f"{r['rate']:,.0f}/s",
                    "pass": r["rate"] >= TARGET_RATE,
                }
            )
            if raw:
                share = r["rate"] / raw["rate"]
                out.append(
                    {
                        "target": f"≥ {TARGET_RAW_SHARE:.0%} of raw",
                        "where": where,
                        "value": f"{share:.0%} ({r['rate']:,.0f} / {raw['rate']:,.0f})",
                        "pass": share >= TARGET_RAW_SHARE,
                    }
                )
        if r["phase"] == "paced":
            achieved = r["rate"] >= 0.95 * (r["offered"] or 0)
            p99 = r["latency"]["p99"]
            out.append(
                {
                    "target": f"p99 < {TARGET_P99_MS:.0f} ms at {r['offered']:,.0f}/s offered",
                    "where": where,
                    "value": f"{p99:,.0f} ms (achieved {r['rate']:,.0f}/s)",
                    "pass": p99 < TARGET_P99_MS and achieved,
                }
            )
        out.append({"target": "no errors", "where": where, "value": str(r["errors"]), "pass": r["errors"] == 0})
    return out


def render(report: dict[str, Any]) -> str:
    lines = [
        code_line(report["code"])
        + " "
        + f"{report['devices']} devices ({report['sessions']} signed-in sessions of bench-staff), {report['seconds']:.0f} s"
        f" per phase after {report['warmup_seconds']:.0f} s warm-up; operation with {report['targets']:,} targets;"
        f" {report['machine']['cpus']} CPUs; PostgreSQL synchronous_commit={report['db']['synchronous_commit']}.",
        "",
        "| server | phase | offered/s | visits | visits/s | p50 ms | p95 ms | p99 ms | max ms | errors | load1 before→after"
        " | machine busy | server CPU | client CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["rows"]:
        lat, c = r["latency"], r["cpu"]
        unsent = f" (+{r['unsent']:,} due but not sent: behind schedule)" if r.get("unsent") else ""
        if r.get("retries"):
            unsent += f" ({r['retries']} sent twice: keep-alive race)"
        offered = f"{r['offered']:,.0f}" if r["offered"] else "closed loop"
        lines.append(
            f"| {r['config']} | {r['phase']} | {offered} | {r['visits']:,} | {r['rate']:,.0f}"
            f" | {lat['p50']:.1f} | {lat['p95']:.1f} | {lat['p99']:.1f} | {lat['max']:.0f} | {r['errors']}"
            f"{' ' + json.dumps(r['statuses']) if r['errors'] else ''}{unsent}"
            f" | {c['load1_before']} → {c['load1_after']} | {c['machine_busy_pct']} % | {c['server_cpu_pct']} % | {c['client_cpu_pct']} % |"
        )
    if report["raw"]:
        lines += [
            "",
            "| raw asyncpg (one transaction per visit) | visits | connections | visits/s | p50 ms | p95 ms | p99 ms"
            " | load1 before→after | machine busy |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in report["raw"]:
            lat, c = r["latency"], r["cpu"]
            what = {
                "raw mix": "per push of the mix: stamp + INSERT of its visits + status UPDATE + events + pg_notify",
                "raw": "stamp + INSERT visit + status UPDATE",
                "raw+events": "… + 2 event rows + pg_notify (what the server commits)",
                "raw+events-notify": "… + 2 event rows, no pg_notify (informative)",
            }[r["name"]]
            lines.append(
                f"| {r['name']}: {what} | {r['visits']:,} | {r['connections']} | {r['rate']:,.0f} | {lat['p50']:.1f}"
                f" | {lat['p95']:.1f} | {lat['p99']:.1f} | {c['load1_before']} → {c['load1_after']} | {c['machine_busy_pct']} % |"
            )
        raw = {r["name"]: r["rate"] for r in report["raw"]}
        lines += ["", "| server, saturate | HTTP ÷ raw mix | HTTP ÷ raw | HTTP ÷ raw+events |", "|---|---|---|---|"]

        def share(rate: float, name: str) -> str:
            return f"{rate / raw[name]:.0%}" if raw.get(name) else "–"

        for r in report["rows"]:
            if r["phase"] == "saturate":
                lines.append(
                    f"| {r['config']} | {share(r['rate'], 'raw mix')} | {share(r['rate'], 'raw')}"
                    f" | {share(r['rate'], 'raw+events')} |"
                )
    lines += ["", "| target | where | measured | result |", "|---|---|---|---|"]
    for c in report["checks"]:
        lines.append(f"| {c['target']} | {c['where']} | {c['value']} | {'PASS' if c['pass'] else 'FAIL'} |")
    return "\n".join(lines)


async def db_settings(url: str) -> dict[str, str]:
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return {
            k: await conn.fetchval(f"SHOW {k}")
            for k in (
                "server_version",
                "synchronous_commit",
                "fsync",
                "shared_buffers",
                "max_connections",
                "commit_delay",
            )
        }
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: $DATABASE_URL")
    parser.add_argument("--base-url", help=f"a running server (default: start our own on 127.0.0.1:{FIELD_PORT})")
    parser.add_argument("--port", type=int, default=FIELD_PORT)
    parser.add_argument("--households", type=int, default=100_000, help="loaded first if the database has none")
    parser.add_argument(
        "--workers",
        type=lambda s: [int(v) for v in s.split(",")],
        default=[1],
        help="server configurations to run, e.g. 1,2 (1 = server.cli serve; n = uvicorn --workers n)",
    )
    parser.add_argument("--pool-size", type=int, help="TONARI_DB_POOL_SIZE for our server (default: the app's, 10)")
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument(
        "--client",
        choices=["lite", "httpx"],
        default="lite",
        help="the devices' HTTP client: lite = one lean keep-alive connection each (common.LiteClient);"
        " httpx = the signed-in httpx sessions (~1.8 ms of client CPU per request)",
    )
    parser.add_argument("--sessions", type=int, default=200, help="signed-in sessions (≤ devices; shared round-robin)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per phase")
    parser.add_argument("--warmup-seconds", type=float, default=3.0)
    parser.add_argument("--visits", type=int, help="stop a phase after this many measured visits")
    parser.add_argument("--rate", type=float, default=TARGET_RATE, help="offered visits/s of the paced phase")
    parser.add_argument(
        "--phases",
        type=lambda s: s.split(","),
        default=["saturate", "paced", "half"],
        help="saturate = closed loop; paced = open loop at --rate; half = open loop at half the"
        " saturate rate (latency when not overloaded; informative)",
    )
    parser.add_argument(
        "--batch",
        type=lambda s: [v if v == "mix" else int(v) for v in s.split(",")],
        default=["mix"],
        help="what each request carries, e.g. mix,1: mix = POST /api/sync/push of common.PUSH_MIX's"
        " size (what the PWA does; the targets); 1 = POST …/visits; k > 1 = k visits per push"
        " (the last two informative)",
    )
    parser.add_argument(
        "--raw-connections",
        type=int,
        default=20,
        help="asyncpg connections of the raw run (default 20 = one server worker's pool + overflow; 0 skips)",
    )
    parser.add_argument("--raw-visits", type=int, help="default: as many as the best saturate run measured")
    parser.add_argument("--seed", type=int, default=8216)
    parser.add_argument("--no-close", action="store_true", help="leave the bench operation active")
    args = parser.parse_args()
    args.devices = max(1, min(args.devices, 2000))
    args.sessions = max(1, min(args.sessions, args.devices))
    args.seconds = max(1.0, min(args.seconds, 600.0))
    args.warmup_seconds = max(0.0, min(args.warmup_seconds, 60.0))
    args.rate = max(1.0, min(args.rate, 100_000.0))
    args.workers = [max(1, min(w, 8)) for w in args.workers][:4]
    args.batch = [b if b == "mix" else max(1, min(int(b), 1000)) for b in args.batch][:4]
    url, stamp_, header = start_run(args, "ingest")
    import uvloop  # the load generator's own loop: ~2× less client CPU for 200 devices' timers and sockets

    report = uvloop.run(run_bench(args, url, stamp_))
    report.update(
        {
            **header,
            "devices": args.devices,
            "sessions": args.sessions,
            "seconds": args.seconds,
            "warmup_seconds": args.warmup_seconds,
            "rate": args.rate,
            "raw_connections": args.raw_connections,
            "machine": {**header["machine"], "loadavg_end": os.getloadavg()},
            "db": asyncio.run(db_settings(url)),
        }
    )
    report["checks"] = checks(report)
    write_result("ingest", stamp_, report, render(report))


if __name__ == "__main__":
    main()
