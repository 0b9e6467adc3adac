"""The benches' one shared module: what more than one script in bench/ uses. Each bench script
imports only this module and public server/seed names (never another bench script).

Database URLs and the bench tenant (the prefecture of `seed/prefecture.py`, in a database of its
own, never the demo one), the transaction stamp, tile maths, percentiles (no numpy), our own
server's start/stop, CPU and load sampling, the result files, a lean HTTP client, signed-in
sessions and the drill safety check the field benches post visits to.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import math
import os
import random
import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python bench/x.py` puts bench/ first, not the repo
    sys.path.insert(0, str(REPO_ROOT))

import httptools  # noqa: E402

from seed import prefecture  # noqa: E402
from seed.prefecture import MUNICIPALITY_CODE as BENCH_MUNICIPALITY_CODE  # noqa: E402
from seed.prefecture import asyncpg_dsn as asyncpg_dsn  # noqa: E402  (the benches' names for them)
from seed.prefecture import owner_url as owner_url  # noqa: E402
from seed.prefecture import redact as redact  # noqa: E402
from server.core.context import RequestContext  # noqa: E402
from server.db.engine import STAMP, stamp_params  # noqa: E402
from server.settings import normalise_database_url  # noqa: E402

RESULTS_DIR = REPO_ROOT / "bench" / "results"
CREDENTIALS_PATH = RESULTS_DIR / "credentials.json"
FIELD_CREDENTIALS_PATH = RESULTS_DIR / "field-credentials.json"
FIELD_PORT = 8797  # ingest, sync and coverage: our server's port

# Outcome mix of a safety check (weights). 'injured' and 'rescue' raise escalations.
OUTCOME_MIX: tuple[tuple[str, float], ...] = (
    ("safe", 0.80),
    ("evacuated", 0.10),
    ("unknown", 0.05),
    ("injured", 0.03),
    ("rescue", 0.02),
)

# What a phone's outbox holds when it pushes (`POST /api/sync/push`): (share of pushes, fewest,
# most visits). Mostly the one visit just recorded; some 5–50 after a phone reconnects; a few
# 1,000 (a day offline). Per 1,000 pushes: 950 of 1, 49 of 5–50, 1 of 1,000 (≈ 3.3 visits a push).
PUSH_MIX: tuple[tuple[float, int, int], ...] = ((0.950, 1, 1), (0.049, 5, 50), (0.001, 1000, 1000))


def push_size(rng: random.Random) -> int:
    """The size of a phone's next push, drawn from PUSH_MIX."""
    r, acc = rng.random(), 0.0
    for share, fewest, most in PUSH_MIX:
        acc += share
        if r < acc:
            return rng.randint(fewest, most)
    return 1


# --- the database and the bench prefecture --------------------------------------------------------


def database_url(explicit: str | None = None) -> str:
    url = explicit or os.environ.get("DATABASE_URL")
    if not url:
        sys.exit(
            "Set DATABASE_URL (e.g. postgresql+asyncpg://tonari:dev@127.0.0.1:55500/tonari_bench) or pass --database-url"
            " (and TONARI_MIGRATE_DATABASE_URL to the owner role: bench/README.md)."
        )
    return normalise_database_url(url)


def read_credentials(path: Path = CREDENTIALS_PATH) -> dict[str, dict[str, str]]:
    """{key: {login, password, role}} of the bench accounts ({} if the file is missing)."""
    return prefecture.read_credentials(path)


