"""A synthetic prefecture (100,000 support-needing households by default) loaded into a database
of its own: what the benchmarks, and the drill engine's city-wide simulation, run against.

    DATABASE_URL=postgresql+asyncpg://tonari:dev@127.0.0.1:55500/tonari_bench \\
    TONARI_MIGRATE_DATABASE_URL=postgresql+asyncpg://tonari_owner:dev@127.0.0.1:55500/tonari_bench \\
        .venv/bin/python -m seed.prefecture [--households 100000] [--watchers 30000] [--credentials PATH]

Migrates the database (as the owner role), creates the tenant 「ベンチ県」 (municipality code 99999)
with a staff, a commissioner (scoped to the branches of the area with the most households) and a
watcher account (linked to a watcher profile with its 5 nearest households), and bulk-loads
`seed.kasama.people.generate_prefecture()` (which shares the demo's generator of households,
people and watchers): districts, shelters, watchers, households, people and consents (evacuation
plans are not loaded: nothing reads them at this size yet). Logins are kept in `--credentials`
(mode 600) when given, else printed; an account whose password is not in that file is re-keyed.

Idempotent: if the tenant already has households it loads nothing (drop the database to reload
with another size). The registry load is one transaction, so an interrupted load leaves nothing.

How it stays fast while respecting the schema: rows are streamed chunk by chunk with COPY into
temporary staging tables (COPY FROM cannot target tables with row-level security), then moved
with one INSERT … SELECT per table as the `system` role, so RLS WITH CHECK, constraints,
foreign keys and the generated EPSG:3857 columns all apply as in production. The rows are loaded
by the app's role; the VACUUM (ANALYZE) after the load runs as the owner (only an owner may).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any, cast

import msgspec
from sqlalchemy.engine import make_url

from server.core.context import RequestContext
from server.db.engine import STAMP, driver_dsn, stamp_params
from server.settings import configured_database_urls, normalise_database_url

TENANT_NAME = "ベンチ県"
MUNICIPALITY_CODE = "99999"
SEED = 8216

# (key, login, role, display name). Logins are global (`login_directory`), hence the prefix.
ACCOUNTS: tuple[tuple[str, str, str, str], ...] = (
    ("staff", "bench-staff", "staff", "ベンチ 社協職員"),
    ("commissioner", "bench-commissioner", "commissioner", "ベンチ 民生委員"),
    ("watcher", "bench-watcher", "watcher", "ベンチ 見守り協力員"),
)


def owner_url(app_url: str) -> str:
    """The same database as its owner role, for what the app's DML-only role may not do
    (migrations, VACUUM/ANALYZE after a bulk load): `TONARI_MIGRATE_DATABASE_URL` pointed at this
    database, else the app's URL itself (a one-role database)."""
    owner = configured_database_urls()[1]
    if not owner:
        return normalise_database_url(app_url)
    database = make_url(normalise_database_url(app_url)).database
    return make_url(normalise_database_url(owner)).set(database=database).render_as_string(hide_password=False)


def asyncpg_dsn(url: str) -> str:
    """SQLAlchemy URL → libpq DSN for asyncpg.connect()."""
    return driver_dsn(normalise_database_url(url))


def redact(url: str) -> str:
    return make_url(normalise_database_url(url)).render_as_string(hide_password=True)


