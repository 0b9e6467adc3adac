"""The audit log's hash chain: sealing new rows into it, and checking it.

Writers never hash: `tonari_audit_append()` only inserts, so a tile or a visit batch pays no
lock and no wait for another request of its tenant. Sealing (`tonari_audit_seal()`, migration
0013) chains a tenant's committed rows afterwards: the app does it every
`Settings.audit_seal_seconds` (`AuditSealer`), and `python -m server.cli audit-seal` does it on
demand. `verify()` recomputes every link and reports the first that does not hold. Why this
design and what it costs: docs/decisions/0004-audit-log.md (Addendum #14).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = structlog.get_logger("tonari.audit")

# Rows one sealing transaction chains at most (the pass loops until the tenant is drained).
SEAL_BATCH = 50_000

_STAMP = text("SELECT set_config('tonari.tenant_id', :tenant, true)")
_SEAL = text("SELECT tonari_audit_seal(:batch)")
_TENANTS = text("SELECT id FROM tenant ORDER BY id")
_TENANT_BY_KEY = text("SELECT id FROM tenant WHERE id::text = :key OR municipality_code = :key")

# The first link that does not hold: seq not following its predecessor (links removed), its row
# gone, or its hash no longer sha256(previous hash ‖ digest of the row as it is now).
_FIRST_BROKEN_LINK = text("""
    WITH links AS (
        SELECT c.seq, c.audit_id, c.hash,
               lag(c.seq, 1, 0::bigint) OVER w AS prev_seq,
               lag(c.hash, 1, '\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)
                   OVER w AS prev_hash
        FROM audit_chain c WHERE c.tenant_id = :tenant
        WINDOW w AS (ORDER BY c.seq)
    ),
    checked AS (
        SELECT l.seq, l.audit_id,
               CASE WHEN l.seq <> l.prev_seq + 1 THEN 'gap'
                    WHEN a.id IS NULL THEN 'missing'
                    WHEN l.hash <> sha256(l.prev_hash || tonari_audit_digest(a)) THEN 'altered'
               END AS problem,
               l.prev_seq
        FROM links l LEFT JOIN audit_log a ON a.tenant_id = :tenant AND a.id = l.audit_id
    )
    SELECT seq, audit_id, problem, prev_seq FROM checked WHERE problem IS NOT NULL ORDER BY seq LIMIT 1
""")
_HEAD = text("""
    SELECT (SELECT count(*) FROM audit_chain WHERE tenant_id = :tenant) AS links,
           (SELECT max(seq) FROM audit_chain WHERE tenant_id = :tenant) AS last_link,
           s.last_seq, s.head_hash, c.hash AS link_hash,
           (SELECT max(horizon) FROM audit_seal WHERE tenant_id = :tenant) AS horizon
    FROM (SELECT 1) one
    LEFT JOIN LATERAL (SELECT last_seq, head_hash FROM audit_seal WHERE tenant_id = :tenant
                       ORDER BY last_seq DESC LIMIT 1) s ON true
    LEFT JOIN audit_chain c ON c.tenant_id = :tenant AND c.seq = s.last_seq
""")
# Rows below the sealed horizon must all be chained (NULL: written before the chain existed,
# chained by the first pass); rows at or above it are still waiting for a pass.
_UNCHAINED = text("""
    SELECT min(a.id) FILTER (WHERE CAST(:horizon AS bigint) IS NOT NULL
                             AND (a.txid IS NULL OR a.txid < CAST(:horizon AS bigint))) AS first_unchained,
           count(*) FILTER (WHERE CAST(:horizon AS bigint) IS NULL OR a.txid >= CAST(:horizon AS bigint)) AS pending
    FROM audit_log a
    WHERE a.tenant_id = :tenant
      AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.tenant_id = :tenant AND c.audit_id = a.id)