def field_credentials_path() -> Path:
    """The field benches keep the bench logins in field-credentials.json instead of the shared
    credentials.json (the tiles benchmark's), seeded from it (read only) so both files hold the same
    passwords: loading or re-using a database never re-keys its bench accounts."""
    shared = read_credentials(CREDENTIALS_PATH)
    mine = read_credentials(FIELD_CREDENTIALS_PATH)
    if shared and any(mine.get(k) != v for k, v in shared.items()):
        mine.update(shared)
        FIELD_CREDENTIALS_PATH.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(FIELD_CREDENTIALS_PATH, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(
                {"database": "(copied from credentials.json)", "accounts": mine}, fh, ensure_ascii=False, indent=2
            )
    return FIELD_CREDENTIALS_PATH


def field_credentials() -> dict[str, dict[str, str]]:
    return read_credentials(field_credentials_path())


def prepare_database(url: str, households: int, credentials: Path = CREDENTIALS_PATH) -> dict[str, Any]:
    """Migrate, and load the bench prefecture if the database has none (idempotent)."""
    return prefecture.run(url, households, credentials=credentials)


# --- the transaction stamp (server.db.engine's, for asyncpg) ----------------------------------------

TILE_PARAMS = ("tenant", "z", "x", "y", "lo", "hi")


def to_asyncpg(sql: object, names: tuple[str, ...] = TILE_PARAMS) -> tuple[str, tuple[str, ...]]:
    """A SQLAlchemy text() with :name parameters → ($1.. SQL for asyncpg, the names in $-order).
    Only names that occur are numbered; casts like ::text are left alone."""
    s = str(sql)
    used: list[str] = []
    for name in names:
        pattern = rf"(?<![:\w]):{name}\b"
        if re.search(pattern, s):
            used.append(name)
            s = re.sub(pattern, f"${len(used)}", s)
    return s, tuple(used)


STAMP_SQL, STAMP_NAMES = to_asyncpg(STAMP, ("tenant", "user", "role", "scope"))


def stamp_args(
    tenant_id: uuid.UUID, role: str, user_id: uuid.UUID | None = None, scope: frozenset[uuid.UUID] | None = None
) -> tuple[str, ...]:
    """STAMP_SQL's arguments, rendered by the server's own `stamp_params` (scope None = whole tenant)."""
    p = stamp_params(RequestContext(tenant_id=tenant_id, user_id=user_id, role=role, scope=scope))
    return tuple(p[n] for n in STAMP_NAMES)


async def stamp(
    conn: Any,
    tenant_id: uuid.UUID,
    role: str = "system",
    user_id: uuid.UUID | None = None,
    scope: frozenset[uuid.UUID] | None = None,
) -> None:
    """Inside a transaction: the GUCs the server stamps on every transaction."""
    await conn.execute(STAMP_SQL, *stamp_args(tenant_id, role, user_id, scope))


@dataclass(frozen=True)
class Viewer:
    """Who the SQL runs as: the four GUCs the server stamps on every transaction."""

    name: str
    tenant_id: uuid.UUID
    user_id: uuid.UUID | None
    role: str
    scope: frozenset[uuid.UUID] | None  # None = whole tenant

    def stamp_args(self) -> tuple[str, ...]:
        return stamp_args(self.tenant_id, self.role, self.user_id, self.scope)


# --- viewers and tiles ---------------------------------------------------------------------------


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


async def load_viewers(url: str) -> tuple[uuid.UUID, dict[str, Viewer]]:
    """The bench tenant and the staff/commissioner viewers, with the scope the server would expand."""
    from sqlalchemy import text

    from server.accounts.scope import expanded_scope
    from server.core import context
    from server.db.engine import make_engine, make_sessionmaker

    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as db:
            async with db.begin():
                tenant_id = (
                    await db.execute(
                        text("SELECT id FROM tenant WHERE municipality_code = :c"), {"c": BENCH_MUNICIPALITY_CODE}
                    )
                ).scalar_one()
            context.update(tenant_id=tenant_id, role="system")
            viewers: dict[str, Viewer] = {}
            async with db.begin():
                for key, login in (("staff", "bench-staff"), ("commissioner", "bench-commissioner")):
                    uid, role = (
                        await db.execute(
                            text("SELECT id, role FROM app_user WHERE tenant_id = :t AND login = :l"),
                            {"t": tenant_id, "l": login},
                        )
                    ).one()
                    scoped = bool(
                        (
                            await db.execute(
                                text("SELECT count(*) FROM user_district_scope WHERE tenant_id = :t AND user_id = :u"),
                                {"t": tenant_id, "u": uid},
                            )
                        ).scalar()
                    )
                    scope = await expanded_scope(db, tenant_id, uid, scoped)
                    viewers[key] = Viewer(key, tenant_id, uid, role, scope)
            context.update(tenant_id=None, role=None)
    finally:
        await engine.dispose()
    return tenant_id, viewers


async def pick_tiles(
    conn: Any, tenant_id: uuid.UUID, zooms: tuple[int, ...], n: int, districts: frozenset[uuid.UUID] | None
) -> dict[int, list[tuple[int, int, int]]]:
    """N distinct tiles per zoom, each containing households: households in a fixed pseudo-random
    order (hash of their coordinates, so the same data gives the same tiles), density-weighted like
    a real map session. Returns {z: [(x, y, households in tile)]}."""
    rows = await conn.fetch(
        "SELECT ST_X(location) AS lon, ST_Y(location) AS lat, district_id FROM household WHERE tenant_id = $1",
        tenant_id,
    )
    points = [(r["lon"], r["lat"]) for r in rows]
    mine = [(r["lon"], r["lat"]) for r in rows if districts is None or r["district_id"] in districts]
    mine.sort(key=lambda p: hashlib.sha1(f"{p[0]:.7f},{p[1]:.7f}".encode()).digest())
    out: dict[int, list[tuple[int, int, int]]] = {}
    for z in zooms:
        counts: dict[tuple[int, int], int] = {}
        for lon, lat in points:
            k = tile_of(lon, lat, z)
            counts[k] = counts.get(k, 0) + 1
        chosen: list[tuple[int, int]] = []
        seen: set[tuple[int, int]] = set()
        for lon, lat in mine:
            k = tile_of(lon, lat, z)
            if k not in seen:
                seen.add(k)
                chosen.append(k)
                if len(chosen) >= n:
                    break
        out[z] = [(x, y, counts[(x, y)]) for x, y in chosen]
    return out


# --- statistics -------------------------------------------------------------------------------


def ms_since(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] if lo == hi else s[lo] + (s[hi] - s[lo]) * (k - lo)


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "min": min(values) if values else float("nan"),
        "max": max(values) if values else float("nan"),
        "mean": sum(values) / len(values) if values else float("nan"),
    }