def read_credentials(path: Path) -> dict[str, dict[str, str]]:
    """{key: {login, password, role}} from a credentials file ({} if missing or unreadable)."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return dict(data.get("accounts", {}).items())
    except (ValueError, AttributeError):
        return {}


def write_credentials(path: Path, accounts: dict[str, dict[str, str]], url: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(
            {
                "database": redact(url),
                "tenant": TENANT_NAME,
                "municipality_code": MUNICIPALITY_CODE,
                "accounts": accounts,
            },
            fh,
            ensure_ascii=False,
            indent=2,
        )
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def _stamp_sql() -> str:
    """The server's transaction stamp (server.db.engine.STAMP) in asyncpg's $n form."""
    from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

    compiled = STAMP.compile(dialect=asyncpg_dialect.dialect())  # type: ignore[no-untyped-call]  # SQLAlchemy's dialects are untyped
    assert tuple(compiled.positiontup or ()) == ("tenant", "user", "role", "scope")
    return compiled.string


async def _stamp_system(conn: Any, tenant_id: uuid.UUID) -> None:
    """Inside a transaction: the tenant's `system` role, as the server stamps it."""
    p = stamp_params(RequestContext(tenant_id=tenant_id, role="system"))
    await conn.execute(_stamp_sql(), p["tenant"], p["user"], p["role"], p["scope"])


_json = msgspec.json.Encoder()

STAGING = [
    """CREATE TEMP TABLE s_household (id uuid, district_code text, address text, town text,
        lon float8, lat float8) ON COMMIT DROP""",
    """CREATE TEMP TABLE s_person (id uuid, household_id uuid, name text, kana text, birth_date date,
        sex text, phone text, support_reasons text[], care_level text, mobility text, medical_devices text[],
        communication_needs text, emergency_contacts text, notes text) ON COMMIT DROP""",
    """CREATE TEMP TABLE s_consent (id uuid, person_id uuid, household_id uuid, recipient_class text,
        dataset text, consented_on date, source text, withdrawn_on date) ON COMMIT DROP""",
]

MOVE_HOUSEHOLDS = """
    INSERT INTO household (tenant_id, id, district_id, address, town, location)
    SELECT $1, s.id, d.id, s.address, s.town, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326)
    FROM s_household s LEFT JOIN district d ON d.tenant_id = $1 AND d.code = s.district_code
"""
MOVE_PEOPLE = """
    INSERT INTO person (tenant_id, id, household_id, name, kana, birth_date, sex, phone, support_reasons,
                        care_level, mobility, medical_devices, communication_needs, emergency_contacts, notes)
    SELECT $1, id, household_id, name, kana, birth_date, sex, phone, support_reasons, care_level, mobility,
           medical_devices, communication_needs, emergency_contacts::jsonb, notes
    FROM s_person
"""
MOVE_CONSENTS = """
    INSERT INTO consent (tenant_id, id, person_id, household_id, recipient_class, dataset, consented_on,
                         source, withdrawn_on)
    SELECT $1, id, person_id, household_id, recipient_class, dataset, consented_on, source, withdrawn_on
    FROM s_consent
"""


def _multi_wkt(geometry: dict[str, Any]) -> str:
    from shapely.geometry import MultiPolygon, Polygon, shape

    g = shape(geometry)
    return (g if isinstance(g, MultiPolygon) else MultiPolygon([cast(Polygon, g)])).wkt


async def _ensure_accounts(
    url: str, credentials: Path | None
) -> tuple[uuid.UUID, dict[str, dict[str, str]], dict[str, uuid.UUID]]:
    """Tenant and the three accounts (ORM, like seed/demo.py); returns (tenant id, credentials, user ids)."""
    from server.accounts.provision import ensure_tenant, ensure_user, new_password
    from server.core import context
    from server.db.engine import make_engine, make_sessionmaker
    from server.tenancy.models import Tenant

    engine = make_engine(url, pool_size=1)
    sessionmaker = make_sessionmaker(engine)
    known = read_credentials(credentials) if credentials is not None else {}
    creds: dict[str, dict[str, str]] = {}
    user_ids: dict[str, uuid.UUID] = {}
    try:
        async with sessionmaker() as db:
            async with db.begin():
                tenant_id = (await ensure_tenant(db, TENANT_NAME, MUNICIPALITY_CODE)).id
            context.update(tenant_id=tenant_id, role="system")
            async with db.begin():
                tenant = await db.get(Tenant, tenant_id)
                assert tenant is not None
                for key, login, role, display in ACCOUNTS:
                    old = known.get(key)
                    password = old["password"] if old and old.get("login") == login else new_password()
                    user, _ = await ensure_user(
                        db, tenant, login, role, display, password, all_districts=key != "commissioner"
                    )
                    creds[key] = {"login": login, "password": password, "role": role}
                    user_ids[key] = user.id
            context.update(tenant_id=None, role=None)
    finally:
        await engine.dispose()
    return tenant_id, creds, user_ids


