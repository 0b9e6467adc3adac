"""Shared helpers for the benchmarks in bench/: database URLs, the bench tenant, the viewer stamp,
tile maths and percentiles (no numpy).

The bench tenant lives in its own database (never the demo one): `ベンチ県`, municipality code
99999, loaded by `bench/load_prefecture.py`. Logins are prefixed `bench-` because logins are
global (`login_directory`).
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

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
        sys.exit("Set DATABASE_URL (e.g. postgresql+asyncpg://tonari:dev@127.0.0.1:55500/tonari_bench) or pass --database-url.")
    return normalise_database_url(url)


def asyncpg_dsn(url: str) -> str:
    """SQLAlchemy URL → libpq DSN for asyncpg.connect()."""
    from sqlalchemy.engine import make_url

    return make_url(normalise_database_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)


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