# --- the code measured and the machine ---------------------------------------------------------


def code_version(url: str | None = None) -> dict[str, Any]:
    """The commit measured, files changed outside bench/ (the tree moves while people work), and
    the database's migration."""

    def git(*a: str) -> str:
        try:
            return subprocess.run(["git", *a], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    try:  # not through git(): its strip() would eat the first line's leading status column
        status = subprocess.run(
            ["git", "status", "--porcelain"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        status = ""
    dirty = [line[3:] for line in status.splitlines() if line[3:] and not line[3:].startswith("bench/")]
    out: dict[str, Any] = {"commit": git("rev-parse", "--short", "HEAD") or "?", "dirty": dirty}
    if url:

        async def migration() -> str:
            import asyncpg

            conn = await asyncpg.connect(asyncpg_dsn(url))
            try:
                return str(await conn.fetchval("SELECT version_num FROM alembic_version"))
            finally:
                await conn.close()

        try:
            out["migration"] = asyncio.run(migration())
        except Exception:  # noqa: BLE001  (informative only)
            out["migration"] = "?"
    return out


def code_line(v: dict[str, Any]) -> str:
    dirty = (
        f" + uncommitted changes in {', '.join(v['dirty'][:5])}{' …' if len(v['dirty']) > 5 else ''}"
        if v["dirty"]
        else ""
    )
    return f"Code {v['commit']}{dirty}, database at migration {v.get('migration', '?')}."


def sample_cpu() -> dict[str, float]:
    """Machine-wide busy/total jiffies, this process's CPU seconds, the 1-min load average."""
    with open("/proc/stat", encoding="ascii") as fh:
        parts = [int(v) for v in fh.readline().split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    return {
        "total": float(sum(parts)),
        "busy": float(sum(parts) - idle),
        "self": time.process_time(),
        "load1": os.getloadavg()[0],
        "wall": time.perf_counter(),
    }


def cpu_seconds(*, group: int | None = None, parent: int | None = None) -> float:
    """CPU seconds (user + system) of the live processes in process group `group` (a server we
    started in a session of its own) or with parent `parent` (the database's postmaster)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after the comm: fields[1] ppid, fields[2] pgrp, fields[11] utime, fields[12] stime
        if (group is not None and int(fields[2]) == group) or (parent is not None and int(fields[1]) == parent):
            total += int(fields[11]) + int(fields[12])
    return total / tick


def group_cpu_seconds(pgid: int | None) -> float:
    """CPU seconds of the live processes in process group `pgid` (our server); NaN without one."""
    return float("nan") if pgid is None else cpu_seconds(group=pgid)


def cpu_report(
    before: dict[str, float], after: dict[str, float], server_before: float, server_after: float
) -> dict[str, Any]:
    ncpu = os.cpu_count() or 1
    wall = after["wall"] - before["wall"]
    total = after["total"] - before["total"]
    return {
        "load1_before": round(before["load1"], 2),
        "load1_after": round(after["load1"], 2),
        "machine_busy_pct": round(100.0 * (after["busy"] - before["busy"]) / total, 1) if total else float("nan"),
        "client_cpu_pct": round(100.0 * (after["self"] - before["self"]) / wall / ncpu, 1),
        "server_cpu_pct": round(100.0 * (server_after - server_before) / wall / ncpu, 1),
        "cpus": ncpu,
    }


# --- our own server and the result files --------------------------------------------------------


def check_localhost(base_url: str | None) -> None:
    if base_url and not base_url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
        sys.exit("--base-url must be a localhost URL")


class BenchServer:
    """Our own server on 127.0.0.1:<port>, in its own process group, stopped at the end.

    workers == 1: `python -m server.cli serve` (what `make run` starts). workers > 1: uvicorn
    directly with `--workers n --factory` (same options as the CLI). `secret` (if given) is the
    TONARI_SECRET_KEY of every worker: sessions and CSRF cookies stay valid across workers and
    across restarts within one benchmark run."""

    def __init__(
        self,
        url: str,
        port: int,
        log_path: Path,
        *,
        workers: int = 1,
        secret: str | None = None,
        pool_size: int | None = None,
        var_dir: Path | None = None,
    ) -> None:
        self.url, self.port, self.workers, self.log_path, self.secret = url, port, workers, log_path, secret
        self.pool_size = pool_size
        self.var_dir = var_dir or RESULTS_DIR / "var"
        self.proc: Any = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pgid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self) -> str:
        import subprocess

        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": self.url,
                "TONARI_PUBLIC_URL": self.base,
                "TONARI_VAR_DIR": str(self.var_dir),
                "TONARI_LOG_LEVEL": "WARNING",
            }
        )
        if self.secret:
            env["TONARI_SECRET_KEY"] = self.secret
        if self.pool_size:
            env["TONARI_DB_POOL_SIZE"] = str(self.pool_size)
        if self.workers <= 1:
            cmd = [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        else:
            cmd = [
                sys.executable,
                "-m",
                "uvicorn",
                "server.app:create_app",
                "--factory",
                "--workers",
                str(self.workers),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--proxy-headers",
                "--forwarded-allow-ips",
                "127.0.0.1",
                "--log-level",
                "warning",
                "--no-access-log",
                "--no-server-header",
                "--timeout-graceful-shutdown",
                "5",
            ]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115  (closed with the process)
        self.proc = subprocess.Popen(
            cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self.base

    async def wait_ready(self, timeout: float = 90.0) -> None:
        import asyncio
        import time

        import httpx

        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.base, timeout=2.0) as c:
            while time.monotonic() < deadline:
                if self.proc is not None and self.proc.poll() is not None:
                    raise RuntimeError(f"the server exited ({self.proc.returncode}); see {self.log_path}")
                try:
                    if (await c.get("/health/ready")).status_code == 200:
                        if self.workers > 1:
                            await asyncio.sleep(1.0)  # let every worker finish its startup
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise RuntimeError(f"the server was not ready after {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        import signal
        import subprocess

        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)  # the group we created (start_new_session)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


@contextlib.asynccontextmanager
async def serving(base_url: str | None, server: BenchServer | None) -> AsyncIterator[str]:
    """The base URL to measure: `base_url` (a server someone else runs) or `server`, started,
    ready, and stopped on the way out whatever happens."""
    if server is None:
        assert base_url is not None
        yield base_url
        return
    try:
        base = server.start()
        await server.wait_ready()
        yield base
    finally:
        server.stop()


def write_result(
    kind: str, stamp: str, report: dict[str, Any], table: str, extra: dict[str, str] | None = None
) -> Path:
    """Print the table and write bench/results/<kind>-<stamp>.json (and any extra text files,
    {suffix: text} → <kind>-<suffix>-<stamp>.txt)."""
    print()
    print(table)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    for suffix, text_ in (extra or {}).items():
        path = RESULTS_DIR / f"{kind}-{suffix}-{stamp}.txt"
        path.write_text(text_, encoding="utf-8")
        print(f"\nWrote {path.relative_to(REPO_ROOT)}")
    out = RESULTS_DIR / f"{kind}-{stamp}.json"
    out.write_text(json.dumps({**report, "table": table}, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(f"\nWrote {out.relative_to(REPO_ROOT)}")
    return out


def field_server(
    url: str, port: int, workers: int, stamp_: str, secret: str, pool_size: int | None = None
) -> BenchServer:
    """Our server for the field benchmarks (common.BenchServer; its own var dir and log)."""
    return BenchServer(
        url,
        port,
        RESULTS_DIR / f"field-server-{stamp_}.log",
        workers=workers,
        secret=secret,
        pool_size=pool_size,
        var_dir=RESULTS_DIR / "field-var",
    )


def start_run(args: argparse.Namespace, what: str) -> tuple[str, str, dict[str, Any]]:
    """The common start of a field benchmark: localhost only, the bench prefecture loaded, the
    code version; prints the header line. Returns the URL, the run's stamp and the report header."""
    check_localhost(args.base_url)
    url = database_url(args.database_url)
    load = prepare_database(url, args.households, field_credentials_path())
    version = code_version(url)
    started = datetime.now(UTC)
    print(f"Benchmarking {what} against {redact(url)} … ({code_line(version)})", flush=True)
    header = {
        "started": started.isoformat(),
        "database": redact(url),
        "load": load,
        "code": version,
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
    }
    return url, started.strftime("%Y%m%dT%H%M%SZ"), header


# --- a lean HTTP/1.1 keep-alive client (one connection per simulated device) ---------------------
#
# Why: the client shares the server's two cores, and httpx's CPU per request would have the load
# generator measure itself (bench/HISTORY.md). This one writes a prepared request and parses the
# response with httptools (the C parser uvicorn itself uses). It speaks exactly what the
# benchmarks need: requests with a Content-Length body, responses with Content-Length or chunked
# bodies, keep-alive, and one transparent reconnect when the server closed an idle connection
# before reading the request (visits are idempotent by client_id, so a resend is safe).


class ConnectionLost(Exception):
    """The server closed the connection before a complete response."""


@dataclass
class Response:
    status_code: int
    content: bytes = b""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[Response] | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self._body: list[bytes] = []
        self._headers: list[tuple[bytes, bytes]] = []
        self._got_bytes = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A TCP connection: uvloop's transports are not subclasses of asyncio.Transport, so no isinstance.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._got_bytes = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(
            ConnectionLost("closed before a complete response" if self._got_bytes else "closed before any answer")
        )

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._body, self._headers = [], []

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.lower(), value))

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        waiter, self.waiter = self.waiter, None
        self._got_bytes = False
        if waiter is not None and not waiter.done():
            waiter.set_result(Response(self.parser.get_status_code(), b"".join(self._body), self._headers))

    def _fail(self, exc: Exception) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)


