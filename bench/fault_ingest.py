"""The fault suite of the field's write path: phones push through `POST /api/sync/push` and retry
until acknowledged while the server is killed with SIGKILL (and, optionally, PostgreSQL is shut
down immediately) mid-ingest; then every acknowledged visit is counted in the database.

    DATABASE_URL=… TONARI_MIGRATE_DATABASE_URL=… .venv/bin/python bench/fault_ingest.py \\
        [--phones 200] [--visits 20000] [--kills 4] [--pg-stop-every 2]

Loads the bench prefecture if the database has none and starts a drill safety check over it (or
works on `--operation` of `--tenant-id` with `--login`/`--password`: the pytest smoke does that).
Starts our server (`python -m server.cli serve`) as a subprocess in its own process group, then:

  phones    `--phones` simulated phones (asyncio tasks sharing `--sessions` signed-in sessions).
            Each keeps an outbox as the PWA does: it records new visits in the batch mix
            (common.PUSH_MIX: most steps 1 visit; some 5–50, a phone that reconnected; a few
            1,000, a day offline),
            pushes its whole outbox (≤ 1,000 items), removes what was answered `accepted` or
            `duplicate`, and on anything else (no connection, a 5xx, a 503 with Retry-After)
            keeps it and tries again after a short backoff. Stops recording after `--visits`.
  faults    after every `--kill-after` visits acknowledged since the last start, `kill -9` of the
            server's process group, `--kills` times; every `--pg-stop-every`-th fault also stops
            PostgreSQL with `pg_ctl -m immediate` (a crash: no checkpoint) and starts it again
            (needs `--pg-ctl`, e.g. `bash scripts/pg.sh`, whose `stop-immediate` and `start` are
            used). The server is started again each time.
  count     when every outbox is empty, in the database (as the app's role): every acknowledged
            visit is stored once with the content the phone sent (lost, duplicated, changed),
            with exactly one `visit.recorded` event (events lost or duplicated); answers of
            `conflict` or `invalid` are counted too (a retry must never be one).

Prints a table and the verdict (exit 1 unless 0 lost, 0 duplicated, 0 changed); writes
bench/results/fault-ingest-<stamp>.json (or `--json-out`). Localhost only; bounded by count and
`--max-seconds`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import common
from common import (
    RESULTS_DIR,
    BenchServer,
    asyncpg_dsn,
    bench_tenant,
    code_line,
    destination,
    field_credentials,
    operation_households,
    push_size,
    sign_in,
    stamp,
    start_operation,
    start_run,
    uuid7,
    write_result,
)

FAULT_PORT = 8798

OUTCOMES = ("safe", "safe", "safe", "safe", "evacuated", "unknown", "injured", "rescue")


@dataclass
class Tally:
    generated: int = 0
    acked: dict[str, dict[str, Any]] = field(default_factory=dict)  # client_id → the item the phone sent
    since_start: int = 0  # acknowledged since the server last started
    pushes: int = 0
    answers: dict[str, int] = field(default_factory=dict)  # HTTP status or exception name → count
    item_answers: dict[str, int] = field(default_factory=dict)  # per-item status → count
    refused: list[dict[str, Any]] = field(default_factory=list)  # conflict / invalid answers (should be none)
    push_sizes: dict[str, int] = field(default_factory=dict)

    def answer(self, key: str) -> None:
        self.answers[key] = self.answers.get(key, 0) + 1


def size_bucket(n: int) -> str:
    return "1" if n == 1 else "2–50" if n <= 50 else "51–999" if n < 1000 else "1000"


async def phone(
    i: int, session: Any, op_id: str, households: list[uuid.UUID], tally: Tally, target: int, seed: int, deadline: float
) -> None:
    import httpx

    rng = random.Random(seed * 1000 + i)
    outbox: list[dict[str, Any]] = []
    backoff = 0.05
    while time.monotonic() < deadline:
        if tally.generated < target:
            k = min(push_size(rng), target - tally.generated, 1000 - len(outbox))
            tally.generated += max(k, 0)
            for _ in range(max(k, 0)):
                outcome = rng.choice(OUTCOMES)
                outbox.append(
                    {
                        "type": "visit",
                        "operation_id": op_id,
                        "client_id": str(uuid7()),
                        "household_id": str(rng.choice(households)),
                        "outcome": outcome,
                        "device_time": datetime.now(UTC).isoformat(),
                        **destination(outcome),
                    }
                )
        if not outbox:
            if tally.generated >= target:
                return
            continue
        send = outbox[:1000]
        tally.pushes += 1
        try:
            r = await session.post("/api/sync/push", json={"mutations": send}, timeout=60.0)
        except (httpx.TransportError, OSError) as exc:  # the server is down or restarting
            tally.answer(type(exc).__name__)
            await asyncio.sleep(backoff * (1 + rng.random()))
            backoff = min(backoff * 2, 1.0)
            continue
        tally.answer(str(r.status_code))
        if r.status_code != 200:  # 503 (Retry-After), or a 5xx while the database restarts
            await asyncio.sleep(backoff * (1 + rng.random()))
            backoff = min(backoff * 2, 1.0)
            continue
        backoff = 0.05
        tally.push_sizes[size_bucket(len(send))] = tally.push_sizes.get(size_bucket(len(send)), 0) + 1
        results = r.json()["results"]
        done = set()
        for item, res in zip(send, results, strict=True):
            status = res["status"]
            tally.item_answers[status] = tally.item_answers.get(status, 0) + 1
            if status in ("accepted", "duplicate"):
                if item["client_id"] not in tally.acked:
                    tally.since_start += 1
                tally.acked[item["client_id"]] = item
            else:  # a retry must never be refused: count it, and drop it (a phone would show it)
                tally.refused.append({"item": item, "answer": res})
            done.add(item["client_id"])
        outbox = [m for m in outbox if m["client_id"] not in done]


class Faults:
    """kill -9 of the server (and optionally an immediate PostgreSQL shutdown), restart."""

    def __init__(self, server: BenchServer, pg_ctl: str | None, pg_stop_every: int) -> None:
        self.server, self.pg_ctl, self.pg_stop_every = server, pg_ctl, pg_stop_every
        self.log: list[dict[str, Any]] = []

    def _pg(self, what: str) -> None:
        assert self.pg_ctl
        subprocess.run(f"{self.pg_ctl} {what}", shell=True, check=True, stdout=subprocess.DEVNULL)

    async def run(self, tally: Tally, kills: int, kill_after: int, finished: asyncio.Event) -> None:
        for n in range(1, kills + 1):
            while tally.since_start < kill_after and not finished.is_set():  # noqa: ASYNC110 - a count the phones move
                await asyncio.sleep(0.01)
            if finished.is_set():
                return
            proc = self.server.proc
            os.killpg(proc.pid, signal.SIGKILL)  # the group we created: the server and nothing else
            await asyncio.get_running_loop().run_in_executor(None, proc.wait)
            entry: dict[str, Any] = {"fault": n, "acked_before": len(tally.acked), "kill": "server SIGKILL"}
            if self.pg_ctl and self.pg_stop_every and n % self.pg_stop_every == 0:
                await asyncio.get_running_loop().run_in_executor(None, self._pg, "stop-immediate")
                await asyncio.get_running_loop().run_in_executor(None, self._pg, "start")
                entry["kill"] += " + PostgreSQL immediate shutdown"
            t = time.monotonic()
            self.server.start()
            await self.server.wait_ready()
            tally.since_start = 0
            entry["restart_s"] = round(time.monotonic() - t, 1)
            self.log.append(entry)
            print(
                f"  fault {n}: {entry['kill']} after {entry['acked_before']:,} acknowledged;"
                f" back in {entry['restart_s']} s",
                flush=True,
            )


async def count(url: str, tenant_id: uuid.UUID, op_id: str, tally: Tally) -> dict[str, Any]:
    """Every acknowledged visit in the database: once, unchanged, with one event."""
    import asyncpg

    ids = [uuid.UUID(c) for c in tally.acked]
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        async with conn.transaction():
            await stamp(conn, tenant_id)
            rows = await conn.fetch(
                "SELECT id, client_id, household_id, outcome, device_time, shelter_unknown FROM visit"
                " WHERE tenant_id = $1 AND operation_id = $2 AND client_id = ANY($3::uuid[])",
                tenant_id,
                uuid.UUID(op_id),
                ids,
            )
            events = await conn.fetch(
                "SELECT payload->>'visit_id' AS visit_id, count(*) AS n FROM event WHERE tenant_id = $1"
                " AND operation_id = $2 AND kind = 'visit.recorded' AND payload->>'visit_id' = ANY($3::text[])"
                " GROUP BY 1",
                tenant_id,
                uuid.UUID(op_id),
                [str(r["id"]) for r in rows],
            )
    finally:
        await conn.close()
    by_client: dict[str, list[Any]] = {}
    for r in rows:
        by_client.setdefault(str(r["client_id"]), []).append(r)
    changed = 0
    for cid, item in tally.acked.items():
        for r in by_client.get(cid, []):
            sent = datetime.fromisoformat(item["device_time"])
            if (
                str(r["household_id"]) != item["household_id"]
                or r["outcome"] != item["outcome"]
                or r["device_time"] != sent
                or bool(r["shelter_unknown"]) != bool(item.get("shelter_unknown"))
            ):
                changed += 1
    per_visit = {e["visit_id"]: e["n"] for e in events}
    return {
        "acknowledged": len(tally.acked),
        "stored": len(rows),
        "lost": sum(1 for c in tally.acked if c not in by_client),
        "duplicated": sum(len(v) - 1 for v in by_client.values()),
        "changed": changed,
        "events_missing": sum(1 for r in rows if str(r["id"]) not in per_visit),
        "events_duplicated": sum(n - 1 for n in per_visit.values()),
        "refused_retries": len(tally.refused),
    }


def render(report: dict[str, Any]) -> str:
    c, t = report["count"], report["tally"]
    lines = [
        (code_line(report["code"]) + " " if report.get("code") else "")
        + f"{report['phones']} phones ({report['sessions']} sessions), {report['visits']:,} visits in the batch mix"
        f" through POST /api/sync/push; {len(report['faults'])} faults; {report['seconds']:.0f} s;"
        f" load {report['load'][0]:.1f} → {report['load_end'][0]:.1f} on {os.cpu_count()} CPUs.",
        "",
        "| fault | what | acknowledged before | back in |",
        "|---|---|---|---|",
    ]
    for f in report["faults"]:
        lines.append(f"| {f['fault']} | {f['kill']} | {f['acked_before']:,} | {f['restart_s']} s |")
    lines += [
        "",
        "| acknowledged | stored | lost | duplicated | changed | events missing | events duplicated"
        " | retries refused (conflict/invalid) |",
        "|---|---|---|---|---|---|---|---|",
        f"| {c['acknowledged']:,} | {c['stored']:,} | {c['lost']} | {c['duplicated']} | {c['changed']}"
        f" | {c['events_missing']} | {c['events_duplicated']} | {c['refused_retries']} |",
        "",
        f"Pushes: {t['pushes']:,} (answers {json.dumps(t['answers'], sort_keys=True)});"
        f" acknowledged pushes by size {json.dumps(t['push_sizes'], sort_keys=True)};"
        f" item answers {json.dumps(t['item_answers'], sort_keys=True)}.",
        "",
        f"Verdict: {'PASS' if report['pass'] else 'FAIL'} (0 lost, 0 duplicated, 0 changed)",
    ]
    return "\n".join(lines)


async def run(args: argparse.Namespace, url: str, stamp_: str) -> dict[str, Any]:
    if args.operation:
        tenant_id, op_id = uuid.UUID(args.tenant_id), args.operation
        login, password = args.login, args.password
    else:
        tenant = await bench_tenant(url)
        tenant_id = tenant.tenant_id
        creds = field_credentials()["staff"]
        login, password = creds["login"], creds["password"]
        op_id = ""
    log_path = Path(args.log) if args.log else RESULTS_DIR / f"fault-server-{stamp_}.log"
    server = BenchServer(
        url,
        args.port,
        log_path,
        secret=secrets.token_urlsafe(48),
        var_dir=Path(args.var_dir) if args.var_dir else RESULTS_DIR / "fault-var",
    )
    server.start()
    tally = Tally()
    faults = Faults(server, args.pg_ctl, args.pg_stop_every)
    sessions: list[Any] = []
    try:
        await server.wait_ready()
        per_session = -(-args.phones // args.sessions)  # one connection per phone, as on the phones
        sessions = [await sign_in(server.base, login, password, connections=per_session) for _ in range(args.sessions)]
        if not op_id:
            op = await start_operation(sessions[0], tenant, f"ベンチ 障害注入 {stamp_}")
            op_id = op["id"]
        households = await operation_households(url, tenant_id, op_id, args.seed)
        print(
            f"  server up; operation {op_id} with {len(households):,} targets; {args.phones} phones start", flush=True
        )
        finished = asyncio.Event()
        deadline = time.monotonic() + args.max_seconds
        t0 = time.monotonic()
        killer = asyncio.ensure_future(faults.run(tally, args.kills, args.kill_after, finished))
        await asyncio.gather(
            *[
                phone(i, sessions[i % len(sessions)], op_id, households, tally, args.visits, args.seed, deadline)
                for i in range(args.phones)
            ]
        )
        finished.set()
        await killer
        seconds = time.monotonic() - t0
        result = await count(url, tenant_id, op_id, tally)
    finally:
        for s in sessions:
            await s.aclose()
        server.stop()
    return {
        "operation_id": op_id,
        "seconds": seconds,
        "faults": faults.log,
        "count": result,
        "unfinished": tally.generated - len(tally.acked) - len(tally.refused),
        "tally": {
            "pushes": tally.pushes,
            "answers": tally.answers,
            "item_answers": tally.item_answers,
            "push_sizes": tally.push_sizes,
            "refused": tally.refused[:20],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: $DATABASE_URL")
    parser.add_argument("--port", type=int, default=FAULT_PORT)
    parser.add_argument("--households", type=int, default=100_000, help="loaded first if the database has none")
    parser.add_argument("--phones", type=int, default=200)
    parser.add_argument(
        "--sessions", type=int, default=20, help="signed-in sessions the phones share (Argon2 per sign-in)"
    )
    parser.add_argument("--visits", type=int, default=20_000, help="visits the phones record in all")
    parser.add_argument("--kills", type=int, default=4, help="faults injected")
    parser.add_argument(
        "--kill-after", type=int, default=2_000, help="visits acknowledged after a start before the next fault"
    )
    parser.add_argument("--pg-ctl", help="a command taking stop-immediate / start (e.g. 'bash scripts/pg.sh')")
    parser.add_argument(
        "--pg-stop-every", type=int, default=2, help="every n-th fault also crashes PostgreSQL (with --pg-ctl)"
    )
    parser.add_argument("--max-seconds", type=float, default=900.0)
    parser.add_argument("--seed", type=int, default=1616)
    parser.add_argument("--operation", help="an active operation to push to (then --tenant-id, --login, --password)")
    parser.add_argument("--tenant-id")
    parser.add_argument("--login")
    parser.add_argument("--password")
    parser.add_argument("--json-out", help="write the report here instead of bench/results/")
    parser.add_argument("--log", help="the server's log file")
    parser.add_argument("--var-dir", help="the server's var directory")
    args = parser.parse_args()
    args.phones = max(1, min(args.phones, 2000))
    args.sessions = max(1, min(args.sessions, args.phones))
    args.visits = max(1, min(args.visits, 1_000_000))
    args.max_seconds = max(10.0, min(args.max_seconds, 3600.0))
    import uvloop

    load = os.getloadavg()
    if args.operation:  # a database someone else prepared (the pytest smoke): nothing loaded, no stamp file
        url = common.database_url(args.database_url)
        stamp_ = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        header: dict[str, Any] = {}
        args.base_url = None
    else:
        args.base_url = None
        url, stamp_, header = start_run(args, "the fault suite")
    report = uvloop.run(run(args, url, stamp_))
    c = report["count"]
    report.update(
        {
            **header,
            "phones": args.phones,
            "sessions": args.sessions,
            "visits": args.visits,
            "load": load,
            "load_end": os.getloadavg(),
        }
    )
    report["pass"] = (
        c["lost"] == 0
        and c["duplicated"] == 0
        and c["changed"] == 0
        and report["unfinished"] == 0
        and c["events_missing"] == 0
        and c["events_duplicated"] == 0
        and c["refused_retries"] == 0
    )
    table = render(report)
    if args.json_out:
        print(table)
        Path(args.json_out).write_text(json.dumps({**report, "table": table}, default=str), encoding="utf-8")
    else:
        write_result("fault-ingest", stamp_, report, table)
    sys.exit(0 if report["pass"] else 1)


if __name__ == "__main__":
    main()