async def _load_registry(
    conn: Any, tenant_id: uuid.UUID, user_ids: dict[str, uuid.UUID], households: int, watchers: int, seed: int, log: Any
) -> dict[str, int]:
    from seed.kasama.people import generate_prefecture

    t = time.perf_counter()
    pref = generate_prefecture(seed, households=households, watchers=watchers)
    log(f"  generated districts/shelters/watchers in {time.perf_counter() - t:.1f} s")

    # Districts, parents first.
    t = time.perf_counter()
    district_ids = {d.code: uuid.uuid4() for d in pref.districts}
    for level in ("area", "branch", "unit"):
        rows = [
            (
                tenant_id,
                district_ids[d.code],
                district_ids.get(d.parent_code) if d.parent_code else None,
                d.level,
                d.code,
                d.name,
                d.kana,
                _multi_wkt(d.geometry),
            )
            for d in pref.districts
            if d.level == level
        ]
        if rows:
            await conn.executemany(
                "INSERT INTO district (tenant_id, id, parent_id, level, code, name, kana, geom)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, ST_GeomFromText($8, 4326))",
                rows,
            )
    await conn.execute(
        "UPDATE tenant SET boundary = (SELECT ST_Multi(ST_Union(geom)) FROM district"
        " WHERE tenant_id = $1 AND level = 'area') WHERE id = $1",
        tenant_id,
    )
    await conn.executemany(
        "INSERT INTO shelter (tenant_id, id, source_id, kind, name, address, location, hazards, capacity)"
        " VALUES ($1, $2, $3, $4, $5, $6, ST_SetSRID(ST_MakePoint($7, $8), 4326), $9, $10)",
        [
            (tenant_id, uuid.uuid4(), s.source_id, s.kind, s.name, s.address, s.lon, s.lat, list(s.hazards), s.capacity)
            for s in pref.shelters
        ],
    )
    await conn.copy_records_to_table(
        "s_watcher",
        columns=["id", "name", "kana", "role", "phone", "lon", "lat", "capacity", "district_code"],
        records=[
            (uuid.uuid4(), w.name, w.kana, w.role, w.phone, w.lon, w.lat, w.capacity, w.district_code)
            for w in pref.watchers
        ],
    )
    await conn.execute(
        "INSERT INTO watcher (tenant_id, id, name, kana, role, phone, home, capacity, district_id)"
        " SELECT $1, s.id, s.name, s.kana, s.role, s.phone, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326),"
        " s.capacity, d.id FROM s_watcher s LEFT JOIN district d ON d.tenant_id = $1 AND d.code = s.district_code",
        tenant_id,
    )
    log(
        f"  districts {len(district_ids)}, shelters {len(pref.shelters)}, watchers {len(pref.watchers)}"
        f" in {time.perf_counter() - t:.1f} s"
    )

    # Households, people, consents: generate chunk by chunk into staging, then move.
    t = time.perf_counter()
    n_h = n_p = n_c = 0
    for chunk in pref.household_chunks():
        hh, pp, cc = [], [], []
        for h in chunk:
            hid = uuid.uuid4()
            hh.append((hid, h.district_code, h.address, h.town, h.lon, h.lat))
            for p in h.people:
                pid = uuid.uuid4()
                pp.append(
                    (
                        pid,
                        hid,
                        p.name,
                        p.kana,
                        p.birth_date,
                        p.sex,
                        p.phone,
                        list(p.support_reasons),
                        p.care_level,
                        p.mobility,
                        list(p.medical_devices),
                        p.communication_needs,
                        _json.encode(p.emergency_contacts).decode(),
                        p.notes,
                    )
                )
                for c in p.consents:
                    cc.append(
                        (uuid.uuid4(), pid, hid, c.recipient_class, c.dataset, c.consented_on, c.source, c.withdrawn_on)
                    )
        await conn.copy_records_to_table("s_household", records=hh)
        await conn.copy_records_to_table("s_person", records=pp)
        await conn.copy_records_to_table("s_consent", records=cc)
        n_h, n_p, n_c = n_h + len(hh), n_p + len(pp), n_c + len(cc)
    log(f"  generated and staged {n_h} households, {n_p} people, {n_c} consents in {time.perf_counter() - t:.1f} s")
    for name, sql in (("households", MOVE_HOUSEHOLDS), ("people", MOVE_PEOPLE), ("consents", MOVE_CONSENTS)):
        t = time.perf_counter()
        await conn.execute(sql, tenant_id)
        log(f"  inserted {name} in {time.perf_counter() - t:.1f} s")

    t = time.perf_counter()
    await _link_accounts(conn, tenant_id, user_ids)
    log(f"  linked the bench accounts in {time.perf_counter() - t:.1f} s")
    return {
        "districts": len(district_ids),
        "shelters": len(pref.shelters),
        "watchers": len(pref.watchers),
        "households": n_h,
        "people": n_p,
        "consents": n_c,
    }