class LiteClient:
    """One keep-alive connection to `base_url`, one request at a time (like a phone's app)."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None, timeout: float = 30.0) -> None:
        u = urlsplit(base_url)
        if u.scheme != "http" or not u.hostname:
            raise ValueError(f"only plain http URLs: {base_url}")
        self.host, self.port = u.hostname, u.port or 80
        self.timeout = timeout
        fixed = {"Host": f"{self.host}:{self.port}", "Connection": "keep-alive", **(headers or {})}
        self._fixed = "".join(f"{k}: {v}\r\n" for k, v in fixed.items()).encode("latin-1")
        self._proto: _Protocol | None = None
        self.reconnects = 0

    @classmethod
    def signed_in_as(cls, base_url: str, httpx_client: Any, csrf: str | None = None) -> LiteClient:
        """A lean connection carrying a signed-in httpx client's cookies (and the CSRF token to
        echo on writes): the same session, without httpx's cost per request."""
        cookies = "; ".join(f"{c.name}={c.value}" for c in httpx_client.cookies.jar)
        headers = {"Cookie": cookies, **({"X-CSRF-Token": csrf} if csrf else {})}
        return cls(str(base_url), headers=headers)

    def build(self, method: str, path: str, body: bytes = b"", content_type: str = "application/json") -> bytes:
        """The request's bytes, prepared once (outside the timed part if the caller wishes)."""
        head = f"{method} {path} HTTP/1.1\r\n".encode("latin-1") + self._fixed
        if body or method in ("POST", "PUT", "PATCH"):
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n".encode("latin-1")
        return head + b"\r\n" + body

    async def _connect(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_connection(_Protocol, self.host, self.port)
        return proto

    async def send(self, raw: bytes) -> Response:
        for attempt in (0, 1):
            if self._proto is None or self._proto.closed:
                self._proto = await self._connect()
            proto = self._proto
            proto.waiter = asyncio.get_running_loop().create_future()
            assert proto.transport is not None  # _connect returns a connected protocol
            proto.transport.write(raw)
            try:
                return await asyncio.wait_for(proto.waiter, self.timeout)
            except ConnectionLost as exc:
                proto.closed = True
                # Closed before any byte of an answer: the server's idle keep-alive close raced
                # this request. Send it once more on a fresh connection.
                if attempt == 0 and "before any answer" in str(exc):
                    self.reconnects += 1
                    continue
                raise
            except BaseException:
                proto.closed = True  # a half-read response would poison the next one
                if proto.transport is not None:
                    proto.transport.close()
                raise
        raise AssertionError("unreachable")

    async def request(self, method: str, path: str, body: bytes = b"") -> Response:
        return await self.send(self.build(method, path, body))

    async def aclose(self) -> None:
        if self._proto is not None and self._proto.transport is not None:
            self._proto.transport.close()
        self._proto = None


class Session:
    """A signed-in httpx client and its CSRF token.

    uvicorn closes keep-alive connections idle for 5 s; a request racing that close fails with
    "Server disconnected without sending a response" before the server read it. Such a request
    is sent again once on a fresh connection (as a device would: visits are idempotent by
    client_id, so even a request the server did process would come back as a duplicate) and
    counted in `Session.retries`."""

    retries = 0

    def __init__(self, client: Any, csrf: str) -> None:
        self.client, self.csrf = client, csrf

    async def _send(self, method: str, path: str, **kw: Any) -> Any:
        import httpx

        try:
            return await self.client.request(method, path, **kw)
        except httpx.RemoteProtocolError:
            Session.retries += 1
            return await self.client.request(method, path, **kw)

    async def post(self, path: str, **kw: Any) -> Any:
        headers = dict(kw.pop("headers", {}) or {})
        headers["X-CSRF-Token"] = self.csrf
        return await self._send("POST", path, headers=headers, **kw)

    async def get(self, path: str, **kw: Any) -> Any:
        return await self._send("GET", path, **kw)

    async def aclose(self) -> None:
        await self.client.aclose()


async def sign_in(base: str, login: str, password: str, timeout: float = 30.0, connections: int = 4) -> Session:
    import httpx

    client = httpx.AsyncClient(
        base_url=base,
        timeout=timeout,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )
    try:
        await client.get("/api/auth/csrf")
        csrf = client.cookies.get("tonari_csrf") or ""
        r = await client.post(
            "/api/auth/login", json={"login": login, "password": password}, headers={"X-CSRF-Token": csrf}
        )
        if r.status_code != 200:
            raise RuntimeError(f"sign-in as {login} failed: {r.status_code} {r.text[:200]}")
    except BaseException:
        await client.aclose()
        raise
    return Session(client, csrf)


# --- the bench tenant and its drill safety check --------------------------------------------------


@dataclass
class BenchTenant:
    tenant_id: uuid.UUID
    staff_id: uuid.UUID
    areas: list[uuid.UUID]


async def bench_tenant(url: str) -> BenchTenant:
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        tenant_id = await conn.fetchval("SELECT id FROM tenant WHERE municipality_code = $1", BENCH_MUNICIPALITY_CODE)
        if tenant_id is None:
            raise RuntimeError("no bench tenant in this database (seed/prefecture.py loads one)")
        async with conn.transaction():
            await stamp(conn, tenant_id)
            staff_id = await conn.fetchval(
                "SELECT id FROM app_user WHERE tenant_id = $1 AND login = 'bench-staff'", tenant_id
            )
            areas = [
                r[0]
                for r in await conn.fetch(
                    "SELECT id FROM district WHERE tenant_id = $1 AND parent_id IS NULL ORDER BY code", tenant_id
                )
            ]
    finally:
        await conn.close()
    return BenchTenant(tenant_id, staff_id, areas)


async def start_operation(staff: Session, tenant: BenchTenant, name: str) -> dict[str, Any]:
    """A drill safety check over every household of the tenant, started (targets fixed)."""
    t0 = time.perf_counter()
    r = await staff.post(
        "/api/operations",
        json={
            "kind": "safety_check",
            "mode": "drill",
            "name": name,
            "district_ids": [str(a) for a in tenant.areas],
            "start": True,
        },
        timeout=300.0,
    )
    if r.status_code != 201:
        raise RuntimeError(f"creating the bench operation failed: {r.status_code} {r.text[:300]}")
    op: dict[str, Any] = r.json()
    op["_create_ms"] = ms_since(t0)
    return op


async def close_operation(staff: Session, op_id: str) -> None:
    r = await staff.post(f"/api/operations/{op_id}/close", timeout=60.0)
    if r.status_code != 200:
        print(f"warning: closing operation {op_id}: {r.status_code} {r.text[:200]}", flush=True)


async def operation_households(url: str, tenant_id: uuid.UUID, op_id: str, seed: int) -> list[uuid.UUID]:
    """The operation's target households in a fixed pseudo-random order."""
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        async with conn.transaction():
            await stamp(conn, tenant_id)
            rows = await conn.fetch(
                "SELECT household_id FROM operation_target WHERE tenant_id = $1 AND operation_id = $2"
                " ORDER BY household_id",
                tenant_id,
                uuid.UUID(op_id),
            )
    finally:
        await conn.close()
    ids = [r[0] for r in rows]
    random.Random(seed).shuffle(ids)
    return ids


class Households:
    """Hands out the operation's households one by one; wraps around when all were used."""

    def __init__(self, ids: list[uuid.UUID]) -> None:
        if not ids:
            raise RuntimeError("the operation has no target households")
        self.ids, self.i, self.wrapped = ids, 0, 0

    def next(self) -> uuid.UUID:
        if self.i >= len(self.ids):
            self.i, self.wrapped = 0, self.wrapped + 1
        h = self.ids[self.i]
        self.i += 1
        return h

    def take(self, n: int) -> list[uuid.UUID]:
        return [self.next() for _ in range(n)]


class Outcomes:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.names = [o for o, _ in OUTCOME_MIX]
        self.weights = [w for _, w in OUTCOME_MIX]

    def next(self) -> str:
        return self.rng.choices(self.names, self.weights)[0]


def uuid7() -> uuid.UUID:
    from server.db.base import uuid7 as server_uuid7

    return server_uuid7()


def recompute_sql() -> tuple[str, tuple[str, ...]]:
    from server.operations.ingest import RECOMPUTE

    return to_asyncpg(RECOMPUTE, ("tenant", "ops", "hhs", "need_help"))


def destination(outcome: str) -> dict[str, Any]:
    """避難済 must name a shelter or say it is unknown: the bench's evacuated visits say unknown."""
    return {"shelter_unknown": True} if outcome == "evacuated" else {}


def visit_hash(
    op_id: uuid.UUID, client_id: uuid.UUID, household_id: uuid.UUID, outcome: str, device_time: datetime
) -> str:
    from server.operations.ingest import content_hash
    from server.operations.schemas import VisitIn

    return content_hash(
        op_id,
        VisitIn(
            client_id=client_id,
            household_id=household_id,
            outcome=outcome,
            device_time=device_time,
            **destination(outcome),
        ),
    )