""")


@dataclass(frozen=True)
class Break:
    kind: str  # gap | missing | altered | head | unchained
    seq: int | None
    audit_id: int | None

    def describe(self) -> str:
        return {
            "gap": f"link #{self.seq} does not follow the link before it: links were removed before it",
            "missing": f"link #{self.seq} names audit row {self.audit_id}, which no longer exists (deleted)",
            "altered": f"audit row {self.audit_id} no longer matches link #{self.seq} (the row or the link was changed)",
            "head": f"the last seal ends the chain at link #{self.seq}, which is gone or differs (links removed from the end)",
            "unchained": f"audit row {self.audit_id} lies below the sealed horizon but is in no link (added afterwards)",
        }[self.kind]


@dataclass(frozen=True)
class Verdict:
    tenant_id: uuid.UUID
    links: int
    head_seq: int | None
    head_hash: str | None
    pending: int
    broken: Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None


async def _stamped(conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
    await conn.execute(_STAMP, {"tenant": str(tenant_id)})


async def seal_tenant(engine: AsyncEngine, tenant_id: uuid.UUID, batch: int = SEAL_BATCH) -> int:
    """Chain every row of the tenant that is final by now; returns how many were chained."""
    total = 0
    while True:
        async with engine.begin() as conn:
            await _stamped(conn, tenant_id)
            n = int((await conn.execute(_SEAL, {"batch": batch})).scalar_one())
        total += n
        if n < batch:
            return total


async def tenant_ids(engine: AsyncEngine, key: str | None = None) -> list[uuid.UUID]:
    """Every tenant, or the one whose id or municipality code is `key` (empty if none is)."""
    async with engine.connect() as conn:
        if key is None:
            return list((await conn.execute(_TENANTS)).scalars())
        return list((await conn.execute(_TENANT_BY_KEY, {"key": key})).scalars())


async def seal_all(engine: AsyncEngine) -> int:
    total = 0
    for tenant_id in await tenant_ids(engine):
        total += await seal_tenant(engine, tenant_id)
    return total


async def verify(engine: AsyncEngine, tenant_id: uuid.UUID) -> Verdict:
    """Recompute the tenant's chain; the verdict names the first link that does not hold."""
    async with engine.connect() as conn, conn.begin():
        await _stamped(conn, tenant_id)
        params = {"tenant": tenant_id}
        broken_link = (await conn.execute(_FIRST_BROKEN_LINK, params)).one_or_none()
        head = (await conn.execute(_HEAD, params)).one()
        unchained = (await conn.execute(_UNCHAINED, {**params, "horizon": head.horizon})).one()
    broken: Break | None = None
    if broken_link is not None:
        broken = Break(broken_link.problem, broken_link.seq, broken_link.audit_id)
    elif head.last_seq is not None and (head.link_hash != head.head_hash or head.last_link != head.last_seq):
        broken = Break("head", head.last_seq, None)
    elif unchained.first_unchained is not None:
        broken = Break("unchained", None, unchained.first_unchained)
    return Verdict(
        tenant_id=tenant_id,
        links=int(head.links),
        head_seq=head.last_link,
        head_hash=bytes(head.link_hash).hex()
        if head.link_hash is not None and head.last_link == head.last_seq
        else None,
        pending=int(unchained.pending),
        broken=broken,
    )


class AuditSealer:
    """Seals every tenant's new audit rows every `interval` seconds, for the app's lifetime.

    Several app servers may run one each: sealers of one tenant take turns on its advisory lock.
    `passes` counts finished passes and `pass_done` wakes whoever waits for the next one."""

    def __init__(self, engine: AsyncEngine, interval: float) -> None:
        self.engine = engine
        self.interval = interval
        self.passes = 0
        self.pass_done = asyncio.Condition()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.interval > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="tonari-audit-sealer")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sealed = await seal_all(self.engine)
                if sealed:
                    log.debug("audit.sealed", rows=sealed)
            except Exception as exc:  # noqa: BLE001 - the database may be away for a moment; the next pass catches up
                log.warning("audit.seal_failed", error=type(exc).__name__, retry_in_s=self.interval)
            async with self.pass_done:
                self.passes += 1
                self.pass_done.notify_all()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)


_OWNS_AUDIT_LOG = text(
    "SELECT pg_has_role(current_user, c.relowner, 'USAGE') FROM pg_class c WHERE c.oid = to_regclass('audit_log')"
)


async def app_role_owns_tables(conn: AsyncConnection) -> bool | None:
    """True when the app's database role owns the audit log (or may act as its owner): then it
    could switch off the log's protections and row-level security. None before migrations."""
    return (await conn.execute(_OWNS_AUDIT_LOG)).scalar()


async def warn_if_app_role_owns_tables(engine: AsyncEngine) -> None:
    """At start-up: say so loudly when the app runs as the tables' owner (a one-role database)."""
    try:
        async with engine.connect() as conn:
            owns = await app_role_owns_tables(conn)
    except Exception as exc:  # noqa: BLE001 - the database may not be up yet; readiness reports that
        log.warning("database_role_unchecked", error=type(exc).__name__)
        return
    if owns:
        log.warning(
            "database_role_owns_tables",
            hint="the app's database role owns the tables, so it could switch off the audit log's protections"
            " and row-level security: run migrations as an owner role and the app as a DML-only role"
            " (README, Production notes)",
        )
