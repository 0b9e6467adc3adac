"""Shared helpers for the benchmarks in bench/: database URLs, the bench tenant, the viewer stamp,
tile maths, percentiles (no numpy), our own server's start/stop and the result files.

The bench tenant lives in its own database (never the demo one): `ベンチ県`, municipality code
99999, loaded by `bench/load_prefecture.py`. Logins are prefixed `bench-` because logins are
global (`login_directory`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python bench/x.py` puts bench/ first, not the repo
    sys.path.insert(0, str(REPO_ROOT))

from server.settings import normalise_database_url  # noqa: E402

RESULTS_DIR = REPO_ROOT / "bench" / "results"
CREDENTIALS_PATH = RESULTS_DIR / "credentials.json"

BENCH_TENANT_NAME = "ベンチ県"
BENCH_MUNICIPALITY_CODE = "99999"
BENCH_SEED = 8216

# (key, login, role, display name)
BENCH_ACCOUNTS: tuple[tuple[str, str, str, str], ...] = (
    ("staff", "bench-staff", "staff", "ベンチ 社協職員"),
    ("commissioner", "bench-commissioner", "commissioner", "ベンチ 民生委員"),
    ("watcher", "bench-watcher", "watcher", "ベンチ 見守り協力員"),
)


def database_url(explicit: str | None = None) -> str:
    url = explicit or os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("Set DATABASE_URL (e.g. postgresql+asyncpg://tonari:dev@127.0.0.1:55500/tonari_bench) or pass --database-url"
                 " (and TONARI_MIGRATE_DATABASE_URL to the owner role: bench/README.md).")
    return normalise_database_url(url)


def owner_url(app_url: str) -> str:
    """The same database as its owner role, for what the app's DML-only role may not do
    (migrations, VACUUM/ANALYZE after a bulk load): `TONARI_MIGRATE_DATABASE_URL` pointed at the
    bench database, else the app's URL itself (a one-role database)."""
    from sqlalchemy.engine import make_url

    owner = os.environ.get("TONARI_MIGRATE_DATABASE_URL")
    if not owner:
        return normalise_database_url(app_url)
    database = make_url(normalise_database_url(app_url)).database
    return make_url(normalise_database_url(owner)).set(database=database).render_as_string(hide_password=False)


def asyncpg_dsn(url: str) -> str:
    """SQLAlchemy URL → libpq DSN for asyncpg.connect()."""
    from server.db.engine import driver_dsn

    return driver_dsn(normalise_database_url(url))


def redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(normalise_database_url(url)).render_as_string(hide_password=True)


def read_credentials() -> dict[str, dict[str, str]]:
    """{key: {login, password, role}} from bench/results/credentials.json ({} if missing)."""
    if not CREDENTIALS_PATH.exists():
        return {}
    try:
        data = json.loads(CREDENTIALS_PATH.read_text(encoding="utf-8"))
        return {k: v for k, v in data.get("accounts", {}).items()}
    except (ValueError, AttributeError):
        return {}


def write_credentials(accounts: dict[str, dict[str, str]], url: str) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    tmp = CREDENTIALS_PATH.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"database": redact(url), "tenant": BENCH_TENANT_NAME, "municipality_code": BENCH_MUNICIPALITY_CODE,
                   "accounts": accounts}, fh, ensure_ascii=False, indent=2)
    os.chmod(tmp, 0o600)
    tmp.replace(CREDENTIALS_PATH)


# --- the transaction stamp (same GUCs as server.db.engine) ----------------------------------

STAMP_SQL = (
    "SELECT set_config('tonari.tenant_id', $1, true), set_config('tonari.user_id', $2, true),"
    " set_config('tonari.role', $3, true), set_config('tonari.scope', $4, true)"
)


@dataclass(frozen=True)
class Viewer:
    """Who the SQL runs as: the four GUCs the server stamps on every transaction."""

    name: str
    tenant_id: uuid.UUID
    user_id: uuid.UUID | None
    role: str
    scope: frozenset[uuid.UUID] | None  # None = whole tenant

    def stamp_args(self) -> tuple[str, str, str, str]:
        # Exactly as server.db.engine._stamp_tenant renders them.
        scope = "" if self.scope is None else (",".join(sorted(map(str, self.scope))) or "00000000-0000-0000-0000-000000000000")
        return (str(self.tenant_id), str(self.user_id) if self.user_id else "", self.role, scope)


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


# --- tiles ------------------------------------------------------------------------------------


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


# --- statistics -------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] if lo == hi else s[lo] + (s[hi] - s[lo]) * (k - lo)


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "min": min(values) if values else float("nan"), "max": max(values) if values else float("nan"),
            "mean": sum(values) / len(values) if values else float("nan")}


# --- our own server and the result files (shared by tiles, ingest, sync and coverage) ----------


def check_localhost(base_url: str | None) -> None:
    if base_url and not base_url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
        sys.exit("--base-url must be a localhost URL")


class BenchServer:
    """Our own server on 127.0.0.1:<port>, in its own process group, stopped at the end.

    workers == 1: `python -m server.cli serve` (what `make run` starts). workers > 1: uvicorn
    directly with `--workers n --factory` (same options as the CLI). `secret` (if given) is the
    TONARI_SECRET_KEY of every worker: sessions and CSRF cookies stay valid across workers and
    across restarts within one benchmark run."""

    def __init__(self, url: str, port: int, log_path: Path, *, workers: int = 1, secret: str | None = None,
                 pool_size: int | None = None, var_dir: Path | None = None) -> None:
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
        env.update({"DATABASE_URL": self.url, "TONARI_PUBLIC_URL": self.base, "TONARI_VAR_DIR": str(self.var_dir),
                    "TONARI_LOG_LEVEL": "WARNING"})
        if self.secret:
            env["TONARI_SECRET_KEY"] = self.secret
        if self.pool_size:
            env["TONARI_DB_POOL_SIZE"] = str(self.pool_size)
        if self.workers <= 1:
            cmd = [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        else:
            cmd = [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory",
                   "--workers", str(self.workers), "--host", "127.0.0.1", "--port", str(self.port),
                   "--proxy-headers", "--forwarded-allow-ips", "127.0.0.1", "--log-level", "warning",
                   "--no-access-log", "--no-server-header", "--timeout-graceful-shutdown", "5"]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115  (closed with the process)
        self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
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


def write_result(kind: str, stamp: str, report: dict[str, Any], table: str,
                 extra: dict[str, str] | None = None) -> Path:
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