async def _link_accounts(conn: Any, tenant_id: uuid.UUID, user_ids: dict[str, uuid.UUID]) -> None:
    """Commissioner: the branches of the area with the most households (the filter's worst case).
    Watcher: a watcher profile living in that area, assigned its 5 nearest households."""
    area = await conn.fetchval(
        """SELECT a.id FROM household h
           JOIN district b ON b.tenant_id = h.tenant_id AND b.id = h.district_id
           JOIN district a ON a.tenant_id = b.tenant_id AND a.id = b.parent_id
           WHERE h.tenant_id = $1 GROUP BY a.id, a.code ORDER BY count(*) DESC, a.code LIMIT 1""",
        tenant_id,
    )
    await conn.execute(
        "INSERT INTO user_district_scope (tenant_id, user_id, district_id)"
        " SELECT $1, $2, id FROM district WHERE tenant_id = $1 AND parent_id = $3 ON CONFLICT DO NOTHING",
        tenant_id,
        user_ids["commissioner"],
        area,
    )
    for key, role in (("commissioner", "commissioner"), ("watcher", "watcher")):
        await conn.execute(
            """UPDATE watcher SET user_id = $2 WHERE tenant_id = $1 AND id = (
                 SELECT w.id FROM watcher w JOIN district b ON b.tenant_id = w.tenant_id AND b.id = w.district_id
                 WHERE w.tenant_id = $1 AND w.role = $3 AND b.parent_id = $4 AND w.user_id IS NULL
                 ORDER BY w.name, w.id LIMIT 1)
               AND NOT EXISTS (SELECT 1 FROM watcher WHERE tenant_id = $1 AND user_id = $2)""",
            tenant_id,
            user_ids[key],
            role,
            area,
        )
    await conn.execute(
        """INSERT INTO watch_link (tenant_id, id, household_id, watcher_id, kind, since, distance_m)
           SELECT $1, gen_random_uuid(), h.id, w.id, 'primary', DATE '2025-04-01',
                  ST_Distance(h.location::geography, w.home::geography)::int
           FROM watcher w CROSS JOIN LATERAL (
               SELECT id, location FROM household WHERE tenant_id = $1 ORDER BY location <-> w.home LIMIT 5) h
           WHERE w.tenant_id = $1 AND w.user_id = $2
           ON CONFLICT DO NOTHING""",
        tenant_id,
        user_ids["watcher"],
    )


async def load(
    url: str, households: int, watchers: int, seed: int = SEED, credentials: Path | None = None, quiet: bool = False
) -> dict[str, Any]:
    """The tenant, its accounts and (if it has no households yet) the registry, into a migrated
    database. Returns what was loaded, for a benchmark's report (never the passwords)."""
    import asyncpg

    def log(msg: str) -> None:
        if not quiet:
            print(msg, flush=True)

    started = time.perf_counter()
    tenant_id, creds, user_ids = await _ensure_accounts(url, credentials)
    if credentials is not None:
        write_credentials(credentials, creds, url)
    else:
        for c in creds.values():
            log(f"  {c['role']:<13} login: {c['login']:<19} password: {c['password']}")
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        async with conn.transaction():
            await _stamp_system(conn, tenant_id)
            existing = await conn.fetchval("SELECT count(*) FROM household WHERE tenant_id = $1", tenant_id)
            if existing:
                log(
                    f"Bench tenant already loaded ({existing} households); nothing to do."
                    + (f" (asked for {households}: drop the database to reload)" if existing != households else "")
                )
                return {
                    "loaded": False,
                    "tenant_id": str(tenant_id),
                    "households": existing,
                    "seconds": round(time.perf_counter() - started, 1),
                }
            log(f"Loading {households} households into {redact(url)} …")
            for sql in STAGING:
                await conn.execute(sql)
            await conn.execute(
                """CREATE TEMP TABLE s_watcher (id uuid, name text, kana text, role text, phone text,
                   lon float8, lat float8, capacity int, district_code text) ON COMMIT DROP"""
            )
            counts = await _load_registry(conn, tenant_id, user_ids, households, watchers, seed, log)
    finally:
        await conn.close()
    t = time.perf_counter()
    # VACUUM as well as ANALYZE, as after any bulk load: otherwise the insert-triggered
    # autovacuum of ~1M fresh rows runs in the middle of the first benchmark after a load.
    owner = await asyncpg.connect(asyncpg_dsn(owner_url(url)))
    try:
        for table in (
            "district",
            "household",
            "person",
            "consent",
            "watcher",
            "watch_link",
            "shelter",
            "user_district_scope",
        ):
            await owner.execute(f"VACUUM (ANALYZE) {table}")
    finally:
        await owner.close()
    log(f"  vacuumed and analyzed in {time.perf_counter() - t:.1f} s")
    seconds = time.perf_counter() - started
    log("Loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + f" in {seconds:.1f} s")
    return {"loaded": True, "tenant_id": str(tenant_id), **counts, "seconds": round(seconds, 1)}


def run(
    url: str,
    households: int = 100_000,
    watchers: int | None = None,
    seed: int = SEED,
    credentials: Path | None = None,
    quiet: bool = False,
) -> dict[str, Any]:
    """Migrate (as the owner), then load (synchronous: Alembic runs its own event loop).
    `watchers` defaults to 30 % of `households`."""
    from server.db.migrate import upgrade

    watchers = households * 3 // 10 if watchers is None else watchers
    t = time.perf_counter()
    upgrade(owner_url(url))
    if not quiet:
        print(f"Migrated in {time.perf_counter() - t:.1f} s", flush=True)
    return asyncio.run(load(url, households, watchers, seed, credentials, quiet))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: $DATABASE_URL")
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--watchers", type=int, help="default: 30%% of --households (30,000 for 100,000)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--credentials",
        type=Path,
        help="where to keep the logins (JSON, mode 600; the benches use bench/results/credentials.json);"
        " without it they are printed, and existing accounts get new passwords",
    )
    args = parser.parse_args()
    url = args.database_url or configured_database_urls()[0]
    if not url:
        sys.exit(
            "Set DATABASE_URL (the app's role on a database of its own) or pass --database-url,"
            " and TONARI_MIGRATE_DATABASE_URL to its owner role."
        )
    run(url, args.households, args.watchers, args.seed, args.credentials)


if __name__ == "__main__":
    main()
